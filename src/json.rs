//! The JSON rules every request body follows, and the writer of values the hand-written
//! answers use ([`write_json`]).
//!
//! RFC 8259 leaves duplicate names to the parser, and serde_json keeps the last one: a body
//! `{"patient_data": {"x": 40, "x": 79, ...}}` would be scored as 79 without a word.
//! A request that says two things about one field is refused instead (400), anywhere in the
//! body. [`from_slice`] is the strict parser that says so (into a [`serde_json::Value`]).
//!
//! Bodies are read straight into typed values (`/predict`'s in `crate::predict::request`, the
//! inference protocol's in `crate::inference::request`, whose patients would otherwise become
//! thousands of `Value`s) and keep the same rule: the inference reader with [`MemberName`] and
//! [`SeenNames`], both reading the members they do not know with [`StrictValue`]; `/predict`
//! hands a body it cannot take to [`from_slice`] for the error.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The start of the error message for a duplicate member name (no name is echoed: a
/// client's member names are not ours to repeat).
pub const DUPLICATE_MEMBER: &str = "a member name appears twice in one object";

/// Whether a parse error of [`from_slice`] is a duplicate member name (serde_json files it as
/// a data error; its message starts with ours).
pub fn is_duplicate_member(error: &serde_json::Error) -> bool {
    error.classify() == serde_json::error::Category::Data
        && error.to_string().starts_with(DUPLICATE_MEMBER)
}

/// Appends `value` as serde_json writes it (numbers: shortest round trip, non-finite as `null`;
/// strings escaped), for the response writers that write the rest of a body by hand. Writing
/// to a `Vec` cannot fail, and the values written (numbers, strings, lists and the problem
/// types) always serialise.
pub fn write_json(out: &mut Vec<u8>, value: &(impl serde::Serialize + ?Sized)) {
    let _ = serde_json::to_writer(out, value);
}

/// Parses one JSON value, as `serde_json::from_slice`, but refuses duplicate member names.
pub fn from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(value) = StrictValue::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Any JSON value, read with duplicate member names refused at every depth.
pub struct StrictValue(pub Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

/// The visitor of [`StrictValue`], for typed readers that meet a value of the wrong shape and
/// must still read it strictly.
pub struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // serde_json yields only finite numbers, which Number::from_f64 always accepts.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(DUPLICATE_MEMBER));
            }
            let StrictValue(value) = map.next_value()?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

/// A member's name, read against the names a typed reader knows: the index of a known one
/// (nothing allocated), or any other name.
#[derive(Debug, PartialEq)]
pub enum MemberName {
    Known(usize),
    Other(String),
}

/// Reads a [`MemberName`] against these names.
pub struct NamesIn(pub &'static [&'static str]);

impl<'de> de::DeserializeSeed<'de> for NamesIn {
    type Value = MemberName;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<MemberName, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NamesIn {
    type Value = MemberName;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a member name")
    }

    fn visit_str<E>(self, name: &str) -> Result<MemberName, E> {
        Ok(match self.0.iter().position(|known| *known == name) {
            Some(index) => MemberName::Known(index),
            None => MemberName::Other(name.to_owned()),
        })
    }
}

/// The member names met so far in one object, so that a second one is refused as
/// [`from_slice`] refuses it.
#[derive(Default)]
pub struct SeenNames {
    /// Bit `i`: the known name at index `i` (readers know fewer than 64).
    known: u64,
    others: Vec<String>,
}

impl SeenNames {
    /// Notes `name`; an error when it was met before in this object.
    pub fn note<E: de::Error>(&mut self, name: &MemberName) -> Result<(), E> {
        let first_time = match name {
            MemberName::Known(index) => {
                let bit = 1u64 << (index % 64);
                let first = self.known & bit == 0;
                self.known |= bit;
                first
            }
            MemberName::Other(name) => {
                let first = !self.others.contains(name);
                if first {
                    self.others.push(name.clone());
                }
                first
            }
        };
        if first_time {
            Ok(())
        } else {
            Err(de::Error::custom(DUPLICATE_MEMBER))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_serde_json_parses() {
        let body = br#"{"a": [1, -2, 3.5, "x", true, null, {"b": {}}], "c": 18446744073709551615}"#;
        assert_eq!(
            from_slice(body).unwrap(),
            serde_json::from_slice::<Value>(body).unwrap()
        );
    }

    #[test]
    fn refuses_a_duplicate_member_at_any_depth_without_naming_it() {
        for body in [
            &br#"{"age": 40, "age": 79}"#[..],
            br#"{"patient_data": {"sex": "male", "sex": "female"}}"#,
            br#"{"instances": [{}, {"smoker": true, "smoker": false}]}"#,
        ] {
            let error = from_slice(body).unwrap_err();
            assert!(is_duplicate_member(&error), "{error}");
            let error = error.to_string();
            assert!(error.starts_with(DUPLICATE_MEMBER), "{error}");
            assert!(!error.contains("age") && !error.contains("sex") && !error.contains("smoker"));
        }
    }

    #[test]
    fn refuses_trailing_data_and_deep_nesting_as_serde_json_does() {
        assert!(from_slice(b"{} {}").is_err());
        assert!(!is_duplicate_member(&from_slice(b"{} {}").unwrap_err()));
        let deep = "[".repeat(10_000);
        assert!(from_slice(deep.as_bytes()).is_err());
    }
}
