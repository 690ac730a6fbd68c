//! A user's trained ONNX model as a model component: the plan and the description the build
//! step wrote (`build.rs`, from the `model.toml` named by `ONNX_MODEL`) behind the model contract.
//! Everything is static data: an instance finds the model ready at its first instruction.

/// What the build step wrote: `PLAN`, `INPUTS`, `describe()` and `MODEL`.
pub mod generated {
    #[allow(unused_imports)]
    use onnx_model::plan::{
        Aggregate, BinaryOp, Linear, NodeMode, Operand, Plan, PostTransform, Step, Trees,
        TreesKind, UnaryOp,
    };
    #[allow(unused_imports)]
    use onnx_model::served::{Encoding, Input, OnnxModel};
    #[allow(unused_imports)]
    use risk_models::description::{
        Categories, Category, Feature, FeatureKind, ModelDescription, NumberFeature, Output,
        OutputKind,
    };

    include!(concat!(env!("OUT_DIR"), "/model.rs"));
}

model_component::model_component!(generated::MODEL);
