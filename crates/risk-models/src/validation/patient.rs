//! A patient whose inputs passed a model's validation, in canonical units.
//!
//! The fields are visible to [`crate::validation`] alone, which builds every `Patient`; the
//! rest of the crate reads them through the accessors below.

use crate::field::Field;
use crate::input::{Race, Sex};

/// Validated patient values. Cholesterol is in mg/dL whatever unit the client used.
/// Built only by [`crate::validation::validate`], so every value is inside the validated range
/// of the model it was validated for.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub(super) age: f64,
    pub(super) sex: Sex,
    /// Absent when the client did not say; only pce-2013 uses it.
    pub(super) race: Option<Race>,
    pub(super) total_cholesterol: f64,
    pub(super) hdl_cholesterol: f64,
    pub(super) systolic_bp: f64,
    pub(super) on_bp_treatment: bool,
    pub(super) smoker: bool,
    pub(super) diabetic: bool,
    /// Present whenever the model declares eGFR required.
    pub(super) egfr: Option<f64>,
    pub(super) on_statin: bool,
}

impl Patient {
    /// Age, years.
    pub fn age(&self) -> f64 {
        self.age
    }

    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// Absent when the client did not say.
    pub fn race(&self) -> Option<Race> {
        self.race
    }

    /// Total cholesterol, mg/dL.
    pub fn total_cholesterol(&self) -> f64 {
        self.total_cholesterol
    }

    /// HDL cholesterol, mg/dL.
    pub fn hdl_cholesterol(&self) -> f64 {
        self.hdl_cholesterol
    }

    /// Systolic blood pressure, mmHg.
    pub fn systolic_bp(&self) -> f64 {
        self.systolic_bp
    }

    pub fn on_bp_treatment(&self) -> bool {
        self.on_bp_treatment
    }

    pub fn smoker(&self) -> bool {
        self.smoker
    }

    pub fn diabetic(&self) -> bool {
        self.diabetic
    }

    /// eGFR, mL/min/1.73 m²: present whenever the model validated for requires it.
    pub fn egfr(&self) -> Option<f64> {
        self.egfr
    }

    pub fn on_statin(&self) -> bool {
        self.on_statin
    }

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
