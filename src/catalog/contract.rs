//! The model contract's types (`healthcare:model/model`, `wit/model.wit`, where every member's
//! meaning is documented) as plain Rust, independent of any bindings: what the rest of the
//! crate sees of a model.

/// What a model declares about itself (`model-info`), as it declared it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    pub version: String,
    pub title: String,
    pub citation: String,
    pub population: String,
    /// The horizon shared by every output, when they share one.
    pub horizon_years: Option<u32>,
    /// In documentation order.
    pub features: Vec<Feature>,
    /// The primary output first.
    pub outputs: Vec<Output>,
    pub categories: Option<Categories>,
    pub explanation: Option<ExplanationInfo>,
    /// What a prediction's confidence means, when the model gives one.
    pub confidence: Option<String>,
}

impl ModelInfo {
    pub fn feature(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|feature| feature.name == name)
    }

    /// The primary output's name (a model without outputs is refused as not ready).
    pub fn primary_output(&self) -> &str {
        self.outputs.first().map_or("", |output| &output.name)
    }

    /// The label of the category named `name`, if the model declares it.
    pub fn category_label(&self, name: &str) -> Option<&str> {
        let categories = self.categories.as_ref()?;
        let band = categories.bands.iter().find(|band| band.name == name)?;
        Some(&band.label)
    }
}

/// One input a model accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub kind: FeatureKind,
    pub required: bool,
}

impl Feature {
    /// Whether a client's `name` means this feature.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.aliases.iter().any(|alias| alias == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    Number(NumberFeature),
    Boolean {
        when_absent: String,
    },
    Choice {
        allowed: Vec<String>,
        when_absent: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumberFeature {
    /// The canonical unit's symbol.
    pub unit: String,
    /// The validated range `(min, max)`, in the canonical unit.
    pub range: Option<(f64, f64)>,
    /// `(unit, factor)`: canonical = value × factor.
    pub alternative_units: Vec<(String, f64)>,
    /// The choice feature naming this number's unit.
    pub unit_selector: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Probability,
    Score,
    Class,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    pub description: String,
    pub kind: OutputKind,
    pub horizon_years: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    /// In increasing order of `lower_bound`.
    pub bands: Vec<Category>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub name: String,
    pub label: String,
    pub lower_bound: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExplanationInfo {
    pub scale: String,
    pub reference_patient: String,
}

/// A feature's (or an output's) value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Boolean(bool),
    Choice(String),
}

/// One patient: `(canonical feature name, value)` for every feature given.
pub type Patient = Vec<(String, Value)>;

/// A model's answer for one patient.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrediction {
    /// `(output, value)`, one per declared output, primary first.
    pub outputs: Vec<(String, Value)>,
    pub category: Option<String>,
    pub confidence: Option<f64>,
    /// `(factor, contribution)` in the model's factor order.
    pub contributions: Vec<(String, f64)>,
    pub linear_predictor: Option<f64>,
    pub reference_value: Option<f64>,
    pub warnings: Vec<ModelWarning>,
}

impl ModelPrediction {
    /// The numeric value of the output named `name`.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.outputs.iter().find_map(|(output, value)| match value {
            Value::Number(number) if output == name => Some(*number),
            _ => None,
        })
    }

    /// The primary output's number (a probability or score); `None` for a class.
    pub fn primary_number(&self) -> Option<f64> {
        match self.outputs.first() {
            Some((_, Value::Number(number))) => Some(*number),
            _ => None,
        }
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
