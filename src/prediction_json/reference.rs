//! The test oracle of [`super`]: the answers of `/predict` as serde's derived serialisers
//! write them, which is how the service wrote them until the hand-written writer replaced them
//! (docs/performance.md). The writer must give these bytes, exactly, for every prediction.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::catalog::contract::{OutputKind, Text};
use crate::catalog::{ModelInfo, ModelPrediction, ModelWarning, Value};
use crate::problem::FieldIssue;

/// The response body for one patient. Members a model does not define (a category, an
/// explanation, a horizon) are left out, never invented.
#[derive(Debug, Serialize)]
pub struct PredictionBody<'a> {
    /// The category's label; a model without categories: its primary class, or its primary
    /// output's value.
    prediction: Cow<'a, str>,
    /// As the model's `info().confidence` defines it; `null` when the model gives none.
    confidence: Option<f64>,
    model_version: &'a str,
    model: &'a str,
    /// The primary output's value, when it is a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    risk: Option<f64>,
    /// Every probability output, by name.
    outcomes: Probabilities<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    horizon_years: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contributions: Option<Pairs<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<Explanation<'a>>,
    warnings: &'a [ModelWarning],
    /// Only in batch results, where each item says whether it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

impl<'a> PredictionBody<'a> {
    pub fn new(info: &'a ModelInfo, prediction: &'a ModelPrediction) -> Self {
        let category = prediction
            .category
            .and_then(|index| info.category(index))
            .map(|band| band.name.as_ref());
        let explanation = info.explanation.as_ref().and_then(|explanation| {
            Some(Explanation {
                outcome: info.primary_output(),
                scale: &explanation.scale,
                linear_predictor: prediction.linear_predictor?,
                reference_value: prediction.reference_value?,
                reference_patient: &explanation.reference_patient,
            })
        });
        PredictionBody {
            prediction: headline(info, prediction),
            confidence: prediction.confidence,
            model_version: &info.version,
            model: &info.name,
            risk: prediction.primary_number(),
            outcomes: Probabilities { info, prediction },
            category,
            horizon_years: info.horizon_years,
            contributions: info.explanation.as_ref().and_then(|declared| {
                explanation.as_ref()?;
                Some(Pairs {
                    factors: &declared.factors,
                    values: &prediction.contributions,
                })
            }),
            explanation,
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

/// The original contract's `prediction`: the category's label when there is one.
fn headline<'a>(info: &'a ModelInfo, prediction: &'a ModelPrediction) -> Cow<'a, str> {
    if let Some(band) = prediction.category.and_then(|index| info.category(index)) {
        return Cow::Borrowed(&band.label);
    }
    let name = info.primary_output();
    match prediction.outputs.first() {
        Some(Value::Choice(class)) => Cow::Borrowed(class),
        Some(Value::Number(number)) => Cow::Owned(format!("{name} {number}")),
        Some(Value::Boolean(flag)) => Cow::Owned(format!("{name} {flag}")),
        None => Cow::Borrowed(""),
    }
}

/// `{"<output>": probability, ...}`: the model's probability outputs, in declared order.
#[derive(Debug)]
struct Probabilities<'a> {
    info: &'a ModelInfo,
    prediction: &'a ModelPrediction,
}

impl Serialize for Probabilities<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (index, output) in self.info.outputs.iter().enumerate() {
            if output.kind != OutputKind::Probability {
                continue;
            }
            if let Some(value) = self.prediction.number(index) {
                map.serialize_entry(&output.name, &value)?;
            }
        }
        map.end()
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

/// `{"<factor>": contribution, ...}` in the model's factor order.
#[derive(Debug)]
struct Pairs<'a> {
    factors: &'a [Text],
    values: &'a [f64],
}

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.factors.len()))?;
        for (name, value) in self.factors.iter().zip(self.values) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One result of a batch: a prediction, or the patient's field errors.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BatchItem<'a> {
    Predicted(Box<PredictionBody<'a>>),
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
