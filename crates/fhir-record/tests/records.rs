//! Reading a record: the envelopes accepted, the one-patient rule, other patients' resources,
//! and errors that name no patient data.

mod common;

use std::borrow::Cow;

use common::*;
use fhir_record::{pick, Answer, FhirSource, PickProblem, Record, RecordError};
use serde_json::{json, Value};

fn read(body: Value) -> Result<Record, RecordError> {
    Record::from_json(&serde_json::to_vec(&body).unwrap())
}

fn entries(resources: Vec<Value>) -> Vec<Value> {
    resources
        .into_iter()
        .map(|resource| json!({"resource": resource}))
        .collect()
}

fn newest_cholesterol(record: &Record) -> Result<Answer, PickProblem> {
    pick(record, &cholesterol(3650), day("2021-06-01")).map(|picked| picked.value)
}

#[test]
fn bundles_of_every_type_are_read() {
    for bundle_type in [
        "collection",
        "searchset",
        "transaction",
        "batch",
        "document",
        "history",
    ] {
        let record = read(json!({
            "resourceType": "Bundle",
            "type": bundle_type,
            "entry": entries(vec![patient(), lab("a", "2093-3", "final", "2021-01-10", 180.0, "mg/dL")])
        }))
        .unwrap();
        assert_eq!(record.patient_reference(), "Patient/p1");
        assert_eq!(
            newest_cholesterol(&record),
            Ok(Answer::Number(180.0)),
            "{bundle_type}"
        );
    }
}

#[test]
fn a_parameters_holding_a_bundle_or_a_patient_is_read() {
    let bundle = json!({"resourceType": "Bundle", "type": "collection",
        "entry": entries(vec![patient(), lab("a", "2093-3", "final", "2021-01-10", 180.0, "mg/dL")])});
    let record = read(json!({"resourceType": "Parameters", "parameter": [
        {"name": "model", "valueString": "pce-2013"},
        {"name": "subject", "resource": bundle},
        {"name": "ignored", "resource": {"resourceType": "Patient", "id": "someone-else"}}
    ]}))
    .unwrap();
    assert_eq!(newest_cholesterol(&record), Ok(Answer::Number(180.0)));

    let record = read(json!({"resourceType": "Parameters", "parameter": [{"name": "subject", "resource": patient()}]})).unwrap();
    assert_eq!(record.patient_reference(), "Patient/p1");
    assert_eq!(
        pick(&record, &FhirSource::Age, day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Number(61.0)
    );
}

#[test]
fn other_bodies_are_refused() {
    assert_eq!(
        read(json!({"resourceType": "Observation", "id": "x"})).unwrap_err(),
        RecordError::NotARecord
    );
    assert_eq!(
        read(json!([patient()])).unwrap_err(),
        RecordError::NotARecord
    );
    assert_eq!(
        read(
            json!({"resourceType": "Parameters", "parameter": [{"name": "x", "valueString": "y"}]})
        )
        .unwrap_err(),
        RecordError::NotARecord
    );
    assert_eq!(
        read(json!({"resourceType": "Parameters", "parameter": [{"name": "x", "resource": {"resourceType": "Observation"}}]}))
            .unwrap_err(),
        RecordError::NotARecord
    );
    assert!(matches!(
        Record::from_json(b"{\"resourceType\": \"Bundle\""),
        Err(RecordError::NotJson { .. })
    ));
    assert!(matches!(
        Record::from_json(b""),
        Err(RecordError::NotJson { .. })
    ));
}

#[test]
fn exactly_one_patient_is_required() {
    let no_patient = json!({"resourceType": "Bundle", "type": "collection",
        "entry": entries(vec![lab("a", "2093-3", "final", "2021-01-10", 180.0, "mg/dL")])});
    assert_eq!(read(no_patient).unwrap_err(), RecordError::NoPatient);
    assert_eq!(
        read(json!({"resourceType": "Bundle", "type": "searchset"})).unwrap_err(),
        RecordError::NoPatient
    );

    let mut other = patient();
    other["id"] = json!("p2");
    let two = json!({"resourceType": "Bundle", "type": "collection", "entry": entries(vec![patient(), other])});
    assert_eq!(read(two).unwrap_err(), RecordError::TwoPatients);

    // The same patient twice (two searches both returned it) is one patient.
    let twice = json!({"resourceType": "Bundle", "type": "collection", "entry": entries(vec![patient(), patient()])});
    assert_eq!(read(twice).unwrap().patient_reference(), "Patient/p1");

    let anonymous = json!({"resourceType": "Bundle", "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "birthDate": "1960-05-20"}}]});
    assert_eq!(read(anonymous).unwrap_err(), RecordError::PatientWithoutId);
}

#[test]
fn another_patient_s_resources_are_ignored() {
    let mut theirs = lab("theirs", "2093-3", "final", "2021-05-10", 250.0, "mg/dL");
    theirs["subject"] = json!({"reference": "Patient/p2"});
    let mut theirs_absolute = lab(
        "theirs-too",
        "2093-3",
        "final",
        "2021-05-11",
        260.0,
        "mg/dL",
    );
    theirs_absolute["subject"] = json!({"reference": "https://ehr.example/fhir/Patient/p2"});
    let mut ours_absolute = lab(
        "ours-absolute",
        "2093-3",
        "final",
        "2021-01-10",
        170.0,
        "mg/dL",
    );
    ours_absolute["subject"] =
        json!({"reference": "https://ehr.example/fhir/Patient/p1/_history/3"});
    let mut ours_unlinked = lab("unlinked", "2093-3", "final", "2020-01-10", 160.0, "mg/dL");
    ours_unlinked.as_object_mut().unwrap().remove("subject");
    let mut their_diagnosis = condition("dm", ICD10CM, "E11.9", "active", Some("confirmed"));
    their_diagnosis["subject"] = json!({"reference": "Patient/p2"});
    let mut their_prescription = prescription("rx", "active", ATC, "C10AA05");
    their_prescription["subject"] = json!({"reference": "Patient/p2"});

    let record = record(vec![
        theirs,
        theirs_absolute,
        ours_absolute,
        ours_unlinked,
        their_diagnosis,
        their_prescription,
    ]);
    let picked = pick(&record, &cholesterol(3650), day("2021-06-01")).unwrap();
    assert_eq!(picked.value, Answer::Number(170.0));
    assert_eq!(picked.basis[0].reference, "Observation/ours-absolute");
    let diabetes = FhirSource::Condition(Cow::Borrowed(DIABETES));
    assert_eq!(
        pick(&record, &diabetes, day("2021-06-01")).unwrap().value,
        Answer::Boolean(false)
    );
    let statin = FhirSource::Medication(Cow::Borrowed(STATINS));
    assert_eq!(
        pick(&record, &statin, day("2021-06-01")).unwrap().value,
        Answer::Boolean(false)
    );
}

#[test]
fn resources_of_a_transaction_bundle_refer_to_the_patient_by_full_url() {
    let body = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:6bb97c2b", "resource": patient()},
        {"fullUrl": "urn:uuid:0001", "resource": {
            "resourceType": "Observation", "id": "lab1", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "2093-3"}]},
            "subject": {"reference": "urn:uuid:6bb97c2b"},
            "effectiveDateTime": "2021-01-10T10:00:00+00:00",
            "valueQuantity": {"value": 180.0, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}}},
        {"fullUrl": "urn:uuid:0002", "resource": {
            "resourceType": "Observation", "id": "lab2", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "2093-3"}]},
            "subject": {"reference": "urn:uuid:someone-else"},
            "effectiveDateTime": "2021-02-10T10:00:00+00:00",
            "valueQuantity": {"value": 250.0, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}}}
    ]});
    let record = read(body).unwrap();
    assert_eq!(record.patient_reference(), "Patient/p1");
    let picked = pick(&record, &cholesterol(3650), day("2021-06-01")).unwrap();
    assert_eq!(picked.value, Answer::Number(180.0));
    assert_eq!(picked.basis[0].reference, "Observation/lab1");
}

fn searchset(resources: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "searchset", "total": resources.len(), "entry": entries(resources)})
}

#[test]
fn a_record_from_prefetched_resources() {
    let record = Record::from_resources(
        Some(patient()),
        vec![
            searchset(vec![
                lab("b", "2093-3", "final", "2021-03-10", 175.0, "mg/dL"),
                json!({"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}),
            ]),
            searchset(vec![]),
            Value::Null,
            searchset(vec![condition("dm", SNOMED, "44054006", "active", Some("confirmed"))]),
        ],
    )
    .unwrap();
    assert_eq!(newest_cholesterol(&record), Ok(Answer::Number(175.0)));
    let diabetes = FhirSource::Condition(Cow::Borrowed(DIABETES));
    assert_eq!(
        pick(&record, &diabetes, day("2021-06-01")).unwrap().value,
        Answer::Boolean(true)
    );
}

#[test]
fn prefetched_patients_follow_the_one_patient_rule() {
    // The patient may come inside a searchset, or twice.
    let in_bundle = Record::from_resources(None, vec![searchset(vec![patient()])]).unwrap();
    assert_eq!(in_bundle.patient_reference(), "Patient/p1");
    let twice = Record::from_resources(Some(patient()), vec![searchset(vec![patient()])]).unwrap();
    assert_eq!(twice.patient_reference(), "Patient/p1");
    assert_eq!(
        Record::from_resources(Some(Value::Null), vec![]).unwrap_err(),
        RecordError::NoPatient
    );
    let mut other = patient();
    other["id"] = json!("p2");
    assert_eq!(
        Record::from_resources(Some(patient()), vec![other]).unwrap_err(),
        RecordError::TwoPatients
    );
}

#[test]
fn a_batch_response_of_searchsets_is_read() {
    let body = json!({"resourceType": "Bundle", "type": "batch-response", "entry": [
        {"resource": searchset(vec![patient()]), "response": {"status": "200"}},
        {"resource": searchset(vec![lab("a", "2093-3", "final", "2021-01-10", 180.0, "mg/dL")]), "response": {"status": "200"}},
        {"response": {"status": "404"}}
    ]});
    assert_eq!(
        newest_cholesterol(&read(body).unwrap()),
        Ok(Answer::Number(180.0))
    );
}

#[test]
fn a_resource_of_the_wrong_shape_refuses_the_record() {
    let mut wrong = lab("a", "2093-3", "final", "2021-01-10", 180.0, "mg/dL");
    wrong["valueQuantity"]["value"] = json!("180");
    assert_eq!(
        read(json!({"resourceType": "Bundle", "type": "collection", "entry": entries(vec![patient(), wrong])})).unwrap_err(),
        RecordError::Malformed { resource_type: "Observation" }
    );
    let bad_entries =
        json!({"resourceType": "Bundle", "type": "collection", "entry": {"resource": patient()}});
    assert_eq!(
        read(bad_entries).unwrap_err(),
        RecordError::Malformed {
            resource_type: "Bundle"
        }
    );
    let mut bad_patient = patient();
    bad_patient["gender"] = json!(["female"]);
    assert_eq!(
        read(json!({"resourceType": "Bundle", "type": "collection", "entry": entries(vec![bad_patient])})).unwrap_err(),
        RecordError::Malformed { resource_type: "Patient" }
    );
    // Resources of types not read are never looked into.
    let odd = json!({"resourceType": "Encounter", "id": "e", "status": 42});
    assert!(read(json!({"resourceType": "Bundle", "type": "collection", "entry": entries(vec![patient(), odd])})).is_ok());
}

#[test]
fn null_members_read_as_absent() {
    let mut observation = lab("a", "2093-3", "final", "2021-01-10", 180.0, "mg/dL");
    observation["component"] = Value::Null;
    observation["valueQuantity"]["comparator"] = Value::Null;
    let mut patient_with_nulls = patient();
    patient_with_nulls["extension"] = Value::Null;
    let body = json!({"resourceType": "Bundle", "type": "collection", "entry": entries(vec![patient_with_nulls, observation])});
    assert_eq!(
        newest_cholesterol(&read(body).unwrap()),
        Ok(Answer::Number(180.0))
    );
}

#[test]
fn no_error_message_names_patient_data() {
    // Values chosen to be recognizable in a message: none may appear in one.
    let mut patient = patient();
    patient["id"] = json!("secret-id-4711");
    patient["birthDate"] = json!("1937");
    patient["gender"] = json!("unknown");
    let mut result = lab("lab-4711", "2093-3", "final", "2021-01-10", 987.654, "g/L");
    result["subject"] = json!({"reference": "Patient/secret-id-4711"});
    let record = Record::from_resources(Some(patient), vec![result]).unwrap();
    let strict_sex = FhirSource::Gender(fhir_record::ChoiceMap {
        pairs: Cow::Owned(vec![("male".into(), "male".into())]),
        otherwise: None,
    });
    let as_of = day("2021-06-01");
    let problems = [
        pick(&record, &cholesterol(3650), as_of).unwrap_err(),
        pick(&record, &cholesterol(30), as_of).unwrap_err(),
        pick(&record, &FhirSource::Age, as_of).unwrap_err(),
        pick(&record, &strict_sex, as_of).unwrap_err(),
        pick(&record, &systolic(30), as_of).unwrap_err(),
    ];
    assert_eq!(problems[0], PickProblem::UnknownUnit { unit: "g/L".into() });
    assert_eq!(problems[1], PickProblem::Stale { max_age_days: 30 });
    let mut messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    messages.push(PickProblem::Unmapped.to_string());
    let mut other = serde_json::json!({"resourceType": "Patient", "id": "other-4711"});
    other["gender"] = json!("female");
    let two = Record::from_resources(
        Some(json!({"resourceType": "Patient", "id": "secret-id-4711"})),
        vec![other],
    );
    messages.push(two.unwrap_err().to_string());
    let mut malformed = patient_value_with_bad_birth_date();
    malformed["id"] = json!("secret-id-4711");
    messages.push(
        Record::from_resources(Some(malformed), vec![])
            .unwrap_err()
            .to_string(),
    );
    for message in &messages {
        for secret in ["4711", "987", "1937", "unknown", "secret"] {
            assert!(!message.contains(secret), "{message:?} names {secret:?}");
        }
    }
    assert!(messages.iter().any(|message| message.contains("g/L")));
    assert!(messages.iter().any(|message| message.contains("30 days")));
}

fn patient_value_with_bad_birth_date() -> Value {
    json!({"resourceType": "Patient", "birthDate": 19371231})
}
