//! One `/predict` body end to end, natively: parse, validate, predict, serialise.
//!
//! Run: `cargo bench --bench predict_body`
//!
//! The `breakdown/*` functions time each stage of the same request alone, to locate the cost
//! of the end-to-end figure (see docs/performance.md).

use criterion::{criterion_group, criterion_main, Criterion};
use model_api::catalog::Catalog;
use model_api::patient::{read_patient, Vocabulary};
use model_api::predict::predict_body;
use model_api::predict::request::{read, Body, PatientObject};
use model_api::prediction_json::prediction_body;
use std::hint::black_box;

const BODY: &[u8] = br#"{"patient_data": {"age": 55, "sex": "female", "race": "african_american",
    "total_cholesterol": 213, "hdl_cholesterol": 50, "systolic_bp": 120, "on_bp_treatment": true,
    "smoker": false, "diabetic": true}, "model": "pce-2013"}"#;

fn predict(c: &mut Criterion) {
    c.bench_function("predict_body/pce-2013", |b| {
        // A catalog per request, as in the component (one instance per request).
        b.iter(|| {
            let catalog = Catalog::linked();
            black_box(predict_body(&catalog, black_box(BODY)).expect("valid body"))
        })
    });
}

/// Each stage of `predict` alone, on the same patient.
fn breakdown(c: &mut Criterion) {
    let Ok(Body::Object(request)) = read(BODY) else {
        panic!("the body is a JSON object")
    };
    let Some(PatientObject::Members(fields)) = &request.patient_data else {
        panic!("patient_data is an object")
    };
    let catalog = Catalog::linked();
    let model = catalog.find("pce-2013").expect("linked");
    let known = Vocabulary::new(model, &catalog);
    let input = read_patient(&known, fields, "/patient_data").expect("valid patient");
    let prediction = model
        .predict(input.clone())
        .expect("a well-formed answer")
        .expect("valid patient");

    c.bench_function("breakdown/1-parse-json", |b| {
        b.iter(|| read(black_box(BODY)).expect("valid JSON"))
    });
    c.bench_function("breakdown/2-read-patient", |b| {
        b.iter(|| read_patient(&known, black_box(fields), "/patient_data").expect("valid patient"))
    });
    c.bench_function("breakdown/3-model-predict", |b| {
        b.iter(|| {
            model
                .predict(black_box(input.clone()))
                .expect("a well-formed answer")
        })
    });
    c.bench_function("breakdown/4-serialise-response", |b| {
        b.iter(|| prediction_body(model.info(), black_box(&prediction)))
    });
}

/// A body of 1,000 valid PCE patients, the same every run (a linear congruential generator).
fn batch_body() -> Vec<u8> {
    let mut state: u64 = 20_261_204;
    let mut next = |low: f64, high: f64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        low + (high - low) * ((state >> 11) as f64 / (1u64 << 53) as f64)
    };
    let patients: Vec<String> = (0..1000)
        .map(|_| {
            let sex = if next(0.0, 1.0) < 0.5 {
                "female"
            } else {
                "male"
            };
            let race = if next(0.0, 1.0) < 0.5 {
                "white"
            } else {
                "african_american"
            };
            format!(
                r#"{{"age": {:.0}, "sex": "{sex}", "race": "{race}", "total_cholesterol": {:.0},
                "hdl_cholesterol": {:.0}, "systolic_bp": {:.0}, "on_bp_treatment": {},
                "smoker": {}, "diabetic": {}}}"#,
                next(40.0, 79.0),
                next(130.0, 320.0),
                next(20.0, 100.0),
                next(90.0, 200.0),
                next(0.0, 1.0) < 0.3,
                next(0.0, 1.0) < 0.2,
                next(0.0, 1.0) < 0.1,
            )
        })
        .collect();
    format!(
        r#"{{"instances": [{}], "model": "pce-2013"}}"#,
        patients.join(", ")
    )
    .into_bytes()
}

/// A 1,000-patient batch end to end, and its parsing alone (the rest: reading the patients, one
/// call to the model, serialising 1,000 results).
fn batch(c: &mut Criterion) {
    let body = batch_body();
    c.bench_function("predict_body/pce-2013-batch-1000", |b| {
        b.iter(|| {
            let catalog = Catalog::linked();
            black_box(predict_body(&catalog, black_box(&body)).expect("valid body"))
        })
    });
    c.bench_function("breakdown/batch-1000-parse-json", |b| {
        b.iter(|| read(black_box(&body)).expect("valid JSON"))
    });
}

/// The Open Inference Protocol's JSON infer for a model with many features (the ONNX example,
/// 30): 100 patients, one tensor per feature, every value the middle of its validated range.
fn infer_many_features(c: &mut Criterion) {
    use model_api::catalog::FeatureKind;
    use model_api::http::Request;

    let catalog = Catalog::linked();
    let Some(model) = catalog.find("breast-cancer-lr") else {
        return;
    };
    let inputs: Vec<serde_json::Value> = model
        .info()
        .features
        .iter()
        .filter_map(|feature| match &feature.kind {
            FeatureKind::Number(number) => {
                let (min, max) = number.range?;
                Some(
                    serde_json::json!({"name": feature.name.as_ref(), "datatype": "FP64",
                    "shape": [100], "data": vec![(min + max) / 2.0; 100]}),
                )
            }
            _ => None,
        })
        .collect();
    let body = serde_json::json!({ "inputs": inputs }).to_string();
    let request = Request::new("POST", "/v2/models/breast-cancer-lr/infer")
        .with_header("content-type", "application/json")
        .with_body(body.into_bytes());
    c.bench_function("infer/breast-cancer-lr-100", |b| {
        b.iter(|| {
            let catalog = Catalog::linked();
            let response = model_api::router::route_with(&catalog, black_box(&request));
            assert_eq!(response.status, 200);
            response
        })
    });
}

criterion_group!(benches, predict, breakdown, batch, infer_many_features);
criterion_main!(benches);
