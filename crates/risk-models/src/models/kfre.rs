//! The 4-variable Kidney Failure Risk Equation (KFRE): the 2- and 5-year risk of kidney
//! failure (dialysis or pre-emptive kidney transplant) of an adult with chronic kidney disease
//! stages G3–G5.
//!
//! Tangri N, Stevens LA, Griffith J, et al. A predictive model for progression of chronic
//! kidney disease to kidney failure. JAMA. 2011;305(15):1553-1559: the equation, its
//! coefficients and centring values, and the (North American) baseline survival. Tangri N,
//! Grams ME, Levey AS, et al. Multinational assessment of accuracy of equations for predicting
//! risk of kidney failure: a meta-analysis. JAMA. 2016;315(2):164-174: the recalibrated
//! baseline survival for patients outside North America.
//!
//! ```text
//! x    = −0.2201 × (age/10 − 7.036) + 0.2467 × (male − 0.5642)
//!        − 0.5567 × (eGFR/5 − 7.222) + 0.4510 × (ln ACR[mg/g] − 5.137)
//! risk = 1 − S0(t) ^ exp(x)
//! ```
//!
//! The model shares no field list with the cardiovascular equations: it declares its own
//! features and is validated by the general path ([`crate::features`]).

use crate::description::{
    Categories, Category, ExplanationInfo, Feature, FeatureKind, ModelDescription, NumberFeature,
    Output, OutputKind,
};
use crate::features::{validate_features, ValidatedFeatures};
use crate::fhir_sources;
use crate::input::FieldValue;
use crate::problem::ValidationErrors;
use crate::spec::Range;
use crate::tabular::{not_used, TabularModel, TabularPrediction, TabularWarning};
use crate::value::UnitConversion;
use fhir_record::FhirSource;
use std::sync::OnceLock;

/// The 4-variable KFRE with the North American and non-North American calibrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kfre;

pub const NAME: &str = "kfre-2016";

/// mg/g of urine albumin-to-creatinine ratio per mg/mmol (creatinine 113.12 g/mol:
/// 1 mg/mmol = 1 mg / 0.11312 g = 8.84 mg/g, the factor laboratories and KDIGO use).
pub const MG_PER_G_PER_MG_PER_MMOL: f64 = 8.84;

/// Coefficients and centring values, Tangri 2011 (the 4-variable model).
const AGE_PER_10_YEARS: f64 = -0.2201;
const AGE_CENTRE: f64 = 7.036;
const MALE: f64 = 0.2467;
const MALE_CENTRE: f64 = 0.5642;
const EGFR_PER_5: f64 = -0.5567;
const EGFR_CENTRE: f64 = 7.222;
const LN_ACR: f64 = 0.4510;
const LN_ACR_CENTRE: f64 = 5.137;

/// Baseline survival at 2 and 5 years: North American (Tangri 2011) and non-North American
/// (Tangri 2016).
const NORTH_AMERICAN: Calibration = Calibration {
    two_years: 0.9750,
    five_years: 0.9240,
};
const NON_NORTH_AMERICAN: Calibration = Calibration {
    two_years: 0.9832,
    five_years: 0.9365,
};

struct Calibration {
    two_years: f64,
    five_years: f64,
}

/// The primary output: NICE's referral threshold is on the 5-year risk.
pub const FIVE_YEAR: &str = "kidney_failure_5y";
pub const TWO_YEAR: &str = "kidney_failure_2y";

const REGIONS: &[&str] = &["north_american", "non_north_american"];

fn number(unit: &'static str, min: f64, max: f64) -> FeatureKind {
    FeatureKind::Number(NumberFeature {
        unit,
        range: Some(Range { min, max }),
        alternative_units: Vec::new(),
        unit_selector: None,
    })
}

fn required(
    name: &'static str,
    description: &'static str,
    kind: FeatureKind,
    fhir: FhirSource,
) -> Feature {
    Feature {
        name,
        aliases: Vec::new(),
        description,
        kind,
        required: true,
        fhir: Some(fhir),
    }
}

/// The description, built once per instance (the runtime makes one per request): every
/// prediction validates against it, each patient of a batch included.
fn description() -> &'static ModelDescription {
    static DESCRIPTION: OnceLock<ModelDescription> = OnceLock::new();
    DESCRIPTION.get_or_init(build_description)
}

fn build_description() -> ModelDescription {
    ModelDescription {
        name: NAME,
        version: "1.0.0",
        title: "Kidney Failure Risk Equation, 4 variables (2- and 5-year risk of kidney failure)",
        citation: "Tangri N, Stevens LA, Griffith J, et al. A predictive model for progression \
            of chronic kidney disease to kidney failure. JAMA. 2011;305(15):1553-1559 \
            (coefficients, centring values, North American baseline survival). Tangri N, Grams \
            ME, Levey AS, et al. Multinational assessment of accuracy of equations for \
            predicting risk of kidney failure: a meta-analysis. JAMA. 2016;315(2):164-174 \
            (non-North American baseline survival).",
        population: "Adults with chronic kidney disease stages G3-G5 (eGFR 10-59 mL/min/1.73 m²) \
            not on dialysis: developed in Canadian patients referred to nephrologists, \
            validated in 31 cohorts of 721,357 patients in more than 30 countries.",
        horizon_years: None,
        features: vec![
            required(
                "age",
                "Age in years. The cohorts were adults; the papers give no upper bound, so 100 \
                 is a plausibility limit.",
                number("years", 18.0, 100.0),
                FhirSource::Age,
            ),
            required(
                "sex",
                "Sex.",
                FeatureKind::Choice {
                    allowed: &["female", "male"],
                    when_absent: None,
                },
                fhir_sources::sex(),
            ),
            required(
                "egfr",
                "Estimated glomerular filtration rate in mL/min/1.73 m²; the validated range is \
                 CKD stages G3-G5 (10-59).",
                number("mL/min/1.73 m²", 10.0, 59.0),
                fhir_sources::egfr(),
            ),
            Feature {
                name: "urine_acr",
                aliases: Vec::new(),
                description: "Urine albumin-to-creatinine ratio, in mg/g (or mg/mmol with \
                    urine_acr_unit). The papers give no bounds: 1-25,000 mg/g are plausibility \
                    limits (the equation takes its logarithm).",
                kind: FeatureKind::Number(NumberFeature {
                    unit: "mg/g",
                    range: Some(Range {
                        min: 1.0,
                        max: 25_000.0,
                    }),
                    alternative_units: vec![UnitConversion {
                        unit: "mg/mmol",
                        factor: MG_PER_G_PER_MG_PER_MMOL,
                    }],
                    unit_selector: Some("urine_acr_unit"),
                }),
                required: true,
                fhir: Some(fhir_sources::urine_acr(MG_PER_G_PER_MG_PER_MMOL)),
            },
            Feature {
                name: "urine_acr_unit",
                aliases: Vec::new(),
                description: "Unit of urine_acr: \"mg/g\" (the default) or \"mg/mmol\" \
                    (1 mg/mmol = 8.84 mg/g).",
                kind: FeatureKind::Choice {
                    allowed: &["mg/g", "mg/mmol"],
                    when_absent: Some("mg/g"),
                },
                required: false,
                // A record's values carry their units.
                fhir: None,
            },
            Feature {
                name: "region",
                aliases: Vec::new(),
                description: "Where the patient is treated, which chooses the calibration: \
                    \"north_american\" (the original baseline survival) or \
                    \"non_north_american\" (the 2016 recalibration).",
                kind: FeatureKind::Choice {
                    allowed: REGIONS,
                    when_absent: Some(
                        "north_american, with a warning (outside North America it \
                         overestimates risk)",
                    ),
                },
                required: false,
                // Where the patient is treated is the deployment's, not the record's.
                fhir: None,
            },
        ],
        outputs: vec![
            Output {
                name: FIVE_YEAR,
                description: "Probability of kidney failure (dialysis or pre-emptive kidney \
                    transplant) within 5 years.",
                kind: OutputKind::Probability,
                horizon_years: Some(5),
            },
            Output {
                name: TWO_YEAR,
                description: "Probability of kidney failure (dialysis or pre-emptive kidney \
                    transplant) within 2 years.",
                kind: OutputKind::Probability,
                horizon_years: Some(2),
            },
        ],
        categories: Some(Categories {
            bands: vec![
                Category {
                    name: "below_referral_threshold",
                    label: "Below the Referral Threshold",
                    from: 0.0,
                },
                Category {
                    name: "referral_threshold",
                    label: "Referral Threshold Reached",
                    from: 0.05,
                },
            ],
            source: "NICE guideline NG203 (2021), Chronic kidney disease: assessment and \
                management: refer adults with CKD whose 5-year risk of needing renal \
                replacement therapy, by the 4-variable KFRE, is greater than 5 % (here: 5 % \
                or more).",
        }),
        explanation: Some(ExplanationInfo {
            scale: "log hazard (Cox model), relative to the equation's centring values",
            reference_patient: "the development cohort's means the equation is centred on: \
                age 70.36 years, 56.42 % men, eGFR 36.11 mL/min/1.73 m², urine ACR \
                exp(5.137) = 170.2 mg/g",
            factors: FACTORS.to_vec(),
        }),
        confidence: None,
    }
}

impl TabularModel for Kfre {
    fn name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> ModelDescription {
        description().clone()
    }

    fn predict_features(
        &self,
        given: &[(&str, FieldValue<'_>)],
    ) -> Result<TabularPrediction, ValidationErrors> {
        let features = validate_features(description(), given)?;
        let (x, contributions) = linear_predictor(&features)?;
        let region = features.choice("region");
        let calibration = match region {
            Some("non_north_american") => NON_NORTH_AMERICAN,
            _ => NORTH_AMERICAN,
        };
        let five_years = risk(calibration.five_years, x);
        let mut warnings = Vec::new();
        if region.is_none() {
            warnings.push(TabularWarning {
                code: "region_absent_north_american_calibration_used",
                message: "region was not given: the North American baseline survival (the \
                          original equation) was used; outside North America it overestimates \
                          risk"
                    .to_owned(),
            });
        }
        warnings.extend(
            features
                .not_declared
                .iter()
                .map(|name| not_used(NAME, name)),
        );
        Ok(TabularPrediction {
            outputs: vec![
                (FIVE_YEAR, five_years),
                (TWO_YEAR, risk(calibration.two_years, x)),
            ],
            category: Some(if five_years >= 0.05 {
                "referral_threshold"
            } else {
                "below_referral_threshold"
            }),
            confidence: None,
            contributions,
            explanation: Some((x, 0.0)),
            warnings,
        })
    }
}

/// `1 − S0 ^ exp(x)`, computed as `−expm1(exp(x) · ln S0)` so that small risks keep their
/// precision.
fn risk(baseline_survival: f64, x: f64) -> f64 {
    -(x.exp() * baseline_survival.ln()).exp_m1()
}

/// The factors of the linear predictor, in the order its terms (the contributions) are given.
const FACTORS: [&str; 4] = ["age", "sex", "egfr", "urine_acr"];

/// `(factor, term)`: each factor's term of the linear predictor.
type Terms = Vec<(&'static str, f64)>;

/// The linear predictor and each factor's term (they add up to it exactly: the equation has
/// no interaction, and the reference patient's linear predictor is 0).
fn linear_predictor(features: &ValidatedFeatures) -> Result<(f64, Terms), ValidationErrors> {
    // Validation guarantees every required feature; a missing one would be a broken
    // description, reported as such rather than a panic.
    let required = |name: &'static str| {
        features.number(name).ok_or_else(|| {
            ValidationErrors(vec![crate::problem::FieldError::new(
                name,
                crate::problem::FieldProblem::Missing,
            )])
        })
    };
    let age = required("age")?;
    let egfr = required("egfr")?;
    let acr = required("urine_acr")?;
    let male = if features.choice("sex") == Some("male") {
        1.0
    } else {
        0.0
    };
    let terms = vec![
        (FACTORS[0], AGE_PER_10_YEARS * (age / 10.0 - AGE_CENTRE)),
        (FACTORS[1], MALE * (male - MALE_CENTRE)),
        (FACTORS[2], EGFR_PER_5 * (egfr / 5.0 - EGFR_CENTRE)),
        (FACTORS[3], LN_ACR * (acr.ln() - LN_ACR_CENTRE)),
    ];
    let x: f64 = terms.iter().map(|(_, term)| term).sum();
    Ok((x, terms))
}

#[cfg(test)]
mod tests;
