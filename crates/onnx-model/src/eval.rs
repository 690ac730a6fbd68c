//! Runs a [`Plan`] on one row, as onnxruntime runs the same graph: `f32` arithmetic, and the
//! ONNX-ML operators' conventions as its CPU kernels implement them (the binary layouts and
//! post-transforms below), so that probabilities agree within 1e-5.

mod transforms;
mod trees;

use crate::plan::{BinaryOp, Linear, Operand, Plan, PostTransform, Step, UnaryOp};
use transforms::{mlas_logistic, post_transform};

/// Why a plan could not run. The build step checks every plan it writes, so these mean a plan
/// that was not built by it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("the input row has {given} numbers; the model takes {expected}")]
    InputWidth { given: usize, expected: usize },
    #[error("step {step} reads a value no earlier step wrote, or numbers of mismatched widths")]
    BrokenPlan { step: usize },
}

/// The output row for one input row.
pub fn evaluate(plan: &Plan<'_>, row: &[f32]) -> Result<Vec<f32>, EvalError> {
    if row.len() != plan.input_width {
        return Err(EvalError::InputWidth {
            given: row.len(),
            expected: plan.input_width,
        });
    }
    let mut values: Vec<Option<Vec<f32>>> = vec![None; plan.values];
    if let Some(first) = values.first_mut() {
        *first = Some(row.to_vec());
    }
    for (index, step) in plan.steps.iter().enumerate() {
        let broken = EvalError::BrokenPlan { step: index };
        let (out, result) = run(step, &values).ok_or(broken.clone())?;
        *values.get_mut(out).ok_or(broken)? = Some(result);
    }
    values
        .get_mut(plan.output)
        .and_then(Option::take)
        .filter(|output| output.len() == plan.output_width)
        .ok_or(EvalError::BrokenPlan {
            step: plan.steps.len(),
        })
}

fn value(values: &[Option<Vec<f32>>], index: usize) -> Option<&[f32]> {
    values.get(index)?.as_deref()
}

fn operand<'v>(values: &'v [Option<Vec<f32>>], operand: &Operand<'v>) -> Option<&'v [f32]> {
    match operand {
        Operand::Value(index) => value(values, *index),
        Operand::Const(numbers) => Some(numbers),
    }
}

/// One step: the value it writes and its numbers; `None` for a plan that does not fit.
fn run(step: &Step<'_>, values: &[Option<Vec<f32>>]) -> Option<(usize, Vec<f32>)> {
    match step {
        Step::Binary { op, a, b, out } => {
            Some((*out, binary(*op, operand(values, a)?, operand(values, b)?)?))
        }
        Step::Unary { op, input, out } => Some((
            *out,
            value(values, *input)?
                .iter()
                .map(|&x| unary(*op, x))
                .collect(),
        )),
        Step::MatMul {
            input,
            weights,
            rows,
            cols,
            out,
        } => {
            let x = value(values, *input)?;
            if x.len() != *rows || weights.len() != rows * cols {
                return None;
            }
            let mut result = vec![0.0f32; *cols];
            for (k, &xk) in x.iter().enumerate() {
                let weights_row = &weights[k * cols..(k + 1) * cols];
                for (sum, &w) in result.iter_mut().zip(weights_row) {
                    *sum += xk * w;
                }
            }
            Some((*out, result))
        }
        Step::Concat { inputs, out } => {
            let mut result = Vec::new();
            for input in *inputs {
                result.extend_from_slice(value(values, *input)?);
            }
            Some((*out, result))
        }
        Step::Scaler {
            input,
            offset,
            scale,
            out,
        } => {
            let x = value(values, *input)?;
            let at = |side: &[f32], i: usize| if side.len() == 1 { side[0] } else { side[i] };
            let scaled = (0..x.len())
                .map(|i| (x[i] - at(offset, i)) * at(scale, i))
                .collect();
            Some((*out, scaled))
        }
        Step::Linear { linear, input, out } => {
            Some((*out, self::linear(linear, value(values, *input)?)?))
        }
        Step::Trees { trees, input, out } => {
            Some((*out, trees::trees(trees, value(values, *input)?)?))
        }
    }
}

/// Elementwise with broadcasting of a one-number side.
fn binary(op: BinaryOp, a: &[f32], b: &[f32]) -> Option<Vec<f32>> {
    let width = a.len().max(b.len());
    if (a.len() != width && a.len() != 1) || (b.len() != width && b.len() != 1) {
        return None;
    }
    let at = |side: &[f32], i: usize| if side.len() == 1 { side[0] } else { side[i] };
    Some(
        (0..width)
            .map(|i| {
                let (x, y) = (at(a, i), at(b, i));
                match op {
                    BinaryOp::Add => x + y,
                    BinaryOp::Sub => x - y,
                    BinaryOp::Mul => x * y,
                    BinaryOp::Div => x / y,
                }
            })
            .collect(),
    )
}

fn unary(op: UnaryOp, x: f32) -> f32 {
    match op {
        UnaryOp::Identity => x,
        UnaryOp::Relu => x.max(0.0),
        UnaryOp::Sigmoid => mlas_logistic(x),
        UnaryOp::Tanh => x.tanh(),
    }
}

fn linear(linear: &Linear<'_>, x: &[f32]) -> Option<Vec<f32>> {
    let width = x.len();
    if linear.coefficients.len() != linear.targets * width {
        return None;
    }
    let mut scores: Vec<f32> = (0..linear.targets)
        .map(|target| {
            let row = &linear.coefficients[target * width..(target + 1) * width];
            let dot: f32 = row.iter().zip(x).map(|(w, v)| w * v).sum();
            dot + linear.intercepts.get(target).copied().unwrap_or(0.0)
        })
        .collect();
    if linear.binary_one_row {
        // onnxruntime's `add_second_class`: `[1 − s, s]`, with no post-transform.
        let score = *scores.first()?;
        return Some(vec![1.0 - score, score]);
    }
    match linear.post_transform {
        // The classifier's logistic is MLAS's approximation, as for `Sigmoid`.
        PostTransform::Logistic => scores.iter_mut().for_each(|s| *s = mlas_logistic(*s)),
        other => post_transform(other, &mut scores),
    }
    Some(scores)
}
