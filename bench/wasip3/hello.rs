//! The hello floor with a WASIp3 entry point: bench/hello-component's work (read the whole
//! body, answer `{"hello":"world"}`) through spin-sdk 5.2.0's `wasip3-unstable` API, so that
//! the WASIp3 build of the API (spin_entry.rs here) is compared with a floor that Spin runs the
//! same way. Built by `scripts/bench-models.sh build-wasip3`; not part of the product.

use spin_sdk::http_wasip3::body::IncomingBodyExt;
use spin_sdk::http_wasip3::{http_service, IntoResponse, Request};

#[http_service]
async fn handle(request: Request) -> impl IntoResponse {
    // Read like the WASIp2 hello reads: the whole body, then the greeting.
    let _ = request.into_body().bytes().await;
    "{\"hello\":\"world\"}"
}
