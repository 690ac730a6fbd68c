//! A risk model as a capability-free WebAssembly component behind the general model contract
//! `healthcare:model/model@5.0.0` (`wit/model.wit`).
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
mod fhir;

use risk_models::description::{Categories, FeatureKind, OutputKind};
use risk_models::{
    FieldError, FieldProblem, FieldValue, TabularModel, TabularPrediction, TabularWarning,
};

/// The names behind the contract's positions: a patient's values and a prediction's outputs,
/// category and contributions cross as indices into these lists, which `info()` declares.
#[derive(Debug, Clone, PartialEq)]
pub struct Positions {
    features: Vec<&'static str>,
    outputs: Vec<&'static str>,
    categories: Vec<&'static str>,
    factors: Vec<&'static str>,
}

impl Positions {
    /// The positions `model`'s `info()` declares.
    pub fn of(model: &dyn TabularModel) -> Self {
        let description = model.describe();
        Positions {
            features: description.features.iter().map(|f| f.name).collect(),
            outputs: description.outputs.iter().map(|o| o.name).collect(),
            categories: description
                .categories
                .iter()
                .flat_map(|categories| categories.bands.iter().map(|band| band.name))
                .collect(),
            factors: description
                .explanation
                .iter()
                .flat_map(|explanation| explanation.factors.iter().copied())
                .collect(),
        }
    }
}

/// The model's answer for one WIT patient, or every problem found, one per feature
/// ([`TabularModel::predict_declared`]: kinds first, then the model's own rules; the names of
/// features the model does not declare are ignored with a `field_not_used` warning).
/// `positions` are the model's own ([`Positions::of`]).
pub fn predict(
    model: &dyn TabularModel,
    positions: &Positions,
    patient: &wit::Patient,
) -> Result<wit::Prediction, Vec<wit::FieldError>> {
    let not_declared: Vec<&str> = patient.not_declared.iter().map(String::as_str).collect();
    answer(model, positions, &patient.values, &not_declared)
        .map(|prediction| self::prediction(positions, &prediction))
}

/// What the model answers for one patient's values (a row of the wrong length is the
/// caller's bug) and the names of other models' features sent with them: the shared core of
/// [`predict`] and [`predict_batch`].
fn answer(
    model: &dyn TabularModel,
    positions: &Positions,
    values: &[Option<wit::Value>],
    not_declared: &[&str],
) -> Result<TabularPrediction, Vec<wit::FieldError>> {
    let Some(given) = given(positions, values) else {
        return Err(vec![wrong_call(positions, values.len())]);
    };
    model
        .predict_declared(&given, not_declared)
        .map_err(|errors| errors.0.iter().map(field_error).collect())
}

/// Every patient of a batch, each answered exactly as [`predict`] answers it alone, written
/// into the batch's columns (`batch-predictions` in `wit/model.wit`).
pub fn predict_batch(
    model: &dyn TabularModel,
    positions: &Positions,
    batch: &wit::PatientBatch,
) -> wit::BatchPredictions {
    let mut columns = Columns::default();
    let features = positions.features.len();
    let rows = usize::try_from(batch.count).unwrap_or(usize::MAX);
    let table = rows.checked_mul(features) == Some(batch.values.len());
    let in_batch_order = batch.not_declared.is_sorted_by_key(|(patient, _)| *patient);
    for (row, patient) in (0..batch.count).enumerate() {
        // Every row, or none: a table of the wrong width is the caller's bug for every patient.
        let values = table
            .then(|| batch.values.get(row * features..(row + 1) * features))
            .flatten();
        let Some(values) = values else {
            let errors = vec![wrong_width(positions, batch)];
            columns.0.refused.push(wit::Refusal { patient, errors });
            continue;
        };
        let not_declared = not_declared_by(&batch.not_declared, in_batch_order, patient);
        match answer(model, positions, values, &not_declared) {
            Ok(prediction) => columns.push(positions, patient, &prediction),
            Err(errors) => columns.0.refused.push(wit::Refusal { patient, errors }),
        }
    }
    columns.0
}

/// The names of other models' features sent with `patient`. A client that sends every
/// patient with a field of another model gives one per patient, so in batch order (as the
/// contract asks) they are found by binary search rather than a pass over all of them per
/// patient; in any other order, by that pass.
fn not_declared_by(names: &[(u32, String)], in_batch_order: bool, patient: u32) -> Vec<&str> {
    let from = if in_batch_order {
        names.partition_point(|(sent_by, _)| *sent_by < patient)
    } else {
        0
    };
    names[from..]
        .iter()
        .take_while(|(sent_by, _)| !in_batch_order || *sent_by == patient)
        .filter(|(sent_by, _)| *sent_by == patient)
        .map(|(_, name)| name.as_str())
        .collect()
}

/// A batch's answer being written, one scored patient after another.
struct Columns(wit::BatchPredictions);

impl Default for Columns {
    fn default() -> Self {
        Columns(wit::BatchPredictions {
            refused: Vec::new(),
            scored: Vec::new(),
            outputs: Vec::new(),
            contributions: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

impl Columns {
    /// Appends the row of the scored patient at `patient`, placed as [`prediction`] places it;
    /// a model with an explanation has a whole row of contributions for every patient (NaN
    /// for a factor it did not value), so that the rows stay aligned.
    fn push(&mut self, positions: &Positions, patient: u32, prediction: &TabularPrediction) {
        let columns = &mut self.0;
        columns
            .outputs
            .extend(placed(&positions.outputs, &prediction.outputs).map(wit::Value::Number));
        columns.scored.push(wit::Scored {
            category: category(positions, prediction),
            confidence: prediction.confidence,
            linear_predictor: prediction.explanation.map(|(lp, _)| lp),
            reference_value: prediction.explanation.map(|(_, reference)| reference),
        });
        columns
            .contributions
            .extend(placed(&positions.factors, &prediction.contributions));
        columns.warnings.extend(
            prediction
                .warnings
                .iter()
                .map(|warning| (patient, self::warning(warning))),
        );
    }
}

/// The WIT patient's values as the domain's named values (the declared features given);
/// `None` when there is not one value per declared feature.
pub fn given<'p>(
    positions: &Positions,
    values: &'p [Option<wit::Value>],
) -> Option<Vec<(&'static str, FieldValue<'p>)>> {
    if values.len() != positions.features.len() {
        return None;
    }
    let given = positions
        .features
        .iter()
        .zip(values)
        .filter_map(|(name, value)| {
            let value = match value.as_ref()? {
                wit::Value::Number(number) => FieldValue::Number(*number),
                wit::Value::Boolean(flag) => FieldValue::Flag(*flag),
                wit::Value::Choice(text) => FieldValue::Text(text),
            };
            Some((*name, value))
        })
        .collect();
    Some(given)
}

/// The error for a patient of the wrong length: a caller's bug, never a client's.
fn wrong_call(positions: &Positions, values: usize) -> wit::FieldError {
    wit::FieldError {
        feature: String::new(),
        problem: wit::FieldProblem::WrongType,
        message: format!(
            "the call gave {values} values for the model's {} features",
            positions.features.len()
        ),
    }
}

/// The error for every patient of a batch whose values are not one row per patient.
fn wrong_width(positions: &Positions, batch: &wit::PatientBatch) -> wit::FieldError {
    wit::FieldError {
        feature: String::new(),
        problem: wit::FieldProblem::WrongType,
        message: format!(
            "the call gave {} values for {} patients of the model's {} features",
            batch.values.len(),
            batch.count,
            positions.features.len()
        ),
    }
}

/// The index of `name` in `names`, which the model's own description guarantees
/// (`tests::every_builtin_prediction_crosses_in_its_declared_positions`).
fn position(names: &[&str], name: &str) -> Option<usize> {
    names.iter().position(|known| *known == name)
}

/// `values` (named) in the order of `names`. A value the description does not place (a model
/// contradicting its own description, which the tests rule out for the built-in models)
/// crosses as NaN, which the API shows as `null`, never under another name.
fn placed<'a>(
    names: &'a [&'static str],
    values: &'a [(&'static str, f64)],
) -> impl Iterator<Item = f64> + 'a {
    names
        .iter()
        .enumerate()
        .map(|(index, name)| match values.get(index) {
            // The usual case: the model gives its values in its declared order.
            Some((given, value)) if given == name => *value,
            _ => values
                .iter()
                .find(|(given, _)| given == name)
                .map_or(f64::NAN, |(_, value)| *value),
        })
}

fn category(positions: &Positions, prediction: &TabularPrediction) -> Option<u32> {
    prediction
        .category
        .and_then(|name| position(&positions.categories, name))
        .and_then(|index| u32::try_from(index).ok())
}

fn warning(warning: &TabularWarning) -> wit::Warning {
    wit::Warning {
        code: warning.code.into(),
        message: warning.message.clone(),
    }
}

/// The prediction in the contract's positions.
pub fn prediction(positions: &Positions, prediction: &TabularPrediction) -> wit::Prediction {
    wit::Prediction {
        outputs: placed(&positions.outputs, &prediction.outputs)
            .map(wit::Value::Number)
            .collect(),
        category: category(positions, prediction),
        confidence: prediction.confidence,
        // Empty without an explanation (no factors); otherwise a whole row, as in a batch.
        contributions: placed(&positions.factors, &prediction.contributions).collect(),
        linear_predictor: prediction.explanation.map(|(lp, _)| lp),
        reference_value: prediction.explanation.map(|(_, reference)| reference),
        warnings: prediction.warnings.iter().map(warning).collect(),
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

/// The model's name and version, as [`model_info`] declares them.
pub fn identity(model: &dyn TabularModel) -> wit::ModelIdentity {
    let description = model.describe();
    wit::ModelIdentity {
        name: description.name.into(),
        version: description.version.into(),
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
                    OutputKind::Score => wit::OutputKind::Score,
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
                factors: explanation
                    .factors
                    .iter()
                    .map(|factor| (*factor).into())
                    .collect(),
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
        fhir: feature.fhir.as_ref().map(fhir::fhir_source),
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

            /// The model's positions, worked out once per instance (the runtime makes one
            /// per request).
            fn positions() -> &'static $crate::Positions {
                static POSITIONS: ::std::sync::OnceLock<$crate::Positions> =
                    ::std::sync::OnceLock::new();
                POSITIONS.get_or_init(|| $crate::Positions::of(&$model))
            }

            impl wit::Guest for Component {
                fn info() -> wit::ModelInfo {
                    $crate::model_info(&$model)
                }

                fn identity() -> wit::ModelIdentity {
                    $crate::identity(&$model)
                }

                fn predict(patient: wit::Patient) -> Result<wit::Prediction, Vec<wit::FieldError>> {
                    $crate::predict(&$model, positions(), &patient)
                }

                fn predict_batch(patients: wit::PatientBatch) -> wit::BatchPredictions {
                    $crate::predict_batch(&$model, positions(), &patients)
                }
            }

            $crate::export_model!(Component);
        };
    };
}

#[cfg(test)]
mod tests;
