//! Checks a [`PatientInput`] against a model's declared inputs and yields a validated
//! [`Patient`] in canonical units, or every problem found, one per field
//! ([`crate::problem`]).
//!
//! This is the only way to make a [`Patient`]: its fields are private and its constructor is
//! visible here alone, so the equations can trust every value they read.

mod patient;

pub use patient::Patient;

use crate::field::{CholesterolUnit, Field, FieldKind, Unit, MG_DL_PER_MMOL_L};
use crate::input::{PatientInput, Race};
use crate::problem::{FieldError, FieldProblem, ValidationErrors};
use crate::spec::{ModelSpec, Requirement};
use crate::value::UnitConversion;
use crate::warning::Warning;

/// Validates `input` for the model `spec`, returning the patient in canonical units and the
/// warnings the response must carry.
pub fn validate(
    spec: &ModelSpec,
    input: &PatientInput,
) -> Result<(Patient, Vec<Warning>), ValidationErrors> {
    let cholesterol_unit = input.cholesterol_unit.unwrap_or_default();
    let mut errors = Vec::new();

    for declared in spec.inputs {
        let field = declared.field;
        if declared.requirement == Requirement::Required && !input.is_set(field) {
            errors.push(FieldError::new(field.name(), FieldProblem::Missing));
            continue;
        }
        let (Some(range), Some(value)) = (declared.range, input.number(field)) else {
            continue;
        };
        let FieldKind::Number { unit } = field.kind() else {
            continue;
        };
        let canonical = if unit == Unit::Cholesterol {
            cholesterol_unit.to_mg_dl(value)
        } else {
            value
        };
        if !range.contains(canonical) {
            let given_in = (unit == Unit::Cholesterol
                && cholesterol_unit == CholesterolUnit::MmolPerL)
                .then_some(UnitConversion {
                    unit: cholesterol_unit.symbol(),
                    factor: MG_DL_PER_MMOL_L,
                });
            errors.push(FieldError::new(
                field.name(),
                FieldProblem::OutOfRange {
                    model: spec.name,
                    range,
                    unit: unit.symbol(),
                    given_in,
                },
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }

    let mut warnings = Vec::new();
    for field in Field::ALL {
        let used = spec.input(field).is_some() || field == Field::CholesterolUnit;
        if input.is_set(field) && !used {
            warnings.push(Warning::FieldNotUsed {
                field,
                model: spec.name,
            });
        }
    }

    if spec.input(Field::Race).is_some() {
        match input.race {
            None => warnings.push(Warning::RaceAbsentWhiteEquationsUsed),
            Some(Race::Other) => warnings.push(Warning::RaceOtherWhiteEquationsUsed),
            Some(_) => {}
        }
    }

    // Every model declares these five required, so the loop above has already reported any
    // that is absent; the `else` only keeps that invariant out of `unwrap`.
    let (Some(age), Some(sex), Some(total_cholesterol), Some(hdl_cholesterol), Some(systolic_bp)) = (
        input.age,
        input.sex,
        input.total_cholesterol,
        input.hdl_cholesterol,
        input.systolic_bp,
    ) else {
        let missing = [
            Field::Age,
            Field::Sex,
            Field::TotalCholesterol,
            Field::HdlCholesterol,
            Field::SystolicBp,
        ]
        .into_iter()
        .filter(|field| !input.is_set(*field))
        .map(|field| FieldError::new(field.name(), FieldProblem::Missing))
        .collect();
        return Err(ValidationErrors(missing));
    };
    let patient = Patient {
        age,
        sex,
        race: input.race,
        total_cholesterol: cholesterol_unit.to_mg_dl(total_cholesterol),
        hdl_cholesterol: cholesterol_unit.to_mg_dl(hdl_cholesterol),
        systolic_bp,
        on_bp_treatment: input.on_bp_treatment.unwrap_or(false),
        smoker: input.smoker.unwrap_or(false),
        diabetic: input.diabetic.unwrap_or(false),
        egfr: input.egfr,
        on_statin: input.on_statin.unwrap_or(false),
    };
    Ok((patient, warnings))
}
