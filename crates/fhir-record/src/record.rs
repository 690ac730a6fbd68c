//! One patient's record: the Patient and the resources about them, read from a FHIR Bundle, a
//! Parameters holding one, or the resources a CDS Hooks prefetch brought.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::resources::{self, Condition, Medication, MedicationUse, Observation, Patient};

/// Why a body is not a record this crate can read. No message names patient data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the record is not valid JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("the record is neither a FHIR Bundle, a Parameters holding one in its first resource parameter, nor a Patient")]
    NotARecord,
    #[error("the record holds no Patient")]
    NoPatient,
    #[error("the record holds more than one Patient")]
    TwoPatients,
    #[error("the record's Patient has neither an id nor a fullUrl to refer to it by")]
    PatientWithoutId,
    /// A resource read has a member of the wrong JSON type (a status that is a number, a code
    /// list that is an object...). The record is refused rather than read without it: dropping
    /// a malformed newest result would silently promote an older one.
    #[error("a {resource_type} in the record does not have the shape FHIR R4 gives it")]
    Malformed { resource_type: &'static str },
}

/// The resource types read besides Patient; every other type is skipped unread.
const READ_TYPES: [&str; 5] = [
    "Observation",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "Medication",
];

/// Bundles inside bundles (a batch-response of searchsets, a prefetch's searchset inside a
/// Parameters) are read to this depth; a deeper one is refused as malformed.
const MAX_BUNDLE_DEPTH: u8 = 4;

/// A resource of the record, with what refers to it.
#[derive(Debug)]
pub(crate) struct Held<T> {
    /// How the basis cites it: `Type/id`, else its entry's `fullUrl` (a transaction bundle's
    /// `urn:uuid:...`), else the bare type (a resource with no identity at all).
    pub reference: String,
    id: Option<String>,
    full_url: Option<String>,
    pub resource: T,
}

impl<T> Held<T> {
    /// Whether `reference` points at this resource, of type `resource_type`: its entry's
    /// `fullUrl`, or `Type/id` (relative, absolute, or with a `_history` version).
    fn is_referred_to_by(&self, reference: &str, resource_type: &str) -> bool {
        self.full_url.as_deref() == Some(reference)
            || self
                .id
                .as_deref()
                .is_some_and(|id| type_and_id(reference) == Some((resource_type, id)))
    }
}

/// A MedicationRequest or MedicationStatement, with the Medications it contains.
#[derive(Debug)]
pub(crate) struct MedicationUseHeld {
    pub held: Held<MedicationUse>,
    contained: Vec<Medication>,
}

/// What an active medication is, as far as the record tells.
pub(crate) enum Medicine<'a> {
    Coded(&'a resources::CodeableConcept),
    /// Free text only, or a reference with a display and nothing to follow: nothing a coding
    /// can match.
    Uncoded,
    /// A `medicationReference` to a Medication the record does not hold (a prefetch without
    /// `_include`): the medication exists but cannot be identified.
    Unresolved,
}

/// One patient's record.
///
/// Only the resources about this patient are kept: a resource whose `subject` (or `patient`)
/// reference points to anyone else is ignored. A resource without such a reference is kept,
/// since the record is one patient's.
pub struct Record {
    patient: Patient,
    patient_id: Option<String>,
    patient_urls: Vec<String>,
    pub(crate) observations: Vec<Held<Observation>>,
    pub(crate) conditions: Vec<Held<Condition>>,
    pub(crate) medication_uses: Vec<MedicationUseHeld>,
    medications: Vec<Held<Medication>>,
}

/// Counts only: a record holds patient data, which no log line should carry.
impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("observations", &self.observations.len())
            .field("conditions", &self.conditions.len())
            .field("medication_uses", &self.medication_uses.len())
            .field("medications", &self.medications.len())
            .finish_non_exhaustive()
    }
}

/// A resource found in the body, with its entry's `fullUrl`.
struct Found {
    full_url: Option<String>,
    resource: Map<String, Value>,
}

impl Record {
    /// A FHIR `Bundle` of any type (collection, searchset, transaction...; the resources under
    /// `entry[].resource`), or a `Parameters` whose first parameter with a `resource` holds
    /// such a Bundle or a bare Patient, or a bare Patient. Exactly one Patient is required.
    pub fn from_json(bytes: &[u8]) -> Result<Record, RecordError> {
        let body: Value = serde_json::from_slice(bytes).map_err(|error| RecordError::NotJson {
            line: error.line(),
            column: error.column(),
        })?;
        let record = match resource_type_of(&body) {
            Some("Bundle" | "Patient") => body,
            Some("Parameters") => first_parameter_resource(body)?,
            _ => return Err(RecordError::NotARecord),
        };
        let mut found = Vec::new();
        collect(record, None, 0, &mut found)?;
        Record::from_found(found)
    }

    /// A record built from separately fetched resources, as the CDS Hooks layer has them: the
    /// Patient (a `Patient/{{context.patientId}}` read; None or JSON `null` when the prefetch
    /// has none) and the other prefetch values, each a resource or a Bundle (a searchset) whose
    /// entries are read. Values that are not resources (`null` for an empty read) are skipped,
    /// and so are resources of types not read here (an OperationOutcome a server put in a
    /// searchset). The Patient may also come in `others`, or twice (same id): exactly one
    /// distinct Patient is required.
    pub fn from_resources(
        patient: Option<Value>,
        others: Vec<Value>,
    ) -> Result<Record, RecordError> {
        let mut found = Vec::new();
        for value in patient.into_iter().chain(others) {
            collect(value, None, 0, &mut found)?;
        }
        Record::from_found(found)
    }

    /// How to refer to the patient: `Patient/<id>`, or the entry's `fullUrl` when the Patient
    /// has no id (a transaction bundle's `urn:uuid:...`).
    pub fn patient_reference(&self) -> String {
        match &self.patient_id {
            Some(id) => format!("Patient/{id}"),
            None => self.patient_urls.first().cloned().unwrap_or_default(),
        }
    }

    pub(crate) fn patient(&self) -> &Patient {
        &self.patient
    }

    /// The medication an active MedicationRequest or MedicationStatement is about: its
    /// `medicationCodeableConcept`, or the Medication its `medicationReference` points at (a
    /// contained `#id`, a `Medication/<id>`, or an entry's `fullUrl` such as `urn:uuid:...`).
    pub(crate) fn medicine<'a>(&'a self, using: &'a MedicationUseHeld) -> Medicine<'a> {
        let resource = &using.held.resource;
        if let Some(concept) = &resource.medication_codeable_concept {
            return Medicine::Coded(concept);
        }
        let Some(reference) = resource
            .medication_reference
            .as_ref()
            .and_then(|r| r.reference.as_deref())
        else {
            return Medicine::Uncoded;
        };
        let medication = match reference.strip_prefix('#') {
            Some(local_id) => using
                .contained
                .iter()
                .find(|medication| medication.id.as_deref() == Some(local_id)),
            None => self
                .medications
                .iter()
                .find(|held| held.is_referred_to_by(reference, "Medication"))
                .map(|held| &held.resource),
        };
        match medication {
            Some(Medication {
                code: Some(code), ..
            }) => Medicine::Coded(code),
            Some(_) => Medicine::Uncoded,
            None => Medicine::Unresolved,
        }
    }

    fn from_found(found: Vec<Found>) -> Result<Record, RecordError> {
        let (patients, others): (Vec<Found>, Vec<Found>) = found
            .into_iter()
            .partition(|found| resource_type_of_map(&found.resource) == Some("Patient"));

        let mut chosen: Option<(Patient, Vec<String>)> = None;
        for Found { full_url, resource } in patients {
            let patient: Patient = typed(resource, "Patient")?;
            match &mut chosen {
                None => chosen = Some((patient, full_url.into_iter().collect())),
                Some((first, urls)) => {
                    let same_id = patient.id.is_some() && patient.id == first.id;
                    let same_url = full_url.as_ref().is_some_and(|url| urls.contains(url));
                    if !(same_id || same_url) {
                        return Err(RecordError::TwoPatients);
                    }
                    urls.extend(full_url.filter(|url| !urls.contains(url)));
                    if first.id.is_none() {
                        first.id = patient.id;
                    }
                }
            }
        }
        let (patient, patient_urls) = chosen.ok_or(RecordError::NoPatient)?;
        if patient.id.is_none() && patient_urls.is_empty() {
            return Err(RecordError::PatientWithoutId);
        }
        let mut record = Record {
            patient_id: patient.id.clone(),
            patient,
            patient_urls,
            observations: Vec::new(),
            conditions: Vec::new(),
            medication_uses: Vec::new(),
            medications: Vec::new(),
        };

        for Found { full_url, resource } in others {
            let read_type = resource_type_of_map(&resource)
                .and_then(|name| READ_TYPES.iter().copied().find(|read| *read == name));
            match read_type {
                Some("Observation") => {
                    let observation: Observation = typed(resource, "Observation")?;
                    if record.is_about_patient(resources::subject_reference(
                        &observation.subject,
                        &observation.patient,
                    )) {
                        let held =
                            held("Observation", observation.id.clone(), full_url, observation);
                        record.observations.push(held);
                    }
                }
                Some("Condition") => {
                    let condition: Condition = typed(resource, "Condition")?;
                    if record.is_about_patient(resources::subject_reference(
                        &condition.subject,
                        &condition.patient,
                    )) {
                        let held = held("Condition", condition.id.clone(), full_url, condition);
                        record.conditions.push(held);
                    }
                }
                Some(resource_type @ ("MedicationRequest" | "MedicationStatement")) => {
                    let mut using: MedicationUse = typed(resource, resource_type)?;
                    if record.is_about_patient(resources::subject_reference(
                        &using.subject,
                        &using.patient,
                    )) {
                        let contained =
                            contained_medications(std::mem::take(&mut using.contained))?;
                        let held = held(resource_type, using.id.clone(), full_url, using);
                        record
                            .medication_uses
                            .push(MedicationUseHeld { held, contained });
                    }
                }
                Some("Medication") => {
                    let medication: Medication = typed(resource, "Medication")?;
                    let held = held("Medication", medication.id.clone(), full_url, medication);
                    record.medications.push(held);
                }
                _ => {}
            }
        }
        Ok(record)
    }

    /// Whether a resource's subject reference is this patient (or absent).
    fn is_about_patient(&self, reference: Option<&str>) -> bool {
        let Some(reference) = reference else {
            return true;
        };
        self.patient_urls.iter().any(|url| url == reference)
            || self
                .patient_id
                .as_deref()
                .is_some_and(|id| type_and_id(reference) == Some(("Patient", id)))
    }
}

fn held<T>(
    resource_type: &str,
    id: Option<String>,
    full_url: Option<String>,
    resource: T,
) -> Held<T> {
    let reference = match (&id, &full_url) {
        (Some(id), _) => format!("{resource_type}/{id}"),
        (None, Some(url)) => url.clone(),
        (None, None) => resource_type.to_owned(),
    };
    Held {
        reference,
        id,
        full_url,
        resource,
    }
}

fn typed<T: DeserializeOwned>(
    resource: Map<String, Value>,
    resource_type: &'static str,
) -> Result<T, RecordError> {
    serde_json::from_value(Value::Object(resource))
        .map_err(|_| RecordError::Malformed { resource_type })
}

fn contained_medications(contained: Vec<Value>) -> Result<Vec<Medication>, RecordError> {
    contained
        .into_iter()
        .filter_map(|value| match value {
            Value::Object(resource) if resource_type_of_map(&resource) == Some("Medication") => {
                Some(resource)
            }
            _ => None,
        })
        .map(|resource| typed(resource, "Medication"))
        .collect()
}

/// The `(type, id)` a reference names: `Type/id`, `https://server/fhir/Type/id`, or either with
/// `/_history/<version>`. None for a `urn:uuid:` or `#local` reference, or a conditional one
/// (`Patient?identifier=...`).
fn type_and_id(reference: &str) -> Option<(&str, &str)> {
    if reference.contains('?') {
        return None;
    }
    let mut segments = reference.rsplit('/');
    let (mut id, mut resource_type) = (segments.next()?, segments.next()?);
    if resource_type == "_history" {
        (id, resource_type) = (segments.next()?, segments.next()?);
    }
    (!resource_type.is_empty() && !id.is_empty()).then_some((resource_type, id))
}

fn resource_type_of(value: &Value) -> Option<&str> {
    value.get("resourceType")?.as_str()
}

fn resource_type_of_map(resource: &Map<String, Value>) -> Option<&str> {
    resource.get("resourceType")?.as_str()
}

/// The resource of a Parameters' first parameter that has one: a Bundle or a Patient.
fn first_parameter_resource(parameters: Value) -> Result<Value, RecordError> {
    let Value::Object(mut parameters) = parameters else {
        return Err(RecordError::NotARecord);
    };
    let Some(Value::Array(list)) = parameters.remove("parameter") else {
        return Err(RecordError::NotARecord);
    };
    let resource = list
        .into_iter()
        .find_map(|parameter| match parameter {
            Value::Object(mut parameter) => parameter.remove("resource"),
            _ => None,
        })
        .ok_or(RecordError::NotARecord)?;
    match resource_type_of(&resource) {
        Some("Bundle" | "Patient") => Ok(resource),
        _ => Err(RecordError::NotARecord),
    }
}

/// Every resource in `value`: itself, or a Bundle's entries' resources, depth first.
fn collect(
    value: Value,
    full_url: Option<String>,
    depth: u8,
    found: &mut Vec<Found>,
) -> Result<(), RecordError> {
    let Value::Object(mut resource) = value else {
        return Ok(());
    };
    if resource_type_of_map(&resource) != Some("Bundle") {
        found.push(Found { full_url, resource });
        return Ok(());
    }
    let malformed = RecordError::Malformed {
        resource_type: "Bundle",
    };
    if depth >= MAX_BUNDLE_DEPTH {
        return Err(malformed);
    }
    let entries = match resource.remove("entry") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(malformed),
    };
    for entry in entries {
        let Value::Object(mut entry) = entry else {
            return Err(malformed);
        };
        let full_url = match entry.remove("fullUrl") {
            None | Some(Value::Null) => None,
            Some(Value::String(url)) => Some(url),
            Some(_) => return Err(malformed),
        };
        // An entry without a resource (a transaction-response's status) has nothing to read.
        if let Some(resource) = entry.remove("resource") {
            collect(resource, full_url, depth + 1, found)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_a_type_and_an_id() {
        assert_eq!(type_and_id("Patient/123"), Some(("Patient", "123")));
        assert_eq!(
            type_and_id("https://ehr.example/fhir/R4/Patient/123"),
            Some(("Patient", "123"))
        );
        assert_eq!(
            type_and_id("Patient/123/_history/4"),
            Some(("Patient", "123"))
        );
        assert_eq!(
            type_and_id("urn:uuid:6bb97c2b-8762-4763-ad16-2d88db590b74"),
            None
        );
        assert_eq!(type_and_id("#med1"), None);
        assert_eq!(
            type_and_id("Patient?identifier=http://hospital.example/mrn|123"),
            None
        );
        assert_eq!(type_and_id("Patient/"), None);
        assert_eq!(type_and_id("/123"), None);
    }

    #[test]
    fn a_record_shows_counts_not_data_when_debugged() {
        let body = br#"{"resourceType":"Patient","id":"p1","birthDate":"1950-01-02"}"#;
        let record = Record::from_json(body).unwrap();
        let shown = format!("{record:?}");
        assert!(shown.contains("observations: 0"), "{shown}");
        assert!(!shown.contains("1950"), "{shown}");
    }
}
