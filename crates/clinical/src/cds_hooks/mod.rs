//! A CDS Hooks 2.0 service per model (HL7 `cds-hooks` v2.0.1): discovery, the `patient-view`
//! hook scored from the EHR's prefetch, and feedback. Everything comes from the models' cards:
//! the prefetch templates from their FHIR sources, the cards from their outputs and categories.

mod card;
mod discovery;
mod feedback;
mod hook_request;
mod service;

pub use card::{derived_uuid, indicator, percent, SUMMARY_LIMIT};
pub use discovery::{discovery, prefetch_templates, HOOK, PATIENT_KEY, PATIENT_TOKEN};
pub use feedback::{feedback, feedback_line, FEEDBACK_PREFIX};
pub use hook_request::HookRequest;
pub use service::{call_service, json_response, EhrServer};
