//! Picking one feature's value from a record by its binding: the rules.
//!
//! - Observations: only `final`, `amended` or `corrected` results; the newest by effective time
//!   (never by the record's order); undated results and results dated after the assessment are
//!   not usable; the newest must be within the binding's window, and its unit must be one the
//!   binding lists (UCUM code, exact), or the value is refused: an older value in a known unit is
//!   never used instead, since it is not the patient's current value.
//! - Conditions: clinical status active, recurrence or relapse, and confirmed when a
//!   verification status is given (US Core makes it optional, so an absent one is accepted).
//! - Medications: an active MedicationRequest (any intent) or MedicationStatement.
//!
//! Every refusal is a [`PickProblem`], whose message names no patient value.

use crate::binding::{
    Answer, ChoiceMap, CodedBinding, CodingMatch, FhirSource, ObservationBinding, UnitBinding,
};
use crate::date::{Date, Precision, Stamp};
use crate::record::{Held, Medicine, Record};
use crate::resources::{CodeableConcept, Condition, Observation, Quantity};

/// A feature's value, and the resources it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    pub value: Answer,
    /// The resources used (a RiskAssessment's `basis`, a card's "values used"): the
    /// Observation picked, the Patient for age, sex and race, every matching Condition or
    /// medication for a true boolean, and none for a false one.
    pub basis: Vec<Basis>,
}

/// One resource a value was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    /// `Observation/abc`; a resource without an id is cited by its entry's `fullUrl`.
    pub reference: String,
    /// The observation's effective day, a condition's onset (else recorded) day, a medication's
    /// authored (else effective, else asserted) day; None for the Patient.
    pub date: Option<Date>,
}

/// Why a feature has no value from this record. No message names a patient value; the unit
/// code and the window are not patient values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickProblem {
    /// Nothing in the record matches the binding (results with a status that is not a result,
    /// such as preliminary or entered-in-error, do not count).
    #[error("the record holds no value for it")]
    NotFound,
    /// Matching values exist, but the newest is older than the window.
    #[error("every value the record holds for it is more than {max_age_days} days old")]
    Stale { max_age_days: u32 },
    /// The newest value's unit is not one the binding lists.
    #[error("its newest value is in a unit it does not accept (\"{unit}\")")]
    UnknownUnit { unit: String },
    /// Matched, but without a usable value: a result without a quantity, with a bound (`< 20`)
    /// rather than a value, without a full date, or dated only after the assessment; a partial
    /// or absent birth date, an absent gender, a race extension without an OMB category, a
    /// medication referenced but not in the record.
    #[error("the record holds it without a usable value")]
    NoValue,
    /// The record's code has no mapping, and the binding has no `otherwise`.
    #[error("the record's code for it maps to none of its values")]
    Unmapped,
}

/// The value of one feature from `record`, by its binding, for an assessment on `as_of`.
pub fn pick(record: &Record, source: &FhirSource, as_of: Date) -> Result<Picked, PickProblem> {
    match source {
        FhirSource::Age => age(record, as_of),
        FhirSource::Gender(choices) => gender(record, choices),
        FhirSource::Race(choices) => race(record, choices),
        FhirSource::Observation(binding) => quantity(record, binding, as_of),
        FhirSource::Condition(codes) => condition(record, codes),
        FhirSource::Medication(codes) => medication(record, codes),
        FhirSource::CodedObservation(binding) => coded(record, binding, as_of),
    }
}

/// The US Core race extension, and its sub-extension and code system for OMB categories.
const US_CORE_RACE: &str = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";
const OMB_CATEGORY: &str = "ombCategory";
const OMB_SYSTEM: &str = "urn:oid:2.16.840.1.113883.6.238";
/// The UCUM code system, the only one whose unit codes a binding's `ucum` can be.
const UCUM: &str = "http://unitsofmeasure.org";
/// The unit shown in a refusal is cut to this many characters.
const SHOWN_UNIT_CHARS: usize = 40;

/// Observation statuses that are results (`final`, and its later corrections).
const RESULT_STATUSES: [&str; 3] = ["final", "amended", "corrected"];
/// Condition clinical statuses that mean the condition is present now.
const ACTIVE_CLINICAL: [&str; 3] = ["active", "recurrence", "relapse"];

fn patient_basis(record: &Record) -> Vec<Basis> {
    vec![Basis {
        reference: record.patient_reference(),
        date: None,
    }]
}

/// Whole years from a full birth date. A partial one (`1980`, `1980-07`) is refused: its first
/// day would make the patient up to a year older than they are.
fn age(record: &Record, as_of: Date) -> Result<Picked, PickProblem> {
    let text = record
        .patient()
        .birth_date
        .as_deref()
        .ok_or(PickProblem::NoValue)?;
    let birth = match Date::parse_with_precision(text) {
        Some((birth, Precision::Day)) => birth,
        _ => return Err(PickProblem::NoValue),
    };
    let years = birth.whole_years_until(as_of).ok_or(PickProblem::NoValue)?;
    Ok(Picked {
        value: Answer::Number(f64::from(years)),
        basis: patient_basis(record),
    })
}

fn gender(record: &Record, choices: &ChoiceMap) -> Result<Picked, PickProblem> {
    let gender = record
        .patient()
        .gender
        .as_deref()
        .ok_or(PickProblem::NoValue)?;
    let choice = choices.choice_for(gender).ok_or(PickProblem::Unmapped)?;
    Ok(Picked {
        value: Answer::Choice(choice.clone()),
        basis: patient_basis(record),
    })
}

/// The race extension's OMB categories. No extension: `otherwise` (a race-free default the
/// model chose). An extension without any OMB category (only `text`, `detailed`, or a
/// null-flavor such as asked-but-unknown): refused, since the patient's race is recorded as
/// unknown, which is not the same as "other". Several categories: the first pair in the
/// model's order that is present.
fn race(record: &Record, choices: &ChoiceMap) -> Result<Picked, PickProblem> {
    let extensions: Vec<_> = record
        .patient()
        .extension
        .iter()
        .filter(|extension| extension.url.as_deref() == Some(US_CORE_RACE))
        .collect();
    let choice = if extensions.is_empty() {
        choices.otherwise.as_ref().ok_or(PickProblem::NotFound)?
    } else {
        let codes: Vec<&str> = extensions
            .iter()
            .flat_map(|extension| &extension.extension)
            .filter(|part| part.url.as_deref() == Some(OMB_CATEGORY))
            .filter_map(|part| part.value_coding.as_ref())
            .filter(|coding| coding.system.as_deref() == Some(OMB_SYSTEM))
            .filter_map(|coding| coding.code.as_deref())
            .collect();
        if codes.is_empty() {
            return Err(PickProblem::NoValue);
        }
        choices
            .pairs
            .iter()
            .find(|(code, _)| codes.contains(&&**code))
            .map(|(_, choice)| choice)
            .or(choices.otherwise.as_ref())
            .ok_or(PickProblem::Unmapped)?
    };
    Ok(Picked {
        value: Answer::Choice(choice.clone()),
        basis: patient_basis(record),
    })
}

fn quantity(
    record: &Record,
    binding: &ObservationBinding,
    as_of: Date,
) -> Result<Picked, PickProblem> {
    let mut candidates: Vec<(&Held<Observation>, Option<&Quantity>)> = Vec::new();
    for held in &record.observations {
        let observation = &held.resource;
        if matches_any(observation.code.as_ref(), &binding.codes) {
            candidates.push((held, observation.value_quantity.as_ref()));
        }
        if matches_any(observation.code.as_ref(), &binding.panels) {
            candidates.extend(
                observation
                    .component
                    .iter()
                    .filter(|component| matches_any(component.code.as_ref(), &binding.codes))
                    .map(|component| (held, component.value_quantity.as_ref())),
            );
        }
    }
    let (held, day, quantity) = newest(candidates, as_of, binding.max_age_days)?;
    let value = converted(quantity, &binding.units)?;
    Ok(Picked {
        value: Answer::Number(value),
        basis: vec![Basis {
            reference: held.reference.clone(),
            date: Some(day),
        }],
    })
}

fn coded(record: &Record, binding: &CodedBinding, as_of: Date) -> Result<Picked, PickProblem> {
    let candidates: Vec<(&Held<Observation>, Option<&CodeableConcept>)> = record
        .observations
        .iter()
        .filter(|held| matches_any(held.resource.code.as_ref(), &binding.codes))
        .map(|held| (held, held.resource.value_codeable_concept.as_ref()))
        .collect();
    let (held, day, concept) = newest(candidates, as_of, binding.max_age_days)?;
    let concept = concept.ok_or(PickProblem::NoValue)?;
    let value = binding
        .answers
        .iter()
        .find(|(answer_code, _)| {
            concept
                .codings()
                .any(|(system, code)| answer_code.matches(system, code))
        })
        .map(|(_, answer)| answer)
        .or(binding.otherwise.as_ref())
        .ok_or(PickProblem::Unmapped)?;
    Ok(Picked {
        value: value.clone(),
        basis: vec![Basis {
            reference: held.reference.clone(),
            date: Some(day),
        }],
    })
}

/// The newest usable result among observations that match a binding, each with the value it
/// carries for the feature (its own, or a panel component's).
///
/// Newest is by effective instant; equal instants (a panel and a standalone reading taken
/// together) are ordered by `issued`, then by reference, so that the pick never depends on
/// the record's order.
fn newest<V>(
    candidates: Vec<(&Held<Observation>, V)>,
    as_of: Date,
    max_age_days: u32,
) -> Result<(&Held<Observation>, Date, V), PickProblem> {
    let results: Vec<_> = candidates
        .into_iter()
        .filter(|(held, _)| {
            held.resource
                .status
                .as_deref()
                .is_some_and(|status| RESULT_STATUSES.contains(&status))
        })
        .collect();
    if results.is_empty() {
        return Err(PickProblem::NotFound);
    }
    let (held, stamp, value) = results
        .into_iter()
        .filter_map(|(held, value)| Some((held, effective_stamp(&held.resource)?, value)))
        .filter(|(_, stamp, _)| stamp.day <= as_of)
        .max_by(|(held_a, stamp_a, _), (held_b, stamp_b, _)| {
            stamp_a
                .instant_ms
                .cmp(&stamp_b.instant_ms)
                .then_with(|| issued_ms(&held_a.resource).cmp(&issued_ms(&held_b.resource)))
                .then_with(|| held_a.reference.cmp(&held_b.reference))
        })
        .ok_or(PickProblem::NoValue)?;
    if as_of.days_since(stamp.day) > i64::from(max_age_days) {
        return Err(PickProblem::Stale { max_age_days });
    }
    Ok((held, stamp.day, value))
}

/// The observation's effective time, if it is a full date: a partial one (`2021`, `2021-03`)
/// cannot be ordered against others or placed in a window, so the result counts as undated.
fn effective_stamp(observation: &Observation) -> Option<Stamp> {
    match Stamp::parse(observation.effective_text()?)? {
        (stamp, Precision::Day) => Some(stamp),
        _ => None,
    }
}

fn issued_ms(observation: &Observation) -> Option<i64> {
    Some(Stamp::parse(observation.issued.as_deref()?)?.0.instant_ms)
}

/// The quantity in the feature's unit. A bound (`< 20`, with a `comparator`) is not a value a
/// model can take, and is refused like an absent one. The unit is the quantity's UCUM `code`; its display
/// `unit` stands in only when there is no `code` and the text is itself a listed UCUM code
/// (written by a system that puts the code in the wrong member). A code of another system
/// than UCUM is never taken for a UCUM code.
fn converted(quantity: Option<&Quantity>, units: &[UnitBinding]) -> Result<f64, PickProblem> {
    let quantity = quantity.ok_or(PickProblem::NoValue)?;
    if quantity.comparator.is_some() {
        return Err(PickProblem::NoValue);
    }
    let value = quantity.value.ok_or(PickProblem::NoValue)?;
    let unit = quantity
        .code
        .as_deref()
        .or(quantity.unit.as_deref())
        .unwrap_or_default();
    let is_ucum = quantity
        .system
        .as_deref()
        .is_none_or(|system| system == UCUM);
    let binding = units
        .iter()
        .find(|binding| is_ucum && !unit.is_empty() && binding.ucum == unit);
    match binding {
        Some(binding) => {
            let converted = value * binding.factor;
            if converted.is_finite() {
                Ok(converted)
            } else {
                Err(PickProblem::NoValue)
            }
        }
        None => Err(PickProblem::UnknownUnit {
            unit: unit.chars().take(SHOWN_UNIT_CHARS).collect(),
        }),
    }
}

fn matches_any(concept: Option<&CodeableConcept>, codes: &[CodingMatch]) -> bool {
    concept.is_some_and(|concept| {
        concept
            .codings()
            .any(|(system, code)| codes.iter().any(|wanted| wanted.matches(system, code)))
    })
}

/// Present (active, recurrence, relapse) and, when verified at all, confirmed. A Condition
/// without a clinical status is not counted: R4 requires one except for entered-in-error.
fn is_present_and_confirmed(condition: &Condition) -> bool {
    let present = condition
        .clinical_status
        .as_ref()
        .is_some_and(|status| ACTIVE_CLINICAL.iter().any(|code| status.has_code(code)));
    let confirmed = condition
        .verification_status
        .as_ref()
        .is_none_or(|status| status.has_code("confirmed"));
    present && confirmed
}

/// Conditions are not windowed by `as_of`: their clinical status is the record's present
/// state, which a past assessment date cannot rewind.
fn condition(record: &Record, codes: &[CodingMatch]) -> Result<Picked, PickProblem> {
    let basis = record
        .conditions
        .iter()
        .filter(|held| {
            is_present_and_confirmed(&held.resource)
                && matches_any(held.resource.code.as_ref(), codes)
        })
        .map(|held| {
            let condition = &held.resource;
            let date = condition
                .onset_date_time
                .as_deref()
                .or(condition.recorded_date.as_deref());
            Basis {
                reference: held.reference.clone(),
                date: date.and_then(Date::parse),
            }
        })
        .collect();
    Ok(boolean(basis))
}

/// True if an active medication matches. When none does and an active one cannot be identified
/// because its `medicationReference` points outside the record, the answer is not "no": it is
/// refused as [`PickProblem::NoValue`], so that a prefetch without the Medications never reads
/// as "not treated".
fn medication(record: &Record, codes: &[CodingMatch]) -> Result<Picked, PickProblem> {
    let mut basis = Vec::new();
    let mut unresolved = false;
    for using in &record.medication_uses {
        if using.held.resource.status.as_deref() != Some("active") {
            continue;
        }
        match record.medicine(using) {
            Medicine::Coded(concept) if matches_any(Some(concept), codes) => basis.push(Basis {
                reference: using.held.reference.clone(),
                date: using.held.resource.date_text().and_then(Date::parse),
            }),
            Medicine::Unresolved => unresolved = true,
            Medicine::Coded(_) | Medicine::Uncoded => {}
        }
    }
    if basis.is_empty() && unresolved && !codes.is_empty() {
        return Err(PickProblem::NoValue);
    }
    Ok(boolean(basis))
}

/// A boolean from the resources that make it true, in a stable order.
fn boolean(mut basis: Vec<Basis>) -> Picked {
    basis.sort_by(|a, b| a.reference.cmp(&b.reference));
    basis.dedup();
    Picked {
        value: Answer::Boolean(!basis.is_empty()),
        basis,
    }
}
