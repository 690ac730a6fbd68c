//! A plan whose numbers the build step owns (read from the ONNX file), lent as a [`Plan`] to
//! the evaluator and to the code generator.

use crate::plan::{
    Aggregate, BinaryOp, Linear, NodeMode, Operand, Plan, PostTransform, Step, Trees, TreesKind,
    UnaryOp,
};

/// A plan with its numbers owned: what [`super::import`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedPlan {
    pub input_name: String,
    pub input_width: usize,
    pub values: usize,
    pub steps: Vec<OwnedStep>,
    pub output: usize,
    pub output_width: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OwnedOperand {
    Value(usize),
    Const(Vec<f32>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum OwnedStep {
    Binary {
        op: BinaryOp,
        a: OwnedOperand,
        b: OwnedOperand,
        out: usize,
    },
    Unary {
        op: UnaryOp,
        input: usize,
        out: usize,
    },
    MatMul {
        input: usize,
        weights: Vec<f32>,
        rows: usize,
        cols: usize,
        out: usize,
    },
    Concat {
        inputs: Vec<usize>,
        out: usize,
    },
    Scaler {
        input: usize,
        offset: Vec<f32>,
        scale: Vec<f32>,
        out: usize,
    },
    Linear {
        coefficients: Vec<f32>,
        intercepts: Vec<f32>,
        targets: usize,
        post_transform: PostTransform,
        binary_one_row: bool,
        input: usize,
        out: usize,
    },
    Trees {
        trees: Box<OwnedTrees>,
        input: usize,
        out: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OwnedTrees {
    pub roots: Vec<u32>,
    pub feature: Vec<u32>,
    pub threshold: Vec<f32>,
    pub mode: Vec<NodeMode>,
    pub true_child: Vec<u32>,
    pub false_child: Vec<u32>,
    pub missing_true: Vec<bool>,
    pub weights_start: Vec<u32>,
    pub weight_target: Vec<u32>,
    pub weight_value: Vec<f32>,
    pub targets: usize,
    pub base_values: Vec<f32>,
    pub aggregate: Aggregate,
    pub post_transform: PostTransform,
    pub kind: TreesKind,
    pub binary_one_class: bool,
    pub weights_all_positive: bool,
}

impl OwnedTrees {
    pub fn borrow(&self) -> Trees<'_> {
        Trees {
            roots: &self.roots,
            feature: &self.feature,
            threshold: &self.threshold,
            mode: &self.mode,
            true_child: &self.true_child,
            false_child: &self.false_child,
            missing_true: &self.missing_true,
            weights_start: &self.weights_start,
            weight_target: &self.weight_target,
            weight_value: &self.weight_value,
            targets: self.targets,
            base_values: &self.base_values,
            aggregate: self.aggregate,
            post_transform: self.post_transform,
            kind: self.kind,
            binary_one_class: self.binary_one_class,
            weights_all_positive: self.weights_all_positive,
        }
    }
}

impl OwnedPlan {
    /// Runs `f` with the plan borrowed from these numbers.
    pub fn with_plan<R>(&self, f: impl FnOnce(&Plan<'_>) -> R) -> R {
        let trees: Vec<Option<Trees<'_>>> = self
            .steps
            .iter()
            .map(|step| match step {
                OwnedStep::Trees { trees, .. } => Some(trees.borrow()),
                _ => None,
            })
            .collect();
        fn operand(operand: &OwnedOperand) -> Operand<'_> {
            match operand {
                OwnedOperand::Value(index) => Operand::Value(*index),
                OwnedOperand::Const(numbers) => Operand::Const(numbers),
            }
        }
        let steps: Vec<Step<'_>> = self
            .steps
            .iter()
            .zip(&trees)
            .map(|(step, borrowed)| match (step, borrowed) {
                (OwnedStep::Binary { op, a, b, out }, _) => Step::Binary {
                    op: *op,
                    a: operand(a),
                    b: operand(b),
                    out: *out,
                },
                (OwnedStep::Unary { op, input, out }, _) => Step::Unary {
                    op: *op,
                    input: *input,
                    out: *out,
                },
                (
                    OwnedStep::MatMul {
                        input,
                        weights,
                        rows,
                        cols,
                        out,
                    },
                    _,
                ) => Step::MatMul {
                    input: *input,
                    weights,
                    rows: *rows,
                    cols: *cols,
                    out: *out,
                },
                (OwnedStep::Concat { inputs, out }, _) => Step::Concat { inputs, out: *out },
                (
                    OwnedStep::Scaler {
                        input,
                        offset,
                        scale,
                        out,
                    },
                    _,
                ) => Step::Scaler {
                    input: *input,
                    offset,
                    scale,
                    out: *out,
                },
                (
                    OwnedStep::Linear {
                        coefficients,
                        intercepts,
                        targets,
                        post_transform,
                        binary_one_row,
                        input,
                        out,
                    },
                    _,
                ) => Step::Linear {
                    linear: Linear {
                        coefficients,
                        intercepts,
                        targets: *targets,
                        post_transform: *post_transform,
                        binary_one_row: *binary_one_row,
                    },
                    input: *input,
                    out: *out,
                },
                (OwnedStep::Trees { input, out, .. }, Some(trees)) => Step::Trees {
                    trees,
                    input: *input,
                    out: *out,
                },
                // Every trees step has its borrowed trees (built from the same list).
                (OwnedStep::Trees { input, out, .. }, None) => Step::Unary {
                    op: UnaryOp::Identity,
                    input: *input,
                    out: *out,
                },
            })
            .collect();
        f(&Plan {
            input_width: self.input_width,
            values: self.values,
            steps: &steps,
            output: self.output,
            output_width: self.output_width,
        })
    }
}
