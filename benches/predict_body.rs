//! One `/predict` body end to end, natively: parse, validate, predict, serialise.
//!
//! Run: `cargo bench --bench predict_body`

use criterion::{criterion_group, criterion_main, Criterion};
use model_api::predict::predict_body;

const BODY: &[u8] = br#"{"patient_data": {"age": 55, "sex": "female", "race": "african_american",
    "total_cholesterol": 213, "hdl_cholesterol": 50, "systolic_bp": 120, "on_bp_treatment": true,
    "smoker": false, "diabetic": true}, "model": "pce-2013"}"#;

fn predict(c: &mut Criterion) {
    c.bench_function("predict_body/pce-2013", |b| {
        b.iter(|| {
            let value = predict_body(std::hint::black_box(BODY)).expect("valid body");
            std::hint::black_box(value.to_string())
        })
    });
}

criterion_group!(benches, predict);
criterion_main!(benches);
