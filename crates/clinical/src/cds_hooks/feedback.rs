//! `POST /cds-services/{id}/feedback`: what the clinician did with each card (accepted or
//! overridden), counted per service and outcome in the metrics.
//!
//! Each feedback item is written to stdout as one line, [`FEEDBACK_PREFIX`] then the service
//! (a model's name, checked against the API's models) and the outcome (one of two words): Spin
//! turns the line into an `app_log` event the metrics sidecar counts, as it counts the API's
//! served-model lines. Nothing else from the request reaches the line: no card id, no reason,
//! no comment.

use serde::Deserialize;

use super::service::service_card;
use crate::fhir_predict::outcome;
use crate::http::{Request, Response};
use crate::prediction_api::PredictionApi;

/// The start of each feedback line; the metrics sidecar matches it exactly.
pub const FEEDBACK_PREFIX: &str = "model-api cds feedback ";

#[derive(Deserialize)]
struct FeedbackRequest {
    feedback: Vec<Feedback>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Feedback {
    /// The card's uuid.
    card: String,
    outcome: Outcome,
    /// When the clinician acted, in UTC.
    outcome_timestamp: String,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Accepted,
    Overridden,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Overridden => "overridden",
        }
    }
}

/// Accepts the feedback on service `id`: the lines to write (one per item), or the refusal.
pub async fn feedback(
    request: &Request,
    id: &str,
    api: &impl PredictionApi,
) -> Result<Vec<String>, Response> {
    let card = service_card(api, id).await?;
    let body: FeedbackRequest = serde_json::from_slice(&request.body)
        .map_err(|_| outcome(400, "invalid", "the body is not CDS Hooks feedback: {\"feedback\": [{card, outcome, outcomeTimestamp}]}"))?;
    if body.feedback.is_empty()
        || body
            .feedback
            .iter()
            .any(|item| item.card.is_empty() || item.outcome_timestamp.is_empty())
    {
        return Err(outcome(
            400,
            "required",
            "each feedback item needs its card, outcome and outcomeTimestamp",
        ));
    }
    Ok(body
        .feedback
        .iter()
        .map(|item| feedback_line(&card.name, item.outcome.as_str()))
        .collect())
}

/// The line counting one outcome of a service's card.
pub fn feedback_line(service: &str, outcome: &str) -> String {
    format!("{FEEDBACK_PREFIX}service={service} outcome={outcome}")
}
