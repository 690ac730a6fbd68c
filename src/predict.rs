//! `POST /predict`: the original service's contract, answered by a validated model.
//!
//! Single: `{"patient_data": {...}, "model": "<name>"}` → one prediction object.
//! Batch: `{"instances": [{...}, ...], "model": ...}` → one result per patient, each either a
//! prediction (`"status": 200`) or its field errors (`"status": 422`).

use serde_json::{Map, Value};

use crate::catalog::{Catalog, Patient, PredictResult, ServedModel};
use crate::http::MAX_BODY_BYTES;
use crate::patient::{model_issues, read_patient, Vocabulary};
use crate::prediction_json::{BatchBody, BatchItem, PredictionBody};
use crate::problem::{child_pointer, echoed_name, ApiError, FieldIssue};

/// What a model whose answer does not match its own `info()` is reported as.
pub const MISFIT: &str = "the model's answer, which does not match what its info() declares";

/// Most patients in one batch request.
pub const MAX_INSTANCES: usize = 1000;

/// Top-level members a `/predict` body may have. Anything else is refused, so that a typo
/// (`patient` for `patient_data`) is not silently ignored.
const KNOWN_MEMBERS: &[&str] = &["patient_data", "instances", "model"];

/// The answer to one `/predict` body, and the model that gave it (none when the request was
/// refused before a model was chosen).
pub struct PredictAnswer<'c> {
    pub model: Option<ServedModel<'c>>,
    pub body: Result<Vec<u8>, ApiError>,
}

/// Parses, validates, predicts and serialises one `/predict` body into the JSON response body.
///
/// Bodies over [`MAX_BODY_BYTES`] are accepted only for batches (up to the batch limit the
/// caller enforces while reading).
pub fn predict_body(catalog: &Catalog, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    answer(catalog, body).body
}

/// [`predict_body`], saying which model answered.
pub fn answer<'c>(catalog: &'c Catalog, body: &[u8]) -> PredictAnswer<'c> {
    let mut model = None;
    let body = answer_with(catalog, body, &mut model);
    PredictAnswer { model, body }
}

fn answer_with<'c>(
    catalog: &'c Catalog,
    body: &[u8],
    chosen: &mut Option<ServedModel<'c>>,
) -> Result<Vec<u8>, ApiError> {
    let parsed = crate::json::from_slice(body);
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
    let model = read_model(catalog, &request)?;
    *chosen = Some(model);
    let known = Vocabulary::new(model, catalog);
    match (request.get("patient_data"), request.get("instances")) {
        (Some(patient), None) => predict_one(model, &known, patient),
        (None, Some(instances)) => predict_batch(model, &known, instances),
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

fn read_model<'c>(
    catalog: &'c Catalog,
    request: &Map<String, Value>,
) -> Result<ServedModel<'c>, ApiError> {
    let unknown_model = || {
        ApiError::invalid(
            "/model",
            "model",
            format!("model must be one of: {}", catalog.names().join(", ")),
        )
    };
    match request.get("model") {
        None | Some(Value::Null) => Ok(catalog.default_model()),
        Some(Value::String(name)) => catalog.find(name).ok_or_else(unknown_model),
        Some(_) => Err(unknown_model()),
    }
}

fn predict_one(
    model: ServedModel<'_>,
    known: &Vocabulary<'_>,
    patient: &Value,
) -> Result<Vec<u8>, ApiError> {
    let pointer = "/patient_data";
    let patient = read_one(known, patient, pointer).map_err(ApiError::InvalidInput)?;
    let prediction = model
        .predict(&patient)
        .map_err(|errors| ApiError::InvalidInput(model_issues(&errors, pointer)))?;
    if !prediction.fits(model.info()) {
        return Err(ApiError::BrokenBuild(MISFIT));
    }
    Ok(to_json(&PredictionBody::new(model.info(), &prediction)))
}

/// One patient object's values, checked against every served model's features.
fn read_one(
    known: &Vocabulary<'_>,
    patient: &Value,
    pointer: &str,
) -> Result<Patient, Vec<FieldIssue>> {
    let Value::Object(fields) = patient else {
        return Err(vec![FieldIssue {
            pointer: pointer.to_string(),
            field: pointer.rsplit('/').next().unwrap_or_default().to_string(),
            detail: "patient data must be a JSON object of patient fields".to_string(),
        }]);
    };
    read_patient(known, fields, pointer)
}

fn predict_batch(
    model: ServedModel<'_>,
    known: &Vocabulary<'_>,
    instances: &Value,
) -> Result<Vec<u8>, ApiError> {
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
    // Every readable patient goes to the model in one call (moved there, not copied); a refused
    // one keeps its place in `read` for the answer.
    let mut readable: Vec<Patient> = Vec::with_capacity(instances.len());
    let read: Vec<Result<(), Vec<FieldIssue>>> = instances
        .iter()
        .enumerate()
        .map(|(index, patient)| {
            read_one(known, patient, &format!("/instances/{index}"))
                .map(|patient| readable.push(patient))
        })
        .collect();
    let count = readable.len();
    let predicted = model.predict_batch(readable);
    if predicted.len() != count {
        return Err(ApiError::BrokenBuild("the model's answer to a batch"));
    }
    if predicted
        .iter()
        .flatten()
        .any(|prediction| !prediction.fits(model.info()))
    {
        return Err(ApiError::BrokenBuild(MISFIT));
    }
    let mut predicted = predicted.into_iter();
    let outcomes: Vec<Result<_, Vec<FieldIssue>>> = read
        .into_iter()
        .enumerate()
        .map(|(index, read)| {
            read?;
            let result: PredictResult = predicted.next().unwrap_or_else(|| Err(Vec::new()));
            result.map_err(|errors| model_issues(&errors, &format!("/instances/{index}")))
        })
        .collect();
    let succeeded = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    let results = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(prediction) => BatchItem::Predicted(Box::new(
                PredictionBody::new(model.info(), prediction).in_batch(),
            )),
            Err(issues) => BatchItem::Refused {
                status: 422,
                errors: issues.clone(),
            },
        })
        .collect();
    Ok(to_json(&BatchBody {
        model: model.name(),
        model_version: &model.info().version,
        count: outcomes.len(),
        succeeded,
        failed: outcomes.len() - succeeded,
        results,
    }))
}

/// Serialises a response body. Our bodies hold only strings, finite numbers and maps with
/// string keys, which serde_json always serialises; the fallback is unreachable.
fn to_json(body: &impl serde::Serialize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => bytes,
        Err(_) => b"{}".to_vec(),
    }
}
