//! The build step's reading of an ONNX file: from the graph's one float input to one declared
//! output, every node on the way checked against the operators [`crate::eval`] runs exactly,
//! and laid out as a [`Plan`]. Anything else is refused here, naming the node, the operator,
//! the input or the shape, so that no request ever meets it.
//!
//! Only the nodes the declared output depends on are read: a converter's label branch
//! (`ArgMax`, `ArrayFeatureExtractor`, casts to integers) is never evaluated, so it is not
//! refused either.

mod node;
mod owned;
pub mod proto;
mod trees;

use std::collections::{HashMap, HashSet};

use prost::Message;

use node::NodeContext;
pub use owned::{OwnedOperand, OwnedPlan, OwnedStep, OwnedTrees};
use proto::{data_type, GraphProto, ModelProto, TensorProto};

/// Why an ONNX file cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not an ONNX model: {0}")]
    Decode(String),
    #[error("the model has no graph")]
    NoGraph,
    #[error("operator set {domain}, version {version}, is not supported (supported: the default domain up to 21, ai.onnx.ml up to 3)")]
    Opset { domain: String, version: i64 },
    #[error("the graph must have exactly one input that is not an initializer; it has: {0}")]
    Inputs(String),
    #[error("input {name}: {problem}")]
    Input { name: String, problem: String },
    #[error("the graph has no output named {name} (outputs: {known})")]
    NoOutput { name: String, known: String },
    #[error("node {node} (operator {op}): operator not supported (supported: {supported})")]
    Unsupported {
        node: String,
        op: String,
        supported: &'static str,
    },
    #[error("node {node} (operator {op}): {problem}")]
    Node {
        node: String,
        op: String,
        problem: String,
    },
    #[error("value {0} is read but no node or initializer writes it")]
    Undefined(String),
}

/// The operators this engine evaluates (for messages).
pub const SUPPORTED: &str = "Add, Sub, Mul, Div, MatMul, Relu, Sigmoid, Tanh, Identity, \
    Cast (to float), Concat (last axis), and from ai.onnx.ml LinearClassifier, LinearRegressor, \
    Scaler, TreeEnsembleClassifier, TreeEnsembleRegressor";

/// Reads `bytes` (an ONNX model) and plans the evaluation of the graph output `output`.
pub fn import(bytes: &[u8], output: &str) -> Result<OwnedPlan, ImportError> {
    let model = ModelProto::decode(bytes).map_err(|e| ImportError::Decode(e.to_string()))?;
    for opset in &model.opset_import {
        let supported = match opset.domain.as_str() {
            "" | "ai.onnx" => (1..=21).contains(&opset.version),
            "ai.onnx.ml" => (1..=3).contains(&opset.version),
            _ => false,
        };
        if !supported {
            return Err(ImportError::Opset {
                domain: opset.domain.clone(),
                version: opset.version,
            });
        }
    }
    let graph = model.graph.as_ref().ok_or(ImportError::NoGraph)?;
    Planner::new(graph)?.plan(output)
}

/// A constant of the graph: its dimensions and numbers.
pub(crate) struct Constant {
    pub(crate) dims: Vec<i64>,
    pub(crate) numbers: Vec<f32>,
}

pub(crate) struct Planner<'g> {
    graph: &'g GraphProto,
    pub(crate) constants: HashMap<&'g str, Constant>,
    /// The node writing each value.
    writers: HashMap<&'g str, usize>,
    input_name: &'g str,
    input_width: usize,
}

impl<'g> Planner<'g> {
    fn new(graph: &'g GraphProto) -> Result<Self, ImportError> {
        if !graph.sparse_initializer.is_empty() {
            return Err(ImportError::Input {
                name: "sparse_initializer".into(),
                problem: "sparse initializers are not supported".into(),
            });
        }
        let mut constants = HashMap::new();
        for tensor in &graph.initializer {
            constants.insert(tensor.name.as_str(), constant(tensor)?);
        }
        let inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|input| !constants.contains_key(input.name.as_str()))
            .collect();
        let [input] = inputs.as_slice() else {
            let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
            return Err(ImportError::Inputs(names.join(", ")));
        };
        let problem = |problem: &str| ImportError::Input {
            name: input.name.clone(),
            problem: problem.into(),
        };
        let tensor = input
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .ok_or_else(|| problem("it is not a tensor"))?;
        if tensor.elem_type != data_type::FLOAT {
            return Err(problem(
                "its element type must be float (tensor(float)); convert with FloatTensorType",
            ));
        }
        let dims = tensor
            .shape
            .as_ref()
            .map(|shape| shape.dim.as_slice())
            .unwrap_or_default();
        let width = match dims {
            [_, last] => last.dim_value.filter(|w| *w > 0),
            _ => None,
        };
        let input_width = width.ok_or_else(|| {
            problem("its shape must be [N, columns] with a fixed number of columns")
        })? as usize;
        let mut writers = HashMap::new();
        for (index, node) in graph.node.iter().enumerate() {
            for output in &node.output {
                writers.insert(output.as_str(), index);
            }
        }
        Ok(Planner {
            graph,
            constants,
            writers,
            input_name: &input.name,
            input_width,
        })
    }

    /// The nodes `output` depends on, in graph order (ONNX requires topological order).
    fn needed(&self, output: &str) -> Result<Vec<usize>, ImportError> {
        let mut needed = vec![false; self.graph.node.len()];
        let mut pending = vec![output];
        while let Some(name) = pending.pop() {
            if name.is_empty() || name == self.input_name || self.constants.contains_key(name) {
                continue;
            }
            let node = *self
                .writers
                .get(name)
                .ok_or_else(|| ImportError::Undefined(name.into()))?;
            if !needed[node] {
                needed[node] = true;
                pending.extend(self.graph.node[node].input.iter().map(String::as_str));
            }
        }
        Ok((0..needed.len()).filter(|&i| needed[i]).collect())
    }

    fn plan(self, output: &str) -> Result<OwnedPlan, ImportError> {
        if !self.graph.output.iter().any(|o| o.name == output) {
            let known: Vec<&str> = self.graph.output.iter().map(|o| o.name.as_str()).collect();
            return Err(ImportError::NoOutput {
                name: output.into(),
                known: known.join(", "),
            });
        }
        // Value slots: 0 is the input; each node's used output gets the next.
        let mut slots: HashMap<&str, (usize, usize)> = HashMap::new();
        slots.insert(self.input_name, (0, self.input_width));
        let mut steps = Vec::new();
        let needed = self.needed(output)?;
        let read: HashSet<&str> = needed
            .iter()
            .flat_map(|&i| self.graph.node[i].input.iter().map(String::as_str))
            .chain([output])
            .collect();
        for index in needed {
            let node = &self.graph.node[index];
            let mut context = NodeContext {
                planner: &self,
                node,
                slots: &slots,
                read: &read,
            };
            let (written, width, step) = context.step(slots.len())?;
            slots.insert(written, (slots.len(), width));
            steps.push(step);
        }
        let &(slot, width) = slots
            .get(output)
            .ok_or_else(|| ImportError::Undefined(output.into()))?;
        Ok(OwnedPlan {
            input_name: self.input_name.into(),
            input_width: self.input_width,
            values: slots.len(),
            steps,
            output: slot,
            output_width: width,
        })
    }
}

fn constant(tensor: &TensorProto) -> Result<Constant, ImportError> {
    let problem = |problem: &str| ImportError::Input {
        name: tensor.name.clone(),
        problem: problem.into(),
    };
    if tensor.data_location != 0 {
        return Err(problem(
            "external data is not supported: save the model as one file",
        ));
    }
    let numbers: Vec<f32> = match tensor.data_type {
        data_type::FLOAT if !tensor.raw_data.is_empty() => tensor
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        data_type::FLOAT => tensor.float_data.clone(),
        data_type::INT64 if !tensor.raw_data.is_empty() => tensor
            .raw_data
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
            .collect(),
        data_type::INT64 => tensor.int64_data.iter().map(|&v| v as f32).collect(),
        data_type::INT32 => tensor.int32_data.iter().map(|&v| v as f32).collect(),
        data_type::DOUBLE => tensor.double_data.iter().map(|&v| v as f32).collect(),
        // Constants of other types (strings: class labels) are kept empty; a step that reads
        // one as numbers finds its element count wrong and is refused.
        data_type::STRING => Vec::new(),
        _ => return Err(problem("unsupported element type")),
    };
    Ok(Constant {
        dims: tensor.dims.clone(),
        numbers,
    })
}
