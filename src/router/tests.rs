//! Route-level tests: build a request, call `route`, check the response.

use super::*;
use serde_json::Value;

fn json_body(response: &Response) -> Value {
    serde_json::from_slice(&response.body).expect("the response body is JSON")
}

fn post_json(path: &str, body: &str) -> Response {
    route(
        &Request::new("POST", path)
            .with_header("content-type", "application/json")
            .with_body(body),
    )
}

#[test]
fn paths_parse_into_routes() {
    assert_eq!(Route::parse("/predict"), Route::Predict);
    assert_eq!(Route::parse("/v2"), Route::ServerMetadata);
    assert_eq!(
        Route::parse("/v2/models/pce-2013/versions/1.0.0/infer"),
        Route::Infer {
            model: "pce-2013",
            version: Some("1.0.0")
        }
    );
    assert_eq!(
        Route::parse("/v2/models/pce-2013/ready"),
        Route::ModelReady {
            model: "pce-2013",
            version: None
        }
    );
    assert_eq!(Route::parse("/v2/models/pce-2013/explain"), Route::NotFound);
    assert_eq!(Route::parse("/"), Route::NotFound);
}

#[test]
fn the_original_example_gets_a_422_naming_every_missing_field() {
    let response = post_json(
        "/predict",
        r#"{"patient_data": {"age": 65, "cholesterol": 240}}"#,
    );
    assert_eq!(response.status, 422);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let body = json_body(&response);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["sex", "hdl_cholesterol", "systolic_bp"]);
}

#[test]
fn a_complete_request_gets_a_prediction() {
    let response = post_json(
        "/predict",
        r#"{"patient_data": {"age": 55, "sex": "male", "race": "white", "total_cholesterol": 213,
            "hdl_cholesterol": 50, "systolic_bp": 120}}"#,
    );
    assert_eq!(response.status, 200);
    let body = json_body(&response);
    assert_eq!(body["model"], "pce-2013");
    assert_eq!(body["category"], "borderline");
    assert_eq!(body["prediction"], "Borderline Risk");
    assert!((body["risk"].as_f64().unwrap() - 0.05384).abs() < 1e-3);
    assert_eq!(body["outcomes"]["ascvd"], body["risk"]);
}

#[test]
fn error_statuses_follow_the_contract() {
    assert_eq!(post_json("/predict", "{not json").status, 400);
    let form = route(
        &Request::new("POST", "/predict")
            .with_header("content-type", "text/plain")
            .with_body("{}"),
    );
    assert_eq!(form.status, 415);
    let mut big = Request::new("POST", "/predict").with_header("content-type", "application/json");
    big.body_truncated = true;
    assert_eq!(route(&big).status, 413);
    let get = route(&Request::new("GET", "/predict"));
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    let missing = route(&Request::new("GET", "/nowhere"));
    assert_eq!(missing.status, 404);
    assert_eq!(json_body(&missing)["status"], 404);
}

#[test]
fn out_of_range_errors_never_echo_patient_values() {
    let response = post_json(
        "/predict",
        r#"{"patient_data": {"age": 123.456, "sex": "male", "total_cholesterol": 213,
            "hdl_cholesterol": 50, "systolic_bp": 120}}"#,
    );
    assert_eq!(response.status, 422);
    let text = String::from_utf8(response.body).unwrap();
    assert!(!text.contains("123.456"));
    assert!(text.contains("between 40 and 79"));
}

#[test]
fn inference_json_scores_every_row() {
    let body = r#"{"inputs": [
        {"name": "age", "shape": [2], "datatype": "FP64", "data": [55, 60]},
        {"name": "sex", "shape": [2], "datatype": "BYTES", "data": ["male", "female"]},
        {"name": "total_cholesterol", "shape": [2], "datatype": "FP64", "data": [213, 200]},
        {"name": "hdl_cholesterol", "shape": [2], "datatype": "FP64", "data": [50, 45]},
        {"name": "systolic_bp", "shape": [2], "datatype": "FP64", "data": [120, 140]},
        {"name": "smoker", "shape": [2], "datatype": "BOOL", "data": [false, true]}
    ]}"#;
    let response = post_json("/v2/models/pce-2013/infer", body);
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let body = json_body(&response);
    let outputs = body["outputs"].as_array().unwrap();
    let names: Vec<&str> = outputs
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["risk", "ascvd_risk", "category"]);
    assert_eq!(outputs[0]["shape"], serde_json::json!([2]));
}

/// `json` with every number as serde_json writes it once parsed, the rest as it is: serde_json's
/// parser is not exact to the last bit without its `float_roundtrip` feature, so a tree read
/// from a body may write a number differently from the body.
fn numbers_reparsed(json: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            (in_string, escaped) = (escaped || c != '"', !escaped && c == '\\');
        } else if c == '-' || c.is_ascii_digit() {
            let mut number = c.to_string();
            while let Some(&next) = chars.peek().filter(|n| "0123456789.eE+-".contains(**n)) {
                number.push(next);
                chars.next();
            }
            let value: Value = serde_json::from_str(&number).unwrap();
            out.push_str(&value.to_string());
        } else {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// The inference answer is written by hand (src/inference/infer.rs) in the bytes serde_json
/// wrote from a tree of values: members in sorted order, its numbers and escapes.
#[test]
fn inference_answers_are_written_as_serde_json_writes_them() {
    let inputs = r#"[
        {"name": "age", "shape": [3], "datatype": "FP64", "data": [55, 60, 79]},
        {"name": "sex", "shape": [3], "datatype": "BYTES", "data": ["male", "female", "male"]},
        {"name": "total_cholesterol", "shape": [3], "datatype": "FP64", "data": [213, 200, 130]},
        {"name": "hdl_cholesterol", "shape": [3], "datatype": "FP64", "data": [50, 45, 100]},
        {"name": "systolic_bp", "shape": [3], "datatype": "FP64", "data": [120, 140, 90.5]},
        {"name": "smoker", "shape": [3], "datatype": "BOOL", "data": [false, true, false]}
    ]"#;
    let bodies = [
        format!(r#"{{"inputs": {inputs}}}"#),
        format!(
            r#"{{"id": "a\"b\u00e9", "inputs": {inputs}, "outputs": [{{"name": "category"}}]}}"#
        ),
        format!(
            r#"{{"inputs": {inputs}, "outputs": [{{"name": "risk", "parameters": {{"binary_data": true}}}},
                {{"name": "category", "parameters": {{"binary_data": true}}}}, {{"name": "ascvd_risk"}}]}}"#
        ),
    ];
    for body in bodies {
        let response = post_json("/v2/models/pce-2013/infer", &body);
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        let json_part = match response
            .headers
            .iter()
            .find(|(name, _)| name == "inference-header-content-length")
        {
            Some((_, length)) => &response.body[..length.parse::<usize>().unwrap()],
            None => &response.body[..],
        };
        let text = std::str::from_utf8(json_part).unwrap();
        let tree: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            numbers_reparsed(text),
            serde_json::to_string(&tree).unwrap()
        );
    }
}

#[test]
fn unknown_models_are_404_in_the_protocols_shape() {
    let response = route(&Request::new("GET", "/v2/models/mock/ready"));
    assert_eq!(response.status, 404);
    assert!(json_body(&response)["error"].is_string());
}

#[test]
fn single_patient_bodies_over_64_kib_are_too_large() {
    let padding = " ".repeat(70 * 1024);
    let body = format!(r#"{{"patient_data": {{"age": 55}}{padding}}}"#);
    assert_eq!(post_json("/predict", &body).status, 413);
    assert_eq!(post_json("/predict", &"x".repeat(70 * 1024)).status, 413);
}

#[test]
fn a_batch_of_1000_patients_fits_even_though_it_is_over_64_kib() {
    let patient = r#"{"age": 61, "sex": "female", "race": "african_american", "total_cholesterol": 190,
        "hdl_cholesterol": 55, "systolic_bp": 135, "on_bp_treatment": true, "smoker": false, "diabetic": false}"#;
    let body = format!(r#"{{"instances": [{}]}}"#, vec![patient; 1000].join(","));
    assert!(body.len() > 64 * 1024);
    let response = post_json("/predict", &body);
    assert_eq!(response.status, 200);
    let body = json_body(&response);
    assert_eq!(body["succeeded"], 1000);
    assert_eq!(body["results"].as_array().unwrap().len(), 1000);
}

#[test]
fn a_field_given_twice_under_one_name_is_refused_not_overwritten() {
    let body = r#"{"patient_data": {"age": 40, "age": 79, "sex": "male", "race": "white",
        "total_cholesterol": 213, "hdl_cholesterol": 50, "systolic_bp": 120}}"#;
    let response = post_json("/predict", body);
    assert_eq!(response.status, 400);
    let text = String::from_utf8_lossy(&response.body);
    assert!(text.contains("a member name appears twice"), "{text}");

    let response = post_json(
        "/v2/models/pce-2013/infer",
        r#"{"inputs": [], "inputs": []}"#,
    );
    assert_eq!(response.status, 400);
    assert!(String::from_utf8_lossy(&response.body).contains("a member name twice"));
}

#[test]
fn a_broken_build_answers_500_with_a_problem_not_part_of_a_document() {
    let response = ApiError::BrokenBuild("the OpenAPI document").into_response();
    assert_eq!(response.status, 500);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let body = json_body(&response);
    assert_eq!(body["status"], 500);
    assert_eq!(
        body["detail"],
        "the OpenAPI document built into this component is invalid; rebuild it"
    );
}

#[test]
fn one_typed_error_answers_in_each_endpoint_familys_shape() {
    let error = ApiError::PayloadTooLarge { limit: 10 };
    let problem = error.clone().into_response();
    let inference = error.into_inference_response();
    assert_eq!((problem.status, inference.status), (413, 413));
    assert_eq!(
        problem.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(
        json_body(&problem)["detail"],
        json_body(&inference)["error"]
    );

    let unknown = route(&Request::new("GET", "/v2/models/framingham-2008"));
    assert_eq!(unknown.status, 404);
    let available = Catalog::linked().names().join(", ");
    assert!(available.starts_with("pce-2013, prevent-2023"));
    assert_eq!(
        json_body(&unknown)["error"],
        format!("unknown model; available models: {available}")
    );
}

/// `/predict` reports the model that answered (for the metrics sidecar), even when it refused
/// the patient; not when the request was refused before a model was chosen.
#[test]
fn predict_reports_the_model_that_answered() {
    let catalog = Catalog::linked();
    let default = catalog.default_model().name();
    let last = catalog.names().last().cloned().expect("a model");
    let served = |body: &str| post_json("/predict", body).served_model;
    assert_eq!(served(r#"{"patient_data": {}}"#).as_deref(), Some(default));
    let named = format!(r#"{{"model": "{last}", "patient_data": {{}}}}"#);
    assert_eq!(served(&named), Some(last));
    assert_eq!(
        served(r#"{"model": "no-such-model", "patient_data": {}}"#),
        None
    );
    assert_eq!(served("{not json"), None);
    assert_eq!(route(&Request::new("GET", "/healthz")).served_model, None);
}
