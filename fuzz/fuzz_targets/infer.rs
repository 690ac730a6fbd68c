//! `POST /v2/models/{pce-2013,prevent-2023}/infer`: the Open Inference Protocol's JSON and
//! binary tensor framing, through the public router.
//!
//! Input: one control byte, then the body.
//!
//! | bits | meaning |
//! |---|---|
//! | 0 | model: `pce-2013` or `prevent-2023` |
//! | 1 | path with `/versions/1.0.0` |
//! | 2-3 | `content-type`: none (as tritonclient sends binary requests), `application/json`, `application/octet-stream`, `application/x-www-form-urlencoded` |
//! | 4-5 | `inference-header-content-length`: none (all JSON); the length of the body's first JSON value (as a client computes it, so the tensors after it are binary); the next two bytes, little-endian (any length, even past the body); a value that is not a number |
//!
//! Invariants: only 200 or 400; every answer is JSON (or JSON followed by the binary tensors
//! its header length and `binary_data_size`s describe exactly); errors are `{"error": "..."}`;
//! a 200 names the model, gives every output one value per patient, and every risk is in
//! [0, 1] with its category among the four.
#![no_main]

use healthcare_fuzz::{category_of, content_type, json, probability, CATEGORIES};
use libfuzzer_sys::fuzz_target;
use model_api::http::{Request, Response};
use model_api::router::route;
use serde_json::Value;

const HEADER_LENGTH: &str = "inference-header-content-length";
const MODELS: [&str; 2] = ["pce-2013", "prevent-2023"];
const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/json"),
    Some("application/octet-stream"),
    Some("application/x-www-form-urlencoded"),
];

/// Length of the first JSON value of `body` (what a client puts in the header), or all of it.
fn first_json_value_length(body: &[u8]) -> usize {
    let mut values =
        serde_json::Deserializer::from_slice(body).into_iter::<serde::de::IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => values.byte_offset(),
        _ => body.len(),
    }
}

fn check_error(response: &Response) {
    assert_eq!(
        response.status,
        400,
        "unexpected status: {}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(content_type(response), "application/json");
    let value = json(&response.body, "infer error");
    let object = value.as_object().expect("an error is a JSON object");
    assert_eq!(object.len(), 1, "an error has only `error`: {value}");
    assert!(
        object
            .get("error")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "no error message: {value}"
    );
}

/// The outputs of a 200, each as (name, datatype, values), the binary ones decoded.
fn outputs(response: &Response) -> (Value, Vec<(String, String, Vec<Value>)>) {
    let (header, mut tail) = match response.header(HEADER_LENGTH) {
        None => {
            assert_eq!(content_type(response), "application/json");
            (json(&response.body, "infer 200"), &[][..])
        }
        Some(length) => {
            assert_eq!(content_type(response), "application/octet-stream");
            let length: usize = length.parse().expect("header length is a number");
            assert!(length <= response.body.len(), "header length past the body");
            let (head, tail) = response.body.split_at(length);
            (json(head, "infer 200 JSON part"), tail)
        }
    };
    let mut decoded = Vec::new();
    for output in header["outputs"].as_array().expect("outputs is an array") {
        let name = output["name"].as_str().expect("output name").to_owned();
        let datatype = output["datatype"].as_str().expect("datatype").to_owned();
        let values = match output
            .get("parameters")
            .and_then(|p| p.get("binary_data_size"))
        {
            None => output["data"].as_array().expect("data is an array").clone(),
            Some(size) => {
                let size = size.as_u64().expect("binary_data_size") as usize;
                assert!(size <= tail.len(), "binary_data_size past the body");
                let (raw, rest) = tail.split_at(size);
                tail = rest;
                decode(&datatype, raw)
            }
        };
        decoded.push((name, datatype, values));
    }
    assert!(
        tail.is_empty(),
        "{} bytes after the last binary output",
        tail.len()
    );
    (header, decoded)
}

fn decode(datatype: &str, mut raw: &[u8]) -> Vec<Value> {
    match datatype {
        "FP64" => {
            assert_eq!(raw.len() % 8, 0, "FP64 output of {} bytes", raw.len());
            raw.chunks_exact(8)
                .map(|c| {
                    let x = f64::from_le_bytes(c.try_into().unwrap_or_default());
                    // NaN is not JSON: it becomes null, which `probability` refuses.
                    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
                })
                .collect()
        }
        "BYTES" => {
            let mut values = Vec::new();
            while !raw.is_empty() {
                let (n, rest) = raw.split_first_chunk::<4>().expect("BYTES length prefix");
                let n = u32::from_le_bytes(*n) as usize;
                assert!(n <= rest.len(), "BYTES element past the output");
                let text = std::str::from_utf8(&rest[..n]).expect("BYTES output is UTF-8");
                values.push(Value::String(text.to_owned()));
                raw = &rest[n..];
            }
            values
        }
        other => panic!("unexpected output datatype {other}"),
    }
}

fn check_ok(model: &str, response: &Response) {
    let (header, outputs) = outputs(response);
    assert_eq!(
        header["model_name"].as_str(),
        Some(model),
        "model_name: {header}"
    );
    assert!(!outputs.is_empty(), "a 200 with no outputs: {header}");
    let rows = outputs[0].2.len();
    assert!(rows > 0, "a 200 for no patients: {header}");
    let mut risks = Vec::new();
    let mut categories = Vec::new();
    for (name, datatype, values) in &outputs {
        assert_eq!(
            values.len(),
            rows,
            "{name} has {} rows, not {rows}",
            values.len()
        );
        let shape = header["outputs"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["name"] == name.as_str()))
            .map(|o| o["shape"].clone());
        assert_eq!(shape, Some(serde_json::json!([rows])), "{name}'s shape");
        if name == "risk" || name.ends_with("_risk") {
            assert_eq!(datatype, "FP64");
            let ps: Vec<f64> = values.iter().map(|v| probability(Some(v), name)).collect();
            if name == "risk" {
                risks = ps;
            }
        } else if name == "category" {
            assert_eq!(datatype, "BYTES");
            for value in values {
                let category = value.as_str().expect("category is text");
                assert!(CATEGORIES.contains(&category), "category {category:?}");
                categories.push(category.to_owned());
            }
        } else {
            panic!("unexpected output {name}");
        }
    }
    // When both were asked for, the category is the one of the primary risk.
    if !risks.is_empty() && !categories.is_empty() {
        for (risk, category) in risks.iter().zip(&categories) {
            assert_eq!(
                category_of(*risk),
                category,
                "risk {risk}, category {category}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, mut body)) = data.split_first() else {
        return;
    };
    let model = MODELS[usize::from(control & 1)];
    let path = if control & 2 != 0 {
        format!("/v2/models/{model}/versions/1.0.0/infer")
    } else {
        format!("/v2/models/{model}/infer")
    };
    let mut request = Request::new("POST", &path);
    if let Some(ct) = CONTENT_TYPES[usize::from((control >> 2) & 3)] {
        request = request.with_header("content-type", ct);
    }
    match (control >> 4) & 3 {
        0 => {}
        1 => {
            let length = first_json_value_length(body).to_string();
            request = request.with_header(HEADER_LENGTH, &length);
        }
        2 => {
            let (length, rest) = body
                .split_first_chunk::<2>()
                .map_or((0, body), |(n, rest)| (u16::from_le_bytes(*n), rest));
            body = rest;
            request = request.with_header(HEADER_LENGTH, &length.to_string());
        }
        _ => request = request.with_header(HEADER_LENGTH, "-1"),
    }
    let request = request.with_body(body);
    let response = route(&request);
    match response.status {
        200 => check_ok(model, &response),
        _ => check_error(&response),
    }
});
