//! A user's trained ONNX model as a tabular clinical model.
//!
//! - [`plan`]: what a model component evaluates, as borrowed static data;
//! - [`eval`]: the evaluator, exact to onnxruntime's CPU kernels for the supported operators;
//! - `import` (feature `import`, native build step only): reads an ONNX file, refuses every
//!   operator, input or shape it cannot evaluate exactly, and builds the plan.

pub mod eval;
pub mod plan;

#[cfg(feature = "import")]
pub mod import;
