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
use model_api::prediction_json::PredictionBody;
use serde_json::Value;
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
    let request: Value = serde_json::from_slice(BODY).expect("valid JSON");
    let Value::Object(fields) = &request["patient_data"] else {
        panic!("patient_data is an object")
    };
    let catalog = Catalog::linked();
    let model = catalog.find("pce-2013").expect("linked");
    let known = Vocabulary::new(model, &catalog);
    let input = read_patient(&known, fields, "/patient_data").expect("valid patient");
    let prediction = model.predict(&input).expect("valid patient");

    c.bench_function("breakdown/1-parse-json", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(BODY)).expect("valid JSON"))
    });
    c.bench_function("breakdown/2-read-patient", |b| {
        b.iter(|| read_patient(&known, black_box(fields), "/patient_data").expect("valid patient"))
    });
    c.bench_function("breakdown/3-model-predict", |b| {
        b.iter(|| model.predict(black_box(&input)).expect("valid patient"))
    });
    c.bench_function("breakdown/4-serialise-response", |b| {
        b.iter(|| {
            serde_json::to_vec(&PredictionBody::new(model.info(), black_box(&prediction)))
                .expect("serialisable")
        })
    });
}

criterion_group!(benches, predict, breakdown);
criterion_main!(benches);
