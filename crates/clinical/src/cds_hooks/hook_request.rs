//! A CDS Hooks 2.0 service call, as the EHR posts it (`POST /cds-services/{id}`), reduced to
//! what is read.

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRequest {
    pub hook: String,
    /// A UUID the EHR makes for this one call.
    pub hook_instance: String,
    /// The EHR's FHIR base URL, for what the prefetch lacks (fetched only when the operator
    /// allows that host).
    #[serde(default)]
    pub fhir_server: Option<String>,
    #[serde(default)]
    pub fhir_authorization: Option<FhirAuthorization>,
    pub context: PatientViewContext,
    /// Each key the service asked for: a resource, a Bundle, or `null` for no data; a key the
    /// EHR could not satisfy is absent.
    #[serde(default)]
    pub prefetch: Map<String, Value>,
}

/// OAuth 2.0 access to `fhirServer`.
#[derive(Debug, Clone, Deserialize)]
pub struct FhirAuthorization {
    pub access_token: String,
    pub token_type: String,
}

/// `patient-view`'s context.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientViewContext {
    pub user_id: String,
    pub patient_id: String,
    #[serde(default)]
    pub encounter_id: Option<String>,
}
