//! A risk model as a capability-free WebAssembly component behind the general model contract
//! `healthcare:model/model@2.0.0` (`wit/model.wit`).
//!
//! This crate holds the bindings of the world `tabular-model`, the conversions between the WIT
//! types and the pure [`risk_models`] crate, and [`model_component!`], which turns a crate into
//! the component of one model:
//!
//! ```text
//! model_component::model_component!(risk_models::Model::Pce2013);
//! ```
//!
//! The conversions are plain Rust and tested natively; only the component's exports are
//! compiled for `wasm32` alone.

wit_bindgen::generate!({
    path: "../../wit/model.wit",
    world: "tabular-model",
    pub_export_macro: true,
    export_macro_name: "export_model",
    default_bindings_module: "model_component",
    additional_derives: [PartialEq],
});

pub use exports::healthcare::model::model as wit;

// Only a model component (a core module for wasm32-unknown-unknown) gets the arena: natively
// this crate is a library of the API's tests.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod arena;

use risk_models::description::{Categories, FeatureKind, OutputKind};
use risk_models::{FieldError, FieldProblem, FieldValue, TabularModel, TabularPrediction};

/// The model's answer for one WIT patient, or every problem found, one per feature
/// ([`TabularModel::predict_features`]: kinds first, then the model's own rules; names the
/// model does not declare are ignored with a `field_not_used` warning).
pub fn predict(
    model: &dyn TabularModel,
    patient: &wit::Patient,
) -> Result<wit::Prediction, Vec<wit::FieldError>> {
    model
        .predict_features(&given(patient))
        .map(|prediction| self::prediction(&prediction))
        .map_err(|errors| errors.0.iter().map(field_error).collect())
}

/// One prediction per patient, in order: the batch form of [`predict`].
pub fn predict_batch(
    model: &dyn TabularModel,
    patients: &[wit::Patient],
) -> Vec<Result<wit::Prediction, Vec<wit::FieldError>>> {
    patients
        .iter()
        .map(|patient| predict(model, patient))
        .collect()
}

/// The WIT patient as the domain's named values.
pub fn given(patient: &wit::Patient) -> Vec<(&str, FieldValue<'_>)> {
    patient
        .iter()
        .map(|given| {
            let value = match &given.value {
                wit::Value::Number(number) => FieldValue::Number(*number),
                wit::Value::Boolean(flag) => FieldValue::Flag(*flag),
                wit::Value::Choice(text) => FieldValue::Text(text),
            };
            (given.name.as_str(), value)
        })
        .collect()
}

pub fn prediction(prediction: &TabularPrediction) -> wit::Prediction {
    wit::Prediction {
        outputs: prediction
            .outputs
            .iter()
            .map(|(name, value)| wit::OutputValue {
                name: (*name).into(),
                value: wit::Value::Number(*value),
            })
            .collect(),
        category: prediction.category.map(Into::into),
        confidence: prediction.confidence,
        contributions: prediction
            .contributions
            .iter()
            .map(|(factor, value)| wit::Contribution {
                factor: (*factor).into(),
                value: *value,
            })
            .collect(),
        linear_predictor: prediction.explanation.map(|(lp, _)| lp),
        reference_value: prediction.explanation.map(|(_, reference)| reference),
        warnings: prediction
            .warnings
            .iter()
            .map(|warning| wit::Warning {
                code: warning.code.into(),
                message: warning.message.clone(),
            })
            .collect(),
    }
}

fn range(range: risk_models::Range) -> wit::Range {
    wit::Range {
        min: range.min,
        max: range.max,
    }
}

pub fn field_problem(problem: &FieldProblem) -> wit::FieldProblem {
    match problem {
        FieldProblem::Missing => wit::FieldProblem::Missing,
        // A model ignores names it does not declare, so validation never reports one unknown;
        // the domain's vocabulary keeps the case for the HTTP adapter.
        FieldProblem::Unknown | FieldProblem::WrongType { .. } => wit::FieldProblem::WrongType,
        FieldProblem::NotAllowed { allowed } => {
            wit::FieldProblem::NotAllowed(allowed.iter().map(|value| (*value).into()).collect())
        }
        FieldProblem::NotFinite => wit::FieldProblem::NotFinite,
        FieldProblem::Duplicate { .. } => wit::FieldProblem::Duplicate,
        FieldProblem::OutOfRange { range: r, .. } => wit::FieldProblem::OutOfRange(range(*r)),
    }
}

/// The error with the same message the HTTP API gives.
pub fn field_error(error: &FieldError) -> wit::FieldError {
    wit::FieldError {
        feature: error.field.clone(),
        problem: field_problem(&error.problem),
        message: error.to_string(),
    }
}

/// What the model declares about itself, from its general description
/// ([`TabularModel::describe`]).
pub fn model_info(model: &dyn TabularModel) -> wit::ModelInfo {
    let description = model.describe();
    wit::ModelInfo {
        name: description.name.into(),
        version: description.version.into(),
        title: description.title.into(),
        citation: description.citation.into(),
        population: description.population.into(),
        horizon_years: description.horizon_years,
        features: description.features.iter().map(feature).collect(),
        outputs: description
            .outputs
            .iter()
            .map(|output| wit::Output {
                name: output.name.into(),
                description: output.description.into(),
                kind: match output.kind {
                    OutputKind::Probability => wit::OutputKind::Probability,
                },
                horizon_years: output.horizon_years,
            })
            .collect(),
        categories: description.categories.as_ref().map(categories),
        explanation: description
            .explanation
            .as_ref()
            .map(|explanation| wit::ExplanationInfo {
                scale: explanation.scale.into(),
                reference_patient: explanation.reference_patient.into(),
            }),
        confidence: description.confidence.map(Into::into),
    }
}

fn feature(feature: &risk_models::description::Feature) -> wit::Feature {
    let kind = match &feature.kind {
        FeatureKind::Number(number) => wit::FeatureKind::Number(wit::NumberFeature {
            unit: number.unit.into(),
            range: number.range.map(range),
            alternative_units: number
                .alternative_units
                .iter()
                .map(|conversion| wit::UnitConversion {
                    unit: conversion.unit.into(),
                    factor: conversion.factor,
                })
                .collect(),
            unit_selector: number.unit_selector.map(Into::into),
        }),
        FeatureKind::Boolean { when_absent } => wit::FeatureKind::Boolean(wit::BooleanFeature {
            when_absent: (*when_absent).into(),
        }),
        FeatureKind::Choice {
            allowed,
            when_absent,
        } => wit::FeatureKind::Choice(wit::ChoiceFeature {
            allowed: allowed.iter().map(|value| (*value).into()).collect(),
            when_absent: when_absent.map(Into::into),
        }),
    };
    wit::Feature {
        name: feature.name.into(),
        aliases: feature
            .aliases
            .iter()
            .map(|alias| (*alias).into())
            .collect(),
        description: feature.description.into(),
        kind,
        required: feature.required,
    }
}

fn categories(categories: &Categories) -> wit::Categories {
    wit::Categories {
        bands: categories
            .bands
            .iter()
            .map(|band| wit::Category {
                name: band.name.into(),
                label: band.label.into(),
                lower_bound: band.from,
            })
            .collect(),
        source: categories.source.into(),
    }
}

/// Makes the calling crate the component of one model: exports `healthcare:model/model`
/// answered by `$model` (any [`risk_models::TabularModel`]). Expands to nothing except on
/// `wasm32`, so the crate still builds, lints and tests natively.
#[macro_export]
macro_rules! model_component {
    ($model:expr) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::wit;

            struct Component;

            impl wit::Guest for Component {
                fn info() -> wit::ModelInfo {
                    $crate::model_info(&$model)
                }

                fn predict(patient: wit::Patient) -> Result<wit::Prediction, Vec<wit::FieldError>> {
                    $crate::predict(&$model, &patient)
                }

                fn predict_batch(
                    patients: Vec<wit::Patient>,
                ) -> Vec<Result<wit::Prediction, Vec<wit::FieldError>>> {
                    $crate::predict_batch(&$model, &patients)
                }
            }

            $crate::export_model!(Component);
        };
    };
}

#[cfg(test)]
mod tests;
