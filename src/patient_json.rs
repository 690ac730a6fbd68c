//! A JSON object of patient fields → the domain's [`PatientInput`], with one issue per bad field.

use risk_models::{Field, FieldError, FieldProblem, FieldValue, PatientInput};
use serde_json::{Map, Value};

use crate::catalog::ModelFieldError;
use crate::problem::{child_pointer, echoed_name, FieldIssue};

/// Reads every field of `object`; `pointer` is the object's JSON Pointer in the request body.
/// `null` means absent.
pub fn read_patient(
    object: &Map<String, Value>,
    pointer: &str,
) -> Result<PatientInput, Vec<FieldIssue>> {
    let mut input = PatientInput::default();
    let mut issues = Vec::new();
    for (name, value) in object {
        let Some(field) = Field::from_name(name) else {
            let unknown = FieldError::new(echoed_name(name), FieldProblem::Unknown);
            issues.push(issue(pointer, name, &unknown));
            continue;
        };
        let value = match value {
            Value::Null => continue,
            Value::Bool(flag) => Ok(FieldValue::Flag(*flag)),
            Value::String(text) => Ok(FieldValue::Text(text)),
            // serde_json only yields finite numbers; `as_f64` fails for none of them.
            Value::Number(number) => number
                .as_f64()
                .map(FieldValue::Number)
                .ok_or(FieldProblem::NotFinite),
            Value::Array(_) | Value::Object(_) => Err(FieldProblem::WrongType {
                expected: field.kind().value_kind(),
            }),
        };
        if let Err(problem) = value.and_then(|value| input.set(field, value)) {
            issues.push(issue(
                pointer,
                name,
                &FieldError::new(field.name(), problem),
            ));
        }
    }
    if issues.is_empty() {
        Ok(input)
    } else {
        Err(issues)
    }
}

/// Turns a model's field errors into issues under `pointer`.
pub fn model_issues(errors: &[ModelFieldError], pointer: &str) -> Vec<FieldIssue> {
    errors
        .iter()
        .map(|error| FieldIssue {
            pointer: child_pointer(pointer, &echoed_name(&error.field)),
            field: error.field.clone(),
            detail: error.message.clone(),
        })
        .collect()
}

fn issue(pointer: &str, key: &str, error: &FieldError) -> FieldIssue {
    FieldIssue {
        pointer: child_pointer(pointer, &echoed_name(key)),
        field: error.field.clone(),
        detail: error.to_string(),
    }
}
