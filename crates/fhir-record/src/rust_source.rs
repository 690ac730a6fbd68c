//! A binding as a constant Rust expression, for the build scripts that compile a model's
//! description in as static data (the API's `build.rs`; an ONNX model's build step): one
//! writer, so that the two cannot drift.

use crate::binding::{Answer, ChoiceMap, CodingMatch, FhirSource};

/// `source` as a constant expression of this crate's types (paths from `::fhir_record`, texts
/// and lists borrowed), valid in a `static` initialiser.
pub fn rust_expression(source: &FhirSource) -> String {
    match source {
        FhirSource::Age => "::fhir_record::FhirSource::Age".to_owned(),
        FhirSource::Gender(map) => format!("::fhir_record::FhirSource::Gender({})", choices(map)),
        FhirSource::Race(map) => format!("::fhir_record::FhirSource::Race({})", choices(map)),
        FhirSource::Observation(binding) => format!(
            "::fhir_record::FhirSource::Observation(::fhir_record::ObservationBinding {{ \
             codes: {}, panels: {}, units: {}, max_age_days: {} }})",
            codings(&binding.codes),
            codings(&binding.panels),
            list(binding.units.iter().map(|unit| {
                format!(
                    "::fhir_record::UnitBinding {{ ucum: {}, factor: {} }}",
                    text(&unit.ucum),
                    float(unit.factor)
                )
            })),
            binding.max_age_days,
        ),
        FhirSource::Condition(codes) => {
            format!("::fhir_record::FhirSource::Condition({})", codings(codes))
        }
        FhirSource::Medication(codes) => {
            format!("::fhir_record::FhirSource::Medication({})", codings(codes))
        }
        FhirSource::CodedObservation(binding) => format!(
            "::fhir_record::FhirSource::CodedObservation(::fhir_record::CodedBinding {{ \
             codes: {}, answers: {}, otherwise: {}, max_age_days: {} }})",
            codings(&binding.codes),
            list(binding.answers.iter().map(|(coding, value)| format!(
                "({}, {})",
                coding_match(coding),
                answer(value)
            ))),
            binding
                .otherwise
                .as_ref()
                .map_or("None".to_owned(), |value| format!(
                    "Some({})",
                    answer(value)
                )),
            binding.max_age_days,
        ),
    }
}

fn text(text: &str) -> String {
    format!("::std::borrow::Cow::Borrowed({text:?})")
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!(
        "::std::borrow::Cow::Borrowed(&[{}])",
        items.collect::<Vec<_>>().join(", ")
    )
}

fn float(value: f64) -> String {
    // `{:?}` is the shortest text that reads back as the same f64.
    format!("{value:?}_f64")
}

fn coding_match(coding: &CodingMatch) -> String {
    format!(
        "::fhir_record::CodingMatch {{ system: {}, code: {}, prefix: {} }}",
        text(&coding.system),
        text(&coding.code),
        coding.prefix
    )
}

fn codings(codings: &[CodingMatch]) -> String {
    list(codings.iter().map(coding_match))
}

fn answer(value: &Answer) -> String {
    match value {
        Answer::Number(number) => format!("::fhir_record::Answer::Number({})", float(*number)),
        Answer::Boolean(flag) => format!("::fhir_record::Answer::Boolean({flag})"),
        Answer::Choice(choice) => format!("::fhir_record::Answer::Choice({})", text(choice)),
    }
}

fn choices(map: &ChoiceMap) -> String {
    format!(
        "::fhir_record::ChoiceMap {{ pairs: {}, otherwise: {} }}",
        list(
            map.pairs
                .iter()
                .map(|(code, choice)| format!("({}, {})", text(code), text(choice)))
        ),
        map.otherwise
            .as_deref()
            .map_or("None".to_owned(), |choice| format!(
                "Some({})",
                text(choice)
            )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binding::{CodedBinding, ObservationBinding, UnitBinding};
    use std::borrow::Cow;

    #[test]
    fn an_observation_is_written_with_every_member() {
        let source = FhirSource::Observation(ObservationBinding {
            codes: Cow::Owned(vec![CodingMatch::exact("http://loinc.org", "2093-3")]),
            panels: Cow::Borrowed(&[]),
            units: Cow::Owned(vec![UnitBinding {
                ucum: Cow::Borrowed("mmol/L"),
                factor: 38.67,
            }]),
            max_age_days: 365,
        });
        assert_eq!(
            rust_expression(&source),
            "::fhir_record::FhirSource::Observation(::fhir_record::ObservationBinding { \
             codes: ::std::borrow::Cow::Borrowed(&[::fhir_record::CodingMatch { system: \
             ::std::borrow::Cow::Borrowed(\"http://loinc.org\"), code: \
             ::std::borrow::Cow::Borrowed(\"2093-3\"), prefix: false }]), panels: \
             ::std::borrow::Cow::Borrowed(&[]), units: ::std::borrow::Cow::Borrowed(&[\
             ::fhir_record::UnitBinding { ucum: ::std::borrow::Cow::Borrowed(\"mmol/L\"), \
             factor: 38.67_f64 }]), max_age_days: 365 })"
        );
    }

    #[test]
    fn a_coded_observation_writes_its_answers_and_fallback() {
        let source = FhirSource::CodedObservation(CodedBinding {
            codes: Cow::Borrowed(&[]),
            answers: Cow::Owned(vec![(CodingMatch::prefix("s", "1"), Answer::Boolean(true))]),
            otherwise: Some(Answer::Choice(Cow::Borrowed("x"))),
            max_age_days: 1,
        });
        let written = rust_expression(&source);
        assert!(written.contains("prefix: true }, ::fhir_record::Answer::Boolean(true))"));
        assert!(written.contains(
            "otherwise: Some(::fhir_record::Answer::Choice(::std::borrow::Cow::Borrowed(\"x\")))"
        ));
    }
}
