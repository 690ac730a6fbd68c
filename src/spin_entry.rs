//! The Spin entry point: converts Spin's request into ours, routes it, and writes the response.

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
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

/// Reads the request, keeping at most the route's body limit so an oversized body cannot
/// exhaust the component's memory.
async fn read_request(incoming: IncomingRequest) -> Request {
    let head = spin_io::head(&incoming);
    let mut request = Request::new(&head.method, &head.path_with_query);
    request.headers = head.headers;
    let limit = Route::parse(&request.path).body_limit();
    (request.body, request.body_truncated) = spin_io::body(incoming, limit).await;
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
