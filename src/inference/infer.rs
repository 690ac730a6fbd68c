//! `POST /v2/models/{name}/infer`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::binary;
use super::datatype::Datatype;
use super::request::{InferenceRequest, Member};
use super::split_body;
use super::tensor::{output_tensors, read_patients, OutputTensor};
use crate::catalog::{ModelInfo, ModelPrediction, ServedModel, Value as ModelValue};
use crate::http::{Request, Response};
use crate::json::write_json;
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

    let mut binary_tail = Vec::new();
    let mut body = Vec::with_capacity(256 + outputs.len() * predictions.len() * 24);
    // Written by hand, in the order serde_json's sorted maps gave (`id`, `model_name`,
    // `model_version`, `outputs`; in a tensor `data`, `datatype`, `name`, `parameters`,
    // `shape`): building a tree of values for 100 patients' numbers cost more than writing
    // them (docs/performance.md).
    body.extend_from_slice(b"{\"id\":");
    write_json(&mut body, &request_id(&header));
    body.extend_from_slice(b",\"model_name\":");
    write_json(&mut body, info.name.as_ref());
    body.extend_from_slice(b",\"model_version\":");
    write_json(&mut body, info.version.as_ref());
    body.extend_from_slice(b",\"outputs\":[");
    for (index, (name, datatype, tensor_of, binary_requested)) in outputs.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        let data = output_data(info, tensor_of, &predictions);
        body.push(b'{');
        if binary_requested.unwrap_or(all_binary) {
            let bytes = match &data {
                OutputData::Numbers(numbers) => binary::encode_numbers(numbers),
                OutputData::Texts(texts) => binary::encode_strings(texts),
            };
            write_tensor_head(&mut body, *datatype, name);
            body.extend_from_slice(b",\"parameters\":{\"binary_data_size\":");
            write_json(&mut body, &bytes.len());
            body.push(b'}');
            binary_tail.extend(bytes);
        } else {
            body.extend_from_slice(b"\"data\":");
            match &data {
                OutputData::Numbers(numbers) => write_json(&mut body, numbers),
                OutputData::Texts(texts) => write_json(&mut body, texts),
            }
            body.push(b',');
            write_tensor_head(&mut body, *datatype, name);
        }
        body.extend_from_slice(b",\"shape\":[");
        write_json(&mut body, &predictions.len());
        body.extend_from_slice(b"]}");
    }
    body.extend_from_slice(b"]}");
    if binary_tail.is_empty() {
        return Ok(Response::new(200, "application/json", body));
    }
    let header_length = body.len().to_string();
    let mut bytes = body;
    bytes.extend(binary_tail);
    Ok(Response::new(200, "application/octet-stream", bytes)
        .with_header(binary::HEADER_LENGTH, &header_length))
}

/// An output to return: name, datatype, what it holds, and whether it was asked for in binary
/// (`None`: the request did not say for this output).
type ChosenOutput = (String, Datatype, OutputTensor, Option<bool>);

/// A tensor's `"datatype":"…","name":"…"`.
fn write_tensor_head(body: &mut Vec<u8>, datatype: Datatype, name: &str) {
    body.extend_from_slice(b"\"datatype\":");
    write_json(body, &datatype);
    body.extend_from_slice(b",\"name\":");
    write_json(body, name);
}

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
