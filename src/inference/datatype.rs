//! The protocol's tensor datatypes, parsed once from their names (`"FP64"`, `"BYTES"`, ...)
//! rather than compared as strings wherever a tensor is read or written.

use crate::catalog::FeatureKind;
use serde::{Deserialize, Serialize};

/// A tensor element type of the Open Inference Protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Datatype {
    Bool,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Int8,
    Int16,
    Int32,
    Int64,
    Fp16,
    Fp32,
    Fp64,
    /// Length-prefixed byte strings (UTF-8 text here).
    Bytes,
}

impl std::fmt::Display for Datatype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Datatype {
    /// The datatype named `name`; `None` for a name the protocol does not define.
    pub fn parse(name: &str) -> Option<Self> {
        Datatype::deserialize(
            serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name),
        )
        .ok()
    }

    /// The tensor datatype of a feature: numbers are FP64, booleans BOOL, choices BYTES.
    pub fn of(kind: &FeatureKind) -> Self {
        match kind {
            FeatureKind::Number(_) => Datatype::Fp64,
            FeatureKind::Boolean { .. } => Datatype::Bool,
            FeatureKind::Choice { .. } => Datatype::Bytes,
        }
    }

    /// Bytes per element in the binary extension; `None` for BYTES, whose elements vary.
    pub fn element_size(self) -> Option<usize> {
        Some(match self {
            Datatype::Bool | Datatype::Int8 | Datatype::Uint8 => 1,
            Datatype::Int16 | Datatype::Uint16 | Datatype::Fp16 => 2,
            Datatype::Int32 | Datatype::Uint32 | Datatype::Fp32 => 4,
            Datatype::Int64 | Datatype::Uint64 | Datatype::Fp64 => 8,
            Datatype::Bytes => return None,
        })
    }

    /// The protocol's name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::Bool => "BOOL",
            Datatype::Uint8 => "UINT8",
            Datatype::Uint16 => "UINT16",
            Datatype::Uint32 => "UINT32",
            Datatype::Uint64 => "UINT64",
            Datatype::Int8 => "INT8",
            Datatype::Int16 => "INT16",
            Datatype::Int32 => "INT32",
            Datatype::Int64 => "INT64",
            Datatype::Fp16 => "FP16",
            Datatype::Fp32 => "FP32",
            Datatype::Fp64 => "FP64",
            Datatype::Bytes => "BYTES",
        }
    }

    /// Whether elements are numbers (every fixed-size type but BOOL).
    pub fn is_numeric(self) -> bool {
        !matches!(self, Datatype::Bool | Datatype::Bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every datatype.
    const ALL: [Datatype; 13] = [
        Datatype::Bool,
        Datatype::Uint8,
        Datatype::Uint16,
        Datatype::Uint32,
        Datatype::Uint64,
        Datatype::Int8,
        Datatype::Int16,
        Datatype::Int32,
        Datatype::Int64,
        Datatype::Fp16,
        Datatype::Fp32,
        Datatype::Fp64,
        Datatype::Bytes,
    ];

    #[test]
    fn names_are_the_protocols() {
        assert_eq!(Datatype::parse("FP64"), Some(Datatype::Fp64));
        assert_eq!(Datatype::parse("UINT16"), Some(Datatype::Uint16));
        assert_eq!(Datatype::parse("BYTES"), Some(Datatype::Bytes));
        assert_eq!(Datatype::parse("fp64"), None);
        assert_eq!(Datatype::parse(""), None);
        for datatype in ALL {
            // The serde spelling (JSON in and out) and the one in messages agree.
            let json = serde_json::to_string(&datatype).ok();
            assert_eq!(json, Some(format!("\"{datatype}\"")));
            assert_eq!(Datatype::parse(datatype.as_str()), Some(datatype));
        }
    }

    #[test]
    fn sizes_follow_the_binary_extension() {
        assert_eq!(Datatype::Fp16.element_size(), Some(2));
        assert_eq!(Datatype::Int64.element_size(), Some(8));
        assert_eq!(Datatype::Bytes.element_size(), None);
        assert!(Datatype::Int8.is_numeric() && !Datatype::Bool.is_numeric());
    }
}
