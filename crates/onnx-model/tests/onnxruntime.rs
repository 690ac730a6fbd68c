//! The evaluator against onnxruntime: for each model kind issue 14 names (tests/data/onnx/,
//! made by scripts/onnx-examples.py), the probabilities onnxruntime 1.32.0 gave for 1,000
//! inputs, reproduced within 1e-5.

#![cfg(feature = "import")]

use std::path::PathBuf;

use onnx_model::eval::evaluate;
use onnx_model::import::import;

const WIDTH: usize = 30;
const TOLERANCE: f32 = 1e-5;

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/onnx")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn floats(name: &str) -> Vec<f32> {
    data(name)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The largest difference from onnxruntime over the 1,000 inputs.
fn largest_difference(kind: &str) -> f32 {
    let plan = import(&data(&format!("{kind}.onnx")), "probabilities")
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
    let inputs = floats("inputs.f32");
    let expected = floats(&format!("{kind}.probabilities.f32"));
    assert_eq!(inputs.len(), 1000 * WIDTH);
    assert_eq!(plan.input_width, WIDTH);
    plan.with_plan(|plan| {
        inputs
            .chunks_exact(WIDTH)
            .zip(expected.chunks_exact(2))
            .map(|(row, expected)| {
                let got = evaluate(plan, row).unwrap();
                assert_eq!(got.len(), 2, "{kind}");
                got.iter()
                    .zip(expected)
                    .map(|(g, e)| (g - e).abs())
                    .fold(0.0f32, f32::max)
            })
            .fold(0.0f32, f32::max)
    })
}

#[test]
fn logistic_regression_with_standard_scaling() {
    let difference = largest_difference("lr");
    eprintln!("lr: largest difference from onnxruntime {difference:e}");
    assert!(difference <= TOLERANCE, "{difference}");
}

#[test]
fn gradient_boosting() {
    let difference = largest_difference("gbm");
    eprintln!("gbm: largest difference from onnxruntime {difference:e}");
    assert!(difference <= TOLERANCE, "{difference}");
}

#[test]
fn random_forest() {
    let difference = largest_difference("rf");
    eprintln!("rf: largest difference from onnxruntime {difference:e}");
    assert!(difference <= TOLERANCE, "{difference}");
}

#[test]
fn multilayer_perceptron() {
    let difference = largest_difference("mlp");
    eprintln!("mlp: largest difference from onnxruntime {difference:e}");
    assert!(difference <= TOLERANCE, "{difference}");
}

#[test]
fn lightgbm() {
    let difference = largest_difference("lgbm");
    eprintln!("lgbm: largest difference from onnxruntime {difference:e}");
    assert!(difference <= TOLERANCE, "{difference}");
}

#[test]
fn xgboost() {
    let difference = largest_difference("xgb");
    eprintln!("xgb: largest difference from onnxruntime {difference:e}");
    assert!(difference <= TOLERANCE, "{difference}");
}
