//! 2023 AHA PREVENT equations, base model: 10-year total CVD risk, and 10-year ASCVD risk.
//!
//! Coefficients are supplemental Table S12A of Khan SS et al. Sex-specific logistic models on
//! centred and scaled predictors; no race term.

use crate::category::ACC_AHA_10_YEAR;
use crate::explanation::{linear_predictor_value, Factor, LinearPredictor, Term, Terms, Variable};
use crate::field::Field;
use crate::input::Sex;
use crate::link::Link;
use crate::spec::{InputSpec, ModelSpec, OutcomeSpec, Range};
use crate::validation::Patient;

pub const SPEC: ModelSpec = ModelSpec {
    name: "prevent-2023",
    version: "1.0.0",
    title: "2023 AHA PREVENT equations, base model (10-year total CVD and ASCVD risk)",
    citation: "Khan SS, Matsushita K, Sang Y, et al. Development and Validation of the American \
               Heart Association's PREVENT Equations. Circulation. 2024;149:430-449, \
               supplemental Table S12A (base model).",
    population: "Adults 30-79 years without known cardiovascular disease; sex-specific, no race \
                 term.",
    horizon_years: 10,
    inputs: &[
        InputSpec::required(Field::Age, Some(Range::new(30.0, 79.0))),
        InputSpec::required(Field::Sex, None),
        InputSpec::required(Field::TotalCholesterol, Some(Range::new(130.0, 320.0))),
        InputSpec::required(Field::HdlCholesterol, Some(Range::new(20.0, 100.0))),
        // The equations permit up to 200 mmHg; 180 is the upper limit of the validated range
        // the PREVENT calculator uses, and we do not extrapolate beyond it.
        InputSpec::required(Field::SystolicBp, Some(Range::new(90.0, 180.0))),
        InputSpec::required(Field::Egfr, Some(Range::new(15.0, 140.0))),
        InputSpec::optional(Field::OnBpTreatment, "false"),
        InputSpec::optional(Field::Smoker, "false"),
        InputSpec::optional(Field::Diabetic, "false"),
        InputSpec::optional(Field::OnStatin, "false"),
    ],
    outcomes: &[
        OutcomeSpec {
            name: "total_cvd",
            description: "10-year risk of total cardiovascular disease: ASCVD or heart failure.",
        },
        OutcomeSpec {
            name: "ascvd",
            description: "10-year risk of atherosclerotic cardiovascular disease: myocardial \
                          infarction, coronary heart disease death or stroke.",
        },
    ],
    linear_predictor_scale: "log odds (logistic model)",
    reference_patient: "the centring profile of the equations, of the patient's sex: age 55, \
                        non-HDL cholesterol 3.5 mmol/L (135.3 mg/dL), HDL 1.3 mmol/L \
                        (50.3 mg/dL), systolic pressure 130 mmHg, eGFR 90, no diabetes, \
                        non-smoker, no blood-pressure treatment, no statin",
    categories: ACC_AHA_10_YEAR,
    category_basis: "the PREVENT publication defines no categories; this service applies the \
                     ACC/AHA primary-prevention thresholds (low < 5 %, borderline 5 to < 7.5 %, \
                     intermediate 7.5 to < 20 %, high >= 20 %) to the 10-year total CVD risk so \
                     that categories read the same across models",
};

/// Factors in the order contributions are reported.
pub const FACTORS: &[Factor] = &[
    Factor::Age,
    Factor::NonHdlCholesterol,
    Factor::HdlCholesterol,
    Factor::SystolicBp,
    Factor::OnBpTreatment,
    Factor::Smoker,
    Factor::Diabetic,
    Factor::Egfr,
    Factor::OnStatin,
];

/// One column of Table S12A.
struct Coefficients {
    constant: f64,
    age: f64,
    non_hdl: f64,
    hdl: f64,
    sbp_below_110: f64,
    sbp_from_110: f64,
    diabetes: f64,
    smoking: f64,
    egfr_below_60: f64,
    egfr_from_60: f64,
    bp_treatment: f64,
    statin: f64,
    bp_treatment_x_sbp_from_110: f64,
    statin_x_non_hdl: f64,
    age_x_non_hdl: f64,
    age_x_hdl: f64,
    age_x_sbp_from_110: f64,
    age_x_diabetes: f64,
    age_x_smoking: f64,
    age_x_egfr_below_60: f64,
}

const WOMEN_TOTAL_CVD: Coefficients = Coefficients {
    constant: -3.307728,
    age: 0.7939329,
    non_hdl: 0.0305239,
    hdl: -0.1606857,
    sbp_below_110: -0.2394003,
    sbp_from_110: 0.3600781,
    diabetes: 0.8667604,
    smoking: 0.5360739,
    egfr_below_60: 0.6045917,
    egfr_from_60: 0.0433769,
    bp_treatment: 0.3151672,
    statin: -0.1477655,
    bp_treatment_x_sbp_from_110: -0.0663612,
    statin_x_non_hdl: 0.1197879,
    age_x_non_hdl: -0.0819715,
    age_x_hdl: 0.0306769,
    age_x_sbp_from_110: -0.0946348,
    age_x_diabetes: -0.27057,
    age_x_smoking: -0.078715,
    age_x_egfr_below_60: -0.1637806,
};

const MEN_TOTAL_CVD: Coefficients = Coefficients {
    constant: -3.031168,
    age: 0.7688528,
    non_hdl: 0.0736174,
    hdl: -0.0954431,
    sbp_below_110: -0.4347345,
    sbp_from_110: 0.3362658,
    diabetes: 0.7692857,
    smoking: 0.4386871,
    egfr_below_60: 0.5378979,
    egfr_from_60: 0.0164827,
    bp_treatment: 0.288879,
    statin: -0.1337349,
    bp_treatment_x_sbp_from_110: -0.0475924,
    statin_x_non_hdl: 0.150273,
    age_x_non_hdl: -0.0517874,
    age_x_hdl: 0.0191169,
    age_x_sbp_from_110: -0.1049477,
    age_x_diabetes: -0.2251948,
    age_x_smoking: -0.0895067,
    age_x_egfr_below_60: -0.1543702,
};

const WOMEN_ASCVD: Coefficients = Coefficients {
    constant: -3.819975,
    age: 0.719883,
    non_hdl: 0.1176967,
    hdl: -0.151185,
    sbp_below_110: -0.0835358,
    sbp_from_110: 0.3592852,
    diabetes: 0.8348585,
    smoking: 0.4831078,
    egfr_below_60: 0.4864619,
    egfr_from_60: 0.0397779,
    bp_treatment: 0.2265309,
    statin: -0.0592374,
    bp_treatment_x_sbp_from_110: -0.0395762,
    statin_x_non_hdl: 0.0844423,
    age_x_non_hdl: -0.0567839,
    age_x_hdl: 0.0325692,
    age_x_sbp_from_110: -0.1035985,
    age_x_diabetes: -0.2417542,
    age_x_smoking: -0.0791142,
    age_x_egfr_below_60: -0.1671492,
};

const MEN_ASCVD: Coefficients = Coefficients {
    constant: -3.500655,
    age: 0.7099847,
    non_hdl: 0.1658663,
    hdl: -0.1144285,
    sbp_below_110: -0.2837212,
    sbp_from_110: 0.3239977,
    diabetes: 0.7189597,
    smoking: 0.3956973,
    egfr_below_60: 0.3690075,
    egfr_from_60: 0.0203619,
    bp_treatment: 0.2036522,
    statin: -0.0865581,
    bp_treatment_x_sbp_from_110: -0.0322916,
    statin_x_non_hdl: 0.114563,
    age_x_non_hdl: -0.0300005,
    age_x_hdl: 0.0232747,
    age_x_sbp_from_110: -0.0927024,
    age_x_diabetes: -0.2018525,
    age_x_smoking: -0.0970527,
    age_x_egfr_below_60: -0.1217081,
};

/// mmol/L per mg/dL, exactly as the PREVENT specification writes it (0.02586; the reciprocal
/// of the 38.67 used for mmol/L input differs in the sixth digit).
pub(crate) const MMOL_L_PER_MG_DL: f64 = 0.02586;

/// The centred, scaled predictors of the equations. All are 0 for the reference patient.
struct Predictors {
    age: f64,
    non_hdl: f64,
    hdl: f64,
    sbp_below_110: f64,
    sbp_from_110: f64,
    egfr_below_60: f64,
    egfr_from_60: f64,
}

fn predictors(p: &Patient, egfr: f64) -> Predictors {
    Predictors {
        age: (p.age() - 55.0) / 10.0,
        non_hdl: (p.total_cholesterol() - p.hdl_cholesterol()) * MMOL_L_PER_MG_DL - 3.5,
        hdl: (p.hdl_cholesterol() * MMOL_L_PER_MG_DL - 1.3) / 0.3,
        sbp_below_110: (p.systolic_bp().min(110.0) - 110.0) / 20.0,
        sbp_from_110: (p.systolic_bp().max(110.0) - 130.0) / 20.0,
        egfr_below_60: (egfr.min(60.0) - 60.0) / -15.0,
        egfr_from_60: (egfr.max(60.0) - 90.0) / -15.0,
    }
}

/// The patient's equations for each outcome, total CVD first. `egfr` is the patient's eGFR,
/// which PREVENT's validation requires (see [`Model::predict`](crate::Model::predict)).
pub fn equations(p: &Patient, egfr: f64) -> [(LinearPredictor, Link); 2] {
    let z = predictors(p, egfr);
    let (total_cvd, ascvd) = coefficients(p.sex());
    [
        (linear_predictor(total_cvd, &z, p), Link::Logistic),
        (linear_predictor(ascvd, &z, p), Link::Logistic),
    ]
}

/// The primary outcome's linear predictor alone, without building it: what the category
/// confidence re-evaluates for each perturbed measurement.
pub fn total_cvd_value(p: &Patient, egfr: f64) -> f64 {
    let c = coefficients(p.sex()).0;
    linear_predictor_value(c.constant, &terms(c, &predictors(p, egfr), p))
}

/// The (total CVD, ASCVD) coefficient columns of the patient's sex.
fn coefficients(sex: Sex) -> (&'static Coefficients, &'static Coefficients) {
    match sex {
        Sex::Female => (&WOMEN_TOTAL_CVD, &WOMEN_ASCVD),
        Sex::Male => (&MEN_TOTAL_CVD, &MEN_ASCVD),
    }
}

fn linear_predictor(c: &Coefficients, z: &Predictors, p: &Patient) -> LinearPredictor {
    LinearPredictor {
        constant: c.constant,
        terms: Terms::from(terms(c, z, p)),
    }
}

fn terms(c: &Coefficients, z: &Predictors, p: &Patient) -> [Term; 19] {
    let centred = |factor, value| Variable::new(factor, value, 0.0);
    let age = centred(Factor::Age, z.age);
    let non_hdl = centred(Factor::NonHdlCholesterol, z.non_hdl);
    let hdl = centred(Factor::HdlCholesterol, z.hdl);
    let sbp_below_110 = centred(Factor::SystolicBp, z.sbp_below_110);
    let sbp_from_110 = centred(Factor::SystolicBp, z.sbp_from_110);
    let egfr_below_60 = centred(Factor::Egfr, z.egfr_below_60);
    let egfr_from_60 = centred(Factor::Egfr, z.egfr_from_60);
    let diabetes = Variable::flag(Factor::Diabetic, p.diabetic());
    let smoking = Variable::flag(Factor::Smoker, p.smoker());
    let bp_treatment = Variable::flag(Factor::OnBpTreatment, p.on_bp_treatment());
    let statin = Variable::flag(Factor::OnStatin, p.on_statin());

    [
        Term::main(c.age, age),
        Term::main(c.non_hdl, non_hdl),
        Term::main(c.hdl, hdl),
        Term::main(c.sbp_below_110, sbp_below_110),
        Term::main(c.sbp_from_110, sbp_from_110),
        Term::main(c.diabetes, diabetes),
        Term::main(c.smoking, smoking),
        Term::main(c.egfr_below_60, egfr_below_60),
        Term::main(c.egfr_from_60, egfr_from_60),
        Term::main(c.bp_treatment, bp_treatment),
        Term::main(c.statin, statin),
        Term::interaction(c.bp_treatment_x_sbp_from_110, &[bp_treatment, sbp_from_110]),
        Term::interaction(c.statin_x_non_hdl, &[statin, non_hdl]),
        Term::interaction(c.age_x_non_hdl, &[age, non_hdl]),
        Term::interaction(c.age_x_hdl, &[age, hdl]),
        Term::interaction(c.age_x_sbp_from_110, &[age, sbp_from_110]),
        Term::interaction(c.age_x_diabetes, &[age, diabetes]),
        Term::interaction(c.age_x_smoking, &[age, smoking]),
        Term::interaction(c.age_x_egfr_below_60, &[age, egfr_below_60]),
    ]
}

#[cfg(test)]
mod tests;
