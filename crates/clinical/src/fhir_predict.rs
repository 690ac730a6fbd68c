//! `POST /fhir/RiskAssessment/$predict`: a patient's FHIR R4 record in (a `Bundle`, or a
//! `Parameters` holding one), a `RiskAssessment` out; `application/fhir+json` both ways.
//!
//! - `?model=<name>`: the model (default: the API's default model);
//! - `?date=YYYY-MM-DD`: the assessment's day (default: today, UTC). Values dated after it are
//!   not used, age is counted to it, and each binding's window ends on it: a record can be
//!   scored as it stood on an earlier day.
//!
//! Every failure is an `OperationOutcome`: 422 naming each feature the record cannot give or
//! the model refused (its name and why, or the model's range, never the value); 400 for a body
//! that is no record or a bad parameter, 404 for an unknown model, 502 when the prediction API
//! fails.

use fhir_record::{
    operation_outcome, risk_assessment, Assessment, Category, Date, Method, Outcome, Record,
    Refusal,
};
use serde_json::Value;

use crate::gather::Missing;
use crate::http::{Request, Response};
use crate::model_card::ModelCard;
use crate::prediction_api::PredictionApi;
use crate::scoring::{model_card, score, CardError, ScoreError, Scored};

/// The media types a record may come as: FHIR's, its DSTU2-era spelling, and plain JSON.
const ACCEPTED_MEDIA_TYPES: [&str; 3] = [
    "application/fhir+json",
    "application/json+fhir",
    "application/json",
];

/// Handles the operation.
pub async fn predict(request: &Request, api: &impl PredictionApi, today: Date) -> Response {
    match assess(request, api, today).await {
        Ok(resource) => Response::fhir(200, &resource),
        Err(response) => response,
    }
}

async fn assess(
    request: &Request,
    api: &impl PredictionApi,
    today: Date,
) -> Result<Value, Response> {
    if request.body_truncated {
        return Err(outcome(
            413,
            "too-costly",
            "the record is larger than this service accepts (4 MiB)",
        ));
    }
    let media_type = request.media_type();
    if !media_type
        .as_deref()
        .is_some_and(|t| ACCEPTED_MEDIA_TYPES.contains(&t))
    {
        return Err(outcome(
            415,
            "not-supported",
            "the record must be FHIR JSON (Content-Type: application/fhir+json)",
        ));
    }
    let as_of = assessment_day(request, today)?;
    let record = Record::from_json(&request.body)
        .map_err(|error| outcome(400, "invalid", &error.to_string()))?;
    let model = request.query_parameter("model");
    let card = model_card(api, model.as_deref())
        .await
        .map_err(|error| match error {
            CardError::UnknownModel(_) => outcome(404, "not-found", &error.to_string()),
            CardError::Api(_) => outcome(502, "exception", &error.to_string()),
        })?;
    let scored = score(api, &card, &record, as_of).await.map_err(refusal)?;
    written(&card, &record, as_of, &scored)
}

/// `?date=`, or today; a day after today is refused (nothing can be known of it yet).
fn assessment_day(request: &Request, today: Date) -> Result<Date, Response> {
    let Some(text) = request.query_parameter("date") else {
        return Ok(today);
    };
    match Date::parse(&text) {
        Some(day) if day <= today => Ok(day),
        Some(_) => Err(outcome(
            400,
            "value",
            "date: the assessment's day cannot be after today",
        )),
        None => Err(outcome(
            400,
            "value",
            "date: expected a full day, YYYY-MM-DD",
        )),
    }
}

/// A refusal as the OperationOutcome naming each feature.
fn refusal(error: ScoreError) -> Response {
    let resource = match &error {
        ScoreError::Record(refused) => {
            let refusals: Vec<(&str, Refusal<'_>)> = refused
                .iter()
                .map(|refused| {
                    let why = match &refused.why {
                        Missing::Record(problem) => Refusal::Record(problem),
                        Missing::NoSource => Refusal::NoSource,
                    };
                    (refused.feature.as_str(), why)
                })
                .collect();
            operation_outcome(&refusals)
        }
        ScoreError::Model(refused) => {
            let refusals: Vec<(&str, Refusal<'_>)> = refused
                .iter()
                .map(|r| (r.field.as_str(), Refusal::Model(&r.detail)))
                .collect();
            operation_outcome(&refusals)
        }
        ScoreError::Api(message) => return outcome(502, "exception", message),
    };
    Response::fhir(422, &resource)
}

/// The RiskAssessment of a scored record: one prediction per probability output, the primary
/// first with its category.
pub fn written(
    card: &ModelCard,
    record: &Record,
    as_of: Date,
    scored: &Scored,
) -> Result<Value, Response> {
    let answer = &scored.answer;
    let outcomes: Vec<Outcome<'_>> = card
        .outputs
        .iter()
        .filter(|output| output.is_probability())
        .filter_map(|output| {
            Some(Outcome {
                name: &output.name,
                description: &output.description,
                probability: *answer.outcomes.get(&output.name)?,
                horizon_years: output.horizon_years,
            })
        })
        .collect();
    if outcomes.is_empty() {
        return Err(outcome(
            422,
            "not-supported",
            "the model answers no probability, which a RiskAssessment's prediction holds",
        ));
    }
    // The category belongs to the primary output: written only when that output leads.
    let primary_leads = card
        .outputs
        .first()
        .is_some_and(|o| o.name == outcomes[0].name);
    let category = answer
        .category
        .as_deref()
        .filter(|_| primary_leads)
        .map(|name| Category {
            name,
            label: card.category_label(name),
        });
    let basis = scored.gathered.basis();
    let subject = record.patient_reference();
    Ok(risk_assessment(&Assessment {
        subject: &subject,
        occurrence: as_of,
        method: Method {
            name: &answer.model,
            version: &answer.model_version,
            title: &card.title,
        },
        outcomes,
        category,
        warnings: answer.warnings.iter().map(|w| w.message.as_str()).collect(),
        basis: &basis,
    }))
}

/// An OperationOutcome with one error issue.
pub fn outcome(status: u16, code: &str, diagnostics: &str) -> Response {
    let resource = serde_json::json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    });
    Response::fhir(status, &resource)
}
