//! `/predict`'s body read in one pass into typed values, never into a tree of
//! `serde_json::Value`s.
//!
//! Why: a 1,000-patient batch is 10,000 values or more; building that tree (a map and a string
//! per member name, per patient), reading it and dropping it was a fifth of the request's work
//! natively and more inside the component (docs/performance.md). Here a member name borrows
//! the body wherever it has no escape, and a patient is one small vector of its members.
//!
//! The body's rules stay those of [`crate::json::from_slice`]: a member name given twice in one
//! object, at any depth, refuses the body. Any body this reader cannot take is handed back to
//! [`crate::json::from_slice`] by the caller, so that a malformed body is answered with exactly
//! the error, line and column the strict parser gives.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json::{StrictValue, StrictVisitor, DUPLICATE_MEMBER};
use crate::patient::Given;

/// A `/predict` body that is a JSON object: its three known members, each as sent, and the
/// names of any others.
#[derive(Debug, Default)]
pub struct PredictRequest<'b> {
    pub model: Option<ModelMember<'b>>,
    pub patient_data: Option<PatientObject<'b>>,
    pub instances: Option<Instances<'b>>,
    /// Member names the contract does not have, in the order a sorted map would give them
    /// (the order the errors list them in).
    pub unknown: Vec<String>,
}

/// The body as read: an object, or any other JSON value (refused by the caller).
#[derive(Debug)]
pub enum Body<'b> {
    Object(PredictRequest<'b>),
    NotAnObject,
}

/// `model`: `null`, a name, or a value of another type.
#[derive(Debug, PartialEq)]
pub enum ModelMember<'b> {
    Null,
    Name(Cow<'b, str>),
    NotAName,
}

/// `instances`: an array of patients, or a value of another type.
#[derive(Debug)]
pub enum Instances<'b> {
    List(Vec<PatientObject<'b>>),
    NotAList,
}

/// One patient: an object's members in the order a sorted map would give them, or a value of
/// another type.
#[derive(Debug)]
pub enum PatientObject<'b> {
    Members(Vec<(Cow<'b, str>, Scalar<'b>)>),
    NotAnObject,
}

/// A patient member's value as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'b> {
    Null,
    Number(f64),
    Boolean(bool),
    Text(Cow<'b, str>),
    /// An array or an object: wrong for every feature kind.
    Other,
}

impl Scalar<'_> {
    /// The value for the patient's feature check; `None` for `null`, which means absent.
    pub fn given(&self) -> Option<Given<'_>> {
        match self {
            Scalar::Null => None,
            Scalar::Number(number) => Some(Given::Number(*number)),
            Scalar::Boolean(flag) => Some(Given::Boolean(*flag)),
            Scalar::Text(text) => Some(Given::Text(text)),
            Scalar::Other => Some(Given::Other),
        }
    }
}

/// Reads `body`; an error when it is not one JSON value this reader accepts (malformed, a
/// member name twice, trailing data, too deep), for the strict parser to say where.
pub fn read(body: &[u8]) -> serde_json::Result<Body<'_>> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let node = Reader(Expect::Body).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(match node {
        Node::Request(request) => Body::Object(request),
        _ => Body::NotAnObject,
    })
}

/// Top-level members a `/predict` body may have. Anything else is refused (by the caller), so
/// that a typo (`patient` for `patient_data`) is not silently ignored.
const MEMBERS: [&str; 3] = ["model", "patient_data", "instances"];

/// What the reader expects where it is: the body, a patient, the list of patients, or any
/// value (a patient member's, `model`'s, an unknown member's).
#[derive(Clone, Copy)]
enum Expect {
    Body,
    Patient,
    Instances,
    Value,
}

/// A value as read where [`Expect`] says. One visitor for every place, rather than one per
/// place: serde_json compiles its whole value parser (numbers included) once per visitor type,
/// and the component's size is a budget.
enum Node<'de> {
    Request(PredictRequest<'de>),
    Patient(Vec<(Cow<'de, str>, Scalar<'de>)>),
    Patients(Vec<PatientObject<'de>>),
    Scalar(Scalar<'de>),
}

impl<'de> Node<'de> {
    fn patient(self) -> PatientObject<'de> {
        match self {
            Node::Patient(members) => PatientObject::Members(members),
            _ => PatientObject::NotAnObject,
        }
    }

    fn scalar(self) -> Scalar<'de> {
        match self {
            Node::Scalar(scalar) => scalar,
            _ => Scalar::Other,
        }
    }
}

struct Reader(Expect);

impl<'de> DeserializeSeed<'de> for Reader {
    type Value = Node<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Reader {
    type Value = Node<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        match self.0 {
            Expect::Body => read_request(map).map(Node::Request),
            Expect::Patient => read_patient(map).map(Node::Patient),
            Expect::Instances | Expect::Value => StrictVisitor
                .visit_map(map)
                .map(|_| Node::Scalar(Scalar::Other)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Expect::Instances = self.0 else {
            return StrictVisitor
                .visit_seq(seq)
                .map(|_| Node::Scalar(Scalar::Other));
        };
        let mut patients = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(patient) = seq.next_element_seed(Reader(Expect::Patient))? {
            patients.push(patient.patient());
        }
        Ok(Node::Patients(patients))
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Self::Value, E> {
        Ok(Node::Scalar(Scalar::Boolean(flag)))
    }

    // As `serde_json::Number::as_f64` reads them: the same number the tree gave.
    fn visit_i64<E>(self, number: i64) -> Result<Self::Value, E> {
        Ok(Node::Scalar(Scalar::Number(number as f64)))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Self::Value, E> {
        Ok(Node::Scalar(Scalar::Number(number as f64)))
    }

    fn visit_f64<E>(self, number: f64) -> Result<Self::Value, E> {
        Ok(Node::Scalar(Scalar::Number(number)))
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Node::Scalar(Scalar::Text(Cow::Borrowed(text))))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Node::Scalar(Scalar::Text(Cow::Owned(text.to_owned()))))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Node::Scalar(Scalar::Null))
    }
}

/// The body's members; a known one twice, or another one twice, refuses the body.
fn read_request<'de, A: MapAccess<'de>>(mut map: A) -> Result<PredictRequest<'de>, A::Error> {
    let mut request = PredictRequest::default();
    while let Some(name) = map.next_key_seed(Name)? {
        match MEMBERS.iter().position(|known| *known == name) {
            Some(0) if request.model.is_none() => {
                let model = match map.next_value_seed(Reader(Expect::Value))?.scalar() {
                    Scalar::Null => ModelMember::Null,
                    Scalar::Text(name) => ModelMember::Name(name),
                    _ => ModelMember::NotAName,
                };
                request.model = Some(model);
            }
            Some(1) if request.patient_data.is_none() => {
                let patient = map.next_value_seed(Reader(Expect::Patient))?;
                request.patient_data = Some(patient.patient());
            }
            Some(2) if request.instances.is_none() => {
                let instances = match map.next_value_seed(Reader(Expect::Instances))? {
                    Node::Patients(patients) => Instances::List(patients),
                    _ => Instances::NotAList,
                };
                request.instances = Some(instances);
            }
            None if !request.unknown.iter().any(|seen| *seen == name) => {
                // In order, as the errors list them (rare: a plain search will do).
                let at = request
                    .unknown
                    .iter()
                    .filter(|seen| seen.as_str() < name.as_ref())
                    .count();
                map.next_value::<StrictValue>()?;
                request.unknown.insert(at, name.into_owned());
            }
            _ => return Err(de::Error::custom(DUPLICATE_MEMBER)),
        }
    }
    Ok(request)
}

/// A patient object's members, in a sorted map's order (the order the errors list them in).
fn read_patient<'de, A: MapAccess<'de>>(
    mut map: A,
) -> Result<Vec<(Cow<'de, str>, Scalar<'de>)>, A::Error> {
    let mut members: Vec<(Cow<'de, str>, Scalar<'de>)> = Vec::with_capacity(16);
    while let Some(name) = map.next_key_seed(Name)? {
        let at = sorted_place(&members, &name)?;
        let value = map.next_value_seed(Reader(Expect::Value))?.scalar();
        members.insert(at, (name, value));
    }
    Ok(members)
}

/// Where `name` goes in `members` (in name order), or the error for a name met twice. An
/// insertion per member rather than a sort at the end: objects are small, and the standard
/// sorts would cost the component 9 KB.
fn sorted_place<E: de::Error>(
    members: &[(Cow<'_, str>, Scalar<'_>)],
    name: &str,
) -> Result<usize, E> {
    let at = members.partition_point(|(member, _)| member.as_ref() < name);
    match members.get(at) {
        Some((member, _)) if member == name => Err(E::custom(DUPLICATE_MEMBER)),
        _ => Ok(at),
    }
}

/// A member name, borrowed from the body when it has no escape.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(text))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(body: &str) -> PredictRequest<'_> {
        match read(body.as_bytes()) {
            Ok(Body::Object(request)) => request,
            other => panic!("not an object: {other:?}"),
        }
    }

    fn members<'a>(patient: &'a PatientObject<'_>) -> Vec<(&'a str, &'a Scalar<'a>)> {
        match patient {
            PatientObject::Members(members) => {
                members.iter().map(|(n, v)| (n.as_ref(), v)).collect()
            }
            PatientObject::NotAnObject => panic!("not an object"),
        }
    }

    #[test]
    fn reads_members_in_sorted_order_with_the_numbers_serde_json_gives() {
        let body = r#"{"patient_data": {"b": 40, "a": -2, "c\u0041": "x", "d": null,
            "e": [1, {"f": 2}], "g": true, "h": 1.5e3, "i": 18446744073709551615},
            "model": "m", "zeta": 1, "alpha": {}}"#;
        let request = object(body);
        assert_eq!(request.model, Some(ModelMember::Name(Cow::Borrowed("m"))));
        assert_eq!(request.unknown, ["alpha", "zeta"]);
        let tree: serde_json::Value = serde_json::from_str(body).unwrap();
        let patient = request.patient_data.as_ref().unwrap();
        let names: Vec<&str> = members(patient).iter().map(|(n, _)| *n).collect();
        let expected: Vec<&String> = tree["patient_data"].as_object().unwrap().keys().collect();
        assert_eq!(names, expected);
        for (name, value) in members(patient) {
            let want = &tree["patient_data"][name];
            match value {
                Scalar::Number(n) => assert_eq!(Some(*n), want.as_f64(), "{name}"),
                Scalar::Text(t) => assert_eq!(Some(t.as_ref()), want.as_str()),
                Scalar::Boolean(b) => assert_eq!(Some(*b), want.as_bool()),
                Scalar::Null => assert!(want.is_null()),
                Scalar::Other => assert!(want.is_array() || want.is_object()),
            }
        }
    }

    #[test]
    fn values_of_other_types_are_kept_as_such() {
        let request = object(r#"{"model": 3, "patient_data": [], "instances": {"a": 1}}"#);
        assert_eq!(request.model, Some(ModelMember::NotAName));
        assert!(matches!(
            request.patient_data,
            Some(PatientObject::NotAnObject)
        ));
        assert!(matches!(request.instances, Some(Instances::NotAList)));
        let request = object(r#"{"model": null, "instances": [{}, 1, null]}"#);
        assert_eq!(request.model, Some(ModelMember::Null));
        let Some(Instances::List(patients)) = request.instances else {
            panic!("not a list")
        };
        assert!(matches!(patients[0], PatientObject::Members(ref m) if m.is_empty()));
        assert!(matches!(patients[1], PatientObject::NotAnObject));
        assert!(matches!(patients[2], PatientObject::NotAnObject));
        assert!(matches!(read(b"[1, 2]"), Ok(Body::NotAnObject)));
        assert!(matches!(read(b"\"x\""), Ok(Body::NotAnObject)));
    }

    #[test]
    fn leaves_to_the_strict_parser_what_it_refuses() {
        for body in [
            &br#"{"model": "a", "model": "b"}"#[..],
            br#"{"x": 1, "x": 2}"#,
            br#"{"patient_data": {"age": 40, "age": 41}}"#,
            br#"{"instances": [{}, {"a": {"b": 1, "b": 2}}]}"#,
            br#"{"patient_data": {}"#,
            b"{} {}",
            b"",
        ] {
            assert!(read(body).is_err(), "{}", String::from_utf8_lossy(body));
            assert!(crate::json::from_slice(body).is_err());
        }
        let deep = format!("{{\"x\": {}", "[".repeat(200));
        assert!(read(deep.as_bytes()).is_err());
    }
}
