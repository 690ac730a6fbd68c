//! The inference request body (the protocol's `$inference_request`) as typed values.
//!
//! The body is read once, straight into these types; the handlers then check meaning (tensor
//! names against the model's features, datatypes against feature kinds, sizes). A member of
//! the wrong JSON type does not fail the whole read: it becomes [`Member::Invalid`], so the
//! error can name the tensor and the member, as the protocol's clients expect, rather than
//! repeat serde's text, which quotes the value sent.
//!
//! Tensor data is read element by element into [`Element`]s, never into a tree of
//! `serde_json::Value`s: a 100-patient request to a model with 30 features holds 3,000 of
//! them, and building, moving and dropping that tree was most of the request's cost
//! (docs/performance.md). The rule of `crate::json` holds here too: a member name given twice
//! in one object, at any depth, refuses the body.

use std::fmt;

use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::datatype::Datatype;
use crate::json::{MemberName, NamesIn, SeenNames, StrictValue, StrictVisitor};

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

impl<'de, T: DeserializeOwned> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read whatever is there, then try it as T: a mismatch is the member's problem, not
        // the body's. (Only small members come this way; tensor data does not.)
        let StrictValue(value) = StrictValue::deserialize(deserializer)?;
        Ok(T::deserialize(value).map_or(Member::Invalid, Member::Valid))
    }
}

/// `POST /v2/models/{name}[/versions/{v}]/infer`'s JSON body (the JSON part, when binary
/// tensors follow it).
#[derive(Debug, Default)]
pub struct InferenceRequest {
    /// Echoed in the response; a fresh one when absent.
    pub id: Member<String>,
    pub parameters: Member<RequestParameters>,
    /// One tensor per patient field.
    pub inputs: Member<Vec<InputTensor>>,
    /// The outputs to return, and how; all of them in JSON when absent.
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
#[derive(Debug, Default)]
pub struct InputTensor {
    pub name: Member<String>,
    /// Dimensions; their product is the element count (a scalar has `[]`).
    pub shape: Member<Vec<u64>>,
    /// An unknown datatype name is [`Member::Invalid`].
    pub datatype: Member<Datatype>,
    pub parameters: Member<TensorParameters>,
    /// The elements in row-major order (`$tensor_data`, nested arrays or flat, flattened);
    /// their type depends on the datatype, so they are decoded against it (`tensor.rs`).
    pub data: Option<Vec<Element>>,
}

/// One element of a tensor's JSON data, as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    Number(f64),
    Flag(bool),
    Text(String),
    /// `null`: an element of no datatype (and, as the whole of `data`, no data).
    Null,
    /// An object: an element of no datatype.
    Other,
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
    /// Reads a JSON body; `Ok(None)` when it is JSON but not an object, an error when it is
    /// not JSON or names a member twice in one object.
    pub fn from_slice(bytes: &[u8]) -> serde_json::Result<Option<Self>> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let request = deserializer.deserialize_any(ObjectOr(RequestReader))?;
        deserializer.end()?;
        Ok(request)
    }

    /// Whether every output is to be binary unless it says otherwise.
    pub fn binary_data_output(&self) -> bool {
        self.parameters
            .valid()
            .and_then(|p| p.binary_data_output.valid().copied())
            .unwrap_or(false)
    }
}

/// Reads one JSON object into a value.
trait ObjectReader<'de> {
    type Object;
    fn read<A: MapAccess<'de>>(self, map: A) -> Result<Self::Object, A::Error>;
}

/// An object read by `R`, or `None` for any other JSON value (read strictly all the same).
struct ObjectOr<R>(R);

impl<'de, R: ObjectReader<'de>> Visitor<'de> for ObjectOr<R> {
    type Value = Option<R::Object>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.read(map).map(Some)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        StrictVisitor.visit_seq(seq).map(|_| None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

impl<'de, R: ObjectReader<'de>> DeserializeSeed<'de> for ObjectOr<R> {
    type Value = Option<R::Object>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Reads the members of an object named in `names` with `read_known`, each at most once, and
/// any other member strictly, to drop it.
fn read_members<'de, A: MapAccess<'de>>(
    mut map: A,
    names: &'static [&'static str],
    mut read_known: impl FnMut(usize, &mut A) -> Result<(), A::Error>,
) -> Result<(), A::Error> {
    let mut seen = SeenNames::default();
    while let Some(name) = map.next_key_seed(NamesIn(names))? {
        seen.note(&name)?;
        match name {
            MemberName::Known(index) => read_known(index, &mut map)?,
            MemberName::Other(_) => {
                map.next_value::<StrictValue>()?;
            }
        }
    }
    Ok(())
}

struct RequestReader;

impl<'de> ObjectReader<'de> for RequestReader {
    type Object = InferenceRequest;

    fn read<A: MapAccess<'de>>(self, map: A) -> Result<InferenceRequest, A::Error> {
        let mut request = InferenceRequest::default();
        read_members(
            map,
            &["id", "parameters", "inputs", "outputs"],
            |index, map| {
                match index {
                    0 => request.id = map.next_value()?,
                    1 => request.parameters = map.next_value()?,
                    2 => request.inputs = map.next_value_seed(TensorList)?,
                    _ => request.outputs = map.next_value()?,
                }
                Ok(())
            },
        )?;
        Ok(request)
    }
}

/// `inputs`: an array of tensor objects, or [`Member::Invalid`] when it is not one.
struct TensorList;

impl<'de> DeserializeSeed<'de> for TensorList {
    type Value = Member<Vec<InputTensor>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TensorList {
    type Value = Member<Vec<InputTensor>>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an array of tensors")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut tensors = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        let mut all_objects = true;
        while let Some(tensor) = seq.next_element_seed(ObjectOr(TensorReader))? {
            match tensor {
                Some(tensor) => tensors.push(tensor),
                None => all_objects = false,
            }
        }
        Ok(if all_objects {
            Member::Valid(tensors)
        } else {
            Member::Invalid
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        StrictVisitor.visit_map(map).map(|_| Member::Invalid)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Member::Invalid)
    }
}

struct TensorReader;

impl<'de> ObjectReader<'de> for TensorReader {
    type Object = InputTensor;

    fn read<A: MapAccess<'de>>(self, map: A) -> Result<InputTensor, A::Error> {
        let mut tensor = InputTensor::default();
        read_members(
            map,
            &["name", "shape", "datatype", "parameters", "data"],
            |index, map| {
                match index {
                    0 => tensor.name = map.next_value()?,
                    1 => tensor.shape = map.next_value()?,
                    2 => tensor.datatype = map.next_value()?,
                    3 => tensor.parameters = map.next_value()?,
                    _ => tensor.data = map.next_value_seed(TensorData)?,
                }
                Ok(())
            },
        )?;
        Ok(tensor)
    }
}

/// A tensor's `data`: its elements, or `None` for `null` (as if absent).
struct TensorData;

impl<'de> DeserializeSeed<'de> for TensorData {
    type Value = Option<Vec<Element>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        // `deserialize_option` tells a `null` member (no data) from `[null]` (an element).
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for TensorData {
    type Value = Option<Vec<Element>>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("tensor data")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let mut elements = Vec::new();
        deserializer.deserialize_any(Flatten(&mut elements))?;
        Ok(Some(elements))
    }
}

/// Appends a tensor's elements in row-major order, whatever the nesting of its arrays.
struct Flatten<'a>(&'a mut Vec<Element>);

impl<'de> DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("tensor data")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Flatten(self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        StrictVisitor.visit_map(map)?;
        self.0.push(Element::Other);
        Ok(())
    }

    fn visit_bool<E>(self, flag: bool) -> Result<(), E> {
        self.0.push(Element::Flag(flag));
        Ok(())
    }

    fn visit_i64<E>(self, number: i64) -> Result<(), E> {
        self.0.push(Element::Number(number as f64));
        Ok(())
    }

    fn visit_u64<E>(self, number: u64) -> Result<(), E> {
        self.0.push(Element::Number(number as f64));
        Ok(())
    }

    fn visit_f64<E>(self, number: f64) -> Result<(), E> {
        self.0.push(Element::Number(number));
        Ok(())
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        self.0.push(Element::Text(text.to_owned()));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.push(Element::Null);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn read(body: Value) -> InferenceRequest {
        InferenceRequest::from_slice(body.to_string().as_bytes())
            .expect("JSON")
            .expect("an object")
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
        assert_eq!(inputs[0].data, None);
        assert_eq!(
            inputs[1].data,
            Some(vec![Element::Text("x".into()), Element::Text("y".into())])
        );
        let outputs = request.outputs.valid().expect("outputs");
        assert_eq!(outputs[0].binary_data(), Some(false));
    }

    #[test]
    fn tensor_data_is_flattened_row_major_whatever_its_nesting() {
        let request = read(json!({"inputs": [
            {"name": "a", "data": [[1, -2], [2.5, [true]], null, {"x": 1}, "t"]},
            {"name": "b", "data": 7}
        ]}));
        let inputs = request.inputs.valid().expect("inputs");
        assert_eq!(
            inputs[0].data,
            Some(vec![
                Element::Number(1.0),
                Element::Number(-2.0),
                Element::Number(2.5),
                Element::Flag(true),
                Element::Null,
                Element::Other,
                Element::Text("t".into()),
            ])
        );
        assert_eq!(inputs[1].data, Some(vec![Element::Number(7.0)]));
        let request = read(json!({"inputs": [{"name": "a", "data": null}, {"data": [null]}]}));
        let inputs = request.inputs.valid().expect("inputs");
        assert_eq!(inputs[0].data, None, "null data is no data");
        assert_eq!(inputs[1].data, Some(vec![Element::Null]));
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
        for inputs in [json!({"a": 1}), json!([{}, 3]), json!("x"), json!(null)] {
            let request = read(json!({ "inputs": inputs }));
            assert!(matches!(request.inputs, Member::Invalid), "{inputs}");
        }
    }

    #[test]
    fn absent_members_are_absent_and_a_non_object_is_no_request() {
        let request = read(json!({}));
        assert!(matches!(
            (&request.inputs, &request.outputs),
            (Member::Absent, Member::Absent)
        ));
        assert!(!request.binary_data_output());
        for body in [&b"[]"[..], b"3", b"\"x\"", b"null", b"[{}]"] {
            assert!(InferenceRequest::from_slice(body).expect("JSON").is_none());
        }
        let overflow = read(json!({"inputs": [{"shape": [u64::MAX, 2]}]}));
        assert_eq!(
            overflow.inputs.valid().expect("inputs")[0].element_count(),
            None
        );
    }

    #[test]
    fn a_member_name_twice_in_one_object_refuses_the_body_at_any_depth() {
        for body in [
            &br#"{"inputs": [], "inputs": []}"#[..],
            br#"{"inputs": [{"name": "a", "name": "b"}]}"#,
            br#"{"inputs": [{"data": [{"x": 1, "x": 2}]}]}"#,
            br#"{"inputs": [{"extra": 1, "extra": 2}]}"#,
            br#"{"inputs": {"a": 1, "a": 2}}"#,
            br#"{"other": {"a": 1, "a": 2}}"#,
            br#"{"parameters": {"binary_data_output": true, "binary_data_output": false}}"#,
            br#"[{"a": 1, "a": 2}]"#,
        ] {
            let error = InferenceRequest::from_slice(body).expect_err("refused");
            assert!(crate::json::is_duplicate_member(&error), "{error}");
        }
        assert!(InferenceRequest::from_slice(br#"{"inputs": [] } x"#).is_err());
        assert!(InferenceRequest::from_slice(b"{").is_err());
    }
}
