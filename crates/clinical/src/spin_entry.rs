//! The Spin entry point: converts Spin's request into ours, answers it, writes the response;
//! and the prediction API reached by Spin's local service chaining.

use std::time::{SystemTime, UNIX_EPOCH};

use fhir_record::Date;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

use crate::fhir_predict::outcome;
use crate::http::{Request, Response, MAX_BODY_BYTES};
use crate::prediction_api::{ApiAnswer, PredictionApi, Unreachable};

/// The prediction API: the `api` component of this application, called in process by Spin,
/// never over the network (spin.toml allows this host and no other).
const API: &str = "http://api.spin.internal";

#[http_component]
async fn handle(incoming: IncomingRequest, response_out: ResponseOutparam) {
    let request = read_request(incoming).await;
    let response = match today() {
        Some(today) => crate::router::handle(&request, &ChainedApi, today).await,
        None => outcome(500, "exception", "the component's clock gives no date"),
    };
    write_response(response, response_out).await;
}

/// Today, UTC.
fn today() -> Option<Date> {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    Date::from_unix_seconds(i64::try_from(since_epoch.as_secs()).ok()?)
}

/// Reads the request, keeping at most [`MAX_BODY_BYTES`] of its body (a larger one is marked
/// truncated and refused), so that a huge body cannot exhaust the component's memory.
async fn read_request(incoming: IncomingRequest) -> Request {
    let head = spin_io::head(&incoming);
    let mut request = Request::new(&head.method, &head.path_with_query);
    request.headers = head.headers;
    (request.body, request.body_truncated) = spin_io::body(incoming, MAX_BODY_BYTES).await;
    request
}

async fn write_response(response: Response, response_out: ResponseOutparam) {
    spin_io::respond(
        response.status,
        response.headers,
        response.body,
        response_out,
    )
    .await;
}

/// The prediction API by Spin's local service chaining.
struct ChainedApi;

impl PredictionApi for ChainedApi {
    async fn get(&self, path: &str) -> Result<ApiAnswer, Unreachable> {
        call(spin_sdk::http::Request::get(format!("{API}{path}")).build()).await
    }

    async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<ApiAnswer, Unreachable> {
        let request = spin_sdk::http::Request::post(format!("{API}{path}"), body)
            .header("content-type", "application/json")
            .build();
        call(request).await
    }
}

async fn call(request: spin_sdk::http::Request) -> Result<ApiAnswer, Unreachable> {
    let response: spin_sdk::http::Response = spin_sdk::http::send(request)
        .await
        .map_err(|error| Unreachable(error.to_string()))?;
    Ok(ApiAnswer {
        status: *response.status(),
        body: response.into_body(),
    })
}
