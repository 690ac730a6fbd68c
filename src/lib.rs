//! The prediction service: a Spin HTTP component over the `risk-models` crate.
//!
//! A request flows one way: Spin's request → [`http::Request`] (`spin_entry`, WebAssembly only)
//! → [`router::route`] → one handler (`/predict`, the Open Inference Protocol, the model cards,
//! health, OpenAPI)
//! → [`http::Response`]. Everything but the entry point is plain Rust, tested natively.

pub mod catalog;
pub mod http;
pub mod inference;
pub mod json;
pub mod model_cards;
pub mod openapi;
pub mod patient;
pub mod predict;
pub mod prediction_json;
pub mod problem;
pub mod router;
// The diagnostic build's timing; compiled for the unit tests too, so that they run its own.
#[cfg(any(feature = "server-timing", test))]
pub mod server_timing;
pub mod telemetry;

#[cfg(target_arch = "wasm32")]
mod spin_entry;
