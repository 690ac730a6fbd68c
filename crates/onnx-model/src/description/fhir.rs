//! A feature's `[feature.fhir]` table: where its value comes from in a FHIR R4 record, in the
//! model contract's terms ([`FhirSource`], `wit/model.wit`), checked against the feature it
//! feeds. For example, a total cholesterol measured in mg/dL or mmol/L:
//!
//! ```toml
//! [feature.fhir]
//! source = "observation"
//! codes = ["http://loinc.org|2093-3", "http://loinc.org|14647-2"]
//! units = [["mg/dL", 1.0], ["mmol/L", 38.67]]
//! max_age_days = 1826
//! ```
//!
//! A code is `system|code`; `system|prefix*` matches every code starting with `prefix` (an
//! ICD-10-CM category, an ATC class). Pairs are arrays, in priority order.

use std::borrow::Cow;
use std::ops::Range;

use fhir_record::{
    Answer, ChoiceMap, CodedBinding, CodingMatch, FhirSource, ObservationBinding, UnitBinding,
};
use serde::Deserialize;
use toml::Spanned;

use super::{At, DescriptionError, FeatureKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FhirTable {
    /// age, gender, race, observation, condition, medication or coded-observation.
    source: Spanned<String>,
    codes: Option<Spanned<Vec<String>>>,
    panels: Option<Spanned<Vec<String>>>,
    /// (UCUM code, factor to the feature's unit).
    units: Option<Spanned<Vec<(String, f64)>>>,
    max_age_days: Option<Spanned<u32>>,
    /// (FHIR code, the feature's value): gender and race.
    choices: Option<Spanned<Vec<(String, String)>>>,
    /// (coding, the feature's value): a coded observation.
    answers: Option<Spanned<Vec<(String, toml::Value)>>>,
    otherwise: Option<Spanned<toml::Value>>,
}

/// The binding `table` declares for the feature `name` of kind `kind`.
pub(super) fn source(
    name: &str,
    kind: &FeatureKind,
    table: &Spanned<FhirTable>,
    at: &At<'_>,
) -> Result<FhirSource, DescriptionError> {
    let t = table.get_ref();
    let source = t.source.get_ref().as_str();
    let fail = |span: Range<usize>, message: String| at(span, format!("feature {name}: {message}"));
    // Members a source does not read are refused, not ignored: a typo must not drop a rule.
    let unused = |allowed: &[&str]| -> Result<(), DescriptionError> {
        let present = [
            ("codes", t.codes.as_ref().map(Spanned::span)),
            ("panels", t.panels.as_ref().map(Spanned::span)),
            ("units", t.units.as_ref().map(Spanned::span)),
            ("max_age_days", t.max_age_days.as_ref().map(Spanned::span)),
            ("choices", t.choices.as_ref().map(Spanned::span)),
            ("answers", t.answers.as_ref().map(Spanned::span)),
            ("otherwise", t.otherwise.as_ref().map(Spanned::span)),
        ];
        match present
            .into_iter()
            .find(|(member, span)| span.is_some() && !allowed.contains(member))
        {
            Some((member, Some(span))) => Err(fail(
                span,
                format!("{member} is not used by a {source} source"),
            )),
            _ => Ok(()),
        }
    };
    let needs = |wanted: &str, fits: bool| -> Result<(), DescriptionError> {
        if fits {
            Ok(())
        } else {
            Err(fail(
                t.source.span(),
                format!("a {source} source feeds a {wanted} feature"),
            ))
        }
    };
    let max_age = || -> Result<u32, DescriptionError> {
        t.max_age_days
            .as_ref()
            .map(|days| *days.get_ref())
            .ok_or_else(|| {
                fail(
                    table.span(),
                    format!("a {source} source needs max_age_days, how old a value may be"),
                )
            })
    };
    let codes = |member: &Option<Spanned<Vec<String>>>, required: bool| {
        codings(member, required, source, &fail, table.span())
    };
    Ok(match source {
        "age" => {
            needs("number", matches!(kind, FeatureKind::Number { .. }))?;
            unused(&[])?;
            FhirSource::Age
        }
        "gender" | "race" => {
            let FeatureKind::Choice { values, .. } = kind else {
                return Err(fail(
                    t.source.span(),
                    format!("a {source} source feeds a choice feature"),
                ));
            };
            unused(&["choices", "otherwise"])?;
            let allowed = |value: &str| values.iter().any(|(allowed, _)| allowed == value);
            let choices = t.choices.as_ref().ok_or_else(|| {
                fail(
                    table.span(),
                    format!("a {source} source needs choices = [[<FHIR code>, <value>], ...]"),
                )
            })?;
            if let Some((_, value)) = choices.get_ref().iter().find(|(_, value)| !allowed(value)) {
                return Err(fail(
                    choices.span(),
                    format!("choice {value:?} is not one of the feature's values"),
                ));
            }
            let otherwise = match &t.otherwise {
                None => None,
                Some(value) => Some(
                    value
                        .get_ref()
                        .as_str()
                        .filter(|text| allowed(text))
                        .ok_or_else(|| {
                            fail(
                                value.span(),
                                "otherwise must be one of the feature's values".into(),
                            )
                        })?
                        .to_owned(),
                ),
            };
            let map = ChoiceMap {
                pairs: Cow::Owned(
                    choices
                        .get_ref()
                        .iter()
                        .map(|(code, value)| (Cow::Owned(code.clone()), Cow::Owned(value.clone())))
                        .collect(),
                ),
                otherwise: otherwise.map(Cow::Owned),
            };
            if source == "gender" {
                FhirSource::Gender(map)
            } else {
                FhirSource::Race(map)
            }
        }
        "observation" => {
            needs("number", matches!(kind, FeatureKind::Number { .. }))?;
            unused(&["codes", "panels", "units", "max_age_days"])?;
            let units = t.units.as_ref().ok_or_else(|| {
                fail(
                    table.span(),
                    "an observation source needs units = [[<UCUM code>, <factor>], ...]".into(),
                )
            })?;
            if units.get_ref().is_empty()
                || units
                    .get_ref()
                    .iter()
                    .any(|(ucum, factor)| ucum.is_empty() || !(factor.is_finite() && *factor > 0.0))
            {
                return Err(fail(
                    units.span(),
                    "units must name UCUM codes, each with a positive factor".into(),
                ));
            }
            FhirSource::Observation(ObservationBinding {
                codes: codes(&t.codes, true)?,
                panels: codes(&t.panels, false)?,
                units: Cow::Owned(
                    units
                        .get_ref()
                        .iter()
                        .map(|(ucum, factor)| UnitBinding {
                            ucum: Cow::Owned(ucum.clone()),
                            factor: *factor,
                        })
                        .collect(),
                ),
                max_age_days: max_age()?,
            })
        }
        "condition" | "medication" => {
            needs("boolean", matches!(kind, FeatureKind::Boolean { .. }))?;
            unused(&["codes"])?;
            let codes = codes(&t.codes, true)?;
            if source == "condition" {
                FhirSource::Condition(codes)
            } else {
                FhirSource::Medication(codes)
            }
        }
        "coded-observation" => {
            needs(
                "boolean or choice",
                matches!(
                    kind,
                    FeatureKind::Boolean { .. } | FeatureKind::Choice { .. }
                ),
            )?;
            unused(&["codes", "answers", "otherwise", "max_age_days"])?;
            let answers = t.answers.as_ref().ok_or_else(|| {
                fail(
                    table.span(),
                    "a coded-observation source needs answers = [[<system|code>, <value>], ...]"
                        .into(),
                )
            })?;
            let mut read = Vec::new();
            for (coding, value) in answers.get_ref() {
                let coding = coding_match(coding).ok_or_else(|| {
                    fail(answers.span(), format!("{coding:?} is not system|code"))
                })?;
                let value = answer(kind, value).ok_or_else(|| {
                    fail(
                        answers.span(),
                        "an answer is not one of the feature's values".into(),
                    )
                })?;
                read.push((coding, value));
            }
            let otherwise = match &t.otherwise {
                None => None,
                Some(value) => Some(answer(kind, value.get_ref()).ok_or_else(|| {
                    fail(
                        value.span(),
                        "otherwise must be one of the feature's values".into(),
                    )
                })?),
            };
            FhirSource::CodedObservation(CodedBinding {
                codes: codes(&t.codes, true)?,
                answers: Cow::Owned(read),
                otherwise,
                max_age_days: max_age()?,
            })
        }
        other => {
            return Err(fail(
                t.source.span(),
                format!(
                    "source {other:?} must be age, gender, race, observation, condition, \
                     medication or coded-observation"
                ),
            ))
        }
    })
}

/// `system|code`, or `system|prefix*` for every code starting with `prefix`.
fn coding_match(text: &str) -> Option<CodingMatch> {
    let (system, code) = text.split_once('|')?;
    let (code, prefix) = match code.strip_suffix('*') {
        Some(prefix) => (prefix, true),
        None => (code, false),
    };
    (!system.is_empty() && !code.is_empty()).then(|| CodingMatch {
        system: Cow::Owned(system.to_owned()),
        code: Cow::Owned(code.to_owned()),
        prefix,
    })
}

fn codings(
    member: &Option<Spanned<Vec<String>>>,
    required: bool,
    source: &str,
    fail: &dyn Fn(Range<usize>, String) -> DescriptionError,
    table: Range<usize>,
) -> Result<fhir_record::List<CodingMatch>, DescriptionError> {
    let Some(codes) = member else {
        return if required {
            Err(fail(
                table,
                format!("a {source} source needs codes = [\"<system>|<code>\", ...]"),
            ))
        } else {
            Ok(Cow::Owned(Vec::new()))
        };
    };
    if required && codes.get_ref().is_empty() {
        return Err(fail(codes.span(), "codes is empty".into()));
    }
    codes
        .get_ref()
        .iter()
        .map(|text| {
            coding_match(text)
                .ok_or_else(|| fail(codes.span(), format!("{text:?} is not system|code")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Cow::Owned)
}

/// A TOML value as a value of the feature's kind.
fn answer(kind: &FeatureKind, value: &toml::Value) -> Option<Answer> {
    match kind {
        FeatureKind::Boolean { .. } => value.as_bool().map(Answer::Boolean),
        FeatureKind::Choice { values, .. } => value
            .as_str()
            .filter(|text| values.iter().any(|(allowed, _)| allowed == text))
            .map(|text| Answer::Choice(Cow::Owned(text.to_owned()))),
        FeatureKind::Number { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    /// A model.toml with one feature: `feature` is its table's body, `fhir` its FHIR table's.
    fn described(feature: &str, fhir: &str) -> Result<Option<FhirSource>, String> {
        let text = format!(
            "[model]\nname = \"m\"\nversion = \"1\"\ntitle = \"t\"\ncitation = \"c\"\n\
             population = \"p\"\nonnx = \"model.onnx\"\n\n[output]\nname = \"risk\"\n\
             description = \"d\"\nkind = \"probability\"\nonnx_output = \"y\"\ncolumn = 1\n\n\
             [[feature]]\nname = \"f\"\ndescription = \"d\"\ninput = \"x\"\ncolumn = 0\n\
             {feature}\n[feature.fhir]\n{fhir}\n"
        );
        parse("model.toml", &text)
            .map(|d| d.features[0].fhir.clone())
            .map_err(|e| {
                // Every problem is in the feature's table or its FHIR table, from line 16 on.
                assert!(e.line >= 16, "{e}");
                e.to_string()
            })
    }

    const NUMBER: &str = "unit = \"mg/dL\"\nrange = [100.0, 400.0]";
    const BOOLEAN: &str = "kind = \"boolean\"";
    const RACE: &str = "kind = \"choice\"\nvalues = { white = 0.0, black = 1.0, other = 2.0 }";

    #[test]
    fn an_observation_reads_its_codes_units_and_window() {
        let source = described(
            NUMBER,
            "source = \"observation\"\ncodes = [\"http://loinc.org|2093-3\"]\n\
             panels = [\"http://loinc.org|24331-1\"]\nunits = [[\"mg/dL\", 1.0], [\"mmol/L\", 38.67]]\n\
             max_age_days = 365",
        );
        assert_eq!(
            source,
            Ok(Some(FhirSource::Observation(ObservationBinding {
                codes: Cow::Owned(vec![CodingMatch::exact("http://loinc.org", "2093-3")]),
                panels: Cow::Owned(vec![CodingMatch::exact("http://loinc.org", "24331-1")]),
                units: Cow::Owned(vec![
                    UnitBinding {
                        ucum: "mg/dL".into(),
                        factor: 1.0
                    },
                    UnitBinding {
                        ucum: "mmol/L".into(),
                        factor: 38.67
                    },
                ]),
                max_age_days: 365,
            })))
        );
    }

    #[test]
    fn a_code_with_a_star_is_a_prefix_and_a_condition_feeds_a_boolean() {
        let source = described(
            BOOLEAN,
            "source = \"condition\"\ncodes = [\"http://hl7.org/fhir/sid/icd-10-cm|E11*\"]",
        );
        assert_eq!(
            source,
            Ok(Some(FhirSource::Condition(Cow::Owned(vec![
                CodingMatch::prefix("http://hl7.org/fhir/sid/icd-10-cm", "E11")
            ]))))
        );
    }

    #[test]
    fn race_maps_codes_to_the_features_own_values_in_order() {
        let source = described(
            RACE,
            "source = \"race\"\nchoices = [[\"2106-3\", \"white\"], [\"2054-5\", \"black\"]]\n\
             otherwise = \"other\"",
        );
        let Ok(Some(FhirSource::Race(map))) = source else {
            panic!("{source:?}");
        };
        assert_eq!(map.pairs[0], ("2106-3".into(), "white".into()));
        assert_eq!(map.otherwise.as_deref(), Some("other"));
    }

    #[test]
    fn every_mistake_is_refused_naming_the_feature_and_its_line() {
        for (feature, fhir, expected) in [
            (BOOLEAN, "source = \"observation\"\ncodes = [\"s|c\"]\nunits = [[\"u\", 1.0]]\nmax_age_days = 1", "a observation source feeds a number feature"),
            (NUMBER, "source = \"observation\"\ncodes = [\"2093-3\"]\nunits = [[\"u\", 1.0]]\nmax_age_days = 1", "\"2093-3\" is not system|code"),
            (NUMBER, "source = \"observation\"\ncodes = [\"s|c\"]\nunits = [[\"u\", 0.0]]\nmax_age_days = 1", "units must name UCUM codes, each with a positive factor"),
            (NUMBER, "source = \"observation\"\ncodes = [\"s|c\"]\nunits = [[\"u\", 1.0]]", "needs max_age_days"),
            (NUMBER, "source = \"age\"\ncodes = [\"s|c\"]", "codes is not used by a age source"),
            (RACE, "source = \"race\"\nchoices = [[\"2106-3\", \"caucasian\"]]", "choice \"caucasian\" is not one of the feature's values"),
            (BOOLEAN, "source = \"coded-observation\"\ncodes = [\"s|c\"]\nanswers = [[\"s|a\", \"yes\"]]\nmax_age_days = 1", "an answer is not one of the feature's values"),
            (NUMBER, "source = \"lab\"", "source \"lab\" must be age, gender, race"),
        ] {
            let error = described(feature, fhir).expect_err(expected);
            assert!(error.contains("feature f: "), "{error}");
            assert!(error.contains(expected), "{error} lacks {expected}");
        }
    }
}
