//! The Spin entry point: converts Spin's request into ours, answers it, writes the response;
//! and what the answer needs from Spin: the prediction API by local service chaining, the
//! CDS Hooks configuration from Spin variables, and the replay store in Spin's key-value store.

use std::time::{SystemTime, UNIX_EPOCH};

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;

use crate::auth::{ReplayStore, ReplayStoreError, TrustedIssuers};
use crate::fhir_predict::outcome;
use crate::fhir_server::FhirServer;
use crate::http::{Request, Response, MAX_BODY_BYTES};
use crate::prediction_api::{ApiAnswer, PredictionApi, Unreachable};
use crate::router::Context;

/// The prediction API: the `api` component of this application, called in process by Spin,
/// never over the network (spin.toml allows this host and no other).
const API: &str = "http://api.spin.internal";

#[http_component]
async fn handle(incoming: IncomingRequest, response_out: ResponseOutparam) {
    let request = read_request(incoming).await;
    let response = match now() {
        Some(now) => {
            let public_url = variable("public_url");
            let fhir_server = variable("fhir_server");
            let context = Context {
                now,
                trusted: &trusted_issuers,
                public_url: public_url.as_deref(),
                replays: &SpinReplays,
                fhir_server: fhir_server.as_deref(),
                fhir: &SpinFhir,
            };
            crate::router::handle(&request, &ChainedApi, &context).await
        }
        None => outcome(500, "exception", "the component's clock gives no time"),
    };
    for line in &response.log_lines {
        println!("{line}");
    }
    write_response(response, response_out).await;
}

/// A Spin variable of this component, None when unset or empty.
fn variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name)
        .ok()
        .filter(|value| !value.is_empty())
}

/// Seconds since the Unix epoch.
fn now() -> Option<i64> {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(since_epoch.as_secs()).ok()
}

/// The `trusted_issuers` variable; none when it is unset or invalid (every CDS Hooks call is
/// then refused, and the reason logged: it names an issuer or a key id, never key material).
fn trusted_issuers() -> TrustedIssuers {
    let text = spin_sdk::variables::get("trusted_issuers").unwrap_or_default();
    if text.trim().is_empty() {
        return TrustedIssuers::none();
    }
    TrustedIssuers::from_json(&text).unwrap_or_else(|error| {
        eprintln!("trusted_issuers is unusable, so no CDS Hooks call is trusted: {error}");
        TrustedIssuers::none()
    })
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

/// Tokens' `jti`s in Spin's default key-value store, each with its expiry. A replica's store is
/// its own unless the runtime configuration shares one (docs/design/fhir-cds-hooks.md).
struct SpinReplays;

impl ReplayStore for SpinReplays {
    fn first_use(&self, key: &str, expires: i64, now: i64) -> Result<bool, ReplayStoreError> {
        let failed = |error: spin_sdk::key_value::Error| ReplayStoreError(error.to_string());
        let store = Store::open_default().map_err(failed)?;
        let seen_until = store
            .get(key)
            .map_err(failed)?
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.parse::<i64>().ok());
        if seen_until.is_some_and(|until| until > now) {
            return Ok(false);
        }
        store
            .set(key, expires.to_string().as_bytes())
            .map_err(failed)?;
        Ok(true)
    }
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

/// The EHR's FHIR server, by Spin's outbound HTTP (which allows only the configured origin).
struct SpinFhir;

impl FhirServer for SpinFhir {
    async fn read(&self, url: &str, access_token: &str) -> Result<ApiAnswer, Unreachable> {
        let request = spin_sdk::http::Request::get(url)
            .header("authorization", format!("Bearer {access_token}"))
            .header("accept", "application/fhir+json")
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
