//! The models this component serves, reached only through the general model contract
//! (`healthcare:model/model`, `wit/model.wit`).
//!
//! In the WebAssembly build every model is an import of the world `api`, which `build.rs`
//! generates from the one list of models, `spin.toml`'s `[component.api.tool.model-api]
//! models` (the first is the default): `model0`, `model1`, … Separate model components
//! answer them, composed in at build time, so this component holds no model and knows none:
//! names, features, outputs and categories all come from each model's `info()`. Natively (unit tests, benchmarks, fuzzing) the same calls go in-process
//! to `model-component`, the code every built-in model component runs. Either way the rest of
//! the crate sees only the plain types of [`contract`].

pub mod contract;
#[cfg(target_arch = "wasm32")]
mod imports;
#[cfg(not(target_arch = "wasm32"))]
mod in_process;
mod wit_conversions;

use std::cell::OnceCell;

pub use contract::{
    Feature, FeatureKind, Identity, ModelFieldError, ModelInfo, ModelPrediction, ModelWarning,
    Patient, PredictResult, Value,
};

#[cfg(feature = "server-timing")]
use crate::server_timing::time_model_call;

/// Makes the call; the diagnostic build (`server-timing`) times it as well.
#[cfg(not(feature = "server-timing"))]
fn time_model_call<T>(call: impl FnOnce() -> T) -> T {
    call()
}

/// One model's functions, and the name of the import they came through. The import name
/// is only the place the model was composed into (`model0` for the first listed): it names
/// the import in diagnostics and never identifies a model.
#[derive(Clone, Copy)]
pub struct Link {
    pub import: &'static str,
    /// What the API knows of the model: for a built-in model, its description compiled in at
    /// build time; otherwise the component's own `info()`.
    pub info: fn() -> ModelInfo,
    /// Who the component wired into the import says it is now (its `identity()`), which
    /// readiness compares with `info`. (Not its whole `info()`: lifting that from every import
    /// would put a copy of the description's reading code in the component per model.)
    pub declared: fn() -> Identity,
    /// Patients in one cross-component call (`predict-batch`, for one patient too: one
    /// copy of the call's code per import, not two), one result per patient in order; empty
    /// when the model's answer is not the table the contract describes.
    pub predict_batch: fn(Vec<Patient>) -> Vec<PredictResult>,
}

/// Every model this component reaches, the default first. Asks a model for its `info()` only
/// when a request needs it, at most once per catalog (one catalog per request).
pub struct Catalog {
    links: &'static [Link],
    infos: Vec<OnceCell<ModelInfo>>,
    features: OnceCell<Vec<Feature>>,
}

/// A model of the catalog.
#[derive(Clone, Copy)]
pub struct ServedModel<'c> {
    info: &'c ModelInfo,
    link: Link,
}

impl<'c> ServedModel<'c> {
    pub fn info(&self) -> &'c ModelInfo {
        self.info
    }

    pub fn name(&self) -> &'c str {
        &self.info.name
    }

    /// One patient, as a batch of one; `None` when the model's answer is malformed.
    pub fn predict(&self, patient: Patient) -> Option<PredictResult> {
        let mut results = self.predict_batch(vec![patient]);
        match results.len() {
            1 => results.pop(),
            _ => None,
        }
    }

    /// Every patient in one call to the model (moved into the call's arguments).
    pub fn predict_batch(&self, patients: Vec<Patient>) -> Vec<PredictResult> {
        time_model_call(|| (self.link.predict_batch)(patients))
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
            features: OnceCell::new(),
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

    /// Every feature any model declares, each name once: the models' features in their
    /// declared order, the default model's first, a name already declared by an earlier model
    /// skipped. A client may send any of them to any model (a model ignores, with a warning,
    /// those it does not use); a name outside this list is refused.
    pub fn features(&self) -> &[Feature] {
        self.features.get_or_init(|| {
            let mut union: Vec<Feature> = Vec::new();
            for model in self.models() {
                for feature in model.info().features.iter() {
                    if union.iter().all(|known| known.name != feature.name) {
                        union.push(feature.clone());
                    }
                }
            }
            union
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.models().iter().map(|m| m.name().to_string()).collect()
    }

    /// What is wrong with how the models were wired in, judged from what each component says
    /// it is (its `identity()`, one call per model: readiness probes pay it, requests do not):
    /// a model without a name or without an output, one model answering two imports (then one
    /// model is served twice and another not at all), or a component that is not the one this
    /// build describes (composed by hand rather than by scripts/build.sh: requests would get
    /// another model's answers). Empty when ready. Which import a model sits in is the
    /// deployer's choice (the first listed is the default), so it is never a problem by itself.
    pub fn wiring_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let declared: Vec<Identity> = self.links.iter().map(|link| (link.declared)()).collect();
        for (index, model) in declared.iter().enumerate() {
            let import = self.links[index].import;
            if model.name.is_empty() {
                problems.push(format!("the model in the import {import} declares no name"));
                continue;
            }
            let described = self.model(index).info;
            if described.outputs.is_empty() {
                problems.push(format!(
                    "the model {} (import {import}) declares no output",
                    model.name
                ));
            }
            let first = (0..index).find(|&earlier| declared[earlier].name == model.name);
            if let Some(earlier) = first {
                problems.push(format!(
                    "the imports {} and {import} are both answered by the model {}",
                    self.links[earlier].import, model.name
                ));
            }
            if (&described.name, &described.version) != (&model.name, &model.version) {
                problems.push(format!(
                    "the component in the import {import} declares {} {}, not the {} {} this \
                     build describes: compose it with scripts/build.sh",
                    model.name, model.version, described.name, described.version
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests;
