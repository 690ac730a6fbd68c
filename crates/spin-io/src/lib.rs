//! The HTTP edge the Spin components share (the prediction API, `src/spin_entry.rs`, and the
//! clinical endpoints, `crates/clinical`): each converts Spin's request into its own plain type
//! and back, so that everything behind the edge is tested natively; this is the part of that
//! conversion that does not depend on the component.

#[cfg(target_arch = "wasm32")]
mod edge {
    use futures::StreamExt;
    use spin_sdk::http::{Fields, IncomingRequest, Method, OutgoingResponse, ResponseOutparam};

    /// A request's method (as sent), path with query, and headers (names in lower case,
    /// values read lossily as UTF-8).
    pub struct Head {
        pub method: String,
        pub path_with_query: String,
        pub headers: Vec<(String, String)>,
    }

    /// The request's head.
    // Inlined: called once per component, and a call across the crate costs the API's budget
    // half a kilobyte (tests/integration/test_component_artifact.py).
    #[inline(always)]
    pub fn head(incoming: &IncomingRequest) -> Head {
        let method = match incoming.method() {
            Method::Other(other) => other,
            known => known.to_string(),
        };
        let headers = incoming
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(&value).into_owned();
                (name.to_ascii_lowercase(), value)
            })
            .collect();
        Head {
            method,
            path_with_query: incoming.path_with_query().unwrap_or_default(),
            headers,
        }
    }

    /// The body, at most `limit` bytes of it, and whether there was more: reading stops there,
    /// so that an oversized body cannot exhaust the component's memory.
    pub async fn body(incoming: IncomingRequest, limit: usize) -> (Vec<u8>, bool) {
        let mut body = Vec::new();
        let mut stream = incoming.into_body_stream();
        while let Some(Ok(chunk)) = stream.next().await {
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                body.truncate(limit);
                return (body, true);
            }
        }
        (body, false)
    }

    /// Writes a response. Statuses come from the components' own constants, all valid; a
    /// failure to set one would leave 200, never a trap.
    pub async fn respond(
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        response_out: ResponseOutparam,
    ) {
        let headers: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .map(|(name, value)| (name, value.into_bytes()))
            .collect();
        let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
        let outgoing = OutgoingResponse::new(fields);
        let _ = outgoing.set_status_code(status);
        if let Err(error) = response_out.set_with_body(outgoing, body).await {
            eprintln!("could not send the response body: {error}");
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use edge::{body, head, respond, Head};
