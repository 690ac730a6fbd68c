//! Why a patient's input was refused: one [`FieldError`] per offending field, every one of them
//! at once ([`ValidationErrors`]).
//!
//! Messages name the field and the allowed values or range, never the value the client sent:
//! patient data must not leak into logs or error reports.

use std::fmt;

use crate::field::{CholesterolUnit, Field, FieldKind, Unit};
use crate::spec::Range;

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
