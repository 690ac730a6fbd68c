//! The models this component serves, reached only through their WIT interface
//! (`healthcare:risk/predictor`, `wit/risk.wit`).
//!
//! In the WebAssembly build every model is an import of the world `api`
//! (`wit/service/api.wit`): the default model as `healthcare:risk/predictor`, every other one
//! under its own name. Separate model components answer them, wired in by `spin.toml` or
//! composed in by `wac`, so this component holds no equation. Natively (unit tests,
//! benchmarks, fuzzing) the same two calls go in-process to `model-component`, the code every
//! model component runs. Either way the rest of the crate sees only the plain types below.

#[cfg(target_arch = "wasm32")]
mod imports;
#[cfg(not(target_arch = "wasm32"))]
mod in_process;
mod wit_conversions;

use std::cell::OnceCell;

use risk_models::{Field, PatientInput, RiskCategory};

/// What a model declares about itself (`model-info`), as it declared it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    pub version: String,
    pub title: String,
    pub citation: String,
    pub population: String,
    pub horizon_years: u32,
    /// The inputs the model uses, in documentation order.
    pub inputs: Vec<InputInfo>,
    /// The outcomes, primary first.
    pub outcomes: Vec<OutcomeInfo>,
    pub linear_predictor_scale: String,
    pub reference_patient: String,
    pub category_basis: String,
}

impl ModelInfo {
    pub fn input(&self, field: Field) -> Option<&InputInfo> {
        self.inputs.iter().find(|input| input.field == field)
    }

    /// The primary outcome's name (every model declares at least one outcome; an empty name
    /// would only mean a broken model component).
    pub fn primary_outcome(&self) -> &str {
        self.outcomes.first().map_or("", |outcome| &outcome.name)
    }
}

/// One input a model declares. Fields outside the patient vocabulary cannot occur (the WIT
/// `patient-input` record fixes it); a declaration naming one is dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct InputInfo {
    pub field: Field,
    pub unit: Option<String>,
    pub required: bool,
    pub when_absent: Option<String>,
    /// The validated range, in the field's canonical unit (cholesterol in mg/dL).
    pub range: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeInfo {
    pub name: String,
    pub description: String,
}

/// A model's answer for one patient (`prediction` in `wit/risk.wit`, where every member's
/// meaning is documented).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrediction {
    /// `(outcome, risk as a fraction)`, primary outcome first.
    pub outcomes: Vec<(String, f64)>,
    pub category: RiskCategory,
    pub confidence: f64,
    /// `(factor, contribution)` in the model's factor order.
    pub contributions: Vec<(String, f64)>,
    pub linear_predictor: f64,
    pub reference_value: f64,
    pub warnings: Vec<ModelWarning>,
}

impl ModelPrediction {
    /// The primary outcome's risk.
    pub fn risk(&self) -> f64 {
        self.outcomes.first().map_or(f64::NAN, |(_, risk)| *risk)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModelWarning {
    pub code: String,
    pub message: String,
}

/// Why a model refused one field: its name and a sentence naming the allowed values or range,
/// never the value sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFieldError {
    pub field: String,
    pub message: String,
}

pub type PredictResult = Result<ModelPrediction, Vec<ModelFieldError>>;

/// The import of the default model, the one `/predict` uses when a request names none: the
/// contract's own interface, wired by `spin.toml` to whichever model component the deployer
/// chooses.
pub const DEFAULT_IMPORT: &str = "healthcare:risk/predictor@1.0.0";

/// One model's two functions, and the name of the import they came through. The import name
/// is only the key under which the runtime wired a model in (a `spin.toml` dependency name):
/// it names the import in diagnostics and never identifies a model.
#[derive(Clone, Copy)]
pub struct Link {
    pub import: &'static str,
    pub info: fn() -> ModelInfo,
    pub predict: fn(&PatientInput) -> PredictResult,
}

/// Every model this component reaches, the default first. Asks a model for its `info()` only
/// when a request needs it, at most once per catalog (one catalog per request).
pub struct Catalog {
    links: &'static [Link],
    infos: Vec<OnceCell<ModelInfo>>,
}

/// A model of the catalog.
#[derive(Clone, Copy)]
pub struct ServedModel<'c> {
    info: &'c ModelInfo,
    link: Link,
}

impl ServedModel<'_> {
    pub fn info(&self) -> &ModelInfo {
        self.info
    }

    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub fn predict(&self, input: &PatientInput) -> PredictResult {
        (self.link.predict)(input)
    }
}

impl Catalog {
    /// The models this build is linked with: the imports in WebAssembly, in-process natively.
    pub fn linked() -> Catalog {
        #[cfg(target_arch = "wasm32")]
        let links = imports::LINKS;
        #[cfg(not(target_arch = "wasm32"))]
        let links = in_process::LINKS;
        Catalog::new(links)
    }

    pub fn new(links: &'static [Link]) -> Catalog {
        Catalog {
            links,
            infos: links.iter().map(|_| OnceCell::new()).collect(),
        }
    }

    fn model(&self, index: usize) -> ServedModel<'_> {
        let link = self.links[index];
        let info = self.infos[index].get_or_init(link.info);
        ServedModel { info, link }
    }

    /// The model `/predict` uses when a request names none.
    pub fn default_model(&self) -> ServedModel<'_> {
        self.model(0)
    }

    /// The model that declares itself `name`. A model is always identified by its own
    /// `info().name`, never by the import it came through, so a model wired into an
    /// unexpected import can never answer under another model's name.
    pub fn find(&self, name: &str) -> Option<ServedModel<'_>> {
        (0..self.links.len())
            .map(|index| self.model(index))
            .find(|model| model.name() == name)
    }

    /// Every model, the default first, each name once.
    pub fn models(&self) -> Vec<ServedModel<'_>> {
        let mut models: Vec<ServedModel<'_>> = Vec::with_capacity(self.links.len());
        for index in 0..self.links.len() {
            let model = self.model(index);
            if models.iter().all(|seen| seen.name() != model.name()) {
                models.push(model);
            }
        }
        models
    }

    pub fn names(&self) -> Vec<String> {
        self.models().iter().map(|m| m.name().to_string()).collect()
    }

    /// What is wrong with how the models were wired in, judged only from what each model
    /// declares: a model without a name or without an outcome, or one model answering two
    /// imports (then one model is served twice and another not at all). Empty when ready.
    /// Which import a model sits in is the deployer's choice (the default model is whichever
    /// answers `healthcare:risk/predictor`), so it is never a problem by itself.
    pub fn wiring_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for index in 0..self.links.len() {
            let import = self.links[index].import;
            let model = self.model(index);
            if model.name().is_empty() {
                problems.push(format!("the model in the import {import} declares no name"));
                continue;
            }
            if model.info().outcomes.is_empty() {
                problems.push(format!(
                    "the model {} (import {import}) declares no outcome",
                    model.name()
                ));
            }
            let first = (0..index).find(|&earlier| self.model(earlier).name() == model.name());
            if let Some(earlier) = first {
                problems.push(format!(
                    "the imports {} and {import} are both answered by the model {}",
                    self.links[earlier].import,
                    model.name()
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests;
