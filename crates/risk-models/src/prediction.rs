//! What a model returns for one patient.

use crate::category::RiskCategory;
use crate::explanation::Contribution;
use crate::spec::OutcomeSpec;
use crate::warning::Warning;

/// A model's answer for one patient. Every number has a documented meaning:
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Every outcome's risk over the model's horizon, as a fraction in [0, 1]; the primary
    /// outcome first.
    pub outcomes: Vec<OutcomeRisk>,
    /// The guideline category of the primary outcome's risk.
    pub category: RiskCategory,
    /// Probability that the category stays the same if the measured inputs were taken again
    /// (see [`crate::confidence`]).
    pub confidence: f64,
    /// Each factor's share of `linear_predictor − reference_value` (exact Shapley values, see
    /// [`crate::explanation`]); they add up to that difference.
    pub contributions: Vec<Contribution>,
    /// The primary outcome's linear predictor for this patient.
    pub linear_predictor: f64,
    /// The same linear predictor for the model's reference patient.
    pub reference_value: f64,
    pub warnings: Vec<Warning>,
}

impl Prediction {
    /// The primary outcome's risk.
    pub fn risk(&self) -> f64 {
        self.outcomes[0].risk
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutcomeRisk {
    pub outcome: &'static OutcomeSpec,
    pub risk: f64,
}
