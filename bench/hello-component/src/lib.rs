//! Benchmark baseline: the cheapest useful Spin HTTP component.
//!
//! It uses the same entry-point style as `model-api` (an async `#[http_component]` taking
//! `IncomingRequest` and `ResponseOutparam`, reading the whole body stream), so that comparing
//! the two under the same load measures the prediction work alone. It exists only in the
//! WebAssembly build; natively it is an empty library.

#[cfg(target_arch = "wasm32")]
mod spin_entry;
