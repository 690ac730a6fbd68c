//! A domain [`Prediction`] as the JSON object `/predict` returns, serialised straight from the
//! prediction (no intermediate `serde_json::Value`): members in the original contract's order,
//! `prediction`, `confidence` and `model_version` first. The meaning of every member is
//! documented in the OpenAPI document (`openapi.rs`) and the README.

use risk_models::{Contribution, OutcomeRisk, Prediction, Warning};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::problem::FieldIssue;

/// The response body for one patient.
#[derive(Debug, Serialize)]
pub struct PredictionBody<'a> {
    prediction: &'static str,
    confidence: f64,
    model_version: &'static str,
    model: &'static str,
    risk: f64,
    outcomes: Outcomes<'a>,
    category: &'static str,
    horizon_years: u32,
    contributions: Contributions<'a>,
    explanation: Explanation,
    warnings: Warnings<'a>,
    /// Only in batch results, where each item says whether it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

impl<'a> PredictionBody<'a> {
    pub fn new(prediction: &'a Prediction) -> Self {
        let spec = prediction.model.spec();
        PredictionBody {
            prediction: prediction.category.label(),
            confidence: prediction.confidence,
            model_version: spec.version,
            model: spec.name,
            risk: prediction.risk(),
            outcomes: Outcomes(&prediction.outcomes),
            category: prediction.category.name(),
            horizon_years: spec.horizon_years,
            contributions: Contributions(&prediction.contributions),
            explanation: Explanation {
                outcome: spec.primary_outcome().name,
                scale: spec.linear_predictor_scale,
                linear_predictor: prediction.linear_predictor,
                reference_value: prediction.reference_value,
                reference_patient: spec.reference_patient,
            },
            warnings: Warnings(&prediction.warnings),
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
struct Explanation {
    outcome: &'static str,
    scale: &'static str,
    linear_predictor: f64,
    reference_value: f64,
    reference_patient: &'static str,
}

/// `{"<outcome>": risk, ...}`, primary outcome first.
#[derive(Debug)]
struct Outcomes<'a>(&'a [OutcomeRisk]);

impl Serialize for Outcomes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for outcome in self.0 {
            map.serialize_entry(outcome.outcome.name, &outcome.risk)?;
        }
        map.end()
    }
}

/// `{"<factor>": contribution, ...}` in the model's factor order.
#[derive(Debug)]
struct Contributions<'a>(&'a [Contribution]);

impl Serialize for Contributions<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for contribution in self.0 {
            map.serialize_entry(contribution.factor.name(), &contribution.value)?;
        }
        map.end()
    }
}

/// `[{"code": ..., "message": ...}, ...]`.
#[derive(Debug)]
struct Warnings<'a>(&'a [Warning]);

impl Serialize for Warnings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Item {
            code: &'static str,
            message: String,
        }
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for warning in self.0 {
            seq.serialize_element(&Item {
                code: warning.code(),
                message: warning.to_string(),
            })?;
        }
        seq.end()
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
    pub model: &'static str,
    pub model_version: &'static str,
    pub count: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub results: Vec<BatchItem<'a>>,
}
