//! What a model declares about itself: identity, source, inputs with validated ranges, outcomes.

use crate::category::CategoryThresholds;
use crate::field::Field;

/// A model's published description. Everything the API documents about a model comes from here.
#[derive(Debug)]
pub struct ModelSpec {
    /// Stable identifier used in requests and URLs, e.g. `pce-2013`.
    pub name: &'static str,
    /// Version of this implementation of the equations.
    pub version: &'static str,
    pub title: &'static str,
    /// The publication the coefficients are taken from.
    pub citation: &'static str,
    /// Which population the equations are for.
    pub population: &'static str,
    pub horizon_years: u32,
    /// The inputs, in documentation order.
    pub inputs: &'static [InputSpec],
    /// The outcomes, primary first.
    pub outcomes: &'static [OutcomeSpec],
    /// What the linear predictor is, e.g. a log hazard.
    pub linear_predictor_scale: &'static str,
    /// Who the reference patient is: contributions explain the difference between this
    /// patient's linear predictor and the reference patient's.
    pub reference_patient: &'static str,
    pub categories: CategoryThresholds,
    /// Where the category thresholds come from.
    pub category_basis: &'static str,
}

impl ModelSpec {
    pub fn primary_outcome(&self) -> &'static OutcomeSpec {
        &self.outcomes[0]
    }

    pub fn input(&self, field: Field) -> Option<&'static InputSpec> {
        self.inputs.iter().find(|input| input.field == field)
    }
}

/// One model input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputSpec {
    pub field: Field,
    pub requirement: Requirement,
    /// The validated range, for numbers, in the field's canonical unit (cholesterol in mg/dL).
    pub range: Option<Range>,
}

impl InputSpec {
    pub const fn required(field: Field, range: Option<Range>) -> Self {
        InputSpec {
            field,
            requirement: Requirement::Required,
            range,
        }
    }

    pub const fn optional(field: Field, when_absent: &'static str) -> Self {
        InputSpec {
            field,
            requirement: Requirement::Optional { when_absent },
            range: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    Required,
    /// May be absent; the text says what absence means.
    Optional {
        when_absent: &'static str,
    },
}

/// An inclusive range of validated values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    pub const fn new(min: f64, max: f64) -> Self {
        Range { min, max }
    }

    pub fn contains(&self, value: f64) -> bool {
        value >= self.min && value <= self.max
    }
}

/// An outcome a model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutcomeSpec {
    /// Machine name, e.g. `ascvd`; the inference protocol's output is `<name>_risk`.
    pub name: &'static str,
    pub description: &'static str,
}
