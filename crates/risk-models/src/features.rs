//! A patient given as named feature values, checked against a model's [`ModelDescription`]:
//! the general form of [`crate::validation`], for any model that declares its features instead
//! of sharing one field list (the model contract of `docs/design/model-contract.md`).
//!
//! Two steps, as the API answers today: first every value's type (a number, a boolean, one of
//! the allowed strings; a name and its alias not both), and only if all are well typed, the
//! model's own rules in its declared order: required features present, numbers inside the
//! validated range once converted to the canonical unit. Messages are the ones of
//! [`crate::problem`]: they name the feature and the range or allowed values, never the value.

use crate::description::{Feature, FeatureKind, ModelDescription, NumberFeature};
use crate::input::FieldValue;
use crate::problem::{FieldError, FieldProblem, ValidationErrors};
use crate::value::{UnitConversion, ValueKind};

/// A feature's value once validated, in its canonical unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Canonical {
    Number(f64),
    Boolean(bool),
    /// One of the feature's allowed values.
    Choice(&'static str),
}

/// Every feature of a model, validated: `None` where the patient did not give it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedFeatures {
    /// In the description's feature order.
    values: Slots,
    /// Names given that this model does not declare (the caller decides what to say).
    pub not_declared: Vec<String>,
}

impl ValidatedFeatures {
    fn get(&self, name: &str) -> Option<Canonical> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, value)| *value)
    }

    /// A number feature's value, in its canonical unit.
    /// The value of the feature at `index` in the description's order (the slots are in that
    /// order): what a model reading every feature in order uses instead of names.
    pub fn at(&self, index: usize) -> Option<Canonical> {
        self.values.get(index).and_then(|(_, value)| *value)
    }

    pub fn number(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Some(Canonical::Number(value)) => Some(value),
            _ => None,
        }
    }

    /// A boolean feature's value, if given.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(Canonical::Boolean(value)) => Some(value),
            _ => None,
        }
    }

    /// A choice feature's value, if given.
    pub fn choice(&self, name: &str) -> Option<&'static str> {
        match self.get(name) {
            Some(Canonical::Choice(value)) => Some(value),
            _ => None,
        }
    }
}

/// Checks the type of every value whose name (or alias) is among `known`: the API's first
/// step, over every feature of every model it serves, so that a value of the wrong type is
/// refused even when the chosen model does not use it. Names not among `known` are left alone.
pub fn check_types(
    known: &[Feature],
    given: &[(&str, FieldValue<'_>)],
) -> Result<(), ValidationErrors> {
    let errors = read(known, given).errors;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

/// One slot per feature, in declaration order.
type Slots = Vec<(&'static str, Option<Canonical>)>;

/// What [`read`] found: the typed slots, the names not among the features, the type errors.
struct Read {
    values: Slots,
    not_declared: Vec<String>,
    errors: Vec<FieldError>,
}

/// The values given for `features`, typed.
fn read(features: &[Feature], given: &[(&str, FieldValue<'_>)]) -> Read {
    let mut values: Slots = features.iter().map(|f| (f.name, None)).collect();
    let mut not_declared = Vec::new();
    let mut errors = Vec::new();
    // Callers usually give features in declared order (the model contract's positions do), so
    // the feature after the last one found is tried first.
    let mut next = 0;
    for (name, value) in given {
        let expected = features
            .get(next)
            .filter(|f| same_name(f.name, name))
            .map(|_| next);
        let Some(index) = expected.or_else(|| {
            features
                .iter()
                .position(|f| f.name == *name || f.aliases.contains(name))
        }) else {
            not_declared.push((*name).to_owned());
            continue;
        };
        next = index + 1;
        let feature = &features[index];
        // As `PatientInput::set`: a second value counts only after a first one was accepted.
        if values[index].1.is_some() {
            let alias = feature.aliases.first().copied().unwrap_or_default();
            errors.push(error(feature, FieldProblem::Duplicate { alias }));
            continue;
        }
        match typed(feature, value) {
            Ok(value) => values[index].1 = Some(value),
            Err(problem) => errors.push(error(feature, problem)),
        }
    }
    Read {
        values,
        not_declared,
        errors,
    }
}

/// Whether `given` is the feature's name. The model contract's callers pass the description's
/// own names (the same static strings), so the address answers most comparisons without
/// reading the bytes: a 30-feature model compares 30 names per patient of a batch.
fn same_name(name: &str, given: &str) -> bool {
    std::ptr::eq(name, given) || name == given
}

/// Validates `given` (names or aliases, with their values) against `model`: types first, then
/// the model's rules.
pub fn validate_features(
    model: &ModelDescription,
    given: &[(&str, FieldValue<'_>)],
) -> Result<ValidatedFeatures, ValidationErrors> {
    let Read {
        values,
        not_declared,
        mut errors,
    } = read(&model.features, given);
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }

    // One pass in declared order: numbers into the canonical unit, each checked against its
    // range (and shown in the unit it was given in), required features present.
    let mut canonical: Slots = Vec::with_capacity(values.len());
    for (feature, &(name, value)) in model.features.iter().zip(&values) {
        if feature.required && value.is_none() {
            errors.push(error(feature, FieldProblem::Missing));
        }
        let (FeatureKind::Number(number), Some(Canonical::Number(given))) = (&feature.kind, value)
        else {
            canonical.push((name, value));
            continue;
        };
        let given_in = chosen_unit(number, &values);
        let converted = given_in.map_or(given, |unit| given * unit.factor);
        if let Some(range) = number.range.filter(|range| !range.contains(converted)) {
            errors.push(error(
                feature,
                FieldProblem::OutOfRange {
                    model: model.name,
                    range,
                    unit: number.unit,
                    given_in,
                },
            ));
        }
        canonical.push((name, Some(Canonical::Number(converted))));
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }
    Ok(ValidatedFeatures {
        values: canonical,
        not_declared,
    })
}

/// The alternative unit a number was given in, named by its unit selector's value; `None` for
/// the canonical unit (the selector absent, or naming the canonical unit).
fn chosen_unit(number: &NumberFeature, values: &Slots) -> Option<UnitConversion> {
    let selector = number.unit_selector?;
    let Some((_, Some(Canonical::Choice(unit)))) = values.iter().find(|(n, _)| *n == selector)
    else {
        return None;
    };
    number
        .alternative_units
        .iter()
        .find(|alternative| alternative.unit == *unit)
        .copied()
}

/// The value, if it has the feature's type.
fn typed(feature: &Feature, value: &FieldValue<'_>) -> Result<Canonical, FieldProblem> {
    match (&feature.kind, value) {
        (FeatureKind::Number(_), FieldValue::Number(number)) if number.is_finite() => {
            Ok(Canonical::Number(*number))
        }
        (FeatureKind::Number(_), FieldValue::Number(_)) => Err(FieldProblem::NotFinite),
        (FeatureKind::Boolean { .. }, FieldValue::Flag(flag)) => Ok(Canonical::Boolean(*flag)),
        (FeatureKind::Choice { allowed, .. }, FieldValue::Text(text)) => allowed
            .iter()
            .find(|allowed| **allowed == *text)
            .map(|allowed| Canonical::Choice(allowed))
            .ok_or(FieldProblem::NotAllowed { allowed }),
        (kind, _) => Err(FieldProblem::WrongType {
            expected: value_kind(kind),
        }),
    }
}

fn value_kind(kind: &FeatureKind) -> ValueKind {
    match kind {
        FeatureKind::Number(_) => ValueKind::Number,
        FeatureKind::Boolean { .. } => ValueKind::Boolean,
        FeatureKind::Choice { .. } => ValueKind::Choice,
    }
}

fn error(feature: &Feature, problem: FieldProblem) -> FieldError {
    FieldError::new(feature.name, problem)
}

#[cfg(test)]
mod tests;
