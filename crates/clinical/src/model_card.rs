//! A model's card as the prediction API writes it (`GET /models/{name}`, the model's `info()`
//! as JSON; the API's `src/model_cards.rs` and its OpenAPI schema `ModelCard`), reduced to what
//! the clinical endpoints read. Members not listed here are ignored, so the API may add some.

use fhir_record::FhirSource;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelCard {
    pub name: String,
    pub version: String,
    pub title: String,
    pub citation: String,
    pub features: Vec<CardFeature>,
    /// The primary output first.
    pub outputs: Vec<CardOutput>,
    pub categories: Option<CardCategories>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CardFeature {
    pub name: String,
    pub required: bool,
    pub kind: CardKind,
    /// Where the feature's value comes from in a FHIR record; None when the model declares
    /// no source for it.
    pub fhir: Option<FhirSource>,
}

/// A feature's kind, reduced to what a clinician reads: its unit, for a number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CardKind {
    /// `number`, `boolean` or `choice`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// A number's canonical unit.
    #[serde(default)]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CardOutput {
    pub name: String,
    pub description: String,
    /// `probability`, `score` or `class`.
    pub kind: String,
    pub horizon_years: Option<u32>,
}

impl CardOutput {
    pub fn is_probability(&self) -> bool {
        self.kind == "probability"
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CardCategories {
    /// Lowest first.
    pub bands: Vec<CardBand>,
    /// Where the thresholds come from.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CardBand {
    pub name: String,
    pub label: String,
}

/// `GET /models`: every card, the default model's first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelCards {
    pub models: Vec<ModelCard>,
}

impl ModelCard {
    /// The label of category `name` (the name itself for a category the card does not list).
    pub fn category_label<'c>(&'c self, name: &'c str) -> &'c str {
        self.categories
            .iter()
            .flat_map(|categories| &categories.bands)
            .find(|band| band.name == name)
            .map_or(name, |band| band.label.as_str())
    }

    /// Whether a record can give the model every feature it requires: each declares a FHIR
    /// source. Only such a model is offered as a CDS Hooks service.
    pub fn reads_fhir(&self) -> bool {
        let sourced = |feature: &CardFeature| feature.fhir.is_some();
        self.features.iter().any(sourced) && self.features.iter().all(|f| sourced(f) || !f.required)
    }

    /// The position of category `name` among the bands, lowest first, and their number.
    pub fn category_rank(&self, name: &str) -> Option<(usize, usize)> {
        let bands = &self.categories.as_ref()?.bands;
        let rank = bands.iter().position(|band| band.name == name)?;
        Some((rank, bands.len()))
    }

    /// The feature named `name`.
    pub fn feature(&self, name: &str) -> Option<&CardFeature> {
        self.features.iter().find(|feature| feature.name == name)
    }
}
