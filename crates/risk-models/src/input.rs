//! Raw patient input as a client sent it: typed, but not yet checked against any model.
//!
//! Adapters (the JSON `/predict` body, inference-protocol tensors) fill a [`PatientInput`] one
//! field at a time with [`PatientInput::set`], which checks the value's type; the models'
//! validation ([`crate::validation`]) then checks presence, units and ranges.

use crate::field::{CholesterolUnit, Field, FieldKind};
use crate::problem::FieldProblem;

/// A value as it arrived, before its field's type is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Number(f64),
    Flag(bool),
    Text(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
}

/// The groups the Pooled Cohort Equations distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Race {
    White,
    AfricanAmerican,
    Other,
}

/// What a client said about one patient. `None` means the field was absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientInput {
    pub age: Option<f64>,
    pub sex: Option<Sex>,
    pub race: Option<Race>,
    /// In `cholesterol_unit`.
    pub total_cholesterol: Option<f64>,
    /// In `cholesterol_unit`.
    pub hdl_cholesterol: Option<f64>,
    pub cholesterol_unit: Option<CholesterolUnit>,
    pub systolic_bp: Option<f64>,
    pub on_bp_treatment: Option<bool>,
    pub smoker: Option<bool>,
    pub diabetic: Option<bool>,
    pub egfr: Option<f64>,
    pub on_statin: Option<bool>,
}

impl PatientInput {
    /// Sets one field, checking that the value has the field's type (and, for choices, is one of
    /// the allowed strings). A field given twice (say as `total_cholesterol` and as its alias
    /// `cholesterol`) is refused rather than silently overwritten.
    pub fn set(&mut self, field: Field, value: FieldValue<'_>) -> Result<(), FieldProblem> {
        if self.is_set(field) {
            return Err(FieldProblem::Duplicate {
                alias: field.alias().unwrap_or_default(),
            });
        }
        match (field.kind(), value) {
            (FieldKind::Number { .. }, FieldValue::Number(number)) => {
                if !number.is_finite() {
                    return Err(FieldProblem::NotFinite);
                }
                *self.number_slot(field) = Some(number);
            }
            (FieldKind::Flag, FieldValue::Flag(flag)) => *self.flag_slot(field) = Some(flag),
            (FieldKind::Choice { allowed }, FieldValue::Text(text)) => {
                self.set_choice(field, text)
                    .ok_or(FieldProblem::NotAllowed { allowed })?;
            }
            (kind, _) => {
                return Err(FieldProblem::WrongType {
                    expected: kind.value_kind(),
                })
            }
        }
        Ok(())
    }

    /// Whether the client gave this field.
    pub fn is_set(&self, field: Field) -> bool {
        match field {
            Field::Age => self.age.is_some(),
            Field::Sex => self.sex.is_some(),
            Field::Race => self.race.is_some(),
            Field::TotalCholesterol => self.total_cholesterol.is_some(),
            Field::HdlCholesterol => self.hdl_cholesterol.is_some(),
            Field::CholesterolUnit => self.cholesterol_unit.is_some(),
            Field::SystolicBp => self.systolic_bp.is_some(),
            Field::OnBpTreatment => self.on_bp_treatment.is_some(),
            Field::Smoker => self.smoker.is_some(),
            Field::Diabetic => self.diabetic.is_some(),
            Field::Egfr => self.egfr.is_some(),
            Field::OnStatin => self.on_statin.is_some(),
        }
    }

    /// The numeric value of a number field as sent (cholesterol still in `cholesterol_unit`).
    pub fn number(&self, field: Field) -> Option<f64> {
        match field {
            Field::Age => self.age,
            Field::TotalCholesterol => self.total_cholesterol,
            Field::HdlCholesterol => self.hdl_cholesterol,
            Field::SystolicBp => self.systolic_bp,
            Field::Egfr => self.egfr,
            _ => None,
        }
    }

    fn number_slot(&mut self, field: Field) -> &mut Option<f64> {
        match field {
            Field::TotalCholesterol => &mut self.total_cholesterol,
            Field::HdlCholesterol => &mut self.hdl_cholesterol,
            Field::SystolicBp => &mut self.systolic_bp,
            Field::Egfr => &mut self.egfr,
            // Only number fields reach here (see `set`); age is the remaining one.
            _ => &mut self.age,
        }
    }

    fn flag_slot(&mut self, field: Field) -> &mut Option<bool> {
        match field {
            Field::OnBpTreatment => &mut self.on_bp_treatment,
            Field::Smoker => &mut self.smoker,
            Field::Diabetic => &mut self.diabetic,
            // Only flag fields reach here (see `set`); on_statin is the remaining one.
            _ => &mut self.on_statin,
        }
    }

    fn set_choice(&mut self, field: Field, text: &str) -> Option<()> {
        match field {
            Field::Sex => {
                self.sex = Some(match text {
                    "female" => Sex::Female,
                    "male" => Sex::Male,
                    _ => return None,
                })
            }
            Field::Race => {
                self.race = Some(match text {
                    "white" => Race::White,
                    "african_american" => Race::AfricanAmerican,
                    "other" => Race::Other,
                    _ => return None,
                })
            }
            Field::CholesterolUnit => {
                self.cholesterol_unit = Some(match text {
                    "mg/dL" => CholesterolUnit::MgPerDl,
                    "mmol/L" => CholesterolUnit::MmolPerL,
                    _ => return None,
                })
            }
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_field_takes_a_finite_number_only() {
        let mut input = PatientInput::default();
        assert_eq!(input.set(Field::Age, FieldValue::Number(55.0)), Ok(()));
        assert_eq!(input.age, Some(55.0));
        let mut input = PatientInput::default();
        assert_eq!(
            input.set(Field::Age, FieldValue::Number(f64::NAN)),
            Err(FieldProblem::NotFinite)
        );
        assert!(matches!(
            input.set(Field::Age, FieldValue::Text("55")),
            Err(FieldProblem::WrongType { .. })
        ));
    }

    #[test]
    fn a_flag_field_takes_a_boolean_only() {
        let mut input = PatientInput::default();
        assert!(matches!(
            input.set(Field::Smoker, FieldValue::Number(1.0)),
            Err(FieldProblem::WrongType { .. })
        ));
        assert_eq!(input.set(Field::Smoker, FieldValue::Flag(true)), Ok(()));
        assert_eq!(input.smoker, Some(true));
    }

    #[test]
    fn a_choice_field_takes_one_of_its_strings_only() {
        let mut input = PatientInput::default();
        assert_eq!(
            input.set(Field::Sex, FieldValue::Text("Female")),
            Err(FieldProblem::NotAllowed {
                allowed: crate::field::SEX_VALUES
            })
        );
        assert_eq!(input.set(Field::Sex, FieldValue::Text("female")), Ok(()));
        assert_eq!(
            input.set(Field::CholesterolUnit, FieldValue::Text("mmol/L")),
            Ok(())
        );
        assert_eq!(input.cholesterol_unit, Some(CholesterolUnit::MmolPerL));
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        let mut input = PatientInput::default();
        assert_eq!(
            input.set(Field::TotalCholesterol, FieldValue::Number(200.0)),
            Ok(())
        );
        assert_eq!(
            input.set(Field::TotalCholesterol, FieldValue::Number(210.0)),
            Err(FieldProblem::Duplicate {
                alias: "cholesterol"
            })
        );
        assert_eq!(input.total_cholesterol, Some(200.0));
    }

    #[test]
    fn mmol_per_litre_converts_with_the_specified_factor() {
        assert!((CholesterolUnit::MmolPerL.to_mg_dl(5.0) - 193.35).abs() < 1e-9);
        assert!((CholesterolUnit::MmolPerL.from_mg_dl(193.35) - 5.0).abs() < 1e-9);
    }
}
