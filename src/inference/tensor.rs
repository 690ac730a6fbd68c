//! Input tensors → one [`PatientInput`] per row; the names and types of output tensors.

use risk_models::{Field, FieldKind, FieldValue, PatientInput};
use serde_json::Value;

use super::binary;
use super::datatype::Datatype;
use crate::catalog::ModelInfo;
use crate::predict::MAX_INSTANCES;
use crate::problem::echoed_name;
use crate::problem::ApiError;

/// The model's outputs: `risk`, `<outcome>_risk` for each outcome, `category`.
pub fn output_names(info: &ModelInfo) -> impl Iterator<Item = (String, Datatype)> + '_ {
    std::iter::once(("risk".to_string(), Datatype::Fp64))
        .chain(
            info.outcomes
                .iter()
                .map(|o| (format!("{}_risk", o.name), Datatype::Fp64)),
        )
        .chain(std::iter::once(("category".to_string(), Datatype::Bytes)))
}

/// One decoded input tensor.
enum Elements {
    Numbers(Vec<f64>),
    Flags(Vec<bool>),
    /// `None` for an element that is not UTF-8.
    Texts(Vec<Option<String>>),
}

impl Elements {
    fn len(&self) -> usize {
        match self {
            Elements::Numbers(v) => v.len(),
            Elements::Flags(v) => v.len(),
            Elements::Texts(v) => v.len(),
        }
    }

    fn get(&self, row: usize) -> Option<FieldValue<'_>> {
        Some(match self {
            Elements::Numbers(v) => FieldValue::Number(v[row]),
            Elements::Flags(v) => FieldValue::Flag(v[row]),
            Elements::Texts(v) => FieldValue::Text(v[row].as_deref()?),
        })
    }
}

/// Decodes the request's `inputs` into one patient per row.
pub fn read_patients(
    header: &Value,
    mut binary_part: &[u8],
) -> Result<Vec<PatientInput>, ApiError> {
    let inputs = header
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ApiError::InvalidInferenceRequest("inputs must be an array of tensors".into())
        })?;
    let mut columns: Vec<(Field, Elements)> = Vec::new();
    for input in inputs {
        let name = input
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::InvalidInferenceRequest("every input needs a name".into()))?;
        let field = Field::from_name(name).ok_or_else(|| {
            ApiError::InvalidInferenceRequest(format!(
                "input {} is not a patient field (known: {})",
                echoed_name(name),
                Field::ALL.map(|f| f.name()).join(", ")
            ))
        })?;
        let field_name = field.name();
        if columns.iter().any(|(f, _)| *f == field) {
            return Err(ApiError::InvalidInferenceRequest(format!(
                "input {field_name} is given twice"
            )));
        }
        // An absent or unknown datatype is refused below, as the wrong one for the field.
        let datatype = input
            .get("datatype")
            .and_then(Value::as_str)
            .and_then(Datatype::parse);
        let count = element_count(input).ok_or_else(|| {
            ApiError::InvalidInferenceRequest(format!(
                "input {field_name} needs a shape of non-negative integers"
            ))
        })?;
        let binary_size = input
            .get("parameters")
            .and_then(|p| p.get("binary_data_size"))
            .map(|size| {
                size.as_u64()
                    .and_then(|s| usize::try_from(s).ok())
                    .ok_or_else(|| {
                        ApiError::InvalidInferenceRequest(format!(
                            "input {field_name}: binary_data_size must be a byte count"
                        ))
                    })
            })
            .transpose()?;
        let elements = match binary_size {
            Some(size) => {
                if size > binary_part.len() {
                    return Err(ApiError::InvalidInferenceRequest(format!(
                        "input {field_name}: binary_data_size is larger than the remaining body"
                    )));
                }
                let (bytes, rest) = binary_part.split_at(size);
                binary_part = rest;
                decode_binary(field, datatype, bytes)?
            }
            None => decode_json(field, datatype, input.get("data"))?,
        };
        if elements.len() != count {
            return Err(ApiError::InvalidInferenceRequest(format!(
                "input {field_name} has {} elements but its shape says {count}",
                elements.len()
            )));
        }
        columns.push((field, elements));
    }
    if !binary_part.is_empty() {
        return Err(ApiError::InvalidInferenceRequest(
            "the body has binary data that no input claims".into(),
        ));
    }
    let rows = columns.first().map_or(0, |(_, e)| e.len());
    if rows == 0 || rows > MAX_INSTANCES {
        return Err(ApiError::InvalidInferenceRequest(format!(
            "inputs must describe between 1 and {MAX_INSTANCES} patients"
        )));
    }
    if let Some((field, _)) = columns.iter().find(|(_, e)| e.len() != rows) {
        return Err(ApiError::InvalidInferenceRequest(format!(
            "every input must have the same number of elements ({rows}); {} does not",
            field.name()
        )));
    }

    let mut patients = vec![PatientInput::default(); rows];
    let mut problems = Vec::new();
    for (field, elements) in &columns {
        for (row, patient) in patients.iter_mut().enumerate() {
            let result = match elements.get(row) {
                Some(value) => patient.set(*field, value),
                None => Err(risk_models::FieldProblem::WrongType {
                    expected: field.kind().value_kind(),
                }),
            };
            if let Err(problem) = result {
                problems.push(format!(
                    "patient {row}: {}",
                    risk_models::FieldError::new(field.name(), problem)
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(patients)
    } else {
        Err(ApiError::InvalidInferenceRequest(problems.join("; ")))
    }
}

fn element_count(input: &Value) -> Option<usize> {
    input
        .get("shape")?
        .as_array()?
        .iter()
        .try_fold(1usize, |count, dim| {
            count.checked_mul(usize::try_from(dim.as_u64()?).ok()?)
        })
}

fn wrong_datatype(field: Field) -> ApiError {
    ApiError::InvalidInferenceRequest(format!(
        "input {} must have datatype {}",
        field.name(),
        Datatype::of(field.kind())
    ))
}

fn decode_binary(
    field: Field,
    datatype: Option<Datatype>,
    bytes: &[u8],
) -> Result<Elements, ApiError> {
    let malformed = || {
        ApiError::InvalidInferenceRequest(format!("input {}: malformed binary data", field.name()))
    };
    Ok(match (field.kind(), datatype) {
        (FieldKind::Number { .. }, Some(Datatype::Bool | Datatype::Bytes)) => {
            return Err(wrong_datatype(field))
        }
        (FieldKind::Number { .. }, _) => Elements::Numbers(
            datatype
                .and_then(|datatype| binary::decode_numbers(datatype, bytes))
                .ok_or_else(malformed)?,
        ),
        (FieldKind::Flag, Some(Datatype::Bool)) => Elements::Flags(binary::decode_flags(bytes)),
        (FieldKind::Choice { .. }, Some(Datatype::Bytes)) => {
            Elements::Texts(binary::decode_strings(bytes).ok_or_else(malformed)?)
        }
        _ => return Err(wrong_datatype(field)),
    })
}

fn decode_json(
    field: Field,
    datatype: Option<Datatype>,
    data: Option<&Value>,
) -> Result<Elements, ApiError> {
    let data = data.ok_or_else(|| {
        ApiError::InvalidInferenceRequest(format!(
            "input {} needs data or binary_data_size",
            field.name()
        ))
    })?;
    let mut flat = Vec::new();
    flatten(data, &mut flat);
    let malformed = || {
        ApiError::InvalidInferenceRequest(format!(
            "input {}: every element must be a {}",
            field.name(),
            match field.kind() {
                FieldKind::Number { .. } => "number",
                FieldKind::Flag => "boolean",
                FieldKind::Choice { .. } => "string",
            }
        ))
    };
    Ok(match (field.kind(), datatype) {
        (FieldKind::Number { .. }, Some(datatype)) if datatype.is_numeric() => Elements::Numbers(
            flat.iter()
                .map(|v| v.as_f64())
                .collect::<Option<_>>()
                .ok_or_else(malformed)?,
        ),
        (FieldKind::Flag, Some(Datatype::Bool)) => Elements::Flags(
            flat.iter()
                .map(|v| v.as_bool())
                .collect::<Option<_>>()
                .ok_or_else(malformed)?,
        ),
        (FieldKind::Choice { .. }, Some(Datatype::Bytes)) => Elements::Texts(
            flat.iter()
                .map(|v| v.as_str().map(|s| Some(s.to_string())))
                .collect::<Option<_>>()
                .ok_or_else(malformed)?,
        ),
        _ => return Err(wrong_datatype(field)),
    })
}

/// Row-major flattening of nested arrays.
fn flatten<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| flatten(item, out)),
        other => out.push(other),
    }
}
