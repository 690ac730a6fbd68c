//! Server and model metadata.

use risk_models::Field;
use serde_json::{json, Value};

use crate::catalog::ServedModel;
use crate::http::Response;

use super::datatype::Datatype;
use super::tensor::output_names;

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

/// Inputs the model reads, plus `cholesterol_unit`, which applies to every model.
pub fn input_fields(model: ServedModel<'_>) -> impl Iterator<Item = Field> + '_ {
    Field::ALL.into_iter().filter(move |&field| {
        model.info().input(field).is_some() || field == Field::CholesterolUnit
    })
}

pub fn model_metadata(model: ServedModel<'_>) -> Response {
    let info = model.info();
    let inputs: Vec<Value> = input_fields(model)
        .map(|field| {
            json!({
                "name": field.name(),
                "datatype": Datatype::of(field.kind()),
                "shape": [-1],
            })
        })
        .collect();
    let outputs: Vec<Value> = output_names(info)
        .map(|(name, datatype)| json!({"name": name, "datatype": datatype, "shape": [-1]}))
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
