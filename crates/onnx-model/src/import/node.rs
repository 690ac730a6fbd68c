//! One node of the graph as a step of the plan: the operator checked, its attributes read, and
//! the widths of what it reads and writes checked against each other.

use std::collections::{HashMap, HashSet};

use super::owned::{OwnedOperand, OwnedStep};
use super::proto::{data_type, AttributeProto, NodeProto};
use super::{ImportError, Planner, SUPPORTED};
use crate::plan::{BinaryOp, PostTransform, UnaryOp};

pub(super) struct NodeContext<'p, 'g> {
    pub(super) planner: &'p Planner<'g>,
    pub(super) node: &'g NodeProto,
    pub(super) slots: &'p HashMap<&'g str, (usize, usize)>,
    /// Every value the planned nodes read, and the declared output.
    pub(super) read: &'p HashSet<&'g str>,
}

impl<'g> NodeContext<'_, 'g> {
    pub(super) fn fail(&self, problem: impl Into<String>) -> ImportError {
        ImportError::Node {
            node: self.name(),
            op: self.node.op_type.clone(),
            problem: problem.into(),
        }
    }

    fn name(&self) -> String {
        if self.node.name.is_empty() {
            self.node.output.first().cloned().unwrap_or_default()
        } else {
            self.node.name.clone()
        }
    }

    pub(super) fn attribute(&self, name: &str) -> Option<&'g AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    pub(super) fn text(&self, name: &str, default: &str) -> Result<String, ImportError> {
        match self.attribute(name) {
            Some(a) => String::from_utf8(a.s.clone())
                .map_err(|_| self.fail(format!("attribute {name} is not text"))),
            None => Ok(default.into()),
        }
    }

    pub(super) fn floats(&self, name: &str) -> Vec<f32> {
        self.attribute(name)
            .map(|a| a.floats.clone())
            .unwrap_or_default()
    }

    pub(super) fn ints(&self, name: &str) -> Vec<i64> {
        self.attribute(name)
            .map(|a| a.ints.clone())
            .unwrap_or_default()
    }

    /// The value slot and width of input `index`.
    pub(super) fn value(&self, index: usize) -> Result<(usize, usize), ImportError> {
        let name = self
            .node
            .input
            .get(index)
            .ok_or_else(|| self.fail(format!("input {index} is missing")))?;
        self.slots.get(name.as_str()).copied().ok_or_else(|| {
            self.fail(format!(
                "input {name} must be computed from the model input, not a constant"
            ))
        })
    }

    fn operand(&self, index: usize) -> Result<(OwnedOperand, usize), ImportError> {
        let name = self
            .node
            .input
            .get(index)
            .ok_or_else(|| self.fail(format!("input {index} is missing")))?;
        if let Some(constant) = self.planner.constants.get(name.as_str()) {
            return Ok((
                OwnedOperand::Const(constant.numbers.clone()),
                constant.numbers.len(),
            ));
        }
        let (slot, width) = self.value(index)?;
        Ok((OwnedOperand::Value(slot), width))
    }

    /// The step for this node, the output value it writes and that value's width.
    pub(super) fn step(&mut self, out: usize) -> Result<(&'g str, usize, OwnedStep), ImportError> {
        let op = self.node.op_type.as_str();
        let ml = self.node.domain == "ai.onnx.ml";
        if !(self.node.domain.is_empty() || self.node.domain == "ai.onnx" || ml) {
            return Err(self.unsupported());
        }
        let first_output = |i: usize| {
            self.node
                .output
                .get(i)
                .map(String::as_str)
                .filter(|name| !name.is_empty())
        };
        match (ml, op) {
            (false, "Add" | "Sub" | "Mul" | "Div") => {
                let (a, wa) = self.operand(0)?;
                let (b, wb) = self.operand(1)?;
                if matches!((&a, &b), (OwnedOperand::Const(_), OwnedOperand::Const(_))) {
                    return Err(self.fail("both inputs are constants"));
                }
                let width = wa.max(wb);
                if (wa != width && wa != 1) || (wb != width && wb != 1) {
                    return Err(self.fail(format!(
                        "inputs of {wa} and {wb} numbers per row do not broadcast"
                    )));
                }
                let op = match op {
                    "Add" => BinaryOp::Add,
                    "Sub" => BinaryOp::Sub,
                    "Mul" => BinaryOp::Mul,
                    _ => BinaryOp::Div,
                };
                let written = first_output(0).ok_or_else(|| self.fail("no output"))?;
                Ok((written, width, OwnedStep::Binary { op, a, b, out }))
            }
            (false, "Relu" | "Sigmoid" | "Tanh" | "Identity" | "Cast") => {
                if op == "Cast" {
                    let to = self.attribute("to").map_or(0, |a| a.i);
                    if to != i64::from(data_type::FLOAT) {
                        return Err(self.fail("only a cast to float is supported"));
                    }
                }
                let (input, width) = self.value(0)?;
                let op = match op {
                    "Relu" => UnaryOp::Relu,
                    "Sigmoid" => UnaryOp::Sigmoid,
                    "Tanh" => UnaryOp::Tanh,
                    _ => UnaryOp::Identity,
                };
                let written = first_output(0).ok_or_else(|| self.fail("no output"))?;
                Ok((written, width, OwnedStep::Unary { op, input, out }))
            }
            (false, "MatMul") => {
                let (input, rows) = self.value(0)?;
                let name = self.node.input.get(1).map_or("", String::as_str);
                let weights = self
                    .planner
                    .constants
                    .get(name)
                    .ok_or_else(|| self.fail("its second input must be a constant matrix"))?;
                let [r, c] = weights.dims.as_slice() else {
                    return Err(self.fail("its second input must be a matrix"));
                };
                if *r as usize != rows {
                    return Err(self.fail(format!(
                        "a row of {rows} numbers cannot multiply a {r} × {c} matrix"
                    )));
                }
                let cols = *c as usize;
                let written = first_output(0).ok_or_else(|| self.fail("no output"))?;
                Ok((
                    written,
                    cols,
                    OwnedStep::MatMul {
                        input,
                        weights: weights.numbers.clone(),
                        rows,
                        cols,
                        out,
                    },
                ))
            }
            (false, "Concat") => {
                let axis = self.attribute("axis").map_or(1, |a| a.i);
                if axis != 1 && axis != -1 {
                    return Err(self.fail("only concatenation along the last axis is supported"));
                }
                let mut inputs = Vec::new();
                let mut width = 0;
                for index in 0..self.node.input.len() {
                    let (slot, w) = self.value(index)?;
                    inputs.push(slot);
                    width += w;
                }
                let written = first_output(0).ok_or_else(|| self.fail("no output"))?;
                Ok((written, width, OwnedStep::Concat { inputs, out }))
            }
            (true, "Scaler") => {
                let (input, width) = self.value(0)?;
                let offset = self.floats("offset");
                let scale = self.floats("scale");
                let fits = |v: &[f32]| v.len() == 1 || v.len() == width;
                if !fits(&offset) || !fits(&scale) {
                    return Err(self.fail("offset and scale need one number, or one per column"));
                }
                let written = first_output(0).ok_or_else(|| self.fail("no output"))?;
                Ok((
                    written,
                    width,
                    OwnedStep::Scaler {
                        input,
                        offset,
                        scale,
                        out,
                    },
                ))
            }
            (true, "LinearClassifier" | "LinearRegressor") => {
                self.linear(out, op == "LinearClassifier")
            }
            (true, "TreeEnsembleClassifier" | "TreeEnsembleRegressor") => {
                self.trees(out, op == "TreeEnsembleClassifier")
            }
            _ => Err(self.unsupported()),
        }
    }

    fn unsupported(&self) -> ImportError {
        let op = if self.node.domain.is_empty() {
            self.node.op_type.clone()
        } else {
            format!("{}.{}", self.node.domain, self.node.op_type)
        };
        ImportError::Unsupported {
            node: self.name(),
            op,
            supported: SUPPORTED,
        }
    }

    /// The classifier's probabilities (its second output), or the regressor's scores.
    pub(super) fn used_output(&self, classifier: bool) -> Result<&'g str, ImportError> {
        let index = usize::from(classifier);
        let wanted = self.node.output.get(index).map(String::as_str);
        if classifier {
            let label = self.node.output.first().map(String::as_str);
            // Only the scores may be read downstream: the label is never computed.
            if label.is_some_and(|label| self.read.contains(label)) {
                return Err(self
                    .fail("its label output is used; declare a probability output (the scores)"));
            }
        }
        wanted
            .filter(|name| !name.is_empty())
            .ok_or_else(|| self.fail("its scores output is missing"))
    }

    pub(super) fn post_transform(&self) -> Result<PostTransform, ImportError> {
        match self.text("post_transform", "NONE")?.as_str() {
            "NONE" => Ok(PostTransform::None),
            "LOGISTIC" => Ok(PostTransform::Logistic),
            "SOFTMAX" => Ok(PostTransform::Softmax),
            "SOFTMAX_ZERO" => Ok(PostTransform::SoftmaxZero),
            "PROBIT" => Ok(PostTransform::Probit),
            other => Err(self.fail(format!("post_transform {other} is not an ONNX transform"))),
        }
    }

    /// How many class labels a classifier declares.
    pub(super) fn labels(&self) -> usize {
        let ints = self.ints("classlabels_ints").len() + self.ints("classlabels_int64s").len();
        let strings = ["classlabels_strings"]
            .iter()
            .filter_map(|name| self.attribute(name))
            .map(|a| a.strings.len())
            .sum::<usize>();
        ints + strings
    }

    fn linear(
        &self,
        out: usize,
        classifier: bool,
    ) -> Result<(&'g str, usize, OwnedStep), ImportError> {
        let (input, width) = self.value(0)?;
        let written = self.used_output(classifier)?;
        let coefficients = self.floats("coefficients");
        let intercepts = self.floats("intercepts");
        let post_transform = self.post_transform()?;
        if coefficients.is_empty() || !coefficients.len().is_multiple_of(width) {
            return Err(self.fail(format!(
                "{} coefficients do not make rows of the input's {width} columns",
                coefficients.len()
            )));
        }
        let targets = coefficients.len() / width;
        if !intercepts.is_empty() && intercepts.len() != targets {
            return Err(self.fail("one intercept per row of coefficients is needed"));
        }
        let binary_one_row = classifier && targets == 1 && self.labels() == 2;
        if binary_one_row && post_transform == PostTransform::Probit {
            return Err(self.fail("PROBIT on a one-row binary classifier is not supported"));
        }
        if classifier && !binary_one_row && self.labels() != targets {
            return Err(self.fail(format!(
                "{} class labels for {targets} rows of coefficients",
                self.labels()
            )));
        }
        let outputs = if binary_one_row { 2 } else { targets };
        Ok((
            written,
            outputs,
            OwnedStep::Linear {
                coefficients,
                intercepts,
                targets,
                post_transform,
                binary_one_row,
                input,
                out,
            },
        ))
    }
}
