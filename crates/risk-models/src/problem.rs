//! Why a patient's input was refused: one [`FieldError`] per offending field, every one of them
//! at once ([`ValidationErrors`]).
//!
//! Messages name the field and the allowed values or range, never the value the client sent:
//! patient data must not leak into logs or error reports.

use std::fmt;

use crate::field::Field;
use crate::spec::Range;
use crate::value::{UnitConversion, ValueKind};

/// Why one field was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldProblem {
    /// A required field is absent.
    Missing,
    /// The name is not a patient field.
    Unknown,
    /// The value has the wrong JSON or tensor type.
    WrongType { expected: ValueKind },
    /// A choice field got a string outside its allowed set.
    NotAllowed { allowed: &'static [&'static str] },
    /// A number that is NaN or infinite (possible in binary tensors).
    NotFinite,
    /// The same field was given twice: under its name and its `alias`.
    Duplicate { alias: &'static str },
    /// Outside the model's validated range; the equations are never extrapolated.
    OutOfRange {
        model: &'static str,
        /// In the canonical unit.
        range: Range,
        /// The canonical unit's symbol.
        unit: &'static str,
        /// The other unit the client gave the value in, if any: the range is shown in it too.
        given_in: Option<UnitConversion>,
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
                    ValueKind::Number => "a number",
                    ValueKind::Boolean => "a boolean (true or false)",
                    ValueKind::Choice => "a string",
                };
                write!(f, "{field} must be {expected}")
            }
            FieldProblem::NotAllowed { allowed } => {
                write!(f, "{field} must be one of: {}", quoted_list(allowed))
            }
            FieldProblem::NotFinite => write!(f, "{field} must be a finite number"),
            FieldProblem::Duplicate { alias } => write!(
                f,
                "{field} is given more than once ({field} and its alias {alias} are the same \
                 field)"
            ),
            FieldProblem::OutOfRange {
                model,
                range,
                unit,
                given_in,
            } => match given_in {
                Some(other) => {
                    // Rounded inwards, so every value inside the shown range is accepted.
                    let min = round_up(range.min / other.factor, 3);
                    let max = round_down(range.max / other.factor, 3);
                    write!(
                        f,
                        "{field} must be between {min} and {max} {} ({} to {} {unit}), the \
                         validated range of {model}",
                        other.unit, range.min, range.max
                    )
                }
                None => write!(
                    f,
                    "{field} must be between {} and {} {unit}, the validated range of {model}",
                    range.min, range.max
                ),
            },
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
