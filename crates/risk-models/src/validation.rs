//! Checks a [`PatientInput`] against a model's declared inputs and yields a validated
//! [`Patient`] in canonical units, or every problem found, one per field.
//!
//! Messages name the field and the allowed values or range, never the value the client sent:
//! patient data must not leak into logs or error reports.

use std::fmt;

use crate::field::{Field, FieldKind, Unit};
use crate::input::{CholesterolUnit, PatientInput, Race};
use crate::patient::Patient;
use crate::spec::{ModelSpec, Range, Requirement};
use crate::warning::Warning;

/// Why one field was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldProblem {
    /// A required field is absent.
    Missing,
    /// The name is not a patient field.
    Unknown,
    /// The value has the wrong JSON or tensor type.
    WrongType { expected: FieldKind },
    /// A choice field got a string outside its allowed set.
    NotAllowed { allowed: &'static [&'static str] },
    /// A number that is NaN or infinite (possible in binary tensors).
    NotFinite,
    /// The same field was given twice (for example under its alias too).
    Duplicate,
    /// Outside the model's validated range; the equations are never extrapolated.
    OutOfRange {
        model: &'static str,
        range: Range,
        unit: Unit,
        /// The unit the client used for cholesterol, so the range is shown in it.
        cholesterol_unit: CholesterolUnit,
    },
}

/// A problem with one named field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The field's public name (the name the client used, for unknown fields).
    pub field: String,
    pub problem: FieldProblem,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: FieldProblem) -> Self {
        FieldError {
            field: field.into(),
            problem,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match &self.problem {
            FieldProblem::Missing => write!(f, "{field} is required"),
            FieldProblem::Unknown => write!(
                f,
                "{field} is not a known patient field (known fields: {})",
                known_field_names()
            ),
            FieldProblem::WrongType { expected } => {
                let expected = match expected {
                    FieldKind::Number { .. } => "a number",
                    FieldKind::Flag => "a boolean (true or false)",
                    FieldKind::Choice { .. } => "a string",
                };
                write!(f, "{field} must be {expected}")
            }
            FieldProblem::NotAllowed { allowed } => {
                write!(f, "{field} must be one of: {}", quoted_list(allowed))
            }
            FieldProblem::NotFinite => write!(f, "{field} must be a finite number"),
            FieldProblem::Duplicate => write!(
                f,
                "{field} is given more than once (total_cholesterol and its alias cholesterol \
                 are the same field)"
            ),
            FieldProblem::OutOfRange {
                model,
                range,
                unit,
                cholesterol_unit,
            } => {
                if *unit == Unit::Cholesterol && *cholesterol_unit == CholesterolUnit::MmolPerL {
                    // Rounded inwards, so every value inside the shown range is accepted.
                    let min = round_up(cholesterol_unit.from_mg_dl(range.min), 3);
                    let max = round_down(cholesterol_unit.from_mg_dl(range.max), 3);
                    write!(
                        f,
                        "{field} must be between {min} and {max} mmol/L ({} to {} mg/dL), \
                         the validated range of {model}",
                        range.min, range.max
                    )
                } else {
                    write!(
                        f,
                        "{field} must be between {} and {} {}, the validated range of {model}",
                        range.min,
                        range.max,
                        unit.symbol()
                    )
                }
            }
        }
    }
}

/// Every problem found in one patient's input, one entry per offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} invalid field(s): {}", .0.len(), summary(.0))]
pub struct ValidationErrors(pub Vec<FieldError>);

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn known_field_names() -> String {
    Field::ALL
        .iter()
        .map(|field| field.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn quoted_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|value| format!("\"{value}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn round_up(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).ceil() / scale
}

fn round_down(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).floor() / scale
}

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
            errors.push(FieldError::new(
                field.name(),
                FieldProblem::OutOfRange {
                    model: spec.name,
                    range,
                    unit,
                    cholesterol_unit,
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
