//! 2013 ACC/AHA Pooled Cohort Equations: 10-year risk of a first hard ASCVD event.
//!
//! Coefficients are Table A of Goff DC Jr et al. as printed (the precision this service uses;
//! the higher-precision values of some calculators differ by at most 0.03 percentage points on
//! the guideline's example). Formula: `risk = 1 − S0 ^ exp(Σ coefficient × term − mean)`.

use crate::category::ACC_AHA_10_YEAR;
use crate::explanation::{linear_predictor_value, Factor, LinearPredictor, Term, Terms, Variable};
use crate::field::Field;
use crate::input::{Race, Sex};
use crate::link::Link;
use crate::spec::{InputSpec, ModelSpec, OutcomeSpec, Range};
use crate::validation::Patient;

pub const SPEC: ModelSpec = ModelSpec {
    name: "pce-2013",
    version: "1.0.0",
    title: "2013 ACC/AHA Pooled Cohort Equations (10-year hard ASCVD risk)",
    citation: "Goff DC Jr, Lloyd-Jones DM, Bennett G, et al. 2013 ACC/AHA Guideline on the \
               Assessment of Cardiovascular Risk. Circulation. 2014;129(25 Suppl 2):S49-S73, \
               Table A (coefficients as printed).",
    population: "Adults 40-79 years without clinical ASCVD; equations for white and \
                 African-American women and men.",
    horizon_years: 10,
    inputs: &[
        InputSpec::required(Field::Age, Some(Range::new(40.0, 79.0))),
        InputSpec::required(Field::Sex, None),
        InputSpec::optional(
            Field::Race,
            "the equations for white patients are used, with a warning",
        ),
        InputSpec::required(Field::TotalCholesterol, Some(Range::new(130.0, 320.0))),
        InputSpec::required(Field::HdlCholesterol, Some(Range::new(20.0, 100.0))),
        InputSpec::required(Field::SystolicBp, Some(Range::new(90.0, 200.0))),
        InputSpec::optional(Field::OnBpTreatment, "false"),
        InputSpec::optional(Field::Smoker, "false"),
        InputSpec::optional(Field::Diabetic, "false"),
    ],
    outcomes: &[OutcomeSpec {
        name: "ascvd",
        description: "10-year risk of a first hard ASCVD event: nonfatal myocardial infarction, \
                      coronary heart disease death, or fatal or nonfatal stroke.",
    }],
    linear_predictor_scale: "log hazard (Cox model)",
    reference_patient: "the guideline's worked example, of the patient's sex and race group: \
                        age 55, total cholesterol 213 mg/dL, HDL 50 mg/dL, untreated systolic \
                        pressure 120 mmHg, non-smoker, no diabetes",
    categories: ACC_AHA_10_YEAR,
    category_basis: "2013 ACC/AHA guideline: low < 5 %, borderline 5 to < 7.5 %, \
                     intermediate 7.5 to < 20 %, high >= 20 % 10-year ASCVD risk",
};

/// Factors in the order contributions are reported.
pub const FACTORS: &[Factor] = &[
    Factor::Age,
    Factor::TotalCholesterol,
    Factor::HdlCholesterol,
    Factor::SystolicBp,
    Factor::OnBpTreatment,
    Factor::Smoker,
    Factor::Diabetic,
];

/// One column of Table A. A term absent from a group's model has coefficient 0.
struct Coefficients {
    ln_age: f64,
    ln_age_squared: f64,
    ln_total_cholesterol: f64,
    ln_age_x_ln_total_cholesterol: f64,
    ln_hdl: f64,
    ln_age_x_ln_hdl: f64,
    ln_treated_sbp: f64,
    ln_age_x_ln_treated_sbp: f64,
    ln_untreated_sbp: f64,
    ln_age_x_ln_untreated_sbp: f64,
    smoker: f64,
    ln_age_x_smoker: f64,
    diabetes: f64,
    mean: f64,
    baseline_survival: f64,
}

const WHITE_WOMEN: Coefficients = Coefficients {
    ln_age: -29.799,
    ln_age_squared: 4.884,
    ln_total_cholesterol: 13.540,
    ln_age_x_ln_total_cholesterol: -3.114,
    ln_hdl: -13.578,
    ln_age_x_ln_hdl: 3.149,
    ln_treated_sbp: 2.019,
    ln_age_x_ln_treated_sbp: 0.0,
    ln_untreated_sbp: 1.957,
    ln_age_x_ln_untreated_sbp: 0.0,
    smoker: 7.574,
    ln_age_x_smoker: -1.665,
    diabetes: 0.661,
    mean: -29.18,
    baseline_survival: 0.9665,
};

const AFRICAN_AMERICAN_WOMEN: Coefficients = Coefficients {
    ln_age: 17.114,
    ln_age_squared: 0.0,
    ln_total_cholesterol: 0.940,
    ln_age_x_ln_total_cholesterol: 0.0,
    ln_hdl: -18.920,
    ln_age_x_ln_hdl: 4.475,
    ln_treated_sbp: 29.291,
    ln_age_x_ln_treated_sbp: -6.432,
    ln_untreated_sbp: 27.820,
    ln_age_x_ln_untreated_sbp: -6.087,
    smoker: 0.691,
    ln_age_x_smoker: 0.0,
    diabetes: 0.874,
    mean: 86.61,
    baseline_survival: 0.9533,
};

const WHITE_MEN: Coefficients = Coefficients {
    ln_age: 12.344,
    ln_age_squared: 0.0,
    ln_total_cholesterol: 11.853,
    ln_age_x_ln_total_cholesterol: -2.664,
    ln_hdl: -7.990,
    ln_age_x_ln_hdl: 1.769,
    ln_treated_sbp: 1.797,
    ln_age_x_ln_treated_sbp: 0.0,
    ln_untreated_sbp: 1.764,
    ln_age_x_ln_untreated_sbp: 0.0,
    smoker: 7.837,
    ln_age_x_smoker: -1.795,
    diabetes: 0.658,
    mean: 61.18,
    baseline_survival: 0.9144,
};

const AFRICAN_AMERICAN_MEN: Coefficients = Coefficients {
    ln_age: 2.469,
    ln_age_squared: 0.0,
    ln_total_cholesterol: 0.302,
    ln_age_x_ln_total_cholesterol: 0.0,
    ln_hdl: -0.307,
    ln_age_x_ln_hdl: 0.0,
    ln_treated_sbp: 1.916,
    ln_age_x_ln_treated_sbp: 0.0,
    ln_untreated_sbp: 1.809,
    ln_age_x_ln_untreated_sbp: 0.0,
    smoker: 0.549,
    ln_age_x_smoker: 0.0,
    diabetes: 0.645,
    mean: 19.54,
    baseline_survival: 0.8954,
};

/// The guideline's worked-example patient, the reference for contributions.
const REFERENCE_AGE: f64 = 55.0;
const REFERENCE_TOTAL_CHOLESTEROL: f64 = 213.0;
const REFERENCE_HDL: f64 = 50.0;
const REFERENCE_SBP: f64 = 120.0;

fn coefficients(sex: Sex, race: Option<Race>) -> &'static Coefficients {
    // Absent or "other" race uses the white equations, as the guideline advises.
    let african_american = race == Some(Race::AfricanAmerican);
    match (sex, african_american) {
        (Sex::Female, false) => &WHITE_WOMEN,
        (Sex::Female, true) => &AFRICAN_AMERICAN_WOMEN,
        (Sex::Male, false) => &WHITE_MEN,
        (Sex::Male, true) => &AFRICAN_AMERICAN_MEN,
    }
}

/// The 10-year hard ASCVD equation for this patient: its linear predictor and link.
///
/// The treated and untreated SBP terms are rewritten as the untreated terms plus
/// `treated × (treated − untreated coefficients)`, which is algebraically the printed model and
/// lets blood-pressure treatment be a factor of its own in the explanation.
pub fn ascvd(p: &Patient) -> (LinearPredictor, Link) {
    let c = coefficients(p.sex(), p.race());
    let linear_predictor = LinearPredictor {
        constant: 0.0,
        terms: Terms::from(terms(c, p)),
    };
    let link = Link::Cox {
        baseline_survival: c.baseline_survival,
        mean: c.mean,
    };
    (linear_predictor, link)
}

/// [`ascvd`]'s linear predictor alone, without building it: what the confidence evaluates for
/// each perturbed measurement.
pub fn ascvd_value(p: &Patient) -> f64 {
    linear_predictor_value(0.0, &terms(coefficients(p.sex(), p.race()), p))
}

/// The equation's terms for the patient's group; a term the group's model lacks has
/// coefficient 0, which the linear predictor skips.
fn terms(c: &Coefficients, p: &Patient) -> [Term; 13] {
    let age = Variable::new(Factor::Age, p.age().ln(), REFERENCE_AGE.ln());
    let age_squared = Variable::new(
        Factor::Age,
        p.age().ln().powi(2),
        REFERENCE_AGE.ln().powi(2),
    );
    let total_cholesterol = Variable::new(
        Factor::TotalCholesterol,
        p.total_cholesterol().ln(),
        REFERENCE_TOTAL_CHOLESTEROL.ln(),
    );
    let hdl = Variable::new(
        Factor::HdlCholesterol,
        p.hdl_cholesterol().ln(),
        REFERENCE_HDL.ln(),
    );
    let sbp = Variable::new(Factor::SystolicBp, p.systolic_bp().ln(), REFERENCE_SBP.ln());
    let treated = Variable::flag(Factor::OnBpTreatment, p.on_bp_treatment());
    let smoker = Variable::flag(Factor::Smoker, p.smoker());
    let diabetic = Variable::flag(Factor::Diabetic, p.diabetic());

    [
        Term::main(c.ln_age, age),
        Term::main(c.ln_age_squared, age_squared),
        Term::main(c.ln_total_cholesterol, total_cholesterol),
        Term::interaction(c.ln_age_x_ln_total_cholesterol, &[age, total_cholesterol]),
        Term::main(c.ln_hdl, hdl),
        Term::interaction(c.ln_age_x_ln_hdl, &[age, hdl]),
        Term::main(c.ln_untreated_sbp, sbp),
        Term::interaction(c.ln_age_x_ln_untreated_sbp, &[age, sbp]),
        Term::interaction(c.ln_treated_sbp - c.ln_untreated_sbp, &[treated, sbp]),
        Term::interaction(
            c.ln_age_x_ln_treated_sbp - c.ln_age_x_ln_untreated_sbp,
            &[treated, age, sbp],
        ),
        Term::main(c.smoker, smoker),
        Term::interaction(c.ln_age_x_smoker, &[age, smoker]),
        Term::main(c.diabetes, diabetic),
    ]
}

#[cfg(test)]
mod tests;
