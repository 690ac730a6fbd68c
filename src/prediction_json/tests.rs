//! The hand-written writer against serde's derived serialisers (`reference.rs`): the same
//! bytes for every served model's description and for predictions of every shape.

use super::reference::{BatchBody, BatchItem, PredictionBody};
use super::{batch_body, prediction_body};
use crate::catalog::contract::{Categories, Category, ExplanationInfo};
use crate::catalog::{Catalog, ModelInfo, ModelPrediction, ModelWarning, Value};
use crate::problem::FieldIssue;

/// Deterministic numbers (a linear congruential generator), so a failure is reproducible.
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Numbers of every kind the writer may meet: fractions, large and tiny ones, integers,
    /// negative zero, and the non-finite ones serde_json writes as `null`.
    fn number(&mut self) -> f64 {
        let bits = self.next() << 31 | self.next();
        match self.below(10) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -0.0,
            3 => self.below(1000) as f64,
            4 => f64::from_bits(bits) * 1e-300,
            _ => (bits as f64 / u64::MAX as f64) * 2.0 - 0.5,
        }
    }

    fn text(&mut self) -> String {
        const PIECES: [&str; 8] = ["a", "risk ", "\"q\"", "\\", "\n\t", "é", "\u{1}", "≥ 7.5 %"];
        (0..self.below(6))
            .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
            .collect()
    }
}

/// A prediction of any shape for `info`: outputs of every value kind, a category inside or
/// outside the bands or none, contributions or none, explanation numbers or not, warnings.
fn prediction(info: &ModelInfo, numbers: &mut Numbers) -> ModelPrediction {
    let outputs = info
        .outputs
        .iter()
        .map(|_| match numbers.below(8) {
            0 => Value::Choice(numbers.text()),
            1 => Value::Boolean(numbers.below(2) == 0),
            _ => Value::Number(numbers.number()),
        })
        .collect();
    let bands = info.categories.as_ref().map_or(0, |c| c.bands.len()) as u64;
    let factors = info.explanation.as_ref().map_or(0, |e| e.factors.len());
    ModelPrediction {
        outputs,
        category: (numbers.below(4) > 0).then(|| numbers.below(bands + 1) as usize),
        confidence: (numbers.below(3) > 0).then(|| numbers.number()),
        contributions: if numbers.below(4) == 0 {
            Vec::new()
        } else {
            (0..factors).map(|_| numbers.number()).collect()
        },
        linear_predictor: (numbers.below(4) > 0).then(|| numbers.number()),
        reference_value: (numbers.below(4) > 0).then(|| numbers.number()),
        warnings: (0..numbers.below(3))
            .map(|_| ModelWarning {
                code: numbers.text(),
                message: numbers.text(),
            })
            .collect(),
    }
}

/// Every served model's description, and one with texts that need escaping, no horizon, and
/// no categories or explanation.
fn descriptions() -> Vec<ModelInfo> {
    let catalog = Catalog::linked();
    let mut infos: Vec<ModelInfo> = catalog.models().iter().map(|m| m.info().clone()).collect();
    let mut odd = infos[0].clone();
    odd.name = "m\"odel\\".into();
    odd.version = "1.0 \u{7f} é".into();
    odd.horizon_years = None;
    odd.categories = Some(Categories {
        bands: vec![Category {
            name: "lo\"w".into(),
            label: "Low\nRisk".into(),
            lower_bound: 0.0,
        }]
        .into(),
        source: "s".into(),
    });
    odd.explanation = Some(ExplanationInfo {
        scale: "log \"odds\"".into(),
        reference_patient: "tab\there".into(),
        factors: vec!["a\"b".into(), "é".into()].into(),
    });
    for output in odd.outputs.to_mut() {
        output.name = format!("{}\"\\", output.name).into();
    }
    let mut bare = infos[0].clone();
    bare.categories = None;
    bare.explanation = None;
    bare.horizon_years = None;
    infos.extend([odd, bare]);
    infos
}

#[test]
fn one_patient_is_written_as_serde_writes_it() {
    let mut numbers = Numbers(7);
    for info in descriptions() {
        for _ in 0..400 {
            let prediction = prediction(&info, &mut numbers);
            let expected = serde_json::to_vec(&PredictionBody::new(&info, &prediction)).unwrap();
            let written = prediction_body(&info, &prediction);
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&expected),
                "{}: {prediction:?}",
                info.name
            );
        }
    }
}

#[test]
fn a_batch_is_written_as_serde_writes_it() {
    let mut numbers = Numbers(11);
    for info in descriptions() {
        for size in [1, 2, 37] {
            let outcomes: Vec<Result<ModelPrediction, Vec<FieldIssue>>> = (0..size)
                .map(|index| {
                    if numbers.below(5) == 0 {
                        Err((0..numbers.below(3))
                            .map(|_| FieldIssue {
                                pointer: format!("/instances/{index}/{}", numbers.text()),
                                field: numbers.text(),
                                detail: numbers.text(),
                            })
                            .collect())
                    } else {
                        Ok(prediction(&info, &mut numbers))
                    }
                })
                .collect();
            let succeeded = outcomes.iter().filter(|o| o.is_ok()).count();
            let expected = serde_json::to_vec(&BatchBody {
                model: &info.name,
                model_version: &info.version,
                count: outcomes.len(),
                succeeded,
                failed: outcomes.len() - succeeded,
                results: outcomes
                    .iter()
                    .map(|outcome| match outcome {
                        Ok(prediction) => BatchItem::Predicted(Box::new(
                            PredictionBody::new(&info, prediction).in_batch(),
                        )),
                        Err(issues) => BatchItem::Refused {
                            status: 422,
                            errors: issues.clone(),
                        },
                    })
                    .collect(),
            })
            .unwrap();
            let written = batch_body(&info, &outcomes);
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&expected),
                "{}",
                info.name
            );
        }
    }
}
