//! Scoring a record through the prediction API: the model's card fetched, its features' values
//! gathered from the record, and those values sent to `/predict`, the one path every score
//! takes, so a RiskAssessment's probability is exactly what `/predict` answers for the same
//! values.

use std::collections::BTreeMap;

use fhir_record::{Date, Record};
use serde::Deserialize;
use serde_json::json;

use crate::gather::{gather, Gathered, Refused};
use crate::model_card::{ModelCard, ModelCards};
use crate::prediction_api::PredictionApi;

/// `/predict`'s answer, reduced to what a RiskAssessment says.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PredictAnswer {
    pub model: String,
    pub model_version: String,
    /// Every probability output, by name.
    pub outcomes: BTreeMap<String, f64>,
    /// The primary output's category, by name.
    pub category: Option<String>,
    #[serde(default)]
    pub warnings: Vec<PredictWarning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PredictWarning {
    pub code: String,
    pub message: String,
}

/// One field `/predict` refused (outside its validated range, say), with the model's message,
/// which names the range, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldRefusal {
    pub field: String,
    pub detail: String,
}

/// `/predict`'s 422 problem document, reduced to its fields.
#[derive(Deserialize)]
struct InvalidInput {
    errors: Vec<FieldRefusal>,
}

/// A record scored: the values read from it and the model's answer for them.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub gathered: Gathered,
    pub answer: PredictAnswer,
}

/// Why a model has no card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("no model is named \"{0}\"")]
    UnknownModel(String),
    #[error("{0}")]
    Api(String),
}

/// Why a record was not scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoreError {
    /// The record cannot give these features.
    #[error("the record cannot give {} feature(s) the model needs", .0.len())]
    Record(Vec<Refused>),
    /// The model refused these values (outside its validated ranges).
    #[error("the model refused {} value(s) read from the record", .0.len())]
    Model(Vec<FieldRefusal>),
    /// The API answered something it should not have.
    #[error("{0}")]
    Api(String),
}

/// The card of model `name`, or of the default model (the API lists it first).
pub async fn model_card(
    api: &impl PredictionApi,
    name: Option<&str>,
) -> Result<ModelCard, CardError> {
    let Some(name) = name else {
        let answer = api
            .get("/models")
            .await
            .map_err(|e| CardError::Api(e.to_string()))?;
        let cards: ModelCards =
            read_json(answer.status, &answer.body, "/models").map_err(CardError::Api)?;
        return cards
            .models
            .into_iter()
            .next()
            .ok_or_else(|| CardError::Api("the prediction API lists no model".to_owned()));
    };
    // A model name is a component's file name; anything else cannot name one, and must not
    // reach the API's path.
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || !name.chars().all(plain) {
        return Err(CardError::UnknownModel(name.escape_default().to_string()));
    }
    let answer = api
        .get(&format!("/models/{name}"))
        .await
        .map_err(|e| CardError::Api(e.to_string()))?;
    if answer.status == 404 {
        return Err(CardError::UnknownModel(name.to_owned()));
    }
    read_json(answer.status, &answer.body, "/models/{name}").map_err(CardError::Api)
}

/// The record scored by the model `card` describes, for an assessment on `as_of`.
pub async fn score(
    api: &impl PredictionApi,
    card: &ModelCard,
    record: &Record,
    as_of: Date,
) -> Result<Scored, ScoreError> {
    let gathered = gather(card, record, as_of).map_err(ScoreError::Record)?;
    let body = json!({"model": card.name, "patient_data": gathered.patient_data()});
    let answer = api
        .post_json("/predict", body.to_string().into_bytes())
        .await
        .map_err(|e| ScoreError::Api(e.to_string()))?;
    if answer.status == 422 {
        let invalid: InvalidInput = serde_json::from_slice(&answer.body).map_err(|_| {
            ScoreError::Api("/predict answered 422 without its field errors".to_owned())
        })?;
        return Err(ScoreError::Model(invalid.errors));
    }
    let answer = read_json(answer.status, &answer.body, "/predict").map_err(ScoreError::Api)?;
    Ok(Scored { gathered, answer })
}

/// A 200 answer's JSON body, or a message saying what came instead (never the body: it may
/// echo patient values).
fn read_json<T: serde::de::DeserializeOwned>(
    status: u16,
    body: &[u8],
    path: &str,
) -> Result<T, String> {
    if status != 200 {
        return Err(format!(
            "the prediction API answered {path} with status {status}"
        ));
    }
    serde_json::from_slice(body)
        .map_err(|_| format!("the prediction API's answer to {path} is not what it documents"))
}
