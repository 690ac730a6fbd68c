//! Which endpoint a request is for. Spin routes `/fhir/...` here (spin.toml); every other path
//! under it is a FHIR 404.

use fhir_record::Date;

use crate::fhir_predict::{outcome, predict};
use crate::http::{Request, Response};
use crate::prediction_api::PredictionApi;

/// The operation's path.
pub const FHIR_PREDICT: &str = "/fhir/RiskAssessment/$predict";

/// Answers one request; `today` is the assessment's default day.
pub async fn handle(request: &Request, api: &impl PredictionApi, today: Date) -> Response {
    // `$` may come percent-encoded; a trailing slash is ignored, as the API ignores it.
    let path = request.path.replace("%24", "$");
    match path.strip_suffix('/').unwrap_or(&path) {
        FHIR_PREDICT if request.method == "POST" => predict(request, api, today).await,
        FHIR_PREDICT => outcome(405, "not-supported", "method not allowed; allowed: POST")
            .with_header("allow", "POST"),
        _ => outcome(404, "not-found", "no endpoint at this path"),
    }
}
