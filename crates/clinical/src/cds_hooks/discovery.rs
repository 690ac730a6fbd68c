//! `GET /cds-services`: one CDS Hooks service per model a record can score, each with its
//! `patient-view` prefetch templates generated from the model's FHIR sources.

use fhir_record::{search_query, FhirSource};
use serde_json::{json, Map, Value};

use crate::model_card::ModelCard;

/// The hook every service answers: a clinician opens a patient's chart.
pub const HOOK: &str = "patient-view";

/// The prefetch token of the patient in context.
pub const PATIENT_TOKEN: &str = "{{context.patientId}}";

/// The prefetch key of the patient's own resource.
pub const PATIENT_KEY: &str = "patient";

/// The second search a medication binding needs: statements count as well as requests, and
/// one FHIR search cannot bring both.
const MEDICATION_STATEMENTS: &str =
    "MedicationStatement?patient={{context.patientId}}&status=active";

/// The discovery document: a service per model whose every required feature declares a FHIR
/// source, in the API's order (the default model first).
pub fn discovery(cards: &[ModelCard]) -> Value {
    let services: Vec<Value> = cards
        .iter()
        .filter(|card| card.reads_fhir())
        .map(service)
        .collect();
    json!({ "services": services })
}

fn service(card: &ModelCard) -> Value {
    let prefetch: Map<String, Value> = prefetch_templates(card)
        .into_iter()
        .map(|(key, template)| (key, Value::String(template)))
        .collect();
    json!({
        "hook": HOOK,
        "id": card.name,
        "title": card.title,
        "description": format!(
            "{} ({} {}), from the patient's record when the chart is opened; the values it \
             read are listed on the card, and the RiskAssessment can be saved to the chart.",
            card.title, card.name, card.version
        ),
        "prefetch": prefetch,
    })
}

/// `(key, template)` for every search the model's bindings need, each search once: the
/// patient's resource as `patient`, an observation search by the feature it feeds, conditions
/// as `conditions`, medications as `medicationRequests` and `medicationStatements`.
pub fn prefetch_templates(card: &ModelCard) -> Vec<(String, String)> {
    let mut templates: Vec<(String, String)> = Vec::new();
    let mut add = |key: &str, template: String| {
        if !templates.iter().any(|(_, known)| *known == template) {
            templates.push((key.to_owned(), template));
        }
    };
    for feature in &card.features {
        let Some(source) = &feature.fhir else {
            continue;
        };
        let Some(template) = search_query(source) else {
            continue;
        };
        match source {
            FhirSource::Age | FhirSource::Gender(_) | FhirSource::Race(_) => {
                add(PATIENT_KEY, template)
            }
            FhirSource::Observation(_) | FhirSource::CodedObservation(_) => {
                add(&feature.name, template)
            }
            FhirSource::Condition(_) => add("conditions", template),
            FhirSource::Medication(_) => {
                add("medicationRequests", template);
                add("medicationStatements", MEDICATION_STATEMENTS.to_owned());
            }
        }
    }
    templates
}
