//! `POST /cds-services/{id}`: a `patient-view` call scored from its prefetch.
//!
//! - the service is a model whose every required feature has a FHIR source, else 404;
//! - a prefetch key the service asked for is absent (the EHR could not satisfy it): read from
//!   the call's `fhirServer` with its access token when the operator allowed that server;
//!   otherwise, or when the server does not answer, 412, as CDS Hooks requires;
//! - the prefetch holds no Patient, or not the value a feature needs: an info card saying
//!   what is missing; values outside the model's ranges: an info card saying so;
//! - otherwise the risk card, computed by `/predict` exactly as for the same values typed in.

use fhir_record::{Date, Record, RecordError};
use serde_json::{json, Value};

use super::card::{derived_uuid, info_card, risk_card};
use super::discovery::{prefetch_templates, HOOK, PATIENT_KEY, PATIENT_TOKEN};
use super::hook_request::HookRequest;
use crate::fhir_predict::{outcome, written};
use crate::fhir_server::{allowed_base, is_fhir_id, FhirServer};
use crate::gather::{Missing, Refused};
use crate::http::{Request, Response};
use crate::model_card::ModelCard;
use crate::prediction_api::PredictionApi;
use crate::scoring::{model_card, score, CardError, ScoreError};

/// Answers one call to service `id`, for an assessment on `today`.
pub async fn call_service<F: FhirServer>(
    request: &Request,
    id: &str,
    api: &impl PredictionApi,
    ehr: &EhrServer<'_, F>,
    today: Date,
) -> Response {
    match cards(request, id, api, ehr, today).await {
        Ok(cards) => json_response(&json!({ "cards": cards })),
        Err(response) => response,
    }
}

/// The EHR's FHIR server as this deployment allows it.
pub struct EhrServer<'a, F> {
    /// The allowed origin; None: no server may be read.
    pub allowed: Option<&'a str>,
    pub server: &'a F,
}

async fn cards<F: FhirServer>(
    request: &Request,
    id: &str,
    api: &impl PredictionApi,
    ehr: &EhrServer<'_, F>,
    today: Date,
) -> Result<Vec<Value>, Response> {
    if request.body_truncated {
        return Err(outcome(
            413,
            "too-costly",
            "the hook request is larger than this service accepts (4 MiB)",
        ));
    }
    let mut hook: HookRequest = serde_json::from_slice(&request.body).map_err(|error| {
        // The line and column only: serde's message may quote the body.
        let at = format!("line {}, column {}", error.line(), error.column());
        outcome(
            400,
            "invalid",
            &format!("the body is not a CDS Hooks request ({at})"),
        )
    })?;
    if hook.hook != HOOK {
        return Err(outcome(
            400,
            "not-supported",
            "this service answers the patient-view hook only",
        ));
    }
    if hook.fhir_authorization.is_some() && hook.fhir_server.is_none() {
        return Err(outcome(
            400,
            "required",
            "fhirAuthorization needs a fhirServer",
        ));
    }
    let card = service_card(api, id).await?;
    let templates = prefetch_templates(&card);
    if !is_fhir_id(&hook.context.patient_id) {
        return Err(outcome(
            400,
            "invalid",
            "context.patientId is not a FHIR id",
        ));
    }
    let mut prefetch = std::mem::take(&mut hook.prefetch);
    let absent: Vec<&(String, String)> = templates
        .iter()
        .filter(|(key, _)| !prefetch.contains_key(key))
        .collect();
    if !absent.is_empty() {
        let fetched = fetch_absent(&hook, &absent, ehr).await.map_err(|why| {
            let keys: Vec<&str> = absent.iter().map(|(key, _)| key.as_str()).collect();
            outcome(
                412,
                "incomplete",
                &format!("the prefetch lacks {}, and {why}", keys.join(", ")),
            )
        })?;
        prefetch.extend(fetched);
    }
    let uuid = derived_uuid(&[&hook.hook_instance, &card.name, "card"]);
    let patient = prefetch.get(PATIENT_KEY).cloned();
    let others: Vec<Value> = templates
        .iter()
        .filter(|(key, _)| key != PATIENT_KEY)
        .filter_map(|(key, _)| prefetch.get(key).cloned())
        .collect();
    let record = match Record::from_resources(patient, others) {
        Ok(record) => record,
        Err(RecordError::NoPatient) => {
            let missing = [Refused {
                feature: PATIENT_KEY.to_owned(),
                why: Missing::Record(fhir_record::PickProblem::NotFound),
            }];
            return Ok(vec![info_card(&card, &uuid, &missing, &[])]);
        }
        Err(error) => return Err(outcome(400, "invalid", &format!("the prefetch: {error}"))),
    };
    if record.patient_reference() != format!("Patient/{}", hook.context.patient_id) {
        return Err(outcome(
            400,
            "invalid",
            "the prefetched Patient is not the patient in context",
        ));
    }
    match score(api, &card, &record, today).await {
        Ok(scored) => {
            let assessment = written(&card, &record, today, &scored)?;
            let suggestion = derived_uuid(&[&hook.hook_instance, &card.name, "suggestion"]);
            Ok(vec![risk_card(
                &card,
                &scored,
                assessment,
                &uuid,
                &suggestion,
            )])
        }
        Err(ScoreError::Record(missing)) => Ok(vec![info_card(&card, &uuid, &missing, &[])]),
        Err(ScoreError::Model(refused)) => Ok(vec![info_card(&card, &uuid, &[], &refused)]),
        Err(ScoreError::Api(message)) => Err(outcome(502, "exception", &message)),
    }
}

/// What the prefetch lacks, read from the call's FHIR server: each absent template, for the
/// patient in context, with the call's access token. Refused (the reason, for the 412) when
/// the call names no server or token, or a server other than the allowed one, or when the
/// server does not answer a search with a resource.
async fn fetch_absent<F: FhirServer>(
    hook: &HookRequest,
    absent: &[&(String, String)],
    ehr: &EhrServer<'_, F>,
) -> Result<Vec<(String, Value)>, &'static str> {
    let (Some(server), Some(authorization)) = (&hook.fhir_server, &hook.fhir_authorization) else {
        return Err("the call gives no FHIR server and access token to read it from");
    };
    let base = ehr
        .allowed
        .and_then(|allowed| allowed_base(server, allowed))
        .ok_or("this service may not read the call's FHIR server (not the allowed one)")?;
    if !authorization.token_type.eq_ignore_ascii_case("Bearer") {
        return Err("the call's access token is not a bearer token");
    }
    let mut fetched = Vec::with_capacity(absent.len());
    for (key, template) in absent {
        let query = template.replace(PATIENT_TOKEN, &hook.context.patient_id);
        let answer = ehr
            .server
            .read(&format!("{base}/{query}"), &authorization.access_token)
            .await
            .map_err(|_| "the FHIR server could not be reached")?;
        let value: Value = (answer.status == 200)
            .then(|| serde_json::from_slice(&answer.body).ok())
            .flatten()
            .filter(|value: &Value| value.get("resourceType").is_some())
            .ok_or("the FHIR server did not answer a search with a resource")?;
        fetched.push((key.clone(), value));
    }
    Ok(fetched)
}

/// The card of the model a service is named after, if a record can score it.
pub async fn service_card(api: &impl PredictionApi, id: &str) -> Result<ModelCard, Response> {
    let unknown = || {
        outcome(
            404,
            "not-found",
            "no CDS service has this id (GET /cds-services lists them)",
        )
    };
    match model_card(api, Some(id)).await {
        Ok(card) if card.reads_fhir() => Ok(card),
        Ok(_) | Err(CardError::UnknownModel(_)) => Err(unknown()),
        Err(CardError::Api(message)) => Err(outcome(502, "exception", &message)),
    }
}

/// A CDS Hooks JSON body.
pub fn json_response(body: &Value) -> Response {
    Response {
        status: 200,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.to_string().into_bytes(),
        log_lines: Vec::new(),
    }
}
