//! A user's trained ONNX model as a tabular clinical model.
//!
//! - [`plan`]: what a model component evaluates, as borrowed static data;
//! - [`eval`]: the evaluator, exact to onnxruntime's CPU kernels for the supported operators;
//! - [`served`]: the model behind the model contract (`risk_models::TabularModel`);
//! - `build` (feature `import`): the build step, from `model.toml` and `model.onnx` to the
//!   Rust source of a model component;
//! - `description` (feature `import`): the `model.toml` a user writes next to the model;
//! - `import` (feature `import`, native build step only): reads an ONNX file, refuses every
//!   operator, input or shape it cannot evaluate exactly, and builds the plan.

pub mod eval;
pub mod plan;
pub mod served;

#[cfg(feature = "import")]
pub mod build;
#[cfg(feature = "import")]
pub mod description;
#[cfg(feature = "import")]
pub mod import;
