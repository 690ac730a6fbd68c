//! The clinical endpoints' Spin component: a patient's FHIR R4 record in, a FHIR
//! `RiskAssessment` out (`POST /fhir/RiskAssessment/$predict`); and a CDS Hooks 2.0 service per
//! model (`/cds-services`), scoring the EHR's prefetch when a clinician opens a chart.
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
//!    OperationOutcome; [`cds_hooks`]: as a card, with the RiskAssessment to save.
//!
//! [`router`] picks the endpoint, after [`auth`] has verified a CDS Hooks call's JWT;
//! [`fhir_server`] reads what a hook's prefetch lacks from the EHR's FHIR server, when the
//! operator allowed it. `spin_entry` (WebAssembly only) converts Spin's request, implements
//! [`PredictionApi`] and [`FhirServer`] with Spin's outbound HTTP, and reads the configuration
//! and the replay store from Spin.
//!
//! Why a component of its own (docs/design/fhir-cds-hooks.md, "Where the endpoints run"): it
//! needs code the prediction API does not (reading and writing FHIR resources, verifying
//! signatures) and capabilities the prediction API must not have (outbound HTTP, a key-value
//! store), and the API is at its size budget.

pub mod auth;
pub mod cds_hooks;
pub mod fhir_predict;
pub mod fhir_server;
pub mod gather;
pub mod http;
pub mod model_card;
pub mod prediction_api;
pub mod router;
pub mod scoring;

#[cfg(target_arch = "wasm32")]
mod spin_entry;

pub use fhir_server::FhirServer;
pub use prediction_api::{ApiAnswer, PredictionApi, Unreachable};
pub use router::{handle, Context};
