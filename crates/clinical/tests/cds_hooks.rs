//! The CDS Hooks service natively, the prediction API answering in process: discovery from the
//! models' bindings, a `patient-view` call scored from its prefetch, the spec's rules on cards
//! (required members, omitted optionals, summary length, indicator values), 412 semantics and
//! feedback.

mod common;

use clinical::cds_hooks::{derived_uuid, FEEDBACK_PREFIX, SUMMARY_LIMIT};
use clinical::http::Request;
use common::*;
use serde_json::{json, Map, Value};

fn body(response: &clinical::http::Response) -> Value {
    serde_json::from_slice(&response.body).expect("JSON")
}

fn discovery() -> Value {
    let response = cds("GET", "/cds-services", None);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    body(&response)
}

fn service(id: &str) -> Value {
    discovery()["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no service {id}"))
}

/// What an EHR would prefetch for `service` from `resources` (the Patient first): the Patient
/// for `patient`, else a searchset of the resources each search would find.
fn prefetch(service: &Value, resources: &[Value]) -> Map<String, Value> {
    let mut prefetch = Map::new();
    for (key, template) in service["prefetch"].as_object().unwrap() {
        let template = template.as_str().unwrap();
        if key == "patient" {
            prefetch.insert(key.clone(), resources[0].clone());
            continue;
        }
        let kind = template.split('?').next().unwrap();
        let found: Vec<Value> = resources
            .iter()
            .filter(|r| r["resourceType"] == kind)
            .filter(|r| kind != "Observation" || r["code"]["coding"].as_array().unwrap().iter()
                .any(|c| template.contains(&format!("|{}", c["code"].as_str().unwrap()))))
            .map(|r| json!({"fullUrl": format!("https://ehr.example.org/fhir/{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap()), "resource": r}))
            .collect();
        prefetch.insert(key.clone(), json!({"resourceType": "Bundle", "type": "searchset", "total": found.len(), "entry": found}));
    }
    prefetch
}

fn hook_call(prefetch: Map<String, Value>) -> Value {
    json!({
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/123", "patientId": "p1"},
        "prefetch": prefetch,
    })
}

fn call_service(id: &str, call: &Value) -> (u16, Value) {
    let response = cds("POST", &format!("/cds-services/{id}"), Some(call));
    let value = if response.body.is_empty() {
        Value::Null
    } else {
        body(&response)
    };
    (response.status, value)
}

/// CDS Hooks' rules for a card: required members present, optional ones omitted rather than
/// empty, the summary short enough, the indicator one of three, suggestions with their
/// selection behaviour.
fn assert_valid_card(card: &Value) {
    let summary = card["summary"].as_str().expect("a summary");
    assert!(
        !summary.is_empty() && summary.chars().count() < SUMMARY_LIMIT,
        "{summary}"
    );
    assert!(["info", "warning", "critical"].contains(&card["indicator"].as_str().unwrap()));
    assert!(!card["source"]["label"].as_str().unwrap().is_empty());
    for (name, value) in card.as_object().unwrap() {
        let empty = value.is_null() || value == "" || value == &json!([]) || value == &json!({});
        assert!(!empty, "{name} is present but empty");
    }
    if card.get("suggestions").is_some() {
        assert!(["at-most-one", "any"].contains(&card["selectionBehavior"].as_str().unwrap()));
        for suggestion in card["suggestions"].as_array().unwrap() {
            assert!(suggestion["label"].is_string());
            for action in suggestion["actions"].as_array().unwrap() {
                assert!(["create", "update", "delete"].contains(&action["type"].as_str().unwrap()));
                assert!(action["description"].is_string());
            }
        }
    }
}

#[test]
fn discovery_lists_a_patient_view_service_per_model_a_record_can_score() {
    let services = discovery()["services"].as_array().unwrap().clone();
    let ids: Vec<&str> = services.iter().map(|s| s["id"].as_str().unwrap()).collect();
    // The ONNX example's features have no FHIR source: no service.
    assert_eq!(ids, ["pce-2013", "prevent-2023", "kfre-2016"]);
    for service in &services {
        assert_eq!(service["hook"], "patient-view");
        assert!(service["title"].is_string() && service["description"].is_string());
        let prefetch = service["prefetch"].as_object().unwrap();
        assert_eq!(prefetch["patient"], "Patient/{{context.patientId}}");
        for template in prefetch.values().map(|t| t.as_str().unwrap()) {
            assert!(template.contains("{{context.patientId}}"), "{template}");
            if template.starts_with("Observation?") {
                assert!(
                    template.contains("&_sort=-date") && !template.contains("sort:desc"),
                    "{template}"
                );
            }
        }
    }
    let pce = &services[0]["prefetch"];
    assert!(pce["systolic_bp"]
        .as_str()
        .unwrap()
        .contains("http://loinc.org|85354-9"));
    assert_eq!(
        pce["conditions"],
        "Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse"
    );
    assert!(pce["medicationStatements"].is_string());
}

#[test]
fn a_complete_prefetch_gets_a_risk_card_whose_risk_is_predicts() {
    let service = service("pce-2013");
    let (status, answer) = call_service(
        "pce-2013",
        &hook_call(prefetch(&service, &cardiovascular_record())),
    );
    assert_eq!(status, 200, "{answer}");
    let cards = answer["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1);
    let card = &cards[0];
    assert_valid_card(card);
    assert_eq!(
        card["uuid"],
        derived_uuid(&["d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "pce-2013", "card"])
    );

    // Scored on "today" (2025-06-01): age 58.
    let expected = predict(
        "pce-2013",
        json!({"age": 58, "sex": "female", "race": "african_american", "total_cholesterol": 231,
               "hdl_cholesterol": 48, "systolic_bp": 142, "on_bp_treatment": true,
               "diabetic": true, "smoker": false}),
    );
    let risk = expected["risk"].as_f64().unwrap();
    let assessment = &card["suggestions"][0]["actions"][0]["resource"];
    assert_eq!(card["suggestions"][0]["actions"][0]["type"], "create");
    assert_eq!(assessment["resourceType"], "RiskAssessment");
    assert!(
        (assessment["prediction"][0]["probabilityDecimal"]
            .as_f64()
            .unwrap()
            - risk)
            .abs()
            < 1e-12
    );
    let summary = card["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("{:.1} % 10-year ascvd risk", risk * 100.0)),
        "{summary}"
    );
    let label = expected["prediction"].as_str().unwrap();
    assert!(summary.contains(label), "{summary}");
    // The values used, with their dates and resources.
    let detail = card["detail"].as_str().unwrap();
    assert!(
        detail.contains("| systolic_bp | 142 mmHg | 2025-05-20 |"),
        "{detail}"
    );
    assert!(detail.contains("| diabetic | yes |"), "{detail}");
    assert!(detail.contains("Observation/chol"), "{detail}");
}

#[test]
fn the_indicator_follows_the_category_from_info_to_critical() {
    let service = service("pce-2013");
    let indicator = |patient_changes: &dyn Fn(&mut Vec<Value>)| {
        let mut record = cardiovascular_record();
        patient_changes(&mut record);
        let (status, answer) = call_service("pce-2013", &hook_call(prefetch(&service, &record)));
        assert_eq!(status, 200, "{answer}");
        answer["cards"][0]["indicator"].as_str().unwrap().to_owned()
    };
    // The record as it is: 58, diabetic, treated 142 mmHg: high risk.
    assert_eq!(indicator(&|_| {}), "critical");
    // Young, untreated, no diabetes, good lipids: low risk.
    let low = indicator(&|record: &mut Vec<Value>| {
        record[0] = patient("female", "1980-03-15", Some("2106-3"));
        record.retain(|r| {
            r["resourceType"] != "Condition" && r["resourceType"] != "MedicationRequest"
        });
        record[4]["component"][0]["valueQuantity"]["value"] = json!(112.0);
    });
    assert_eq!(low, "info");
}

#[test]
fn an_absent_prefetch_key_with_no_fhir_server_is_412() {
    let service = service("pce-2013");
    let mut prefetch = prefetch(&service, &cardiovascular_record());
    prefetch.remove("total_cholesterol");
    let (status, outcome) = call_service("pce-2013", &hook_call(prefetch));
    assert_eq!(status, 412);
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("total_cholesterol"));
}

#[test]
fn data_present_but_insufficient_gets_an_info_card_naming_what_is_missing() {
    let service = service("pce-2013");
    // Every key answered, the searches empty.
    let mut empty = prefetch(&service, &cardiovascular_record()[..1]);
    let (status, answer) = call_service("pce-2013", &hook_call(empty.clone()));
    assert_eq!(status, 200);
    let card = &answer["cards"][0];
    assert_valid_card(card);
    assert_eq!(card["indicator"], "info");
    assert!(card.get("suggestions").is_none());
    let detail = card["detail"].as_str().unwrap();
    for feature in ["total_cholesterol", "hdl_cholesterol", "systolic_bp"] {
        assert!(
            detail.contains(&format!("**{feature}**: the record holds no value for it")),
            "{detail}"
        );
    }
    // No Patient at all (the read found none): an info card too.
    empty.insert("patient".into(), Value::Null);
    let (status, answer) = call_service("pce-2013", &hook_call(empty));
    assert_eq!(status, 200);
    assert_valid_card(&answer["cards"][0]);
}

#[test]
fn a_patient_outside_the_models_ranges_gets_an_info_card_with_the_models_message() {
    let service = service("pce-2013");
    let mut record = cardiovascular_record();
    record[0] = patient("female", "1995-03-15", None);
    let (_, answer) = call_service("pce-2013", &hook_call(prefetch(&service, &record)));
    let card = &answer["cards"][0];
    assert_valid_card(card);
    assert!(card["detail"]
        .as_str()
        .unwrap()
        .contains("age must be between 40 and 79 years"));
}

#[test]
fn the_kidney_model_is_a_service_through_the_same_path() {
    let service = service("kfre-2016");
    let record = vec![
        patient("male", "1950-08-01", Some("2054-5")),
        result("egfr", "98979-8", "2025-03-01", 35.0, "mL/min/{1.73_m2}"),
        result("acr", "9318-7", "2025-03-01", 400.0, "mg/g"),
    ];
    let (status, answer) = call_service("kfre-2016", &hook_call(prefetch(&service, &record)));
    assert_eq!(status, 200, "{answer}");
    let card = &answer["cards"][0];
    assert_valid_card(card);
    let expected = predict(
        "kfre-2016",
        json!({"age": 74, "sex": "male", "egfr": 35, "urine_acr": 400}),
    );
    let assessment = &card["suggestions"][0]["actions"][0]["resource"];
    let five_years = expected["outcomes"]["kidney_failure_5y"].as_f64().unwrap();
    assert!(
        (assessment["prediction"][0]["probabilityDecimal"]
            .as_f64()
            .unwrap()
            - five_years)
            .abs()
            < 1e-12
    );
}

#[test]
fn calls_that_are_not_a_patient_view_of_a_known_service_are_refused() {
    let service = service("pce-2013");
    let call = hook_call(prefetch(&service, &cardiovascular_record()));
    assert_eq!(call_service("breast-cancer-lr", &call).0, 404);
    assert_eq!(call_service("no-such-model", &call).0, 404);
    let mut other_hook = call.clone();
    other_hook["hook"] = json!("order-select");
    assert_eq!(call_service("pce-2013", &other_hook).0, 400);
    let mut other_patient = call.clone();
    other_patient["context"]["patientId"] = json!("someone-else");
    assert_eq!(call_service("pce-2013", &other_patient).0, 400);
    let mut token_without_server = call;
    token_without_server["fhirAuthorization"] = json!({"access_token": "x", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "cds"});
    assert_eq!(call_service("pce-2013", &token_without_server).0, 400);
    assert_eq!(cds("GET", "/cds-services/pce-2013", None).status, 405);
}

#[test]
fn feedback_is_accepted_and_counted_by_outcome_without_anything_else_from_it() {
    let feedback = json!({"feedback": [
        {"card": "9368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "accepted",
         "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
         "outcomeTimestamp": "2025-06-01T12:00:00Z"},
        {"card": "9368d37b-283f-44a0-93ea-547cebab93ee", "outcome": "overridden",
         "overrideReason": {"userComment": "patient declined"},
         "outcomeTimestamp": "2025-06-01T12:01:00Z"},
    ]});
    let response = cds("POST", "/cds-services/pce-2013/feedback", Some(&feedback));
    assert_eq!(response.status, 200);
    assert_eq!(
        response.log_lines,
        [
            format!("{FEEDBACK_PREFIX}service=pce-2013 outcome=accepted"),
            format!("{FEEDBACK_PREFIX}service=pce-2013 outcome=overridden")
        ]
    );
    let bad = json!({"feedback": [{"card": "x", "outcome": "ignored", "outcomeTimestamp": "2025-06-01T12:00:00Z"}]});
    assert_eq!(
        cds("POST", "/cds-services/pce-2013/feedback", Some(&bad)).status,
        400
    );
    assert_eq!(
        cds(
            "POST",
            "/cds-services/no-such-model/feedback",
            Some(&feedback)
        )
        .status,
        404
    );
}

#[test]
fn a_browsers_preflight_is_answered_without_a_token() {
    let response = call(&Request::new("OPTIONS", "/cds-services/pce-2013"));
    assert_eq!(response.status, 204);
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        response.header("access-control-allow-headers"),
        Some("authorization, content-type")
    );
}

/// A call to `pce-2013` whose prefetch lacks `missing`, naming `server` with an access token,
/// answered with `allowed` as the deployment's FHIR server: (status, body, reads made).
fn call_lacking(
    missing: &[&str],
    server: &str,
    allowed: Option<&str>,
    answers: bool,
) -> (u16, Value, Vec<(String, String)>) {
    let service = service("pce-2013");
    let full = prefetch(&service, &cardiovascular_record());
    let mut fhir = MemoryFhirServer::default();
    let mut partial = full.clone();
    for key in missing {
        partial.remove(*key);
        let template = service["prefetch"][*key]
            .as_str()
            .unwrap()
            .replace("{{context.patientId}}", "p1");
        if answers {
            fhir.answers
                .insert(format!("{FHIR_ORIGIN}/fhir/{template}"), full[*key].clone());
        }
    }
    let mut call = hook_call(partial);
    call["fhirServer"] = json!(server);
    call["fhirAuthorization"] = json!({"access_token": "ehr-access-token", "token_type": "Bearer",
                                       "expires_in": 300, "scope": "patient/*.read", "subject": "cds-service"});
    let path = "/cds-services/pce-2013";
    let request = Request::new("POST", path)
        .with_header(
            "authorization",
            &format!("Bearer {}", token(&es384_header(), &claims(path, "fetch"))),
        )
        .with_header("content-type", "application/json")
        .with_body(call.to_string());
    let response = call_with_fhir(&request, &MemoryReplays::default(), allowed, &fhir);
    let reads = fhir.reads.borrow().clone();
    (response.status, body(&response), reads)
}

#[test]
fn what_the_prefetch_lacks_is_read_from_the_allowed_fhir_server_with_the_calls_token() {
    let service = service("pce-2013");
    let (_, complete) = call_service(
        "pce-2013",
        &hook_call(prefetch(&service, &cardiovascular_record())),
    );
    let risk = |answer: &Value| {
        answer["cards"][0]["suggestions"][0]["actions"][0]["resource"]["prediction"][0]
            ["probabilityDecimal"]
            .clone()
    };

    let (status, answer, reads) = call_lacking(
        &["total_cholesterol", "systolic_bp"],
        "https://ehr.example.org/fhir",
        Some(FHIR_ORIGIN),
        true,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(risk(&answer), risk(&complete));
    assert_eq!(reads.len(), 2);
    assert!(
        reads.iter().all(|(url, token)| url
            .starts_with("https://ehr.example.org/fhir/Observation?patient=p1&code=")
            && token == "ehr-access-token"),
        "{reads:?}"
    );
}

#[test]
fn a_server_not_allowed_or_not_answering_leaves_the_call_a_412() {
    // No server allowed (the default): nothing is read.
    let (status, outcome, reads) = call_lacking(
        &["hdl_cholesterol"],
        "https://ehr.example.org/fhir",
        None,
        true,
    );
    assert_eq!((status, reads.len()), (412, 0));
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("hdl_cholesterol"));
    // Another server than the allowed one, however close its name.
    for server in [
        "https://ehr.example.org.evil.net/fhir",
        "http://ehr.example.org/fhir",
        "https://ehr.example.org:8443/fhir",
    ] {
        let (status, _, reads) =
            call_lacking(&["hdl_cholesterol"], server, Some(FHIR_ORIGIN), true);
        assert_eq!((status, reads.len()), (412, 0), "{server}");
    }
    // The allowed server, without an answer for the search.
    let (status, _, reads) = call_lacking(
        &["hdl_cholesterol"],
        "https://ehr.example.org/fhir",
        Some(FHIR_ORIGIN),
        false,
    );
    assert_eq!((status, reads.len()), (412, 1));
}
