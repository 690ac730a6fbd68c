//! `POST /predict`, single and batch, through the public router with a fuzzed body.
//!
//! The input is the request body, exactly as a client sends it (the seeds in
//! `fuzz/corpus/predict/` are real request bodies). Invariants: never a 5xx; a 200 is JSON with
//! every risk in [0, 1], its category matching it and its contributions adding up; a batch
//! answers one result per patient; every refusal is an RFC 9457 problem whose status is the
//! HTTP status; the media type's parameters and `+json` suffix do not change the answer; a body
//! not declared as JSON is 415 and a truncated one 413, whatever it holds.
#![no_main]

use healthcare_fuzz::{check_prediction, check_problem, content_type, json};
use libfuzzer_sys::fuzz_target;
use model_api::http::{Request, Response};
use model_api::router::route;
use serde_json::Value;

fn post(content_type: &str, body: &[u8]) -> Request {
    Request::new("POST", "/predict")
        .with_header("content-type", content_type)
        .with_body(body)
}

fn check(response: &Response) {
    if response.status != 200 {
        check_problem(response, &[400, 413, 422]);
        return;
    }
    assert_eq!(content_type(response), "application/json");
    let value = json(&response.body, "200 /predict");
    let Some(results) = value.get("results") else {
        check_prediction(&value);
        return;
    };
    let results = results.as_array().expect("results is an array");
    let count = value.get("count").and_then(Value::as_u64);
    let succeeded = value.get("succeeded").and_then(Value::as_u64).unwrap_or(0);
    let failed = value.get("failed").and_then(Value::as_u64).unwrap_or(0);
    assert_eq!(count, Some(results.len() as u64), "count: {value}");
    assert!(
        (1..=1000).contains(&results.len()),
        "batch size {}",
        results.len()
    );
    assert_eq!(
        succeeded + failed,
        results.len() as u64,
        "succeeded + failed: {value}"
    );
    let mut ok = 0;
    for result in results {
        match result.get("status").and_then(Value::as_u64) {
            Some(200) => {
                check_prediction(result);
                ok += 1;
            }
            Some(422) => assert!(
                result
                    .get("errors")
                    .and_then(Value::as_array)
                    .is_some_and(|e| !e.is_empty()),
                "a failed batch item lists no errors: {result}"
            ),
            other => panic!("batch item status {other:?}: {result}"),
        }
    }
    assert_eq!(
        ok, succeeded,
        "succeeded does not count the 200 items: {value}"
    );
}

fuzz_target!(|body: &[u8]| {
    let response = route(&post("application/json", body));
    check(&response);

    // The same body declared with parameters and a +json suffix: the same answer. (Every other
    // input, to keep the executions per second up.)
    if body.len() % 2 == 0 {
        let again = route(&post("Application/Problem+JSON; charset=utf-8", body));
        assert_eq!(
            again, response,
            "the media type's spelling changed the answer"
        );
    }

    // Not declared as JSON: 415 whatever the body; cut off at the limit: 413.
    check_problem(&route(&post("text/plain", body)), &[415]);
    let mut truncated = post("application/json", body);
    truncated.body_truncated = true;
    check_problem(&route(&truncated), &[413]);
});
