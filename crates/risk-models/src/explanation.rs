//! Why a patient's risk is what it is: per-factor contributions to the linear predictor.
//!
//! Each model writes its linear predictor as a sum of product terms, `coefficient × Π variables`,
//! where every variable belongs to one risk factor and has a value for the patient and one for
//! the model's reference patient. A factor's contribution is its exact Shapley value: the
//! average, over every order in which factors could be switched from the reference patient's
//! values to this patient's, of the change in the linear predictor when this factor switches.
//! For a main effect that is simply `coefficient × (patient − reference)`; an interaction is
//! shared between the factors in it. The contributions therefore always add up to
//! `linear predictor − reference value`, whatever the interactions.

/// A risk factor, as named in responses. Where a factor is one input its name is that input's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Factor {
    Age,
    TotalCholesterol,
    NonHdlCholesterol,
    HdlCholesterol,
    SystolicBp,
    OnBpTreatment,
    Smoker,
    Diabetic,
    Egfr,
    OnStatin,
}

impl Factor {
    const COUNT: usize = 10;

    pub fn name(self) -> &'static str {
        match self {
            Factor::Age => "age",
            Factor::TotalCholesterol => "total_cholesterol",
            Factor::NonHdlCholesterol => "non_hdl_cholesterol",
            Factor::HdlCholesterol => "hdl_cholesterol",
            Factor::SystolicBp => "systolic_bp",
            Factor::OnBpTreatment => "on_bp_treatment",
            Factor::Smoker => "smoker",
            Factor::Diabetic => "diabetic",
            Factor::Egfr => "egfr",
            Factor::OnStatin => "on_statin",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One variable of a term: a transformed value of one factor, for the patient and the
/// reference patient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variable {
    pub factor: Factor,
    pub patient: f64,
    pub reference: f64,
}

impl Variable {
    pub fn new(factor: Factor, patient: f64, reference: f64) -> Self {
        Variable {
            factor,
            patient,
            reference,
        }
    }

    /// A yes/no factor whose reference value is "no".
    pub fn flag(factor: Factor, patient: bool) -> Self {
        Variable::new(factor, if patient { 1.0 } else { 0.0 }, 0.0)
    }
}

/// Most variables in one term: PCE's treatment × age × systolic pressure.
const MAX_VARIABLES: usize = 3;

/// `coefficient × Π variables`, with one to three variables of distinct factors. Stored inline
/// (no allocation): the confidence computation evaluates every model several times a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Term {
    pub coefficient: f64,
    variables: [Variable; MAX_VARIABLES],
    len: usize,
}

impl Term {
    pub fn main(coefficient: f64, variable: Variable) -> Self {
        Term::interaction(coefficient, &[variable])
    }

    /// A product of up to three variables; more is a programming error in a model's
    /// definition, caught by the models' tests (extra variables would be dropped).
    pub fn interaction(coefficient: f64, variables: &[Variable]) -> Self {
        debug_assert!(
            variables.len() <= MAX_VARIABLES,
            "terms have at most three variables"
        );
        let len = variables.len().min(MAX_VARIABLES);
        let mut stored = [Variable::new(Factor::Age, 1.0, 1.0); MAX_VARIABLES];
        stored[..len].copy_from_slice(&variables[..len]);
        Term {
            coefficient,
            variables: stored,
            len,
        }
    }

    pub fn variables(&self) -> &[Variable] {
        &self.variables[..self.len]
    }

    /// Whether the term is part of its model: a model's table writes a term the model does not
    /// have (PCE's groups differ in their terms) as coefficient 0, and such a term is skipped.
    fn in_model(&self) -> bool {
        self.coefficient != 0.0
    }

    fn value(&self, pick: impl Fn(&Variable) -> f64) -> f64 {
        self.coefficient * self.variables().iter().map(pick).product::<f64>()
    }

    /// Exact Shapley value of each variable's factor for this one term: the weighted average,
    /// over the subsets of the other variables already switched to the patient's values, of
    /// the change this variable's switch makes.
    fn shapley(&self, mut add: impl FnMut(Factor, f64)) {
        let variables = self.variables();
        let k = variables.len();
        for (i, own) in variables.iter().enumerate() {
            let mut share = 0.0;
            for subset in (0u32..(1 << k)).filter(|s| s & (1 << i) == 0) {
                let weight = SHAPLEY_WEIGHTS[k][subset.count_ones() as usize];
                let rest: f64 = variables
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(j, v)| {
                        if subset & (1 << j) != 0 {
                            v.patient
                        } else {
                            v.reference
                        }
                    })
                    .product();
                share += weight * (own.patient - own.reference) * rest;
            }
            add(own.factor, self.coefficient * share);
        }
    }
}

/// `SHAPLEY_WEIGHTS[k][s]`: the weight `s! (k − s − 1)! / k!` of a subset of `s` of the other
/// variables in a term of `k`, worked out once at compile time (the same floating-point
/// operations as at run time, so the same values).
const SHAPLEY_WEIGHTS: [[f64; MAX_VARIABLES]; MAX_VARIABLES + 1] = {
    let mut weights = [[0.0; MAX_VARIABLES]; MAX_VARIABLES + 1];
    let mut k = 1;
    while k <= MAX_VARIABLES {
        let mut switched = 0;
        while switched < k {
            weights[k][switched] = factorial(switched) * factorial(k - switched - 1) / factorial(k);
            switched += 1;
        }
        k += 1;
    }
    weights
};

const fn factorial(n: usize) -> f64 {
    let mut product = 1.0;
    let mut i = 2;
    while i <= n {
        product *= i as f64;
        i += 1;
    }
    product
}

/// Most terms in one linear predictor: PREVENT's 19.
const MAX_TERMS: usize = 20;

/// A linear predictor's terms, stored inline: in a model component a heap allocation per
/// prediction cost more than the arithmetic (docs/performance.md, "The model's own work").
/// A term with coefficient 0 is not part of the model and is skipped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Terms {
    stored: [Term; MAX_TERMS],
    len: usize,
}

impl<const N: usize> From<[Term; N]> for Terms {
    fn from(terms: [Term; N]) -> Self {
        // A model with more terms fails to compile rather than losing one.
        const {
            assert!(
                N <= MAX_TERMS,
                "a linear predictor has at most MAX_TERMS terms"
            )
        };
        let mut stored = [Term::main(0.0, Variable::new(Factor::Age, 0.0, 0.0)); MAX_TERMS];
        stored[..N].copy_from_slice(&terms);
        Terms { stored, len: N }
    }
}

impl std::ops::Deref for Terms {
    type Target = [Term];

    fn deref(&self) -> &[Term] {
        &self.stored[..self.len]
    }
}

/// A linear predictor written as terms, with the model's constant (the part that does not
/// depend on any factor).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearPredictor {
    pub constant: f64,
    pub terms: Terms,
}

impl LinearPredictor {
    /// The patient's linear predictor.
    pub fn value(&self) -> f64 {
        linear_predictor_value(self.constant, &self.terms)
    }

    /// The reference patient's linear predictor: the model's reference value.
    pub fn reference_value(&self) -> f64 {
        self.constant
            + self
                .terms
                .iter()
                .filter(|t| t.in_model())
                .map(|t| t.value(|v| v.reference))
                .sum::<f64>()
    }

    /// Contributions in `order`, adding up to `value() − reference_value()`.
    pub fn contributions(&self, order: &[Factor]) -> Vec<Contribution> {
        let mut totals = [0.0; Factor::COUNT];
        for term in self.terms.iter().filter(|t| t.in_model()) {
            term.shapley(|factor, share| totals[factor.index()] += share);
        }
        order
            .iter()
            .map(|&factor| Contribution {
                factor,
                value: totals[factor.index()],
            })
            .collect()
    }
}

/// The patient's linear predictor, `constant + Σ terms`: [`LinearPredictor::value`] without
/// building a [`LinearPredictor`], for the confidence's perturbed patients (same terms in the
/// same order, so the same value to the last bit).
pub fn linear_predictor_value(constant: f64, terms: &[Term]) -> f64 {
    constant
        + terms
            .iter()
            .filter(|t| t.in_model())
            .map(|t| t.value(|v| v.patient))
            .sum::<f64>()
}

/// One factor's share of `linear predictor − reference value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contribution {
    pub factor: Factor,
    pub value: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(contributions: &[Contribution]) -> f64 {
        contributions.iter().map(|c| c.value).sum()
    }

    #[test]
    fn a_main_effect_contributes_coefficient_times_difference() {
        let lp = LinearPredictor {
            constant: 1.0,
            terms: [Term::main(2.0, Variable::new(Factor::Age, 3.0, 1.0))].into(),
        };
        let c = lp.contributions(&[Factor::Age]);
        assert_eq!(c[0].value, 4.0);
        assert_eq!(lp.value() - lp.reference_value(), 4.0);
    }

    #[test]
    fn a_two_way_interaction_is_shared_symmetrically_and_adds_up() {
        let lp = LinearPredictor {
            constant: 0.0,
            terms: [Term::interaction(
                1.5,
                &[
                    Variable::new(Factor::Age, 2.0, 1.0),
                    Variable::new(Factor::Smoker, 1.0, 0.0),
                ],
            )]
            .into(),
        };
        let c = lp.contributions(&[Factor::Age, Factor::Smoker]);
        // Age: 1.5 × (2 − 1) × (1 + 0)/2 = 0.75; smoker: 1.5 × (1 − 0) × (2 + 1)/2 = 2.25.
        assert!((c[0].value - 0.75).abs() < 1e-12);
        assert!((c[1].value - 2.25).abs() < 1e-12);
        assert!((sum(&c) - (lp.value() - lp.reference_value())).abs() < 1e-12);
    }

    #[test]
    fn a_three_way_interaction_adds_up_exactly() {
        let lp = LinearPredictor {
            constant: -3.0,
            terms: [Term::interaction(
                -0.7,
                &[
                    Variable::flag(Factor::OnBpTreatment, true),
                    Variable::new(Factor::Age, 4.2, 4.0),
                    Variable::new(Factor::SystolicBp, 5.1, 4.8),
                ],
            )]
            .into(),
        };
        let c = lp.contributions(&[Factor::OnBpTreatment, Factor::Age, Factor::SystolicBp]);
        assert!((sum(&c) - (lp.value() - lp.reference_value())).abs() < 1e-12);
    }

    #[test]
    fn factors_a_patient_shares_with_the_reference_contribute_nothing() {
        let lp = LinearPredictor {
            constant: 0.0,
            terms: [
                Term::main(0.9, Variable::flag(Factor::Diabetic, false)),
                Term::interaction(
                    2.0,
                    &[
                        Variable::new(Factor::Age, 1.0, 1.0),
                        Variable::flag(Factor::Smoker, true),
                    ],
                ),
            ]
            .into(),
        };
        let c = lp.contributions(&[Factor::Diabetic, Factor::Age, Factor::Smoker]);
        assert_eq!(c[0].value, 0.0);
        assert_eq!(c[1].value, 0.0);
        assert_eq!(c[2].value, 2.0);
    }
}
