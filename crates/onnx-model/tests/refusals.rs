//! What the build step refuses, and how it says so: every message names the node and the
//! operator, the input, or the output.

#![cfg(feature = "import")]

use onnx_model::import::proto::{
    data_type, AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    TensorProto, TensorShapeProto, TensorTypeProto, TypeProto, ValueInfoProto,
};
use onnx_model::import::{import, ImportError};
use prost::Message;

fn value(name: &str, width: Option<i64>) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: vec![
                        Dimension {
                            dim_value: None,
                            dim_param: Some("N".into()),
                        },
                        Dimension {
                            dim_value: width,
                            dim_param: None,
                        },
                    ],
                }),
            }),
        }),
    }
}

fn node(name: &str, op: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|i| (*i).into()).collect(),
        output: vec![output.into()],
        name: name.into(),
        op_type: op.into(),
        ..NodeProto::default()
    }
}

fn matrix(name: &str, rows: i64, cols: i64) -> TensorProto {
    TensorProto {
        dims: vec![rows, cols],
        data_type: data_type::FLOAT,
        float_data: vec![0.5; (rows * cols) as usize],
        name: name.into(),
        ..TensorProto::default()
    }
}

/// A model: input `x` of `width` columns, these nodes and initializers, output `y`.
fn model(width: Option<i64>, nodes: Vec<NodeProto>, initializers: Vec<TensorProto>) -> Vec<u8> {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 18,
        }],
        graph: Some(GraphProto {
            node: nodes,
            name: "test".into(),
            initializer: initializers,
            input: vec![value("x", width)],
            output: vec![value("y", None)],
            ..GraphProto::default()
        }),
        ..ModelProto::default()
    }
    .encode_to_vec()
}

#[test]
fn an_unsupported_operator_is_refused_naming_the_node_and_the_operator() {
    let bytes = model(
        Some(3),
        vec![
            node("hidden", "MatMul", &["x", "w"], "h"),
            node("probabilities_softmax", "Softmax", &["h"], "y"),
        ],
        vec![matrix("w", 3, 2)],
    );
    let error = import(&bytes, "y").unwrap_err();
    assert!(matches!(&error, ImportError::Unsupported { node, op, .. }
        if node == "probabilities_softmax" && op == "Softmax"));
    let message = error.to_string();
    assert!(message.starts_with("node probabilities_softmax (operator Softmax): operator not supported (supported: Add,"), "{message}");
}

#[test]
fn an_unsupported_operator_the_output_does_not_need_is_not_refused() {
    let bytes = model(
        Some(3),
        vec![
            node("hidden", "MatMul", &["x", "w"], "y"),
            node("label", "ArgMax", &["y"], "label"),
        ],
        vec![matrix("w", 3, 2)],
    );
    let plan = import(&bytes, "y").unwrap();
    assert_eq!(plan.output_width, 2);
}

#[test]
fn a_shape_mismatch_is_refused_naming_the_node_and_the_shapes() {
    let bytes = model(
        Some(4),
        vec![node("hidden", "MatMul", &["x", "w"], "y")],
        vec![matrix("w", 3, 2)],
    );
    let error = import(&bytes, "y").unwrap_err().to_string();
    assert_eq!(
        error,
        "node hidden (operator MatMul): a row of 4 numbers cannot multiply a 3 × 2 matrix"
    );
}

#[test]
fn an_input_without_a_fixed_number_of_columns_is_refused() {
    let bytes = model(None, vec![node("same", "Identity", &["x"], "y")], vec![]);
    let error = import(&bytes, "y").unwrap_err().to_string();
    assert_eq!(
        error,
        "input x: its shape must be [N, columns] with a fixed number of columns"
    );
}

#[test]
fn an_output_the_graph_does_not_have_is_refused_listing_those_it_has() {
    let bytes = model(Some(2), vec![node("same", "Identity", &["x"], "y")], vec![]);
    let error = import(&bytes, "probabilities").unwrap_err().to_string();
    assert_eq!(
        error,
        "the graph has no output named probabilities (outputs: y)"
    );
}

#[test]
fn a_cast_to_integers_on_the_way_is_refused() {
    let mut cast = node("to_int", "Cast", &["x"], "y");
    cast.attribute.push(AttributeProto {
        name: "to".into(),
        i: i64::from(data_type::INT64),
        ..AttributeProto::default()
    });
    let error = import(&model(Some(2), vec![cast], vec![]), "y")
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "node to_int (operator Cast): only a cast to float is supported"
    );
}

#[test]
fn bytes_that_are_not_onnx_are_refused() {
    let error = import(b"not a model at all", "y").unwrap_err();
    assert!(matches!(error, ImportError::Decode(_)), "{error}");
}
