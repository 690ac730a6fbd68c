//! A feature's FHIR binding ([`fhir_record::FhirSource`], as the model declares it) in the
//! contract's WIT types.

use fhir_record::{Answer, ChoiceMap, CodingMatch, FhirSource, UnitBinding};

use crate::wit;

pub fn fhir_source(source: &FhirSource) -> wit::FhirSource {
    match source {
        FhirSource::Age => wit::FhirSource::Age,
        FhirSource::Gender(map) => wit::FhirSource::Gender(choice_map(map)),
        FhirSource::Race(map) => wit::FhirSource::Race(choice_map(map)),
        FhirSource::Observation(binding) => wit::FhirSource::Observation(wit::ObservationBinding {
            codes: codings(&binding.codes),
            panels: codings(&binding.panels),
            units: binding.units.iter().map(unit).collect(),
            max_age_days: binding.max_age_days,
        }),
        FhirSource::Condition(codes) => wit::FhirSource::Condition(codings(codes)),
        FhirSource::Medication(codes) => wit::FhirSource::Medication(codings(codes)),
        FhirSource::CodedObservation(binding) => {
            wit::FhirSource::CodedObservation(wit::CodedBinding {
                codes: codings(&binding.codes),
                answers: binding
                    .answers
                    .iter()
                    .map(|(coding, answer)| (coding_match(coding), value(answer)))
                    .collect(),
                otherwise: binding.otherwise.as_ref().map(value),
                max_age_days: binding.max_age_days,
            })
        }
    }
}

fn coding_match(coding: &CodingMatch) -> wit::CodingMatch {
    wit::CodingMatch {
        system: coding.system.to_string(),
        code: coding.code.to_string(),
        prefix: coding.prefix,
    }
}

fn codings(codings: &[CodingMatch]) -> Vec<wit::CodingMatch> {
    codings.iter().map(coding_match).collect()
}

fn unit(unit: &UnitBinding) -> wit::UcumConversion {
    wit::UcumConversion {
        ucum: unit.ucum.to_string(),
        factor: unit.factor,
    }
}

fn choice_map(map: &ChoiceMap) -> wit::ChoiceMap {
    wit::ChoiceMap {
        pairs: map
            .pairs
            .iter()
            .map(|(code, choice)| (code.to_string(), choice.to_string()))
            .collect(),
        otherwise: map.otherwise.as_ref().map(ToString::to_string),
    }
}

fn value(answer: &Answer) -> wit::Value {
    match answer {
        Answer::Number(number) => wit::Value::Number(*number),
        Answer::Boolean(flag) => wit::Value::Boolean(*flag),
        Answer::Choice(choice) => wit::Value::Choice(choice.to_string()),
    }
}
