//! Input tensors → one [`Patient`] per row; the names and types of output tensors.

use super::binary;
use super::datatype::Datatype;
use super::request::{Element, InferenceRequest, Member};
use crate::catalog::contract::OutputKind;
use crate::catalog::{Feature, FeatureKind, ModelInfo, Patient};
use crate::patient::{Given, PatientBuilder, Vocabulary};
use crate::predict::MAX_INSTANCES;
use crate::problem::echoed_name;
use crate::problem::ApiError;

/// What an output tensor holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputTensor {
    /// The primary output's number.
    Primary,
    /// The number of the model output at this index of the model's outputs.
    Number(usize),
    /// The class of the model output at this index.
    Class(usize),
    /// The primary output's category.
    Category,
}

/// The model's output tensors: `risk` (the primary output, when a number), then
/// `<output>_risk` for each probability and `<output>` for each score or class, then
/// `category` when the model declares categories.
pub fn output_tensors(info: &ModelInfo) -> Vec<(String, Datatype, OutputTensor)> {
    let mut tensors = Vec::new();
    if info
        .outputs
        .first()
        .is_some_and(|o| o.kind != OutputKind::Class)
    {
        tensors.push(("risk".to_string(), Datatype::Fp64, OutputTensor::Primary));
    }
    for (index, output) in info.outputs.iter().enumerate() {
        let name = output.name.to_string();
        tensors.push(match output.kind {
            OutputKind::Probability => (
                format!("{name}_risk"),
                Datatype::Fp64,
                OutputTensor::Number(index),
            ),
            OutputKind::Score => (name, Datatype::Fp64, OutputTensor::Number(index)),
            OutputKind::Class => (name, Datatype::Bytes, OutputTensor::Class(index)),
        });
    }
    if info.categories.is_some() {
        tensors.push((
            "category".to_string(),
            Datatype::Bytes,
            OutputTensor::Category,
        ));
    }
    tensors
}

/// The names of the model's output tensors, in order.
pub fn output_tensor_names(info: &ModelInfo) -> Vec<String> {
    output_tensors(info)
        .into_iter()
        .map(|(name, _, _)| name)
        .collect()
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

    fn get(&self, row: usize) -> Given<'_> {
        match self {
            Elements::Numbers(v) => Given::Number(v[row]),
            Elements::Flags(v) => Given::Boolean(v[row]),
            Elements::Texts(v) => v[row].as_deref().map_or(Given::Other, Given::Text),
        }
    }
}

/// Decodes the request's `inputs` into one patient per row; `known` are the names the request
/// may use.
pub fn read_patients(
    known: &Vocabulary<'_>,
    request: &InferenceRequest,
    mut binary_part: &[u8],
) -> Result<Vec<Patient>, ApiError> {
    let inputs = request.inputs.valid().ok_or_else(|| {
        ApiError::InvalidInferenceRequest("inputs must be an array of tensors".into())
    })?;
    // Each column's feature, its position among the model's features, and its elements.
    let mut columns: Vec<(&Feature, Option<usize>, Elements)> = Vec::new();
    for input in inputs {
        let name = input
            .name
            .valid()
            .ok_or_else(|| ApiError::InvalidInferenceRequest("every input needs a name".into()))?;
        let (field, position) = known.locate(name).ok_or_else(|| {
            ApiError::InvalidInferenceRequest(format!(
                "input {} is not a patient field (known: {})",
                echoed_name(name),
                known.names()
            ))
        })?;
        let field_name = &field.name;
        if columns.iter().any(|(f, _, _)| f.name == field.name) {
            return Err(ApiError::InvalidInferenceRequest(format!(
                "input {field_name} is given twice"
            )));
        }
        // An absent or unknown datatype is refused below, as the wrong one for the field.
        let datatype = input.datatype.valid().copied();
        let count = input.element_count().ok_or_else(|| {
            ApiError::InvalidInferenceRequest(format!(
                "input {field_name} needs a shape of non-negative integers"
            ))
        })?;
        let not_a_byte_count = || {
            ApiError::InvalidInferenceRequest(format!(
                "input {field_name}: binary_data_size must be a byte count"
            ))
        };
        let binary_size = match input.binary_data_size() {
            Member::Absent => None,
            Member::Valid(size) => Some(usize::try_from(*size).map_err(|_| not_a_byte_count())?),
            Member::Invalid => return Err(not_a_byte_count()),
        };
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
            None => decode_json(field, datatype, input.data.as_deref())?,
        };
        if elements.len() != count {
            return Err(ApiError::InvalidInferenceRequest(format!(
                "input {field_name} has {} elements but its shape says {count}",
                elements.len()
            )));
        }
        columns.push((field, position, elements));
    }
    if !binary_part.is_empty() {
        return Err(ApiError::InvalidInferenceRequest(
            "the body has binary data that no input claims".into(),
        ));
    }
    let rows = columns.first().map_or(0, |(_, _, e)| e.len());
    if rows == 0 || rows > MAX_INSTANCES {
        return Err(ApiError::InvalidInferenceRequest(format!(
            "inputs must describe between 1 and {MAX_INSTANCES} patients"
        )));
    }
    if let Some((field, _, _)) = columns.iter().find(|(_, _, e)| e.len() != rows) {
        return Err(ApiError::InvalidInferenceRequest(format!(
            "every input must have the same number of elements ({rows}); {} does not",
            field.name
        )));
    }

    let mut patients: Vec<PatientBuilder> = (0..rows).map(|_| PatientBuilder::new(known)).collect();
    let mut problems = Vec::new();
    for (field, position, elements) in &columns {
        for (row, patient) in patients.iter_mut().enumerate() {
            if let Err(problem) = patient.set(field, *position, elements.get(row)) {
                problems.push(format!("patient {row}: {problem}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(patients.into_iter().map(PatientBuilder::finish).collect())
    } else {
        Err(ApiError::InvalidInferenceRequest(problems.join("; ")))
    }
}

fn wrong_datatype(field: &Feature) -> ApiError {
    ApiError::InvalidInferenceRequest(format!(
        "input {} must have datatype {}",
        field.name,
        Datatype::of(&field.kind)
    ))
}

fn decode_binary(
    field: &Feature,
    datatype: Option<Datatype>,
    bytes: &[u8],
) -> Result<Elements, ApiError> {
    let malformed = || {
        ApiError::InvalidInferenceRequest(format!("input {}: malformed binary data", field.name))
    };
    Ok(match (&field.kind, datatype) {
        (FeatureKind::Number(_), Some(Datatype::Bool | Datatype::Bytes)) => {
            return Err(wrong_datatype(field))
        }
        (FeatureKind::Number(_), _) => Elements::Numbers(
            datatype
                .and_then(|datatype| binary::decode_numbers(datatype, bytes))
                .ok_or_else(malformed)?,
        ),
        (FeatureKind::Boolean { .. }, Some(Datatype::Bool)) => {
            Elements::Flags(binary::decode_flags(bytes))
        }
        (FeatureKind::Choice { .. }, Some(Datatype::Bytes)) => {
            Elements::Texts(binary::decode_strings(bytes).ok_or_else(malformed)?)
        }
        _ => return Err(wrong_datatype(field)),
    })
}

fn decode_json(
    field: &Feature,
    datatype: Option<Datatype>,
    data: Option<&[Element]>,
) -> Result<Elements, ApiError> {
    let data = data.ok_or_else(|| {
        ApiError::InvalidInferenceRequest(format!(
            "input {} needs data or binary_data_size",
            field.name
        ))
    })?;
    let malformed = || {
        ApiError::InvalidInferenceRequest(format!(
            "input {}: every element must be a {}",
            field.name,
            match field.kind {
                FeatureKind::Number(_) => "number",
                FeatureKind::Boolean { .. } => "boolean",
                FeatureKind::Choice { .. } => "string",
            }
        ))
    };
    Ok(match (&field.kind, datatype) {
        (FeatureKind::Number(_), Some(datatype)) if datatype.is_numeric() => Elements::Numbers(
            data.iter()
                .map(|element| match element {
                    Element::Number(number) => Some(*number),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(malformed)?,
        ),
        (FeatureKind::Boolean { .. }, Some(Datatype::Bool)) => Elements::Flags(
            data.iter()
                .map(|element| match element {
                    Element::Flag(flag) => Some(*flag),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(malformed)?,
        ),
        (FeatureKind::Choice { .. }, Some(Datatype::Bytes)) => Elements::Texts(
            data.iter()
                .map(|element| match element {
                    Element::Text(text) => Some(Some(text.clone())),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(malformed)?,
        ),
        _ => return Err(wrong_datatype(field)),
    })
}
