//! Each feature's value, picked from a patient's record by the FHIR source its model declares
//! (`fhir_record::pick`, which holds the rules: final results only, the newest within the
//! window, units by UCUM code), or every reason the record cannot give the model what it needs.
//!
//! What a feature without a value becomes:
//!
//! - a required feature: a refusal, whether the record lacks it or the model declares no FHIR
//!   source for it;
//! - an optional feature the record does not hold, or for which the model declares no source:
//!   left out, so the model applies what it declares absence to mean (its default, or a
//!   warning), exactly as for a `/predict` request without it;
//! - an optional feature the record holds but unusably (stale, in an unknown unit, an unmapped
//!   code): a refusal, since leaving it out would treat a known value as unknown.

use fhir_record::{pick, Answer, Basis, Date, PickProblem, Record};
use serde_json::{Map, Value};

use crate::model_card::ModelCard;

/// One feature's value and the resources it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct UsedValue {
    pub feature: String,
    pub value: Answer,
    pub basis: Vec<Basis>,
}

/// The values read for one model, in its card's feature order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gathered {
    pub values: Vec<UsedValue>,
}

/// Why a feature has no value.
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    /// The record cannot give it.
    Record(PickProblem),
    /// The model requires it but declares no FHIR source for it.
    NoSource,
}

/// A feature the model cannot be given.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub feature: String,
    pub why: Missing,
}

/// The values of `card`'s features in `record`, for an assessment on `as_of`, or every
/// feature refused.
pub fn gather(card: &ModelCard, record: &Record, as_of: Date) -> Result<Gathered, Vec<Refused>> {
    let mut gathered = Gathered::default();
    let mut refused = Vec::new();
    for feature in &card.features {
        let Some(source) = &feature.fhir else {
            if feature.required {
                refused.push(Refused {
                    feature: feature.name.clone(),
                    why: Missing::NoSource,
                });
            }
            continue;
        };
        match pick(record, source, as_of) {
            Ok(picked) => gathered.values.push(UsedValue {
                feature: feature.name.clone(),
                value: picked.value,
                basis: picked.basis,
            }),
            Err(PickProblem::NotFound) if !feature.required => {}
            Err(problem) => refused.push(Refused {
                feature: feature.name.clone(),
                why: Missing::Record(problem),
            }),
        }
    }
    if refused.is_empty() {
        Ok(gathered)
    } else {
        Err(refused)
    }
}

impl Gathered {
    /// The values as `/predict`'s `patient_data`: numbers in each feature's canonical unit
    /// (the binding's factors convert to it), so no unit selector is sent.
    pub fn patient_data(&self) -> Map<String, Value> {
        self.values
            .iter()
            .map(|used| {
                let value = match &used.value {
                    Answer::Number(number) => Value::from(*number),
                    Answer::Boolean(flag) => Value::Bool(*flag),
                    Answer::Choice(choice) => Value::String(choice.to_string()),
                };
                (used.feature.clone(), value)
            })
            .collect()
    }

    /// Every resource a value came from, in feature order (a RiskAssessment's `basis`; the
    /// writer cites each once).
    pub fn basis(&self) -> Vec<Basis> {
        self.values
            .iter()
            .flat_map(|used| used.basis.iter().cloned())
            .collect()
    }

    /// The value of `feature`, if one was read.
    pub fn value(&self, feature: &str) -> Option<&Answer> {
        self.values
            .iter()
            .find(|used| used.feature == feature)
            .map(|used| &used.value)
    }
}
