//! A patient's named values, as a client sent them (a `/predict` JSON object, or one row of
//! inference-protocol tensors), checked against the features the served models declare.
//!
//! The API's step only checks what it can know without a model's rules: the name is some
//! model's feature (or an alias of one), the value has the feature's kind (a number, a
//! boolean, one of the allowed strings), and no feature is given twice. Presence, units and
//! validated ranges are the chosen model's to check. Messages name the feature and what is
//! allowed, never the value sent.

use std::borrow::Cow;

use crate::catalog::{Catalog, Feature, FeatureKind, ModelFieldError, Patient, ServedModel, Value};
use crate::predict::request::Scalar;
use crate::problem::{child_pointer, echoed_name, FieldIssue};

/// A value as it arrived, before its feature's kind is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Given<'a> {
    Number(f64),
    Boolean(bool),
    Text(&'a str),
    /// Anything else (a JSON array or object, a string that is not UTF-8): wrong for every kind.
    Other,
}

/// The names a request to one model may use: that model's features first, then those of every
/// other served model (accepted and passed on; the model ignores them with a warning). Other
/// models are consulted only for a name the chosen model does not declare, so a request that
/// names only its model's features touches no other model's description.
#[derive(Clone, Copy)]
pub struct Vocabulary<'c> {
    model: ServedModel<'c>,
    catalog: &'c Catalog,
}

impl<'c> Vocabulary<'c> {
    pub fn new(model: ServedModel<'c>, catalog: &'c Catalog) -> Self {
        Vocabulary { model, catalog }
    }

    /// The feature a client's `name` (its name or an alias) means, and its position among the
    /// chosen model's features (`None`: another model's feature).
    pub fn locate(&self, name: &str) -> Option<(&'c Feature, Option<usize>)> {
        let own: &'c [Feature] = &self.model.info().features;
        if let Some(index) = own.iter().position(|f| f.is_named(name)) {
            return Some((&own[index], Some(index)));
        }
        let other = self.catalog.features().iter().find(|f| f.is_named(name))?;
        Some((other, None))
    }

    /// Every known feature's name, comma-separated.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self
            .catalog
            .features()
            .iter()
            .map(|feature| feature.name.as_ref())
            .collect();
        names.join(", ")
    }

    /// The message for a name no served model declares (`echoed` is the name as it may be
    /// shown).
    pub fn unknown_message(&self, echoed: &str) -> String {
        format!(
            "{echoed} is not a known patient field (known fields: {})",
            self.names()
        )
    }
}

/// One patient's values for one model, added one at a time.
#[derive(Debug)]
pub struct PatientBuilder {
    patient: Patient,
}

impl PatientBuilder {
    /// An empty patient for the model `known` is for.
    pub fn new(known: &Vocabulary<'_>) -> Self {
        PatientBuilder {
            patient: Patient {
                values: vec![None; known.model.info().features.len()],
                not_declared: Vec::new(),
            },
        }
    }

    /// Adds `given` for `feature` (the model's own, at `position` among its features, or
    /// another model's: `None`, as [`Vocabulary::locate`] says) under its canonical name, or
    /// says why not.
    pub fn set(
        &mut self,
        feature: &Feature,
        position: Option<usize>,
        given: Given<'_>,
    ) -> Result<(), String> {
        let name = &feature.name;
        // A second value counts only once a first one was accepted (a name and its alias).
        let already = match position {
            Some(index) => self.patient.values[index].is_some(),
            None => self.patient.not_declared.iter().any(|given| given == name),
        };
        if already {
            let alias = feature.aliases.first().map_or("", |alias| alias.as_ref());
            return Err(format!(
                "{name} is given more than once ({name} and its alias {alias} are the same field)"
            ));
        }
        let value = match (&feature.kind, given) {
            (FeatureKind::Number(_), Given::Number(number)) if number.is_finite() => {
                Value::Number(number)
            }
            (FeatureKind::Number(_), Given::Number(_)) => {
                return Err(format!("{name} must be a finite number"))
            }
            (FeatureKind::Boolean { .. }, Given::Boolean(flag)) => Value::Boolean(flag),
            (FeatureKind::Choice { allowed, .. }, Given::Text(text)) => {
                if !allowed.iter().any(|value| value == text) {
                    let quoted: Vec<String> = allowed.iter().map(|v| format!("\"{v}\"")).collect();
                    return Err(format!("{name} must be one of: {}", quoted.join(", ")));
                }
                Value::Choice(text.to_owned())
            }
            (kind, _) => return Err(format!("{name} must be {}", expected(kind))),
        };
        match position {
            Some(index) => self.patient.values[index] = Some(value),
            // The model ignores another model's feature: only its name goes to the model.
            None => self.patient.not_declared.push(name.to_string()),
        }
        Ok(())
    }

    pub fn finish(self) -> Patient {
        self.patient
    }
}

/// What a feature's values are, for messages.
pub fn expected(kind: &FeatureKind) -> &'static str {
    match kind {
        FeatureKind::Number(_) => "a number",
        FeatureKind::Boolean { .. } => "a boolean (true or false)",
        FeatureKind::Choice { .. } => "a string",
    }
}

/// Reads every member of a `/predict` patient object (in a sorted map's order, as
/// [`crate::predict::request`] gives them) against `known`; `pointer` is the object's JSON
/// Pointer in the request body. `null` means absent.
pub fn read_patient(
    known: &Vocabulary<'_>,
    members: &[(Cow<'_, str>, Scalar<'_>)],
    pointer: &str,
) -> Result<Patient, Vec<FieldIssue>> {
    let mut patient = PatientBuilder::new(known);
    let mut issues = Vec::new();
    for (name, value) in members {
        let Some((feature, position)) = known.locate(name) else {
            let echoed = echoed_name(name);
            issues.push(FieldIssue {
                pointer: child_pointer(pointer, &echoed),
                detail: known.unknown_message(&echoed),
                field: echoed,
            });
            continue;
        };
        let Some(given) = value.given() else {
            continue;
        };
        if let Err(detail) = patient.set(feature, position, given) {
            issues.push(FieldIssue {
                pointer: child_pointer(pointer, &echoed_name(name)),
                field: feature.name.to_string(),
                detail,
            });
        }
    }
    if issues.is_empty() {
        Ok(patient.finish())
    } else {
        Err(issues)
    }
}

/// Turns a model's field errors into issues under `pointer`.
pub fn model_issues(errors: &[ModelFieldError], pointer: &str) -> Vec<FieldIssue> {
    errors
        .iter()
        .map(|error| FieldIssue {
            pointer: child_pointer(pointer, &echoed_name(&error.field)),
            field: error.field.clone(),
            detail: error.message.clone(),
        })
        .collect()
}
