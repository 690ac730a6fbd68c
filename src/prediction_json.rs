//! A model's [`ModelPrediction`] as the JSON object `/predict` returns, serialised straight from the
//! prediction (no intermediate `serde_json::Value`): members in the original contract's order,
//! `prediction`, `confidence` and `model_version` first. The meaning of every member is
//! documented in the OpenAPI document (`openapi.rs`) and the README.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::catalog::{ModelInfo, ModelPrediction, ModelWarning};
use crate::problem::FieldIssue;

/// The response body for one patient.
#[derive(Debug, Serialize)]
pub struct PredictionBody<'a> {
    prediction: &'static str,
    confidence: f64,
    model_version: &'a str,
    model: &'a str,
    risk: f64,
    outcomes: Pairs<'a>,
    category: &'static str,
    horizon_years: u32,
    contributions: Pairs<'a>,
    explanation: Explanation<'a>,
    warnings: &'a [ModelWarning],
    /// Only in batch results, where each item says whether it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

impl<'a> PredictionBody<'a> {
    pub fn new(info: &'a ModelInfo, prediction: &'a ModelPrediction) -> Self {
        PredictionBody {
            prediction: prediction.category.label(),
            confidence: prediction.confidence,
            model_version: &info.version,
            model: &info.name,
            risk: prediction.risk(),
            outcomes: Pairs(&prediction.outcomes),
            category: prediction.category.name(),
            horizon_years: info.horizon_years,
            contributions: Pairs(&prediction.contributions),
            explanation: Explanation {
                outcome: info.primary_outcome(),
                scale: &info.linear_predictor_scale,
                linear_predictor: prediction.linear_predictor,
                reference_value: prediction.reference_value,
                reference_patient: &info.reference_patient,
            },
            warnings: &prediction.warnings,
            status: None,
        }
    }

    /// The same body as a batch item, with `"status": 200`.
    pub fn in_batch(mut self) -> Self {
        self.status = Some(200);
        self
    }
}

#[derive(Debug, Serialize)]
struct Explanation<'a> {
    outcome: &'a str,
    scale: &'a str,
    linear_predictor: f64,
    reference_value: f64,
    reference_patient: &'a str,
}

/// `{"<name>": value, ...}` in the model's order: outcomes (primary first) and contributions
/// (the model's factor order).
#[derive(Debug)]
struct Pairs<'a>(&'a [(String, f64)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One result of a batch: a prediction, or the patient's field errors.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BatchItem<'a> {
    Predicted(PredictionBody<'a>),
    Refused {
        status: u16,
        errors: Vec<FieldIssue>,
    },
}

/// The response body of a batch.
#[derive(Debug, Serialize)]
pub struct BatchBody<'a> {
    pub model: &'a str,
    pub model_version: &'a str,
    pub count: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub results: Vec<BatchItem<'a>>,
}
