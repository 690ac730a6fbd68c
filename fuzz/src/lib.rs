//! Invariants the fuzz targets assert on every response, shared by the targets.
//!
//! A failed assertion is a finding like a panic: libFuzzer saves the input under
//! `fuzz/artifacts/<target>/` and stops.

use model_api::http::Response;
use serde_json::Value;

/// The body of a response as JSON; panics (a finding) when it is not valid JSON.
pub fn json(body: &[u8], what: &str) -> Value {
    match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => panic!("{what}: body is not valid JSON ({e})"),
    }
}

/// The response's `content-type`, which every response must have.
pub fn content_type(response: &Response) -> &str {
    match response.header("content-type") {
        Some(ct) => ct,
        None => panic!("status {}: no content-type", response.status),
    }
}

/// A number in [0, 1] (JSON has no NaN or infinity: serde_json writes them as `null`).
pub fn probability(value: Option<&Value>, what: &str) -> f64 {
    match value.and_then(Value::as_f64) {
        Some(p) if (0.0..=1.0).contains(&p) => p,
        other => panic!("{what} is not a probability in [0, 1]: {other:?}"),
    }
}

/// A finite number (present, not `null`).
pub fn finite(value: Option<&Value>, what: &str) -> f64 {
    match value.and_then(Value::as_f64) {
        Some(x) if x.is_finite() => x,
        other => panic!("{what} is not a finite number: {other:?}"),
    }
}

/// The guideline category of a primary risk (README: low < 5 %, borderline 5 to < 7.5 %,
/// intermediate 7.5 to < 20 %, high ≥ 20 %).
pub fn category_of(risk: f64) -> &'static str {
    if risk < 0.05 {
        "low"
    } else if risk < 0.075 {
        "borderline"
    } else if risk < 0.20 {
        "intermediate"
    } else {
        "high"
    }
}

/// The four category names (`category` of /predict, the `category` output of infer).
pub const CATEGORIES: [&str; 4] = ["low", "borderline", "intermediate", "high"];

/// One `/predict` prediction object: every number a model produces is in range and consistent.
pub fn check_prediction(p: &Value) {
    let risk = probability(p.get("risk"), "risk");
    probability(p.get("confidence"), "confidence");
    let outcomes = p
        .get("outcomes")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("outcomes is not an object: {p}"));
    assert!(!outcomes.is_empty(), "no outcomes: {p}");
    for (name, value) in outcomes {
        probability(Some(value), &format!("outcomes.{name}"));
    }
    // `risk` is the primary outcome, the one the explanation names.
    let primary = p
        .get("explanation")
        .and_then(|e| e.get("outcome"))
        .and_then(Value::as_str)
        .and_then(|name| outcomes.get(name))
        .and_then(Value::as_f64);
    assert_eq!(primary, Some(risk), "risk is not the primary outcome: {p}");
    let category = p.get("category").and_then(Value::as_str);
    assert_eq!(
        category,
        Some(category_of(risk)),
        "category does not match risk: {p}"
    );
    // Contributions are exact Shapley values: they add up to the linear predictor minus the
    // reference value.
    let explanation = p
        .get("explanation")
        .unwrap_or_else(|| panic!("no explanation: {p}"));
    let lp = finite(explanation.get("linear_predictor"), "linear_predictor");
    let reference = finite(explanation.get("reference_value"), "reference_value");
    let contributions = p
        .get("contributions")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("contributions is not an object: {p}"));
    let sum: f64 = contributions
        .iter()
        .map(|(name, v)| finite(Some(v), &format!("contributions.{name}")))
        .sum();
    let tolerance = 1e-9 * (1.0 + lp.abs() + reference.abs());
    assert!(
        (sum - (lp - reference)).abs() <= tolerance,
        "contributions add up to {sum}, not {} - {}: {p}",
        lp,
        reference
    );
    assert!(
        p.get("warnings").is_some_and(Value::is_array),
        "warnings: {p}"
    );
}

/// An RFC 9457 problem response with the given status set.
pub fn check_problem(response: &Response, allowed: &[u16]) {
    assert!(
        allowed.contains(&response.status),
        "unexpected status {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(content_type(response), "application/problem+json");
    let problem = json(&response.body, "problem");
    assert_eq!(
        problem.get("status").and_then(Value::as_u64),
        Some(u64::from(response.status)),
        "problem status differs from the HTTP status: {problem}"
    );
    assert!(
        problem
            .get("title")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty()),
        "problem without title: {problem}"
    );
    if response.status == 422 {
        let errors = problem.get("errors").and_then(Value::as_array);
        assert!(
            errors.is_some_and(|e| !e.is_empty()),
            "a 422 problem lists no errors: {problem}"
        );
    }
}

/// Checks a Prometheus / OpenMetrics text exposition line by line: every sample line is
/// `name{label="value",...} number`, with label values escaped, so no sender's data can break
/// the format or forge a series. Returns the number of sample lines.
pub fn check_exposition(text: &str, openmetrics: bool) -> usize {
    let mut samples = 0;
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        assert!(!line.is_empty(), "empty line in the exposition");
        check_sample(line);
        samples += 1;
    }
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "exposition does not end with a newline"
    );
    if openmetrics {
        assert!(
            text.ends_with("# EOF\n"),
            "OpenMetrics exposition without # EOF"
        );
    }
    samples
}

fn check_sample(line: &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let is_name = |b: u8, first: bool| {
        b.is_ascii_alphabetic() || b == b'_' || b == b':' || (!first && b.is_ascii_digit())
    };
    assert!(
        !bytes.is_empty() && is_name(bytes[0], true),
        "sample without a metric name: {line:?}"
    );
    while i < bytes.len() && is_name(bytes[i], i == 0) {
        i += 1;
    }
    if bytes.get(i) == Some(&b'{') {
        i += 1;
        loop {
            if bytes.get(i) == Some(&b'}') {
                i += 1;
                break;
            }
            let start = i;
            while i < bytes.len() && is_name(bytes[i], i == start) {
                i += 1;
            }
            assert!(i > start, "label without a name: {line:?}");
            assert_eq!(bytes.get(i), Some(&b'='), "label without '=': {line:?}");
            assert_eq!(
                bytes.get(i + 1),
                Some(&b'"'),
                "label value unquoted: {line:?}"
            );
            i += 2;
            loop {
                match bytes.get(i) {
                    Some(b'\\') => {
                        assert!(
                            matches!(bytes.get(i + 1), Some(b'\\' | b'"' | b'n')),
                            "bad escape in a label value: {line:?}"
                        );
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                    None => panic!("unterminated label value: {line:?}"),
                }
            }
            match bytes.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {}
                _ => panic!("label set not closed: {line:?}"),
            }
        }
    }
    assert_eq!(
        bytes.get(i),
        Some(&b' '),
        "no space before the value: {line:?}"
    );
    let mut rest = line[i + 1..].split(' ');
    let value = rest.next().unwrap_or_default();
    assert!(
        matches!(value, "+Inf" | "-Inf" | "NaN") || value.parse::<f64>().is_ok(),
        "sample value is not a number: {line:?}"
    );
}
