//! The Spin entry point: reads the request body, answers 200 `{"hello":"world"}`.

use futures::StreamExt;
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};
use spin_sdk::http_component;

const BODY: &[u8] = br#"{"hello":"world"}"#;

/// Handles one HTTP request.
#[http_component]
async fn handle(incoming: IncomingRequest, response_out: ResponseOutparam) {
    // Read (and drop) the body, as model-api does, so both components consume the request.
    let mut stream = incoming.into_body_stream();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        body.extend_from_slice(&chunk);
    }
    drop(body);

    let headers = [("content-type".to_string(), b"application/json".to_vec())];
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let outgoing = OutgoingResponse::new(fields);
    let _ = outgoing.set_status_code(200);
    if let Err(error) = response_out.set_with_body(outgoing, BODY.to_vec()).await {
        eprintln!("could not send the response body: {error}");
    }
}
