//! Server and model metadata.

use serde_json::{json, Value};

use crate::catalog::{Feature, ServedModel};
use crate::http::Response;

use super::datatype::Datatype;
use super::tensor::output_tensors;

pub fn server_metadata() -> Response {
    Response::json(
        200,
        &json!({
            "name": "healthcare-model-service",
            "version": env!("CARGO_PKG_VERSION"),
            "extensions": ["binary_tensor_data"],
        }),
    )
}

/// The model's inputs (one tensor per feature it declares, in the order of `known`, every served
/// model's features, so that a feature two models share is listed in the same place for both)
/// and its outputs.
pub fn model_metadata(model: ServedModel<'_>, known: &[Feature]) -> Response {
    let info = model.info();
    let inputs: Vec<Value> = known
        .iter()
        .filter_map(|feature| info.feature(&feature.name))
        .map(|feature| {
            json!({
                "name": feature.name,
                "datatype": Datatype::of(&feature.kind),
                "shape": [-1],
            })
        })
        .collect();
    let outputs: Vec<Value> = output_tensors(info)
        .into_iter()
        .map(|(name, datatype, _)| json!({"name": name, "datatype": datatype, "shape": [-1]}))
        .collect();
    Response::json(
        200,
        &json!({
            "name": info.name,
            "versions": [info.version],
            "platform": "wasm32-wasip2",
            "inputs": inputs,
            "outputs": outputs,
        }),
    )
}
