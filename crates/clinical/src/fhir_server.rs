//! The EHR's FHIR server, read for what a CDS Hooks prefetch lacks (CDS Hooks 2.0, "FHIR
//! Resource Access"): only the server the operator allowed (one origin, the `fhir_server`
//! variable, which spin.toml's `allowed_outbound_hosts` also names, so Spin enforces it too),
//! only with the access token the call carries, only the searches the service's prefetch
//! templates declare, for the patient in context.

use crate::prediction_api::{ApiAnswer, Unreachable};

/// Reads from an EHR's FHIR server.
// A component runs one request on one thread: its futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait FhirServer {
    /// `GET url` with `Authorization: Bearer <access_token>` and `Accept: application/fhir+json`.
    async fn read(&self, url: &str, access_token: &str) -> Result<ApiAnswer, Unreachable>;
}

/// The base URL to read from: the call's `fhirServer` when it is on the allowed origin (the
/// origin itself or a path under it), else None.
pub fn allowed_base<'h>(fhir_server: &'h str, allowed_origin: &str) -> Option<&'h str> {
    let allowed = allowed_origin.trim_end_matches('/');
    let rest = fhir_server.strip_prefix(allowed)?;
    let base = fhir_server.trim_end_matches('/');
    (rest.is_empty() || rest.starts_with('/')).then_some(base)
}

/// Whether `id` is a FHIR id (`[A-Za-z0-9\-\.]{1,64}`), safe in a search URL as it is.
/// An id of dots alone is refused too: `Patient/..` would climb the server's path.
pub fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !id.bytes().all(|b| b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_allowed_origin_and_paths_under_it_are_read() {
        let allowed = "https://ehr.example.org";
        assert_eq!(
            allowed_base("https://ehr.example.org/fhir/r4/", allowed),
            Some("https://ehr.example.org/fhir/r4")
        );
        assert_eq!(
            allowed_base("https://ehr.example.org", allowed),
            Some("https://ehr.example.org")
        );
        assert_eq!(
            allowed_base("https://ehr.example.org.evil.net/fhir", allowed),
            None
        );
        assert_eq!(
            allowed_base("https://ehr.example.org:8443/fhir", allowed),
            None
        );
        assert_eq!(allowed_base("http://ehr.example.org/fhir", allowed), None);
        assert_eq!(
            allowed_base("https://other.example.org/fhir", allowed),
            None
        );
    }

    #[test]
    fn ids_are_fhirs_own_shape() {
        assert!(is_fhir_id("d9427379-943a-42c1-b3d0-6b5056a12696"));
        assert!(is_fhir_id("p1.2"));
        assert!(!is_fhir_id(""));
        assert!(!is_fhir_id("p1&code=x"));
        assert!(!is_fhir_id("../Patient"));
        assert!(!is_fhir_id(".."));
        assert!(!is_fhir_id(&"a".repeat(65)));
    }
}
