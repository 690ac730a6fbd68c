//! The model contract's types (`healthcare:model/model`, `wit/model.wit`, where every member's
//! meaning is documented) as plain Rust, independent of any bindings: what the rest of the
//! crate sees of a model.

use std::borrow::Cow;

use serde::Serialize;

/// Text a model declares: borrowed from a description compiled in at build time (static data,
/// nothing built per request), or owned when read from a component's `info()`.
pub type Text = Cow<'static, str>;

/// A list a model declares, borrowed or owned as [`Text`] is.
pub type List<T> = Cow<'static, [T]>;

/// What a model declares about itself (`model-info`), as it declared it. Serialised as is at
/// `/models/{name}` (`src/model_cards.rs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub name: Text,
    pub version: Text,
    pub title: Text,
    pub citation: Text,
    pub population: Text,
    /// The horizon shared by every output, when they share one.
    pub horizon_years: Option<u32>,
    /// In documentation order.
    pub features: List<Feature>,
    /// The primary output first.
    pub outputs: List<Output>,
    pub categories: Option<Categories>,
    pub explanation: Option<ExplanationInfo>,
    /// What a prediction's confidence means, when the model gives one.
    pub confidence: Option<Text>,
}

impl ModelInfo {
    pub fn feature(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|feature| feature.name == name)
    }

    /// The primary output's name (a model without outputs is refused as not ready).
    pub fn primary_output(&self) -> &str {
        self.outputs.first().map_or("", |output| &output.name)
    }

    /// The category at `index` of the model's bands, if the model declares it.
    pub fn category(&self, index: usize) -> Option<&Category> {
        self.categories.as_ref()?.bands.get(index)
    }
}

/// Who a model is (`identity()`): its `info()`'s name and version.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub name: Text,
    pub version: Text,
}

/// One input a model accepts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feature {
    pub name: Text,
    pub aliases: List<Text>,
    pub description: Text,
    pub kind: FeatureKind,
    pub required: bool,
    /// Where its value comes from in a FHIR record, as the model declares it (the service
    /// holds no code list of its own).
    pub fhir: Option<fhir_record::FhirSource>,
}

impl Feature {
    /// Whether a client's `name` means this feature.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.aliases.iter().any(|alias| alias == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeatureKind {
    Number(NumberFeature),
    Boolean {
        when_absent: Text,
    },
    Choice {
        allowed: List<Text>,
        when_absent: Option<Text>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberFeature {
    /// The canonical unit's symbol.
    pub unit: Text,
    /// The validated range `(min, max)`, in the canonical unit.
    pub range: Option<(f64, f64)>,
    /// `(unit, factor)`: canonical = value × factor.
    pub alternative_units: List<(Text, f64)>,
    /// The choice feature naming this number's unit.
    pub unit_selector: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Probability,
    Score,
    Class,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output {
    pub name: Text,
    pub description: Text,
    pub kind: OutputKind,
    pub horizon_years: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Categories {
    /// In increasing order of `lower_bound`.
    pub bands: List<Category>,
    pub source: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    pub name: Text,
    pub label: Text,
    pub lower_bound: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExplanationInfo {
    pub scale: Text,
    pub reference_patient: Text,
    /// The factors a prediction's contributions are given for, in that order.
    pub factors: List<Text>,
}

/// A feature's (or an output's) value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Boolean(bool),
    Choice(String),
}

/// One patient, for one model: positions, as the contract crosses them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Patient {
    /// `values[i]`: the value of the model's `features[i]`, `None` when absent.
    pub values: Vec<Option<Value>>,
    /// Canonical names of other models' features the client sent too (the model ignores each
    /// with a warning).
    pub not_declared: Vec<String>,
}

impl Patient {
    /// The patient for the model `info` describes, from `(canonical name, value)` pairs (tests
    /// and benchmarks; requests are read straight into positions by `crate::patient`).
    pub fn from_named(info: &ModelInfo, named: impl IntoIterator<Item = (String, Value)>) -> Self {
        let mut patient = Patient {
            values: vec![None; info.features.len()],
            not_declared: Vec::new(),
        };
        for (name, value) in named {
            match info
                .features
                .iter()
                .position(|feature| feature.name == name)
            {
                Some(index) => patient.values[index] = Some(value),
                None => patient.not_declared.push(name),
            }
        }
        patient
    }
}

/// A model's answer for one patient, in the positions of its [`ModelInfo`].
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrediction {
    /// One per declared output, in `ModelInfo::outputs` order (primary first).
    pub outputs: Vec<Value>,
    /// The primary output's category: an index into `ModelInfo::categories`' bands.
    pub category: Option<usize>,
    pub confidence: Option<f64>,
    /// In `ModelInfo::explanation`'s factor order.
    pub contributions: Vec<f64>,
    pub linear_predictor: Option<f64>,
    pub reference_value: Option<f64>,
    pub warnings: Vec<ModelWarning>,
}

impl ModelPrediction {
    /// The numeric value of the output at `index`.
    pub fn number(&self, index: usize) -> Option<f64> {
        match self.outputs.get(index) {
            Some(Value::Number(number)) => Some(*number),
            _ => None,
        }
    }

    /// The primary output's number (a probability or score); `None` for a class.
    pub fn primary_number(&self) -> Option<f64> {
        self.number(0)
    }

    /// Whether the prediction is in the positions `info` declares: one value per output, a
    /// category among the bands, one contribution per factor (or none). A model that answers
    /// otherwise is broken, and its numbers are never shown under the declared names.
    pub fn fits(&self, info: &ModelInfo) -> bool {
        let factors = info.explanation.as_ref().map_or(0, |e| e.factors.len());
        self.outputs.len() == info.outputs.len()
            && self
                .category
                .is_none_or(|index| info.category(index).is_some())
            && (self.contributions.is_empty() || self.contributions.len() == factors)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModelWarning {
    pub code: String,
    pub message: String,
}

/// Why a model refused one feature: its name and a sentence naming the allowed values or
/// range, never the value sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFieldError {
    pub field: String,
    pub message: String,
}

pub type PredictResult = Result<ModelPrediction, Vec<ModelFieldError>>;
