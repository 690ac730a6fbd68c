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
    /// Where the feature's value comes from in a FHIR record; None when the model declares
    /// no source for it.
    pub fhir: Option<FhirSource>,
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

    /// Whether any feature declares a FHIR source: a model with none cannot be scored from a
    /// record at all.
    pub fn reads_fhir(&self) -> bool {
        self.features.iter().any(|feature| feature.fhir.is_some())
    }
}
