//! What a model declares about where each feature's value comes from in a FHIR R4 record
//! (contract 4.0.0's `fhir-source`, docs/design/fhir-cds-hooks.md). Every code, unit and
//! window lives here, in the model's declaration: this crate holds no code list of its own.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Text a model declares: borrowed from a description compiled in at build time, or owned when
/// read from a component's `info()` (the same convention as the API's contract types).
pub type Text = Cow<'static, str>;

/// A list a model declares, borrowed or owned as [`Text`] is.
pub type List<T> = Cow<'static, [T]>;

/// A coding to look for: system URI and code, or a code prefix (ICD-10-CM "E11" matches
/// "E11.9", ATC "C10AA" matches "C10AA05").
///
/// Every binding type is also JSON (serde): the API shows a model's bindings at
/// `/models/{name}`, where a FHIR client reads them back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodingMatch {
    pub system: Text,
    pub code: Text,
    /// The code is a prefix: a class of codes (an ATC group, an ICD-10-CM category) rather than
    /// one code. Nothing is stripped before comparing: "E11" is a prefix of "E11.9".
    pub prefix: bool,
}

impl CodingMatch {
    /// One exact code of a code system.
    pub const fn exact(system: &'static str, code: &'static str) -> Self {
        Self {
            system: Cow::Borrowed(system),
            code: Cow::Borrowed(code),
            prefix: false,
        }
    }

    /// Every code of a code system that starts with `code`.
    pub const fn prefix(system: &'static str, code: &'static str) -> Self {
        Self {
            system: Cow::Borrowed(system),
            code: Cow::Borrowed(code),
            prefix: true,
        }
    }

    /// Whether a coding (`system`, `code`) is one this match looks for. Systems compare exactly
    /// (FHIR's code systems are URIs), and so do codes (FHIR codes are case-sensitive). An empty
    /// declared code matches nothing, so that a blank prefix cannot match every code.
    pub fn matches(&self, system: &str, code: &str) -> bool {
        if self.code.is_empty() || system != self.system {
            return false;
        }
        if self.prefix {
            code.starts_with(&*self.code)
        } else {
            code == self.code
        }
    }
}

/// A UCUM unit accepted for an observation, and the factor to the feature's canonical unit
/// (value_in_canonical = value * factor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitBinding {
    /// The UCUM code exactly as UCUM spells it (`mg/dL`, `mmol/L`, `mm[Hg]`).
    pub ucum: Text,
    pub factor: f64,
}

/// A feature value (the model contract's value kinds): in JSON, the plain number, boolean or
/// string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Number(f64),
    Boolean(bool),
    Choice(Text),
}

/// FHIR codes mapped to the feature's choices; codes not listed map to `otherwise` (None:
/// refused as unmapped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceMap {
    /// (FHIR code, the feature's choice). Where a record holds several codes (a patient may
    /// have up to five OMB race categories), the first pair in this order whose code is present
    /// wins: the order is the model's priority.
    pub pairs: List<(Text, Text)>,
    pub otherwise: Option<Text>,
}

impl ChoiceMap {
    /// The choice for one FHIR code: its pair's, else `otherwise`.
    pub(crate) fn choice_for(&self, code: &str) -> Option<&Text> {
        self.pairs
            .iter()
            .find(|(fhir_code, _)| fhir_code == code)
            .map(|(_, choice)| choice)
            .or(self.otherwise.as_ref())
    }
}

/// A numeric Observation (`valueQuantity`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservationBinding {
    /// The observation's own codes (e.g. LOINC 8480-6 for systolic blood pressure).
    pub codes: List<CodingMatch>,
    /// Panels whose `component[]` may carry one of `codes` (e.g. LOINC 85354-9, the blood
    /// pressure panel, carries systolic 8480-6 as a component).
    pub panels: List<CodingMatch>,
    /// The units accepted, each with its factor to the feature's unit. A value in any other
    /// unit is refused, never guessed.
    pub units: List<UnitBinding>,
    /// The oldest a value may be, in days before the assessment's date.
    pub max_age_days: u32,
}

/// A coded Observation (`valueCodeableConcept`), e.g. smoking status with SNOMED CT answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodedBinding {
    pub codes: List<CodingMatch>,
    /// The answers in priority order: the first whose coding the value carries wins.
    pub answers: List<(CodingMatch, Answer)>,
    /// The answer for a value that matches none of `answers` (None: refused as unmapped).
    pub otherwise: Option<Answer>,
    pub max_age_days: u32,
}

/// Where a feature's value comes from in a FHIR R4 record. In JSON: `{"source": "birth-date"}`,
/// or the source with its `binding` (`{"source": "observation", "binding": {"codes": ...}}`);
/// race is `us-core-race`, the extension it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", content = "binding", rename_all = "kebab-case")]
pub enum FhirSource {
    /// `Patient.birthDate`, as whole years at the assessment date (Answer::Number).
    #[serde(rename = "birth-date")]
    Age,
    /// `Patient.gender` ("male", "female", ...) -> Answer::Choice.
    Gender(ChoiceMap),
    /// The US Core race extension's `ombCategory` codes (urn:oid:2.16.840.1.113883.6.238) ->
    /// Answer::Choice; a patient without the extension gets `otherwise`.
    #[serde(rename = "us-core-race")]
    Race(ChoiceMap),
    /// The newest usable Observation with one of `codes` (valueQuantity), standalone or as a
    /// component of an Observation coded with one of `panels`.
    Observation(ObservationBinding),
    /// Answer::Boolean: true if an active, confirmed Condition matches, else false.
    Condition(List<CodingMatch>),
    /// Answer::Boolean: true if an active MedicationRequest or MedicationStatement's medication
    /// matches (`medicationCodeableConcept`, or `medicationReference` to a Medication in the
    /// record), else false.
    Medication(List<CodingMatch>),
    /// The newest usable Observation with one of `codes` whose valueCodeableConcept matches an
    /// answer -> that Answer; unmatched -> `otherwise` (None: refused).
    CodedObservation(CodedBinding),
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICD10: &str = "http://hl7.org/fhir/sid/icd-10-cm";

    #[test]
    fn an_exact_match_needs_the_same_system_and_code() {
        let diabetes = CodingMatch::exact(ICD10, "E11.9");
        assert!(diabetes.matches(ICD10, "E11.9"));
        assert!(!diabetes.matches(ICD10, "E11.91"));
        assert!(!diabetes.matches(ICD10, "e11.9"));
        assert!(!diabetes.matches("http://snomed.info/sct", "E11.9"));
    }

    #[test]
    fn a_prefix_matches_the_codes_of_its_class_dot_included() {
        let type_2 = CodingMatch::prefix(ICD10, "E11");
        assert!(type_2.matches(ICD10, "E11"));
        assert!(type_2.matches(ICD10, "E11.9"));
        assert!(type_2.matches(ICD10, "E11.65"));
        assert!(!type_2.matches(ICD10, "E10.9"));
        assert!(!type_2.matches(ICD10, "E1"));
        let statins = CodingMatch::prefix("http://www.whocc.no/atc", "C10AA");
        assert!(statins.matches("http://www.whocc.no/atc", "C10AA05"));
        assert!(!statins.matches("http://www.whocc.no/atc", "C10AB05"));
    }

    #[test]
    fn a_blank_declared_code_matches_nothing() {
        assert!(!CodingMatch::prefix(ICD10, "").matches(ICD10, "E11.9"));
        assert!(!CodingMatch::exact(ICD10, "").matches(ICD10, ""));
    }

    #[test]
    fn a_choice_comes_from_its_pair_else_from_otherwise() {
        let map = ChoiceMap {
            pairs: Cow::Borrowed(&[(Cow::Borrowed("male"), Cow::Borrowed("M"))]),
            otherwise: Some(Cow::Borrowed("other")),
        };
        assert_eq!(map.choice_for("male").map(|c| &**c), Some("M"));
        assert_eq!(map.choice_for("unknown").map(|c| &**c), Some("other"));
        let strict = ChoiceMap {
            otherwise: None,
            ..map
        };
        assert_eq!(strict.choice_for("unknown"), None);
    }
}
