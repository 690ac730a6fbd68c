//! The Spin entry point: converts Spin's request into ours, routes it, and writes the response.

use futures::StreamExt;
use spin_sdk::http::{Fields, IncomingRequest, Method, OutgoingResponse, ResponseOutparam};
use spin_sdk::http_component;

use crate::http::{Request, Response};
use crate::router::{route, Route};
use crate::telemetry::served_model_line;

/// Handles one HTTP request.
#[http_component]
async fn handle(incoming: IncomingRequest, response_out: ResponseOutparam) {
    let request = read_request(incoming).await;
    #[cfg(not(feature = "server-timing"))]
    let response = route(&request);
    #[cfg(feature = "server-timing")]
    let response = {
        let (response, timing) = crate::server_timing::timed(|| route(&request));
        response.with_header("server-timing", &timing)
    };
    if let Some(model) = &response.served_model {
        println!("{}", served_model_line(model));
    }
    write_response(response, response_out).await;
}

/// Reads the request, keeping at most the route's body limit (plus one byte, to know it was
/// exceeded) so an oversized body cannot exhaust the component's memory.
async fn read_request(incoming: IncomingRequest) -> Request {
    let path_with_query = incoming.path_with_query().unwrap_or_default();
    let method = match incoming.method() {
        Method::Other(other) => other,
        known => known.to_string(),
    };
    let mut request = Request::new(&method, &path_with_query);
    request.headers = incoming
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect();
    let limit = Route::parse(&request.path).body_limit();
    let mut body = Vec::new();
    let mut stream = incoming.into_body_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            request.body_truncated = true;
            body.truncate(limit);
            break;
        }
    }
    request.body = body;
    request
}

async fn write_response(response: Response, response_out: ResponseOutparam) {
    let headers: Vec<(String, Vec<u8>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect();
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let outgoing = OutgoingResponse::new(fields);
    // Statuses come from our own constants, all valid; a failure would leave 200, never a trap.
    let _ = outgoing.set_status_code(response.status);
    if let Err(error) = response_out.set_with_body(outgoing, response.body).await {
        eprintln!("could not send the response body: {error}");
    }
}
