//! The inference request body (the protocol's `$inference_request`) as serde types.
//!
//! serde reads the shape of the body once, into these types; the handlers then check meaning
//! (tensor names against the model's features, datatypes against feature kinds, sizes). A
//! member of the wrong JSON type does not fail the whole parse: it becomes
//! [`Member::Invalid`], so the error can name the tensor and the member, as the protocol's
//! clients expect, rather than repeat serde's text, which quotes the value sent.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::datatype::Datatype;

/// One member of a JSON object: absent, present but not of its type, or read.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Member<T> {
    #[default]
    Absent,
    Invalid,
    Valid(T),
}

impl<T> Member<T> {
    /// The value, when present and of its type.
    pub fn valid(&self) -> Option<&T> {
        match self {
            Member::Valid(value) => Some(value),
            Member::Absent | Member::Invalid => None,
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read whatever is there, then try it as T: a mismatch is the member's problem, not
        // the body's.
        let value = Value::deserialize(deserializer)?;
        Ok(T::deserialize(value).map_or(Member::Invalid, Member::Valid))
    }
}

/// `POST /v2/models/{name}[/versions/{v}]/infer`'s JSON body (the JSON part, when binary
/// tensors follow it).
#[derive(Debug, Deserialize)]
pub struct InferenceRequest {
    /// Echoed in the response; a fresh one when absent.
    #[serde(default)]
    pub id: Member<String>,
    #[serde(default)]
    pub parameters: Member<RequestParameters>,
    /// One tensor per patient field.
    #[serde(default)]
    pub inputs: Member<Vec<InputTensor>>,
    /// The outputs to return, and how; all of them in JSON when absent.
    #[serde(default)]
    pub outputs: Member<Vec<RequestedOutput>>,
}

/// The request's `parameters` this service reads (the binary data extension's).
#[derive(Debug, Default, Deserialize)]
pub struct RequestParameters {
    /// Every output as binary data unless an output says otherwise.
    #[serde(default)]
    pub binary_data_output: Member<bool>,
}

/// One input tensor (`$request_input`).
#[derive(Debug, Deserialize)]
pub struct InputTensor {
    #[serde(default)]
    pub name: Member<String>,
    /// Dimensions; their product is the element count (a scalar has `[]`).
    #[serde(default)]
    pub shape: Member<Vec<u64>>,
    /// An unknown datatype name is [`Member::Invalid`].
    #[serde(default)]
    pub datatype: Member<Datatype>,
    #[serde(default)]
    pub parameters: Member<TensorParameters>,
    /// The elements in row-major order, as nested arrays or flat (`$tensor_data`); their type
    /// depends on the datatype, so they are decoded against it (`tensor.rs`).
    #[serde(default)]
    pub data: Option<Value>,
}

impl InputTensor {
    /// How many elements the shape says; `None` for a missing or unusable shape.
    pub fn element_count(&self) -> Option<usize> {
        self.shape.valid()?.iter().try_fold(1usize, |count, &dim| {
            count.checked_mul(usize::try_from(dim).ok()?)
        })
    }

    /// The size of its binary data after the JSON part, when it has some.
    pub fn binary_data_size(&self) -> &Member<u64> {
        match &self.parameters {
            Member::Valid(parameters) => &parameters.binary_data_size,
            Member::Absent | Member::Invalid => &Member::Absent,
        }
    }
}

/// The parameters of one tensor this service reads.
#[derive(Debug, Default, Deserialize)]
pub struct TensorParameters {
    /// Bytes of this tensor in the binary part of the body.
    #[serde(default)]
    pub binary_data_size: Member<u64>,
    /// For a requested output: whether to return it as binary data.
    #[serde(default)]
    pub binary_data: Member<bool>,
}

/// One requested output (`$request_output`).
#[derive(Debug, Deserialize)]
pub struct RequestedOutput {
    #[serde(default)]
    pub name: Member<String>,
    #[serde(default)]
    pub parameters: Member<TensorParameters>,
}

impl RequestedOutput {
    /// Whether it asked for binary data; `None` when it did not say.
    pub fn binary_data(&self) -> Option<bool> {
        self.parameters.valid()?.binary_data.valid().copied()
    }
}

impl InferenceRequest {
    /// Reads a parsed JSON body; `None` when it is not a JSON object.
    pub fn from_json(body: Value) -> Option<Self> {
        match body {
            Value::Object(_) => serde_json::from_value(body).ok(),
            _ => None,
        }
    }

    /// Whether every output is to be binary unless it says otherwise.
    pub fn binary_data_output(&self) -> bool {
        self.parameters
            .valid()
            .and_then(|p| p.binary_data_output.valid().copied())
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: Value) -> InferenceRequest {
        InferenceRequest::from_json(body).expect("an object")
    }

    #[test]
    fn a_tritonclient_request_reads_into_the_types() {
        let request = read(json!({
            "id": "42",
            "parameters": {"binary_data_output": true},
            "inputs": [
                {"name": "a", "shape": [2, 1], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
                {"name": "b", "shape": [2], "datatype": "BYTES", "data": ["x", "y"]}
            ],
            "outputs": [{"name": "risk", "parameters": {"binary_data": false}}]
        }));
        assert_eq!(request.id, Member::Valid("42".to_owned()));
        assert!(request.binary_data_output());
        let inputs = request.inputs.valid().expect("inputs");
        assert_eq!(inputs[0].datatype, Member::Valid(Datatype::Fp32));
        assert_eq!(inputs[0].element_count(), Some(2));
        assert_eq!(inputs[0].binary_data_size(), &Member::Valid(8));
        assert_eq!(inputs[1].data, Some(json!(["x", "y"])));
        let outputs = request.outputs.valid().expect("outputs");
        assert_eq!(outputs[0].binary_data(), Some(false));
    }

    #[test]
    fn a_member_of_the_wrong_type_is_invalid_not_a_failed_parse() {
        let request = read(json!({
            "id": 7,
            "inputs": [{"name": 1, "shape": [-1], "datatype": "FP128", "parameters": {"binary_data_size": "x"}}],
            "outputs": "risk"
        }));
        assert_eq!(request.id, Member::Invalid);
        let input = &request.inputs.valid().expect("inputs")[0];
        assert_eq!(input.name, Member::Invalid);
        assert_eq!(input.shape, Member::Invalid);
        assert_eq!(input.element_count(), None);
        assert_eq!(input.datatype, Member::Invalid);
        assert_eq!(input.binary_data_size(), &Member::Invalid);
        assert!(matches!(request.outputs, Member::Invalid));
    }

    #[test]
    fn absent_members_are_absent_and_a_non_object_is_no_request() {
        let request = read(json!({}));
        assert!(matches!(
            (&request.inputs, &request.outputs),
            (Member::Absent, Member::Absent)
        ));
        assert!(!request.binary_data_output());
        assert!(InferenceRequest::from_json(json!([])).is_none());
        let overflow = read(json!({"inputs": [{"shape": [u64::MAX, 2]}]}));
        assert_eq!(
            overflow.inputs.valid().expect("inputs")[0].element_count(),
            None
        );
    }
}
