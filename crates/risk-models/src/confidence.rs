//! `confidence`: how likely the risk category is to stay the same if the patient's measurements
//! were taken again.
//!
//! A category is only as firm as the measurements behind it: a risk of 7.4 % is "borderline",
//! but a second blood-pressure reading could make it "intermediate". We propagate the usual
//! within-person variability of each measured input through the model (first-order, with the
//! linear predictor's numerical gradient), treat the linear predictor as normally distributed,
//! and return the probability that it stays inside the current category's interval. Near a
//! threshold it is about 0.5; far from every threshold it approaches 1. It says nothing about
//! the accuracy of the equations themselves, which the publications report.

use crate::category::{CategoryThresholds, RiskCategory};
use crate::field::Field;
use crate::link::Link;
use crate::validation::Patient;

/// The spread of a repeated measurement of one input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// Standard deviation in the field's unit.
    Absolute(f64),
    /// Coefficient of variation (standard deviation / value).
    Relative(f64),
}

/// Within-person variability assumed for each measured input. Age and the yes/no inputs are
/// taken as exact.
///
/// - Total and HDL cholesterol: average within-subject biological CV of 6.1 % and 7.4 %
///   (Smith SJ et al., Clin Chem 1993;39:1012-22, a meta-analysis of 30 studies).
/// - Systolic pressure: 10 mmHg standard deviation between office visits, the lower end of the
///   visit-to-visit variability reported in treated hypertensive cohorts.
/// - eGFR: 6 % CV, from creatinine's within-subject biological variation of about 5 %
///   amplified by the eGFR equations' exponent of about −1.2.
pub const MEASUREMENT_SPREAD: [(Field, Spread); 4] = [
    (Field::TotalCholesterol, Spread::Relative(0.061)),
    (Field::HdlCholesterol, Spread::Relative(0.074)),
    (Field::SystolicBp, Spread::Absolute(10.0)),
    (Field::Egfr, Spread::Relative(0.06)),
];

/// Probability that the category stays `category` under measurement variability.
///
/// `centre` is the model's primary linear predictor for `patient` (which the prediction has
/// already computed: one evaluation fewer per prediction); `linear_predictor` computes it for
/// a slightly perturbed patient; `uses` says which fields the model reads.
pub fn category_confidence(
    patient: &Patient,
    centre: f64,
    category: RiskCategory,
    thresholds: &CategoryThresholds,
    link: Link,
    uses: impl Fn(Field) -> bool,
    linear_predictor: impl Fn(&Patient) -> f64,
) -> f64 {
    let mut variance = 0.0;
    for (field, spread) in MEASUREMENT_SPREAD {
        let Some(value) = patient.measurement(field).filter(|_| uses(field)) else {
            continue;
        };
        let sd = match spread {
            Spread::Absolute(sd) => sd,
            Spread::Relative(cv) => cv * value,
        };
        // Forward difference: one model evaluation per input. The step is a ten-thousandth
        // of the value, tiny next to any measurement's spread, so the slope is exact to the
        // precision a confidence needs (at PREVENT's kinks, 110 mmHg and eGFR 60, it takes
        // the slope above the kink).
        let step = 1e-4 * value.abs().max(1.0);
        let up = linear_predictor(&patient.with_measurement(field, value + step));
        let slope = (up - centre) / step;
        variance += (slope * sd).powi(2);
    }
    let sd = variance.sqrt();
    if !(sd > 0.0 && sd.is_finite()) {
        // No measured input varies: the category cannot change.
        return 1.0;
    }

    let (lower_risk, upper_risk) = thresholds.bounds(category);
    let lower = if lower_risk > 0.0 {
        standard_normal_cdf((link.linear_predictor_for(lower_risk) - centre) / sd)
    } else {
        0.0
    };
    let upper = if upper_risk < 1.0 {
        standard_normal_cdf((link.linear_predictor_for(upper_risk) - centre) / sd)
    } else {
        1.0
    };
    (upper - lower).clamp(0.0, 1.0)
}

/// Φ(x), from the complementary error function.
pub fn standard_normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function, Chebyshev approximation with fractional error below 1.2e-7
/// everywhere (Press et al., Numerical Recipes, 2nd ed., §6.2).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398
                                + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let result = t * poly.exp();
    if x >= 0.0 {
        result
    } else {
        2.0 - result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_cdf_matches_known_values() {
        assert!((standard_normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((standard_normal_cdf(1.959964) - 0.975).abs() < 1e-6);
        assert!((standard_normal_cdf(-1.0) - 0.158655).abs() < 1e-6);
        assert_eq!(standard_normal_cdf(-40.0), 0.0);
        assert_eq!(standard_normal_cdf(40.0), 1.0);
    }
}
