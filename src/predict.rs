//! `POST /predict`: the original service's contract, answered by a validated model.
//!
//! Single: `{"patient_data": {...}, "model": "pce-2013"}` → one prediction object.
//! Batch: `{"instances": [{...}, ...], "model": ...}` → one result per patient, each either a
//! prediction (`"status": 200`) or its field errors (`"status": 422`).

use risk_models::Model;
use serde_json::{json, Map, Value};

use crate::http::MAX_BODY_BYTES;
use crate::patient_json::{read_patient, validation_issues};
use crate::prediction_json::prediction_json;
use crate::problem::{child_pointer, echoed_name, issues_json, ApiError, FieldIssue};

/// Most patients in one batch request.
pub const MAX_INSTANCES: usize = 1000;

/// Top-level members a `/predict` body may have. Anything else is refused, so that a typo
/// (`patient` for `patient_data`) is not silently ignored.
const KNOWN_MEMBERS: &[&str] = &["patient_data", "instances", "model"];

/// Parses, validates, predicts and serialises one `/predict` body.
///
/// Bodies over [`MAX_BODY_BYTES`] are accepted only for batches (up to the batch limit the
/// caller enforces while reading).
pub fn predict_body(body: &[u8]) -> Result<Value, ApiError> {
    let parsed = serde_json::from_slice::<Value>(body);
    let is_batch = matches!(&parsed, Ok(request) if request.get("instances").is_some());
    if body.len() > MAX_BODY_BYTES && !is_batch {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let request = parsed.map_err(|e| ApiError::malformed_json(&e))?;
    let Value::Object(request) = request else {
        return Err(ApiError::invalid(
            "",
            "body",
            "the body must be a JSON object",
        ));
    };
    check_members(&request)?;
    let model = read_model(&request)?;
    match (request.get("patient_data"), request.get("instances")) {
        (Some(patient), None) => predict_one(model, patient),
        (None, Some(instances)) => predict_batch(model, instances),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "",
            "body",
            "give either patient_data (one patient) or instances (a batch), not both",
        )),
        (None, None) => Err(ApiError::invalid(
            "/patient_data",
            "patient_data",
            "patient_data is required (or instances, for a batch)",
        )),
    }
}

fn check_members(request: &Map<String, Value>) -> Result<(), ApiError> {
    let unknown: Vec<FieldIssue> = request
        .keys()
        .filter(|key| !KNOWN_MEMBERS.contains(&key.as_str()))
        .map(|key| {
            let key = echoed_name(key);
            FieldIssue {
                pointer: child_pointer("", &key),
                field: key.clone(),
                detail: format!(
                    "{key} is not a known member of the request (known: patient_data, instances, model)"
                ),
            }
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidInput(unknown))
    }
}

fn read_model(request: &Map<String, Value>) -> Result<Model, ApiError> {
    match request.get("model") {
        None | Some(Value::Null) => Ok(Model::DEFAULT),
        Some(Value::String(name)) => Model::from_name(name).ok_or_else(unknown_model),
        Some(_) => Err(unknown_model()),
    }
}

fn unknown_model() -> ApiError {
    let names: Vec<&str> = Model::ALL.iter().map(|m| m.name()).collect();
    ApiError::invalid(
        "/model",
        "model",
        format!("model must be one of: {}", names.join(", ")),
    )
}

fn predict_one(model: Model, patient: &Value) -> Result<Value, ApiError> {
    let pointer = "/patient_data";
    predict_patient(model, patient, pointer).map_err(ApiError::InvalidInput)
}

fn predict_patient(model: Model, patient: &Value, pointer: &str) -> Result<Value, Vec<FieldIssue>> {
    let Value::Object(fields) = patient else {
        return Err(vec![FieldIssue {
            pointer: pointer.to_string(),
            field: pointer.rsplit('/').next().unwrap_or_default().to_string(),
            detail: "patient data must be a JSON object of patient fields".to_string(),
        }]);
    };
    let input = read_patient(fields, pointer)?;
    model
        .predict(&input)
        .map(|prediction| prediction_json(&prediction))
        .map_err(|errors| validation_issues(&errors.0, pointer))
}

fn predict_batch(model: Model, instances: &Value) -> Result<Value, ApiError> {
    let Value::Array(instances) = instances else {
        return Err(ApiError::invalid(
            "/instances",
            "instances",
            "instances must be an array of patient objects",
        ));
    };
    if instances.is_empty() || instances.len() > MAX_INSTANCES {
        return Err(ApiError::invalid(
            "/instances",
            "instances",
            format!("instances must hold between 1 and {MAX_INSTANCES} patients"),
        ));
    }
    let mut succeeded = 0;
    let results: Vec<Value> = instances
        .iter()
        .enumerate()
        .map(|(index, patient)| {
            match predict_patient(model, patient, &format!("/instances/{index}")) {
                Ok(mut prediction) => {
                    succeeded += 1;
                    prediction["status"] = json!(200);
                    prediction
                }
                Err(issues) => json!({"status": 422, "errors": issues_json(&issues)}),
            }
        })
        .collect();
    let spec = model.spec();
    Ok(json!({
        "model": spec.name,
        "model_version": spec.version,
        "count": results.len(),
        "succeeded": succeeded,
        "failed": results.len() - succeeded,
        "results": results,
    }))
}
