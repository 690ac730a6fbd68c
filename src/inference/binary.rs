//! The binary tensor data extension: raw little-endian tensor bytes after the JSON header.

use super::datatype::Datatype;

/// Length of the JSON part of a body that carries binary tensors.
pub const HEADER_LENGTH: &str = "inference-header-content-length";

/// Decodes `bytes` as numbers of a numeric datatype (FP16 is not supported).
pub fn decode_numbers(datatype: Datatype, bytes: &[u8]) -> Option<Vec<f64>> {
    let size = datatype.element_size()?;
    if !bytes.len().is_multiple_of(size) {
        return None;
    }
    let chunks = bytes.chunks_exact(size);
    let numbers = match datatype {
        Datatype::Fp64 => chunks.map(|c| f64::from_le_bytes(array(c))).collect(),
        Datatype::Fp32 => chunks
            .map(|c| f64::from(f32::from_le_bytes(array(c))))
            .collect(),
        Datatype::Int8 => chunks.map(|c| f64::from(c[0] as i8)).collect(),
        Datatype::Uint8 => chunks.map(|c| f64::from(c[0])).collect(),
        Datatype::Int16 => chunks
            .map(|c| f64::from(i16::from_le_bytes(array(c))))
            .collect(),
        Datatype::Uint16 => chunks
            .map(|c| f64::from(u16::from_le_bytes(array(c))))
            .collect(),
        Datatype::Int32 => chunks
            .map(|c| f64::from(i32::from_le_bytes(array(c))))
            .collect(),
        Datatype::Uint32 => chunks
            .map(|c| f64::from(u32::from_le_bytes(array(c))))
            .collect(),
        Datatype::Int64 => chunks
            .map(|c| i64::from_le_bytes(array(c)) as f64)
            .collect(),
        Datatype::Uint64 => chunks
            .map(|c| u64::from_le_bytes(array(c)) as f64)
            .collect(),
        Datatype::Bool | Datatype::Fp16 | Datatype::Bytes => return None,
    };
    Some(numbers)
}

/// Decodes BOOL elements: one byte each, zero is false.
pub fn decode_flags(bytes: &[u8]) -> Vec<bool> {
    bytes.iter().map(|&b| b != 0).collect()
}

/// Decodes BYTES elements: each a 4-byte little-endian length, then that many bytes.
/// Elements that are not UTF-8 decode to `None`.
pub fn decode_strings(mut bytes: &[u8]) -> Option<Vec<Option<String>>> {
    let mut strings = Vec::new();
    while !bytes.is_empty() {
        let (length, rest) = bytes.split_first_chunk::<4>()?;
        let length = usize::try_from(u32::from_le_bytes(*length)).ok()?;
        if length > rest.len() {
            return None;
        }
        let (element, rest) = rest.split_at(length);
        strings.push(String::from_utf8(element.to_vec()).ok());
        bytes = rest;
    }
    Some(strings)
}

pub fn encode_numbers(numbers: &[f64]) -> Vec<u8> {
    numbers.iter().flat_map(|n| n.to_le_bytes()).collect()
}

pub fn encode_strings(strings: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for s in strings {
        // Category names are a few bytes long; the cast cannot truncate.
        bytes.extend_from_slice(&(s.len() as u32).to_le_bytes());
        bytes.extend_from_slice(s.as_bytes());
    }
    bytes
}

fn array<const N: usize>(chunk: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(chunk);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fp64_round_trips() {
        let bytes = encode_numbers(&[1.5, -2.0]);
        assert_eq!(
            decode_numbers(Datatype::Fp64, &bytes),
            Some(vec![1.5, -2.0])
        );
    }

    #[test]
    fn truncated_numbers_are_refused() {
        assert_eq!(decode_numbers(Datatype::Fp64, &[0; 7]), None);
    }

    #[test]
    fn strings_round_trip_and_truncation_is_refused() {
        let bytes = encode_strings(&["male", "female"]);
        assert_eq!(
            decode_strings(&bytes),
            Some(vec![Some("male".into()), Some("female".into())])
        );
        assert_eq!(decode_strings(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode_strings(&[9, 0, 0]), None);
    }

    #[test]
    fn a_huge_declared_length_is_refused_not_allocated() {
        assert_eq!(decode_strings(&[255, 255, 255, 255, b'a']), None);
    }
}
