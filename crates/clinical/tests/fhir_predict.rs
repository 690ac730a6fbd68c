//! `POST /fhir/RiskAssessment/$predict` natively, the prediction API answering in process:
//! hand-built records for the issue's edge cases, each RiskAssessment's probability checked
//! against `/predict` for the values it says it used.

mod common;

use common::*;
use serde_json::{json, Value};

/// The references in a RiskAssessment's basis.
fn basis(assessment: &Value) -> Vec<&str> {
    assessment["basis"]
        .as_array()
        .expect("a basis")
        .iter()
        .map(|b| b["reference"].as_str().expect("a reference"))
        .collect()
}

fn probability(assessment: &Value, index: usize) -> f64 {
    assessment["prediction"][index]["probabilityDecimal"]
        .as_f64()
        .expect("a probability")
}

#[test]
fn a_record_is_scored_as_predict_scores_the_values_it_holds() {
    let body = bundle(cardiovascular_record());
    let (status, assessment) = post("model=pce-2013&date=2025-05-31", &body);
    assert_eq!(status, 200, "{assessment}");
    assert_eq!(assessment["resourceType"], "RiskAssessment");
    assert_eq!(assessment["status"], "final");
    assert_eq!(assessment["subject"]["reference"], "Patient/p1");
    assert_eq!(assessment["occurrenceDateTime"], "2025-05-31");
    assert_eq!(assessment["method"]["coding"][0]["code"], "pce-2013");

    // Age 58 on 2025-05-31; the panel's systolic component; an ATC class C09 order; diabetes
    // by diagnosis only; a former smoker; OMB 2054-5.
    let expected = predict(
        "pce-2013",
        json!({"age": 58, "sex": "female", "race": "african_american", "total_cholesterol": 231,
               "hdl_cholesterol": 48, "systolic_bp": 142, "on_bp_treatment": true,
               "diabetic": true, "smoker": false}),
    );
    assert_eq!(
        probability(&assessment, 0),
        expected["risk"].as_f64().unwrap()
    );
    assert_eq!(
        assessment["prediction"][0]["qualitativeRisk"]["coding"][0]["code"],
        expected["category"]
    );
    // Exactly the resources used; the eGFR, which pce-2013 does not read, is not among them.
    let mut used = basis(&assessment);
    used.sort_unstable();
    assert_eq!(
        used,
        [
            "Condition/dm",
            "MedicationRequest/ace",
            "Observation/bp",
            "Observation/chol",
            "Observation/hdl",
            "Observation/smoke",
            "Patient/p1"
        ]
    );
}

#[test]
fn the_newest_usable_value_wins_whatever_the_order_status_or_form() {
    let mut record = cardiovascular_record();
    // Newer than the panel but entered in error: ignored. An older standalone systolic value
    // listed first: the panel is newer, so it is used.
    let mut wrong = result("wrong", "8480-6", "2025-05-25", 175.0, "mm[Hg]");
    wrong["status"] = json!("entered-in-error");
    record.insert(1, wrong);
    record.insert(1, result("old-bp", "8480-6", "2025-04-01", 118.0, "mm[Hg]"));
    let (_, with_panel) = post("model=pce-2013&date=2025-05-31", &bundle(record.clone()));
    assert!(basis(&with_panel).contains(&"Observation/bp"));

    // A standalone result newer than the panel wins over it.
    record.push(result("new-bp", "8480-6", "2025-05-28", 128.0, "mm[Hg]"));
    let (_, standalone) = post("model=pce-2013&date=2025-05-31", &bundle(record));
    assert!(basis(&standalone).contains(&"Observation/new-bp"));
    assert!(!basis(&standalone).contains(&"Observation/bp"));
    assert!(probability(&standalone, 0) < probability(&with_panel, 0));
}

#[test]
fn mmol_per_litre_is_converted_by_the_models_factor_not_guessed() {
    let mut record = cardiovascular_record();
    record[1] = result("chol", "14647-2", "2025-05-02", 231.0 / 38.67, "mmol/L");
    let (_, converted) = post("model=pce-2013&date=2025-05-31", &bundle(record.clone()));
    let (_, in_mg) = post(
        "model=pce-2013&date=2025-05-31",
        &bundle(cardiovascular_record()),
    );
    assert!((probability(&converted, 0) - probability(&in_mg, 0)).abs() < 1e-12);

    // A unit the binding does not list is refused, by name, with the unit and no value.
    record[1] = result("chol", "2093-3", "2025-05-02", 5.97, "mg/L");
    let (status, outcome) = post("model=pce-2013&date=2025-05-31", &bundle(record));
    assert_eq!(status, 422);
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "code-invalid");
    assert_eq!(
        outcome["issue"][0]["expression"],
        json!(["total_cholesterol"])
    );
    assert!(!outcome.to_string().contains("5.97"));
}

#[test]
fn a_stale_value_is_refused_and_an_absent_race_takes_the_bindings_otherwise() {
    // On 2026-06-01, the blood pressure (2025-05-20) is more than 365 days old.
    let (status, outcome) = post(
        "model=pce-2013&date=2026-06-01",
        &bundle(cardiovascular_record()),
    );
    assert_eq!(
        status, 400,
        "a day after today (2025-06-01) is refused: {outcome}"
    );
    let mut record = cardiovascular_record();
    record[4]["effectiveDateTime"] = json!("2024-05-20");
    let (status, outcome) = post("model=pce-2013&date=2025-05-31", &bundle(record));
    assert_eq!(status, 422);
    assert_eq!(outcome["issue"][0]["expression"], json!(["systolic_bp"]));
    assert_eq!(
        outcome["issue"][0]["diagnostics"],
        "systolic_bp: every value the record holds for it is more than 365 days old"
    );

    let mut record = cardiovascular_record();
    record[0] = patient("female", "1967-03-15", None);
    let (status, assessment) = post("model=pce-2013&date=2025-05-31", &bundle(record));
    assert_eq!(status, 200);
    let notes = assessment["note"]
        .as_array()
        .expect("the model's warning as a note");
    assert!(
        notes[0]["text"].as_str().unwrap().contains("white"),
        "{notes:?}"
    );
}

#[test]
fn a_value_outside_the_models_range_is_refused_not_clamped() {
    let mut record = cardiovascular_record();
    record[0] = patient("female", "1995-03-15", None);
    let (status, outcome) = post("model=pce-2013&date=2025-05-31", &bundle(record));
    assert_eq!(status, 422);
    assert_eq!(outcome["issue"][0]["code"], "value");
    assert_eq!(outcome["issue"][0]["expression"], json!(["age"]));
    assert_eq!(
        outcome["issue"][0]["diagnostics"],
        "age must be between 40 and 79 years, the validated range of pce-2013"
    );
}

#[test]
fn every_missing_feature_is_named_at_once() {
    let record = vec![
        patient("female", "1967-03-15", None),
        smoking("s", "2025-05-20", "8517006"),
    ];
    let (status, outcome) = post("model=pce-2013&date=2025-05-31", &bundle(record));
    assert_eq!(status, 422);
    let named: Vec<&str> = outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| issue["expression"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        ["total_cholesterol", "hdl_cholesterol", "systolic_bp"]
    );
}

#[test]
fn the_kidney_model_reads_its_own_bindings_and_ignores_race() {
    let record = vec![
        patient("male", "1950-08-01", Some("2054-5")),
        result("egfr", "98979-8", "2025-03-01", 35.0, "mL/min/{1.73_m2}"),
        result("acr", "14959-1", "2025-03-01", 45.0, "mg/mmol"),
    ];
    let (status, assessment) = post("model=kfre-2016&date=2025-05-31", &bundle(record));
    assert_eq!(status, 200, "{assessment}");
    let expected = predict(
        "kfre-2016",
        json!({"age": 74, "sex": "male", "egfr": 35, "urine_acr": 45, "urine_acr_unit": "mg/mmol"}),
    );
    let outcomes = &expected["outcomes"];
    assert!(
        (probability(&assessment, 0) - outcomes["kidney_failure_5y"].as_f64().unwrap()).abs()
            < 1e-12
    );
    assert!(
        (probability(&assessment, 1) - outcomes["kidney_failure_2y"].as_f64().unwrap()).abs()
            < 1e-12
    );
    assert_eq!(
        assessment["prediction"][0]["whenPeriod"]["end"],
        "2030-05-31"
    );
    assert_eq!(
        assessment["prediction"][1]["whenPeriod"]["end"],
        "2027-05-31"
    );
}

#[test]
fn a_model_that_declares_no_fhir_source_is_refused_feature_by_feature() {
    let (status, outcome) = post("model=breast-cancer-lr", &bundle(cardiovascular_record()));
    assert_eq!(status, 422);
    let issues = outcome["issue"].as_array().unwrap();
    assert!(issues.len() >= 10);
    assert!(issues.iter().all(|issue| issue["code"] == "not-supported"));
}

#[test]
fn the_default_model_is_the_apis_default() {
    let (status, assessment) = post("date=2025-05-31", &bundle(cardiovascular_record()));
    assert_eq!(status, 200);
    let card = InProcessApi::card_of_default();
    assert_eq!(assessment["method"]["coding"][0]["code"], card);
}

#[test]
fn requests_that_are_not_a_scorable_record_get_an_operation_outcome() {
    let record = bundle(cardiovascular_record());
    let cases: [(&str, &[u8], u16, &str); 5] = [
        ("model=no-such-model", &record, 404, "not-found"),
        ("model=../healthz", &record, 404, "not-found"),
        ("date=2025-13-01", &record, 400, "value"),
        ("date=2025", &record, 400, "value"),
        ("", br#"{"resourceType": "Observation"}"#, 400, "invalid"),
    ];
    for (query, body, status, code) in cases {
        let (answered, outcome) = post(query, body);
        assert_eq!(
            (answered, outcome["issue"][0]["code"].as_str()),
            (status, Some(code)),
            "{query}"
        );
    }
    let plain = clinical::http::Request::new("POST", "/fhir/RiskAssessment/$predict")
        .with_header("content-type", "text/plain")
        .with_body(record.clone());
    assert_eq!(call(&plain).status, 415);
    let get = clinical::http::Request::new("GET", "/fhir/RiskAssessment/%24predict/");
    let response = call(&get);
    assert_eq!(
        (response.status, response.header("allow")),
        (405, Some("POST"))
    );
    assert_eq!(
        call(&clinical::http::Request::new("GET", "/fhir/Patient")).status,
        404
    );
    let response = call(&clinical::http::Request::new("GET", "/fhir/Patient"));
    assert_eq!(
        response.header("content-type"),
        Some("application/fhir+json; fhirVersion=4.0")
    );
}
