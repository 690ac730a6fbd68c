//! The API's Spin entry point written for WASIp3 (spin-sdk 5.2.0's `wasip3-unstable` API,
//! `wasi:http/handler@0.3.0-rc-2026-01-06`), for measurement only: `scripts/bench-models.sh
//! build-wasip3` puts it in place of src/spin_entry.rs in a copy of the project. Spin 3.6.3
//! runs such a component with its experimental `wasip3-unstable` executor, which reuses an
//! instance for up to 128 requests instead of instantiating the API and every model for each
//! one. Why the product does not ship it: docs/design/model-wiring.md, "WASIp3: one instance
//! for many requests".

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use spin_sdk::http_wasip3::{http_service, Request as SpinRequest};

use crate::http::{Request, Response};
use crate::router::{route, Route};
use crate::telemetry::served_model_line;

/// Handles one HTTP request, as src/spin_entry.rs does.
#[http_service]
async fn handle(incoming: SpinRequest) -> http::Response<Full<Bytes>> {
    let request = read_request(incoming).await;
    let response = route(&request);
    if let Some(model) = &response.served_model {
        println!("{}", served_model_line(model));
    }
    into_spin(response)
}

/// Reads the request, keeping at most the route's body limit (as spin_io::body does).
async fn read_request(incoming: SpinRequest) -> Request {
    let (parts, mut body) = incoming.into_parts();
    let path_with_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut request = Request::new(parts.method.as_str(), path_with_query);
    request.headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect();
    let limit = Route::parse(&request.path).body_limit();
    let mut bytes = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(chunk) = frame.into_data() {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > limit {
                bytes.truncate(limit);
                request.body_truncated = true;
                break;
            }
        }
    }
    request.body = bytes;
    request
}

/// Our response as the `http` crate's; a header the crate refuses leaves an empty 200, never
/// a trap (the statuses and headers are the API's own constants).
fn into_spin(response: Response) -> http::Response<Full<Bytes>> {
    let mut builder = http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| http::Response::new(Full::new(Bytes::new())))
}
