//! A risk model as a capability-free WebAssembly component behind the WIT contract
//! `healthcare:risk/predictor@1.0.0` (`wit/risk.wit`).
//!
//! This crate holds the bindings of the world `model`, the conversions between the WIT types
//! and the pure [`risk_models`] crate, and [`model_component!`], which turns a crate into the
//! component of one model:
//!
//! ```text
//! model_component::model_component!(risk_models::Model::Pce2013);
//! ```
//!
//! The conversions are plain Rust and tested natively; only the component's exports are
//! compiled for `wasm32` alone.

wit_bindgen::generate!({
    path: "../../wit",
    world: "model",
    pub_export_macro: true,
    export_macro_name: "export_model",
    default_bindings_module: "model_component",
    additional_derives: [PartialEq],
});

pub use exports::healthcare::risk::predictor as wit;

use risk_models::{
    CholesterolUnit, Field, FieldError, FieldKind, FieldProblem, FieldValue, Model, PatientInput,
    Prediction, Race, Requirement, RiskCategory, Sex, ValidationErrors,
};

/// The model's answer for one WIT patient, or every problem found, one per field.
///
/// Non-finite numbers are refused first (as the HTTP adapter refuses a bad value before the
/// model validates), then the model validates and predicts.
pub fn predict(
    model: Model,
    patient: wit::PatientInput,
) -> Result<wit::Prediction, Vec<wit::FieldError>> {
    let wit_errors = |errors: Vec<FieldError>| errors.iter().map(field_error).collect();
    let input = patient_input(&patient).map_err(wit_errors)?;
    model
        .predict(&input)
        .map(|prediction| self::prediction(&prediction))
        .map_err(|ValidationErrors(errors)| wit_errors(errors))
}

/// The WIT patient as the domain's unchecked input. Numbers go through
/// [`PatientInput::set`], so a NaN or infinity is refused as [`FieldProblem::NotFinite`].
pub fn patient_input(patient: &wit::PatientInput) -> Result<PatientInput, Vec<FieldError>> {
    let mut input = PatientInput {
        sex: patient.sex.map(sex),
        race: patient.race.map(race),
        cholesterol_unit: patient.cholesterol_unit.map(cholesterol_unit),
        on_bp_treatment: patient.on_bp_treatment,
        smoker: patient.smoker,
        diabetic: patient.diabetic,
        on_statin: patient.on_statin,
        ..PatientInput::default()
    };
    let numbers = [
        (Field::Age, patient.age),
        (Field::TotalCholesterol, patient.total_cholesterol),
        (Field::HdlCholesterol, patient.hdl_cholesterol),
        (Field::SystolicBp, patient.systolic_bp),
        (Field::Egfr, patient.egfr),
    ];
    let errors: Vec<FieldError> = numbers
        .into_iter()
        .filter_map(|(field, value)| {
            let problem = input.set(field, FieldValue::Number(value?)).err()?;
            Some(FieldError::new(field.name(), problem))
        })
        .collect();
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

pub fn sex(sex: wit::Sex) -> Sex {
    match sex {
        wit::Sex::Female => Sex::Female,
        wit::Sex::Male => Sex::Male,
    }
}

pub fn race(race: wit::Race) -> Race {
    match race {
        wit::Race::White => Race::White,
        wit::Race::AfricanAmerican => Race::AfricanAmerican,
        wit::Race::Other => Race::Other,
    }
}

pub fn cholesterol_unit(unit: wit::CholesterolUnit) -> CholesterolUnit {
    match unit {
        wit::CholesterolUnit::MgPerDl => CholesterolUnit::MgPerDl,
        wit::CholesterolUnit::MmolPerL => CholesterolUnit::MmolPerL,
    }
}

pub fn risk_category(category: RiskCategory) -> wit::RiskCategory {
    match category {
        RiskCategory::Low => wit::RiskCategory::Low,
        RiskCategory::Borderline => wit::RiskCategory::Borderline,
        RiskCategory::Intermediate => wit::RiskCategory::Intermediate,
        RiskCategory::High => wit::RiskCategory::High,
    }
}

pub fn prediction(prediction: &Prediction) -> wit::Prediction {
    wit::Prediction {
        outcomes: prediction
            .outcomes
            .iter()
            .map(|outcome| wit::OutcomeRisk {
                outcome: outcome.outcome.name.into(),
                risk: outcome.risk,
            })
            .collect(),
        category: risk_category(prediction.category),
        confidence: prediction.confidence,
        contributions: prediction
            .contributions
            .iter()
            .map(|contribution| wit::Contribution {
                factor: contribution.factor.name().into(),
                value: contribution.value,
            })
            .collect(),
        linear_predictor: prediction.linear_predictor,
        reference_value: prediction.reference_value,
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
        FieldProblem::Unknown => wit::FieldProblem::Unknown,
        FieldProblem::WrongType { .. } => wit::FieldProblem::WrongType,
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
        field: error.field.clone(),
        problem: field_problem(&error.problem),
        message: error.to_string(),
    }
}

pub fn model_info(model: Model) -> wit::ModelInfo {
    let spec = model.spec();
    wit::ModelInfo {
        name: spec.name.into(),
        version: spec.version.into(),
        title: spec.title.into(),
        citation: spec.citation.into(),
        population: spec.population.into(),
        horizon_years: spec.horizon_years,
        inputs: spec
            .inputs
            .iter()
            .map(|input| wit::InputInfo {
                field: input.field.name().into(),
                unit: match input.field.kind() {
                    FieldKind::Number { unit } => Some(unit.symbol().into()),
                    FieldKind::Flag | FieldKind::Choice { .. } => None,
                },
                required: input.requirement == Requirement::Required,
                when_absent: match input.requirement {
                    Requirement::Required => None,
                    Requirement::Optional { when_absent } => Some(when_absent.into()),
                },
                range: input.range.map(range),
                description: input.field.description().into(),
            })
            .collect(),
        outcomes: spec
            .outcomes
            .iter()
            .map(|outcome| wit::OutcomeInfo {
                name: outcome.name.into(),
                description: outcome.description.into(),
            })
            .collect(),
        linear_predictor_scale: spec.linear_predictor_scale.into(),
        reference_patient: spec.reference_patient.into(),
        category_basis: spec.category_basis.into(),
    }
}

/// Makes the calling crate the component of one model: exports `healthcare:risk/predictor`
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

                fn predict(
                    patient: wit::PatientInput,
                ) -> Result<wit::Prediction, Vec<wit::FieldError>> {
                    $crate::predict($model, patient)
                }
            }

            $crate::export_model!(Component);
        };
    };
}

#[cfg(test)]
mod tests;
