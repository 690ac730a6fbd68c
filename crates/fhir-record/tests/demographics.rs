//! Age, sex and race from the Patient.

mod common;

use std::borrow::Cow;

use common::*;
use fhir_record::{pick, Answer, Basis, ChoiceMap, FhirSource, PickProblem, Record};
use serde_json::{json, Value};

fn record_of(patient: Value) -> Record {
    Record::from_resources(Some(patient), Vec::new()).unwrap()
}

fn with(member: &str, value: Value) -> Record {
    let mut patient = patient();
    patient[member] = value;
    record_of(patient)
}

fn without(member: &str) -> Record {
    let mut patient = patient();
    patient.as_object_mut().unwrap().remove(member);
    record_of(patient)
}

fn race_extension(categories: &[(&str, &str)]) -> Value {
    let mut parts: Vec<Value> = categories
        .iter()
        .map(|(system, code)| json!({"url": "ombCategory", "valueCoding": {"system": system, "code": code}}))
        .collect();
    parts.push(json!({"url": "text", "valueString": "as written"}));
    json!([{"url": US_CORE_RACE, "extension": parts}])
}

#[test]
fn age_is_whole_years_at_the_assessment_date() {
    let record = with("birthDate", json!("1960-05-20"));
    let age = |as_of: &str| pick(&record, &FhirSource::Age, day(as_of)).unwrap().value;
    assert_eq!(age("2021-05-19"), Answer::Number(60.0));
    assert_eq!(age("2021-05-20"), Answer::Number(61.0));
    assert_eq!(age("2021-12-31"), Answer::Number(61.0));
    let picked = pick(&record, &FhirSource::Age, day("2021-06-01")).unwrap();
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Patient/p1".into(),
            date: None
        }]
    );
}

#[test]
fn a_partial_or_absent_birth_date_gives_no_age() {
    for partial in ["1960", "1960-05"] {
        assert_eq!(
            pick(
                &with("birthDate", json!(partial)),
                &FhirSource::Age,
                day("2021-06-01")
            ),
            Err(PickProblem::NoValue),
            "{partial}"
        );
    }
    assert_eq!(
        pick(&without("birthDate"), &FhirSource::Age, day("2021-06-01")),
        Err(PickProblem::NoValue)
    );
    assert_eq!(
        pick(
            &with("birthDate", json!("1960-02-30")),
            &FhirSource::Age,
            day("2021-06-01")
        ),
        Err(PickProblem::NoValue)
    );
    // Born after the assessment date.
    assert_eq!(
        pick(
            &with("birthDate", json!("2022-01-01")),
            &FhirSource::Age,
            day("2021-06-01")
        ),
        Err(PickProblem::NoValue)
    );
}

fn sex() -> FhirSource {
    FhirSource::Gender(ChoiceMap {
        pairs: Cow::Owned(vec![
            ("male".into(), "male".into()),
            ("female".into(), "female".into()),
        ]),
        otherwise: None,
    })
}

#[test]
fn gender_is_mapped_to_the_feature_s_choices() {
    let picked = pick(&with("gender", json!("male")), &sex(), day("2021-06-01")).unwrap();
    assert_eq!(picked.value, Answer::Choice("male".into()));
    assert_eq!(picked.basis[0].reference, "Patient/p1");
    assert_eq!(
        pick(&with("gender", json!("other")), &sex(), day("2021-06-01")),
        Err(PickProblem::Unmapped)
    );
    assert_eq!(
        pick(&without("gender"), &sex(), day("2021-06-01")),
        Err(PickProblem::NoValue)
    );
}

#[test]
fn a_record_without_the_race_extension_gets_otherwise() {
    let record = without("extension");
    let picked = pick(&record, &pce_race(Some("other")), day("2021-06-01")).unwrap();
    assert_eq!(picked.value, Answer::Choice("other".into()));
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Patient/p1".into(),
            date: None
        }]
    );
    assert_eq!(
        pick(&record, &pce_race(None), day("2021-06-01")),
        Err(PickProblem::NotFound)
    );
    // Other extensions are not the race extension.
    let ethnicity = with(
        "extension",
        json!([{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
                "extension": [{"url": "ombCategory", "valueCoding": {"system": OMB, "code": "2054-5"}}]}]),
    );
    assert_eq!(
        pick(&ethnicity, &pce_race(Some("other")), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Choice("other".into())
    );
}

#[test]
fn race_is_read_from_the_omb_categories() {
    let black = with("extension", race_extension(&[(OMB, "2054-5")]));
    assert_eq!(
        pick(&black, &pce_race(Some("other")), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Choice("african_american".into())
    );
    let asian = with("extension", race_extension(&[(OMB, "2028-9")]));
    assert_eq!(
        pick(&asian, &pce_race(Some("other")), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Choice("other".into())
    );
    assert_eq!(
        pick(&asian, &pce_race(None), day("2021-06-01")),
        Err(PickProblem::Unmapped)
    );
}

#[test]
fn several_categories_follow_the_model_s_order() {
    // The binding lists 2054-5 first: a patient who is both is read as African American,
    // whatever order the record lists them in.
    for categories in [
        [(OMB, "2106-3"), (OMB, "2054-5")],
        [(OMB, "2054-5"), (OMB, "2106-3")],
    ] {
        let record = with("extension", race_extension(&categories));
        assert_eq!(
            pick(&record, &pce_race(Some("other")), day("2021-06-01"))
                .unwrap()
                .value,
            Answer::Choice("african_american".into())
        );
    }
}

#[test]
fn a_race_recorded_as_unknown_is_no_value_not_other() {
    let null_flavor = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor";
    for record in [
        with("extension", race_extension(&[(null_flavor, "UNK")])),
        with("extension", race_extension(&[(null_flavor, "ASKU")])),
        with("extension", race_extension(&[])),
    ] {
        assert_eq!(
            pick(&record, &pce_race(Some("other")), day("2021-06-01")),
            Err(PickProblem::NoValue)
        );
    }
}
