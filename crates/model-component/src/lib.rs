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

use risk_models::description::{Categories, FeatureKind, OutputKind};
use risk_models::{
    Field, FieldError, FieldProblem, FieldValue, Model, PatientInput, Prediction, ValidationErrors,
};

/// Longest feature name echoed back in a `field_not_used` warning.
const MAX_ECHOED_NAME: usize = 64;

/// The model's answer for one WIT patient, or every problem found, one per feature.
///
/// The values' kinds are checked first (as the HTTP adapter checks them before the model
/// validates), then the model validates and predicts. Names the model does not declare are
/// ignored with a `field_not_used` warning, after the model's own warnings.
pub fn predict(
    model: Model,
    patient: &wit::Patient,
) -> Result<wit::Prediction, Vec<wit::FieldError>> {
    let wit_errors = |errors: Vec<FieldError>| errors.iter().map(field_error).collect::<Vec<_>>();
    let (input, not_declared) = patient_input(patient).map_err(wit_errors)?;
    let prediction = model
        .predict(&input)
        .map_err(|ValidationErrors(errors)| wit_errors(errors))?;
    let mut prediction = self::prediction(&prediction);
    prediction
        .warnings
        .extend(not_declared.iter().map(|name| not_used(model, name)));
    Ok(prediction)
}

/// One prediction per patient, in order: the batch form of [`predict`].
pub fn predict_batch(
    model: Model,
    patients: &[wit::Patient],
) -> Vec<Result<wit::Prediction, Vec<wit::FieldError>>> {
    patients
        .iter()
        .map(|patient| predict(model, patient))
        .collect()
}

/// The WIT patient as the domain's unchecked input, and the names no field of the domain has.
/// Values go through [`PatientInput::set`], which checks their kind, refuses a NaN or infinity
/// and a field given twice.
pub fn patient_input(
    patient: &wit::Patient,
) -> Result<(PatientInput, Vec<String>), Vec<FieldError>> {
    let mut input = PatientInput::default();
    let mut not_declared = Vec::new();
    let mut errors = Vec::new();
    for given in patient {
        let Some(field) = Field::from_name(&given.name) else {
            not_declared.push(given.name.chars().take(MAX_ECHOED_NAME).collect());
            continue;
        };
        let value = match &given.value {
            wit::Value::Number(number) => FieldValue::Number(*number),
            wit::Value::Boolean(flag) => FieldValue::Flag(*flag),
            wit::Value::Choice(text) => FieldValue::Text(text),
        };
        if let Err(problem) = input.set(field, value) {
            errors.push(FieldError::new(field.name(), problem));
        }
    }
    if errors.is_empty() {
        Ok((input, not_declared))
    } else {
        Err(errors)
    }
}

fn not_used(model: Model, name: &str) -> wit::Warning {
    wit::Warning {
        code: "field_not_used".into(),
        message: format!("{name} is not used by {} and was ignored", model.name()),
    }
}

pub fn prediction(prediction: &Prediction) -> wit::Prediction {
    wit::Prediction {
        outputs: prediction
            .outcomes
            .iter()
            .map(|outcome| wit::OutputValue {
                name: outcome.outcome.name.into(),
                value: wit::Value::Number(outcome.risk),
            })
            .collect(),
        category: Some(prediction.category.name().into()),
        confidence: Some(prediction.confidence),
        contributions: prediction
            .contributions
            .iter()
            .map(|contribution| wit::Contribution {
                factor: contribution.factor.name().into(),
                value: contribution.value,
            })
            .collect(),
        linear_predictor: Some(prediction.linear_predictor),
        reference_value: Some(prediction.reference_value),
        warnings: prediction
            .warnings
            .iter()
            .map(|warning| wit::Warning {
                code: warning.code().into(),
                message: warning.to_string(),
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
/// ([`Model::describe`]).
pub fn model_info(model: Model) -> wit::ModelInfo {
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
/// answered by `$model` (a [`risk_models::Model`]). Expands to nothing except on `wasm32`, so
/// the crate still builds, lints and tests natively.
#[macro_export]
macro_rules! model_component {
    ($model:expr) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::wit;

            struct Component;

            impl wit::Guest for Component {
                fn info() -> wit::ModelInfo {
                    $crate::model_info($model)
                }

                fn predict(patient: wit::Patient) -> Result<wit::Prediction, Vec<wit::FieldError>> {
                    $crate::predict($model, &patient)
                }

                fn predict_batch(
                    patients: Vec<wit::Patient>,
                ) -> Vec<Result<wit::Prediction, Vec<wit::FieldError>>> {
                    $crate::predict_batch($model, &patients)
                }
            }

            $crate::export_model!(Component);
        };
    };
}

#[cfg(test)]
mod tests;
