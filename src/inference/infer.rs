//! `POST /v2/models/{name}/infer`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use serde_json::{json, Map, Value};

use super::binary;
use super::datatype::Datatype;
use super::split_body;
use super::tensor::{output_names, read_patients};
use crate::catalog::{ModelInfo, ModelPrediction, ServedModel};
use crate::http::{Request, Response};
use crate::problem::ApiError;

/// One output tensor's values for every patient.
enum OutputData {
    Numbers(Vec<f64>),
    Texts(Vec<&'static str>),
}

pub fn infer(model: ServedModel<'_>, request: &Request) -> Result<Response, ApiError> {
    let (header, binary_part) = split_body(request)?;
    let patients = read_patients(&header, binary_part)?;

    let mut predictions = Vec::with_capacity(patients.len());
    let mut problems = Vec::new();
    for (row, patient) in patients.iter().enumerate() {
        match model.predict(patient) {
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
    let all_binary = header
        .get("parameters")
        .and_then(|p| p.get("binary_data_output"))
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let mut tensors = Vec::new();
    let mut binary_tail = Vec::new();
    for (name, datatype, binary_requested) in outputs {
        let data = output_data(info, &name, &predictions);
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

/// An output to return: name, datatype, and whether it was asked for in binary (`None`: the
/// request did not say for this output).
type RequestedOutput = (String, Datatype, Option<bool>);

fn requested_outputs(info: &ModelInfo, header: &Value) -> Result<Vec<RequestedOutput>, ApiError> {
    let available: Vec<(String, Datatype)> = output_names(info).collect();
    let Some(requested) = header.get("outputs") else {
        return Ok(available.into_iter().map(|(n, d)| (n, d, None)).collect());
    };
    let requested = requested
        .as_array()
        .ok_or_else(|| ApiError::InvalidInferenceRequest("outputs must be an array".into()))?;
    requested
        .iter()
        .map(|output| {
            let name = output
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let (name, datatype) = available
                .iter()
                .find(|(n, _)| n == name)
                .cloned()
                .ok_or_else(|| {
                    ApiError::InvalidInferenceRequest(format!(
                        "unknown output; {} has: {}",
                        info.name,
                        available
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            let binary = output
                .get("parameters")
                .and_then(|p| p.get("binary_data"))
                .and_then(Value::as_bool);
            Ok((name, datatype, binary))
        })
        .collect()
}

fn output_data(info: &ModelInfo, name: &str, predictions: &[ModelPrediction]) -> OutputData {
    match name {
        "category" => OutputData::Texts(predictions.iter().map(|p| p.category.name()).collect()),
        "risk" => OutputData::Numbers(predictions.iter().map(|p| p.risk()).collect()),
        _ => {
            let outcome = info
                .outcomes
                .iter()
                .position(|o| format!("{}_risk", o.name) == name)
                .unwrap_or(0);
            OutputData::Numbers(
                predictions
                    .iter()
                    .map(|p| p.outcomes.get(outcome).map_or(f64::NAN, |(_, risk)| *risk))
                    .collect(),
            )
        }
    }
}

/// The request's `id`, or a fresh one.
fn request_id(header: &Value) -> String {
    match header.get("id").and_then(Value::as_str) {
        Some(id) => id.chars().take(128).collect(),
        // RandomState is seeded from the host's random source (wasi:random under Spin).
        None => format!("{:016x}", RandomState::new().hash_one(0u8)),
    }
}
