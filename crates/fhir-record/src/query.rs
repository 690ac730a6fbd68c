//! The FHIR search that brings what a binding reads: a CDS Hooks prefetch template, and the
//! query the API runs against an EHR's `fhirServer` when a prefetch is missing.

use crate::binding::{CodingMatch, FhirSource};

/// The CDS Hooks token for the patient in context.
const PATIENT: &str = "{{context.patientId}}";

/// The FHIR search for a binding's resources, with `{{context.patientId}}` for the patient:
///
/// - Age, Gender, Race: `Patient/{{context.patientId}}`;
/// - Observation, CodedObservation:
///   `Observation?patient={{context.patientId}}&code=<system>|<code>,...&_sort=-date`, the panel
///   codes included. `_sort=-date` is FHIR's syntax (the CDS Hooks specification's example
///   `sort:desc=date` is not). No `_count`: the results are filtered by status and sorted here,
///   and a short page can hold only preliminary or entered-in-error results; a caller may add
///   one. A code prefix cannot be a token search, so a binding with one searches all of the
///   patient's observations;
/// - Condition: `Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse`
///   (the statuses picking counts as active);
/// - Medication: `MedicationRequest?patient={{context.patientId}}&status=active`. A
///   MedicationStatement counts too when the record has one (a second search,
///   `MedicationStatement?patient={{context.patientId}}&status=active`, brings them), and a
///   `medicationReference` needs its Medication in the record.
///
/// None when the binding lists no code at all: there is nothing to search for.
pub fn search_query(source: &FhirSource) -> Option<String> {
    match source {
        FhirSource::Age | FhirSource::Gender(_) | FhirSource::Race(_) => {
            Some(format!("Patient/{PATIENT}"))
        }
        FhirSource::Observation(binding) => {
            observation_query(binding.codes.iter().chain(binding.panels.iter()))
        }
        FhirSource::CodedObservation(binding) => observation_query(binding.codes.iter()),
        FhirSource::Condition(codes) => (!codes.is_empty()).then(|| {
            format!("Condition?patient={PATIENT}&clinical-status=active,recurrence,relapse")
        }),
        FhirSource::Medication(codes) => (!codes.is_empty())
            .then(|| format!("MedicationRequest?patient={PATIENT}&status=active")),
    }
}

fn observation_query<'a>(codes: impl Iterator<Item = &'a CodingMatch>) -> Option<String> {
    let codes: Vec<&CodingMatch> = codes.collect();
    if codes.is_empty() {
        return None;
    }
    let mut query = format!("Observation?patient={PATIENT}");
    if codes.iter().all(|coding| !coding.prefix) {
        let mut tokens: Vec<String> = Vec::with_capacity(codes.len());
        for coding in codes {
            let token = format!("{}|{}", escaped(&coding.system), escaped(&coding.code));
            if !tokens.contains(&token) {
                tokens.push(token);
            }
        }
        query.push_str("&code=");
        query.push_str(&tokens.join(","));
    }
    query.push_str("&_sort=-date");
    Some(query)
}

/// A system or code as one side of a search token: FHIR's search separators (`,` `|` `$` `\`)
/// escaped with a backslash, and everything a URL query cannot carry as is percent-encoded.
/// URIs' `:` and `/` stay as they are, as in FHIR's own examples.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' | ':' | '/' => out.push(ch),
            ',' | '|' | '$' | '\\' => {
                percent_encode('\\', &mut out);
                percent_encode(ch, &mut out);
            }
            _ => percent_encode(ch, &mut out),
        }
    }
    out
}

fn percent_encode(ch: char, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut buffer = [0; 4];
    for byte in ch.encode_utf8(&mut buffer).bytes() {
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_codes_are_written_as_they_are() {
        assert_eq!(escaped("http://loinc.org"), "http://loinc.org");
        assert_eq!(escaped("8480-6"), "8480-6");
        assert_eq!(
            escaped("urn:oid:2.16.840.1.113883.6.238"),
            "urn:oid:2.16.840.1.113883.6.238"
        );
    }

    #[test]
    fn search_separators_and_other_characters_are_escaped() {
        assert_eq!(escaped("a,b"), "a%5C%2Cb");
        assert_eq!(escaped("a|b"), "a%5C%7Cb");
        assert_eq!(escaped("a$b"), "a%5C%24b");
        assert_eq!(escaped("a\\b"), "a%5C%5Cb");
        assert_eq!(escaped("a b&c=d#e"), "a%20b%26c%3Dd%23e");
        assert_eq!(escaped("é"), "%C3%A9");
    }
}
