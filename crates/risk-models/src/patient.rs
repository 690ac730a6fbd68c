//! A patient whose inputs passed a model's validation, in canonical units.

use crate::field::Field;
use crate::input::{Race, Sex};

/// Validated patient values. Cholesterol is in mg/dL whatever unit the client used.
/// Built only by [`crate::validation::validate`], so every value is inside the validated range
/// of the model it was validated for.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub age: f64,
    pub sex: Sex,
    /// Absent when the client did not say; only pce-2013 uses it.
    pub race: Option<Race>,
    pub total_cholesterol: f64,
    pub hdl_cholesterol: f64,
    pub systolic_bp: f64,
    pub on_bp_treatment: bool,
    pub smoker: bool,
    pub diabetic: bool,
    /// Present whenever the model declares eGFR required.
    pub egfr: Option<f64>,
    pub on_statin: bool,
}

impl Patient {
    /// The same patient with one measured value changed: used to measure how sensitive a
    /// model is to measurement variability (see [`crate::confidence`]).
    pub fn with_measurement(&self, field: Field, value: f64) -> Patient {
        let mut changed = self.clone();
        match field {
            Field::Age => changed.age = value,
            Field::TotalCholesterol => changed.total_cholesterol = value,
            Field::HdlCholesterol => changed.hdl_cholesterol = value,
            Field::SystolicBp => changed.systolic_bp = value,
            Field::Egfr => changed.egfr = Some(value),
            _ => {}
        }
        changed
    }

    /// A measured value, by field.
    pub fn measurement(&self, field: Field) -> Option<f64> {
        match field {
            Field::Age => Some(self.age),
            Field::TotalCholesterol => Some(self.total_cholesterol),
            Field::HdlCholesterol => Some(self.hdl_cholesterol),
            Field::SystolicBp => Some(self.systolic_bp),
            Field::Egfr => self.egfr,
            _ => None,
        }
    }
}
