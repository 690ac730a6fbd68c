//! `POST /predict`: the original service's contract, answered by a validated model.
//!
//! Single: `{"patient_data": {...}, "model": "<name>"}` → one prediction object.
//! Batch: `{"instances": [{...}, ...], "model": ...}` → one result per patient, each either a
//! prediction (`"status": 200`) or its field errors (`"status": 422`).

pub mod request;

use crate::catalog::{Catalog, Patient, PredictResult, ServedModel};
use crate::http::MAX_BODY_BYTES;
use crate::patient::{model_issues, read_patient, Vocabulary};
use crate::prediction_json::{batch_body, prediction_body};
use crate::problem::{child_pointer, echoed_name, ApiError, FieldIssue};
use request::{Body, Instances, ModelMember, PatientObject};

/// What a model whose answer does not match its own `info()` is reported as.
pub const MISFIT: &str = "the model's answer, which does not match what its info() declares";

/// Most patients in one batch request.
pub const MAX_INSTANCES: usize = 1000;

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
    let read = request::read(body);
    let is_batch = matches!(&read, Ok(Body::Object(request)) if request.instances.is_some());
    if body.len() > MAX_BODY_BYTES && !is_batch {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let request = match read {
        Ok(Body::Object(request)) => request,
        Ok(Body::NotAnObject) => {
            return Err(ApiError::invalid(
                "",
                "body",
                "the body must be a JSON object",
            ))
        }
        Err(error) => return Err(malformed(body, &error)),
    };
    check_members(&request.unknown)?;
    let model = read_model(catalog, request.model.as_ref())?;
    *chosen = Some(model);
    let known = Vocabulary::new(model, catalog);
    match (&request.patient_data, &request.instances) {
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

/// Why a body the typed reader did not take is refused: as the strict parser
/// ([`crate::json::from_slice`]) says, with its line and column, so that every malformed body
/// is answered as it always was. (The reader refuses only what that parser refuses; its own
/// error stands if ever it did not.)
fn malformed(body: &[u8], reader_error: &serde_json::Error) -> ApiError {
    match crate::json::from_slice(body) {
        Err(error) => ApiError::malformed_json(&error),
        Ok(_) => ApiError::malformed_json(reader_error),
    }
}

fn check_members(unknown: &[String]) -> Result<(), ApiError> {
    let unknown: Vec<FieldIssue> = unknown
        .iter()
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
    member: Option<&ModelMember<'_>>,
) -> Result<ServedModel<'c>, ApiError> {
    let unknown_model = || {
        ApiError::invalid(
            "/model",
            "model",
            format!("model must be one of: {}", catalog.names().join(", ")),
        )
    };
    match member {
        None | Some(ModelMember::Null) => Ok(catalog.default_model()),
        Some(ModelMember::Name(name)) => catalog.find(name).ok_or_else(unknown_model),
        Some(ModelMember::NotAName) => Err(unknown_model()),
    }
}

fn predict_one(
    model: ServedModel<'_>,
    known: &Vocabulary<'_>,
    patient: &PatientObject<'_>,
) -> Result<Vec<u8>, ApiError> {
    let pointer = "/patient_data";
    let patient = read_one(known, patient, pointer).map_err(ApiError::InvalidInput)?;
    let prediction = model
        .predict(patient)
        .ok_or(ApiError::BrokenBuild("the model's answer"))?
        .map_err(|errors| ApiError::InvalidInput(model_issues(&errors, pointer)))?;
    if !prediction.fits(model.info()) {
        return Err(ApiError::BrokenBuild(MISFIT));
    }
    Ok(prediction_body(model.info(), &prediction))
}

/// One patient object's values, checked against every served model's features.
fn read_one(
    known: &Vocabulary<'_>,
    patient: &PatientObject<'_>,
    pointer: &str,
) -> Result<Patient, Vec<FieldIssue>> {
    let PatientObject::Members(members) = patient else {
        return Err(vec![FieldIssue {
            pointer: pointer.to_string(),
            field: pointer.rsplit('/').next().unwrap_or_default().to_string(),
            detail: "patient data must be a JSON object of patient fields".to_string(),
        }]);
    };
    read_patient(known, members, pointer)
}

fn predict_batch(
    model: ServedModel<'_>,
    known: &Vocabulary<'_>,
    instances: &Instances<'_>,
) -> Result<Vec<u8>, ApiError> {
    let Instances::List(instances) = instances else {
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
    Ok(batch_body(model.info(), &outcomes))
}
