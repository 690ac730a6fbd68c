//! Booleans from Conditions and from MedicationRequests and MedicationStatements.

mod common;

use std::borrow::Cow;

use common::*;
use fhir_record::{pick, Answer, Basis, FhirSource, PickProblem, Record};
use serde_json::{json, Value};

fn diabetes() -> FhirSource {
    FhirSource::Condition(Cow::Borrowed(DIABETES))
}

fn statin() -> FhirSource {
    FhirSource::Medication(Cow::Borrowed(STATINS))
}

fn as_of() -> fhir_record::Date {
    day("2021-06-01")
}

#[test]
fn diabetes_by_an_icd_10_cm_diagnosis_alone() {
    let record = record(vec![condition(
        "dm",
        ICD10CM,
        "E11.9",
        "active",
        Some("confirmed"),
    )]);
    let picked = pick(&record, &diabetes(), as_of()).unwrap();
    assert_eq!(picked.value, Answer::Boolean(true));
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Condition/dm".into(),
            date: Some(day("2015-04-02"))
        }]
    );
}

#[test]
fn diabetes_by_a_snomed_ct_diagnosis_alone() {
    let record = record(vec![condition(
        "dm",
        SNOMED,
        "44054006",
        "active",
        Some("confirmed"),
    )]);
    assert_eq!(
        pick(&record, &diabetes(), as_of()).unwrap().value,
        Answer::Boolean(true)
    );
}

#[test]
fn a_prefix_does_not_reach_a_neighbouring_category_or_system() {
    for (system, code) in [
        (ICD10CM, "E14.9"),
        (ICD10CM, "E1"),
        (SNOMED, "E11.9"),
        ("http://hl7.org/fhir/sid/icd-10", "E11.9"),
    ] {
        let record = record(vec![condition(
            "c",
            system,
            code,
            "active",
            Some("confirmed"),
        )]);
        let picked = pick(&record, &diabetes(), as_of()).unwrap();
        assert_eq!(picked.value, Answer::Boolean(false), "{system} {code}");
        assert!(picked.basis.is_empty());
    }
}

#[test]
fn conditions_not_present_or_not_confirmed_are_ignored() {
    for (clinical, verification) in [
        ("active", Some("refuted")),
        ("active", Some("entered-in-error")),
        ("active", Some("unconfirmed")),
        ("active", Some("provisional")),
        ("active", Some("differential")),
        ("resolved", Some("confirmed")),
        ("inactive", Some("confirmed")),
        ("remission", Some("confirmed")),
    ] {
        let record = record(vec![condition(
            "dm",
            ICD10CM,
            "E11.9",
            clinical,
            verification,
        )]);
        let picked = pick(&record, &diabetes(), as_of()).unwrap();
        assert_eq!(
            picked.value,
            Answer::Boolean(false),
            "{clinical} {verification:?}"
        );
        assert_eq!(picked.basis, Vec::new());
    }
}

#[test]
fn recurrence_relapse_and_an_absent_verification_status_count() {
    for (clinical, verification) in [
        ("recurrence", Some("confirmed")),
        ("relapse", Some("confirmed")),
        ("active", None),
    ] {
        let record = record(vec![condition(
            "dm",
            ICD10CM,
            "E11.9",
            clinical,
            verification,
        )]);
        assert_eq!(
            pick(&record, &diabetes(), as_of()).unwrap().value,
            Answer::Boolean(true),
            "{clinical}"
        );
    }
}

#[test]
fn a_condition_without_a_clinical_status_is_not_counted() {
    let mut unknown = condition("dm", ICD10CM, "E11.9", "active", Some("confirmed"));
    unknown.as_object_mut().unwrap().remove("clinicalStatus");
    assert_eq!(
        pick(&record(vec![unknown]), &diabetes(), as_of())
            .unwrap()
            .value,
        Answer::Boolean(false)
    );
}

#[test]
fn a_refuted_diagnosis_beside_a_confirmed_one_still_gives_true_with_only_the_confirmed_one() {
    let record = record(vec![
        condition("refuted", ICD10CM, "E11.9", "active", Some("refuted")),
        condition("t1", SNOMED, "46635009", "active", Some("confirmed")),
        condition("t2", ICD10CM, "E11.65", "active", None),
    ]);
    let picked = pick(&record, &diabetes(), as_of()).unwrap();
    assert_eq!(picked.value, Answer::Boolean(true));
    let cited: Vec<&str> = picked
        .basis
        .iter()
        .map(|basis| basis.reference.as_str())
        .collect();
    assert_eq!(cited, ["Condition/t1", "Condition/t2"]);
}

#[test]
fn a_statin_by_its_atc_class() {
    let record = record(vec![prescription("rx", "active", ATC, "C10AA05")]);
    let picked = pick(&record, &statin(), as_of()).unwrap();
    assert_eq!(picked.value, Answer::Boolean(true));
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "MedicationRequest/rx".into(),
            date: Some(day("2020-01-15"))
        }]
    );
    let other_class = record_with(prescription("rx", "active", ATC, "C10AX09"));
    assert_eq!(
        pick(&other_class, &statin(), as_of()).unwrap().value,
        Answer::Boolean(false)
    );
}

#[test]
fn a_statin_by_its_rxnorm_code() {
    let record = record_with(prescription("rx", "active", RXNORM, "617312"));
    assert_eq!(
        pick(&record, &statin(), as_of()).unwrap().value,
        Answer::Boolean(true)
    );
    let other_drug = record_with(prescription("rx", "active", RXNORM, "316049"));
    assert_eq!(
        pick(&other_drug, &statin(), as_of()).unwrap().value,
        Answer::Boolean(false)
    );
}

fn record_with(resource: Value) -> Record {
    record(vec![resource])
}

#[test]
fn a_medication_that_is_not_active_is_ignored() {
    for status in [
        "stopped",
        "completed",
        "cancelled",
        "entered-in-error",
        "draft",
        "on-hold",
    ] {
        let record = record_with(prescription("rx", status, ATC, "C10AA05"));
        let picked = pick(&record, &statin(), as_of()).unwrap();
        assert_eq!(picked.value, Answer::Boolean(false), "{status}");
        assert!(picked.basis.is_empty());
    }
}

fn referring(id: &str, reference: &str) -> Value {
    json!({
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "active",
        "intent": "plan",
        "medicationReference": {"reference": reference, "display": "a statin"},
        "subject": {"reference": format!("Patient/{PATIENT_ID}")}
    })
}

fn medication(id: &str, system: &str, code: &str) -> Value {
    json!({"resourceType": "Medication", "id": id, "code": {"coding": [{"system": system, "code": code}]}})
}

#[test]
fn a_medication_reference_to_a_medication_in_the_record() {
    let record = record(vec![
        referring("rx", "Medication/atorva"),
        medication("atorva", RXNORM, "617312"),
    ]);
    let picked = pick(&record, &statin(), as_of()).unwrap();
    assert_eq!(picked.value, Answer::Boolean(true));
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "MedicationRequest/rx".into(),
            date: None
        }]
    );
    let absolute = record_with_all(vec![
        referring("rx", "https://ehr.example/fhir/Medication/atorva"),
        medication("atorva", ATC, "C10AA05"),
    ]);
    assert_eq!(
        pick(&absolute, &statin(), as_of()).unwrap().value,
        Answer::Boolean(true)
    );
}

fn record_with_all(resources: Vec<Value>) -> Record {
    record(resources)
}

#[test]
fn a_medication_reference_by_the_bundle_s_full_url() {
    let body = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:aaaa-patient", "resource": {"resourceType": "Patient", "birthDate": "1960-05-20"}},
        {"fullUrl": "urn:uuid:bbbb-med", "resource": {"resourceType": "Medication",
            "code": {"coding": [{"system": RXNORM, "code": "617312"}]}}},
        {"fullUrl": "urn:uuid:cccc-rx", "resource": {"resourceType": "MedicationRequest", "status": "active",
            "intent": "order", "medicationReference": {"reference": "urn:uuid:bbbb-med"},
            "subject": {"reference": "urn:uuid:aaaa-patient"}}}
    ]});
    let record = Record::from_json(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(record.patient_reference(), "urn:uuid:aaaa-patient");
    let picked = pick(&record, &statin(), as_of()).unwrap();
    assert_eq!(picked.value, Answer::Boolean(true));
    assert_eq!(picked.basis[0].reference, "urn:uuid:cccc-rx");
}

#[test]
fn a_contained_medication() {
    let mut request = referring("rx", "#m1");
    request["contained"] = json!([medication("m1", ATC, "C10AA01")]);
    assert_eq!(
        pick(&record_with(request), &statin(), as_of())
            .unwrap()
            .value,
        Answer::Boolean(true)
    );
}

#[test]
fn a_medication_referenced_but_absent_is_no_value_not_false() {
    let record = record(vec![
        referring("rx", "Medication/elsewhere"),
        prescription("other", "active", RXNORM, "316049"),
    ]);
    assert_eq!(pick(&record, &statin(), as_of()), Err(PickProblem::NoValue));
    // A match elsewhere still answers true.
    let matched = record_with_all(vec![
        referring("rx", "Medication/elsewhere"),
        prescription("s", "active", ATC, "C10AA05"),
    ]);
    assert_eq!(
        pick(&matched, &statin(), as_of()).unwrap().value,
        Answer::Boolean(true)
    );
    // A reference of a medication no longer active does not matter.
    let mut stopped = referring("rx", "Medication/elsewhere");
    stopped["status"] = json!("stopped");
    assert_eq!(
        pick(&record_with(stopped), &statin(), as_of())
            .unwrap()
            .value,
        Answer::Boolean(false)
    );
}

#[test]
fn an_active_medication_statement_counts() {
    let statement = json!({
        "resourceType": "MedicationStatement",
        "id": "ms",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": ATC, "code": "C10AA07"}]},
        "subject": {"reference": format!("Patient/{PATIENT_ID}")},
        "effectivePeriod": {"start": "2019-03-01"}
    });
    let picked = pick(&record_with(statement.clone()), &statin(), as_of()).unwrap();
    assert_eq!(picked.value, Answer::Boolean(true));
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "MedicationStatement/ms".into(),
            date: Some(day("2019-03-01"))
        }]
    );
    let mut completed = statement;
    completed["status"] = json!("completed");
    assert_eq!(
        pick(&record_with(completed), &statin(), as_of())
            .unwrap()
            .value,
        Answer::Boolean(false)
    );
}

#[test]
fn antihypertensives_by_several_atc_classes() {
    const BP_TREATMENT: &[fhir_record::CodingMatch] = &[
        fhir_record::CodingMatch::prefix(ATC, "C02"),
        fhir_record::CodingMatch::prefix(ATC, "C03"),
        fhir_record::CodingMatch::prefix(ATC, "C07"),
        fhir_record::CodingMatch::prefix(ATC, "C08"),
        fhir_record::CodingMatch::prefix(ATC, "C09"),
    ];
    let treated = FhirSource::Medication(Cow::Borrowed(BP_TREATMENT));
    let record = record(vec![
        prescription("statin", "active", ATC, "C10AA05"),
        prescription("ace", "active", ATC, "C09AA02"),
        prescription("thiazide", "active", ATC, "C03AA03"),
    ]);
    let picked = pick(&record, &treated, as_of()).unwrap();
    assert_eq!(picked.value, Answer::Boolean(true));
    let cited: Vec<&str> = picked
        .basis
        .iter()
        .map(|basis| basis.reference.as_str())
        .collect();
    assert_eq!(
        cited,
        ["MedicationRequest/ace", "MedicationRequest/thiazide"]
    );
}
