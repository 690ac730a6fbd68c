//! The prediction API as this component reaches it: two calls, each answered with a status and a
//! body. Under Spin it is the `api` component, by local service chaining (`spin_entry`);
//! natively, in the tests, the API's own router in process.

/// What the API answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAnswer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The API did not answer at all (Spin refused the call, or the component trapped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the prediction API could not be reached: {0}")]
pub struct Unreachable(pub String);

/// The calls this component makes to the prediction API, by path (`/models/pce-2013`).
// A component runs one request on one thread: its futures need not be `Send`, which is what
// the lint asks implementors to be able to promise.
#[allow(async_fn_in_trait)]
pub trait PredictionApi {
    /// `GET path`.
    async fn get(&self, path: &str) -> Result<ApiAnswer, Unreachable>;
    /// `POST path` with a JSON body.
    async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<ApiAnswer, Unreachable>;
}
