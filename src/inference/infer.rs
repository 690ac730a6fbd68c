//! `POST /v2/models/{name}/infer`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use serde_json::{json, Map, Value};

use super::binary;
use super::datatype::Datatype;
use super::request::{InferenceRequest, Member};
use super::split_body;
use super::tensor::{output_tensors, read_patients, OutputTensor};
use crate::catalog::{ModelInfo, ModelPrediction, ServedModel, Value as ModelValue};
use crate::http::{Request, Response};
use crate::patient::Vocabulary;
use crate::problem::ApiError;

/// One output tensor's values for every patient.
enum OutputData<'a> {
    Numbers(Vec<f64>),
    Texts(Vec<&'a str>),
}

/// Scores every row of the request's tensors in one call to the model; `known` are the names
/// the request may use.
pub fn infer(
    model: ServedModel<'_>,
    known: &Vocabulary<'_>,
    request: &Request,
) -> Result<Response, ApiError> {
    let (header, binary_part) = split_body(request)?;
    let patients = read_patients(known, &header, binary_part)?;
    let count = patients.len();

    let results = model.predict_batch(patients);
    if results.len() != count {
        return Err(ApiError::BrokenBuild("the model's answer to a batch"));
    }
    if results
        .iter()
        .flatten()
        .any(|prediction| !prediction.fits(model.info()))
    {
        return Err(ApiError::BrokenBuild(crate::predict::MISFIT));
    }
    let mut predictions = Vec::with_capacity(count);
    let mut problems = Vec::new();
    for (row, result) in results.into_iter().enumerate() {
        match result {
            Ok(prediction) => predictions.push(prediction),
            Err(errors) => problems.extend(
                errors
                    .iter()
                    .map(|error| format!("patient {row}: {}", error.message)),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::InvalidInferenceRequest(problems.join("; ")));
    }

    let info = model.info();
    let outputs = requested_outputs(info, &header)?;
    let all_binary = header.binary_data_output();

    let mut tensors = Vec::new();
    let mut binary_tail = Vec::new();
    for (name, datatype, tensor_of, binary_requested) in outputs {
        let data = output_data(info, &tensor_of, &predictions);
        let mut tensor = Map::new();
        tensor.insert("name".into(), json!(name));
        tensor.insert("datatype".into(), json!(datatype));
        tensor.insert("shape".into(), json!([predictions.len()]));
        if binary_requested.unwrap_or(all_binary) {
            let bytes = match &data {
                OutputData::Numbers(numbers) => binary::encode_numbers(numbers),
                OutputData::Texts(texts) => binary::encode_strings(texts),
            };
            tensor.insert(
                "parameters".into(),
                json!({"binary_data_size": bytes.len()}),
            );
            binary_tail.extend(bytes);
        } else {
            let values = match data {
                OutputData::Numbers(numbers) => json!(numbers),
                OutputData::Texts(texts) => json!(texts),
            };
            tensor.insert("data".into(), values);
        }
        tensors.push(Value::Object(tensor));
    }

    let body = json!({
        "model_name": info.name,
        "model_version": info.version,
        "id": request_id(&header),
        "outputs": tensors,
    })
    .to_string();
    if binary_tail.is_empty() {
        return Ok(Response::new(200, "application/json", body));
    }
    let header_length = body.len().to_string();
    let mut bytes = body.into_bytes();
    bytes.extend(binary_tail);
    Ok(Response::new(200, "application/octet-stream", bytes)
        .with_header(binary::HEADER_LENGTH, &header_length))
}

/// An output to return: name, datatype, what it holds, and whether it was asked for in binary
/// (`None`: the request did not say for this output).
type ChosenOutput = (String, Datatype, OutputTensor, Option<bool>);

fn requested_outputs(
    info: &ModelInfo,
    header: &InferenceRequest,
) -> Result<Vec<ChosenOutput>, ApiError> {
    let available = output_tensors(info);
    let requested = match &header.outputs {
        Member::Absent => {
            return Ok(available
                .into_iter()
                .map(|(n, d, t)| (n, d, t, None))
                .collect())
        }
        Member::Invalid => {
            return Err(ApiError::InvalidInferenceRequest(
                "outputs must be an array".into(),
            ))
        }
        Member::Valid(requested) => requested,
    };
    requested
        .iter()
        .map(|output| {
            let name = output.name.valid().map_or("", String::as_str);
            let (name, datatype, tensor_of) = available
                .iter()
                .find(|(n, _, _)| n == name)
                .cloned()
                .ok_or_else(|| {
                    ApiError::InvalidInferenceRequest(format!(
                        "unknown output; {} has: {}",
                        info.name,
                        available
                            .iter()
                            .map(|(n, _, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            Ok((name, datatype, tensor_of, output.binary_data()))
        })
        .collect()
}

fn output_data<'a>(
    info: &'a ModelInfo,
    tensor: &OutputTensor,
    predictions: &'a [ModelPrediction],
) -> OutputData<'a> {
    let numbers = |index: usize| {
        OutputData::Numbers(
            predictions
                .iter()
                .map(|p| p.number(index).unwrap_or(f64::NAN))
                .collect(),
        )
    };
    match tensor {
        OutputTensor::Primary => numbers(0),
        OutputTensor::Number(index) => numbers(*index),
        OutputTensor::Class(index) => OutputData::Texts(
            predictions
                .iter()
                .map(|p| match p.outputs.get(*index) {
                    Some(ModelValue::Choice(class)) => class.as_str(),
                    _ => "",
                })
                .collect(),
        ),
        OutputTensor::Category => OutputData::Texts(
            predictions
                .iter()
                .map(|p| {
                    p.category
                        .and_then(|index| info.category(index))
                        .map_or("", |band| band.name.as_ref())
                })
                .collect(),
        ),
    }
}

/// The request's `id`, or a fresh one.
fn request_id(header: &InferenceRequest) -> String {
    match header.id.valid() {
        Some(id) => id.chars().take(128).collect(),
        // RandomState is seeded from the host's random source (wasi:random under Spin).
        None => format!("{:016x}", RandomState::new().hash_one(0u8)),
    }
}
