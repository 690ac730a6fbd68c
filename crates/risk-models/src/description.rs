//! A model described in the general terms of the model contract (`docs/design/model-contract.md`):
//! features with their kinds, units and ranges, outputs, categories and the explanation's
//! scale. Everything an API or a client needs to know about a model, with no field list shared
//! between models: each model declares its own.
//!
//! The two cardiovascular models are described from their specifications and field
//! definitions (`models/describe.rs`), so the description cannot drift from what validation and
//! the equations do; the kidney model declares its own (`models/kfre.rs`).

use crate::spec::Range;
use crate::value::UnitConversion;

/// Everything a model declares about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDescription {
    pub name: &'static str,
    pub version: &'static str,
    pub title: &'static str,
    pub citation: &'static str,
    pub population: &'static str,
    /// The horizon of every output, when they share one.
    pub horizon_years: Option<u32>,
    /// In documentation order.
    pub features: Vec<Feature>,
    /// The primary output first.
    pub outputs: Vec<Output>,
    pub categories: Option<Categories>,
    pub explanation: Option<ExplanationInfo>,
    /// What the prediction's confidence means, when the model gives one.
    pub confidence: Option<&'static str>,
}

/// What the cardiovascular models' confidence is (`crate::confidence`).
pub const CATEGORY_CONFIDENCE: &str = "The probability (0 to 1) that the category would stay \
    the same if the measured inputs were measured again, given their usual within-person \
    variability: about 0.5 next to a threshold, near 1 far from every threshold. Not a claim \
    about the model's accuracy.";

/// One input a model accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: &'static str,
    /// Other names accepted for it.
    pub aliases: Vec<&'static str>,
    pub description: &'static str,
    pub kind: FeatureKind,
    /// Whether a patient without it is refused.
    pub required: bool,
    /// Where its value comes from in a FHIR record, when a record holds it.
    pub fhir: Option<fhir_record::FhirSource>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    Number(NumberFeature),
    Boolean {
        /// What absence means.
        when_absent: &'static str,
    },
    Choice {
        allowed: &'static [&'static str],
        /// What absence means; `None` for a required choice.
        when_absent: Option<&'static str>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumberFeature {
    /// Canonical unit symbol.
    pub unit: &'static str,
    /// Validated range in the canonical unit.
    pub range: Option<Range>,
    /// Other accepted units: canonical = value × factor.
    pub alternative_units: Vec<UnitConversion>,
    /// The choice feature whose value names this number's unit.
    pub unit_selector: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A probability over `horizon_years`, in [0, 1].
    Probability,
    /// A score on the model's own scale (a user's regression model).
    Score,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: OutputKind,
    pub horizon_years: Option<u32>,
}

/// One category of the primary output, from its inclusive lower bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub name: &'static str,
    pub label: &'static str,
    pub from: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    /// In increasing order of `from`.
    pub bands: Vec<Category>,
    /// Where the thresholds come from.
    pub source: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExplanationInfo {
    pub scale: &'static str,
    pub reference_patient: &'static str,
    /// The factors a prediction's contributions are given for, in the order it gives them.
    pub factors: Vec<&'static str>,
}
