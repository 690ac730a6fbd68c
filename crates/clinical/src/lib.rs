//! The clinical endpoints' Spin component: a patient's FHIR R4 record in, a FHIR
//! `RiskAssessment` out (`POST /fhir/RiskAssessment/$predict`).
//!
//! It knows no model, as the prediction API knows none. Everything comes from the API, reached
//! by Spin's local service chaining (`http://api.spin.internal`), so the prediction component
//! keeps no network access and this one holds no equation:
//!
//! - a model's card (`GET /models/{name}`): its features, and where each comes from in FHIR;
//! - its answer for the values read from the record (`POST /predict`), scored exactly as any
//!   client's request is.
//!
//! The flow, each step a module over plain data, tested natively:
//!
//! 1. [`model_card`]: the card, as the API writes it;
//! 2. [`gather`]: each feature's value picked from the record by its binding (crate
//!    `fhir-record`), or why none can be;
//! 3. [`scoring`]: the values sent to `/predict`, its answer read;
//! 4. [`fhir_predict`]: the answer written as a RiskAssessment, a refusal as an
//!    OperationOutcome.
//!
//! [`router`] picks the endpoint; `spin_entry` (WebAssembly only) converts Spin's request and
//! implements [`PredictionApi`] with Spin's outbound HTTP.
//!
//! Why a component of its own (docs/design/fhir-cds-hooks.md, "Where the endpoints run"): it
//! needs code the prediction API does not (reading and writing FHIR resources) and capabilities
//! the prediction API must not have (outbound HTTP), and the API is at its size budget.

pub mod fhir_predict;
pub mod gather;
pub mod http;
pub mod model_card;
pub mod prediction_api;
pub mod router;
pub mod scoring;

#[cfg(target_arch = "wasm32")]
mod spin_entry;

pub use prediction_api::{ApiAnswer, PredictionApi, Unreachable};
pub use router::handle;
