//! Small hand-built FHIR records and real codes for the edge-case tests.

#![allow(dead_code)] // each test file uses its own part of these helpers

use std::borrow::Cow;

use fhir_record::{
    Answer, ChoiceMap, CodedBinding, CodingMatch, Date, FhirSource, ObservationBinding, Record,
    UnitBinding,
};
use serde_json::{json, Value};

pub const LOINC: &str = "http://loinc.org";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
pub const ATC: &str = "http://www.whocc.no/atc";
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub const UCUM: &str = "http://unitsofmeasure.org";
pub const OMB: &str = "urn:oid:2.16.840.1.113883.6.238";
pub const US_CORE_RACE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";

pub const PATIENT_ID: &str = "p1";

pub fn day(text: &str) -> Date {
    Date::parse(text).unwrap()
}

pub fn patient() -> Value {
    json!({"resourceType": "Patient", "id": PATIENT_ID, "gender": "female", "birthDate": "1960-05-20"})
}

/// A collection Bundle of the patient and `resources`, in this order.
pub fn bundle_json(resources: Vec<Value>) -> Vec<u8> {
    let entries: Vec<Value> = std::iter::once(patient())
        .chain(resources)
        .map(|resource| json!({"resource": resource}))
        .collect();
    serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "collection", "entry": entries}))
        .unwrap()
}

pub fn record(resources: Vec<Value>) -> Record {
    Record::from_json(&bundle_json(resources)).unwrap()
}

/// A result with a quantity, of the patient.
pub fn lab(id: &str, code: &str, status: &str, effective: &str, value: f64, ucum: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "id": id,
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": format!("Patient/{PATIENT_ID}")},
        "effectiveDateTime": effective,
        "valueQuantity": {"value": value, "unit": ucum, "system": UCUM, "code": ucum}
    })
}

/// A blood pressure panel with systolic and diastolic components.
pub fn bp_panel(
    id: &str,
    panel_code: &str,
    effective: &str,
    systolic: f64,
    diastolic: f64,
) -> Value {
    json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": panel_code}]},
        "subject": {"reference": format!("Patient/{PATIENT_ID}")},
        "effectiveDateTime": effective,
        "component": [
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
             "valueQuantity": {"value": diastolic, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
             "valueQuantity": {"value": systolic, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}}
        ]
    })
}

pub fn condition(
    id: &str,
    system: &str,
    code: &str,
    clinical: &str,
    verification: Option<&str>,
) -> Value {
    let mut condition = json!({
        "resourceType": "Condition",
        "id": id,
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": format!("Patient/{PATIENT_ID}")},
        "onsetDateTime": "2015-04-02T09:00:00-05:00"
    });
    if let Some(verification) = verification {
        condition["verificationStatus"] = json!({"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification
        }]});
    }
    condition
}

/// A MedicationRequest for a coded medication.
pub fn prescription(id: &str, status: &str, system: &str, code: &str) -> Value {
    json!({
        "resourceType": "MedicationRequest",
        "id": id,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": format!("Patient/{PATIENT_ID}")},
        "authoredOn": "2020-01-15"
    })
}

pub const CHOLESTEROL_CODES: &[CodingMatch] = &[
    CodingMatch::exact(LOINC, "2093-3"),
    CodingMatch::exact(LOINC, "14647-2"),
];
pub const SYSTOLIC_CODES: &[CodingMatch] = &[CodingMatch::exact(LOINC, "8480-6")];
pub const BP_PANELS: &[CodingMatch] = &[
    CodingMatch::exact(LOINC, "85354-9"),
    CodingMatch::exact(LOINC, "55284-4"),
];
pub const DIABETES: &[CodingMatch] = &[
    CodingMatch::exact(SNOMED, "73211009"),
    CodingMatch::exact(SNOMED, "44054006"),
    CodingMatch::exact(SNOMED, "46635009"),
    CodingMatch::prefix(ICD10CM, "E08"),
    CodingMatch::prefix(ICD10CM, "E09"),
    CodingMatch::prefix(ICD10CM, "E10"),
    CodingMatch::prefix(ICD10CM, "E11"),
    CodingMatch::prefix(ICD10CM, "E13"),
];
pub const STATINS: &[CodingMatch] = &[
    CodingMatch::prefix(ATC, "C10AA"),
    CodingMatch::exact(RXNORM, "617312"),
];

/// Total cholesterol in mg/dL: 2093-3 in mg/dL, 14647-2 in mmol/L (the PCE's own factor).
pub fn cholesterol(max_age_days: u32) -> FhirSource {
    FhirSource::Observation(ObservationBinding {
        codes: Cow::Borrowed(CHOLESTEROL_CODES),
        panels: Cow::Borrowed(&[]),
        units: Cow::Owned(vec![
            UnitBinding {
                ucum: "mg/dL".into(),
                factor: 1.0,
            },
            UnitBinding {
                ucum: "mmol/L".into(),
                factor: 38.67,
            },
        ]),
        max_age_days,
    })
}

pub fn systolic(max_age_days: u32) -> FhirSource {
    FhirSource::Observation(ObservationBinding {
        codes: Cow::Borrowed(SYSTOLIC_CODES),
        panels: Cow::Borrowed(BP_PANELS),
        units: Cow::Owned(vec![UnitBinding {
            ucum: "mm[Hg]".into(),
            factor: 1.0,
        }]),
        max_age_days,
    })
}

pub const SMOKING_CODES: &[CodingMatch] = &[CodingMatch::exact(LOINC, "72166-2")];

/// Smoking status 72166-2, current-smoker answers true, never and former false.
pub fn smoking(otherwise: Option<Answer>) -> FhirSource {
    FhirSource::CodedObservation(CodedBinding {
        codes: Cow::Borrowed(SMOKING_CODES),
        answers: Cow::Owned(vec![
            (
                CodingMatch::exact(SNOMED, "449868002"),
                Answer::Boolean(true),
            ),
            (
                CodingMatch::exact(SNOMED, "428041000124106"),
                Answer::Boolean(true),
            ),
            (
                CodingMatch::exact(SNOMED, "266919005"),
                Answer::Boolean(false),
            ),
            (
                CodingMatch::exact(SNOMED, "8517006"),
                Answer::Boolean(false),
            ),
        ]),
        otherwise,
        max_age_days: 365,
    })
}

/// The PCE's race: White and African American, everyone else "other".
pub fn pce_race(otherwise: Option<&'static str>) -> FhirSource {
    FhirSource::Race(ChoiceMap {
        pairs: Cow::Owned(vec![
            ("2054-5".into(), "african_american".into()),
            ("2106-3".into(), "white".into()),
        ]),
        otherwise: otherwise.map(Cow::Borrowed),
    })
}

pub fn number(value: &Answer) -> f64 {
    match value {
        Answer::Number(number) => *number,
        other => panic!("not a number: {other:?}"),
    }
}
