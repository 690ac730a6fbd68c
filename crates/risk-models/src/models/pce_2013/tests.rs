//! The guideline's worked example and the model's structure.

use super::*;
use crate::input::PatientInput;
use crate::models::Model;
use crate::{FieldValue, Prediction};

/// The guideline's example profile (age 55, TC 213, HDL 50, untreated SBP 120, non-smoker,
/// no diabetes) for one sex and race group.
fn example(sex: &str, race: &str) -> PatientInput {
    let mut input = PatientInput::default();
    let fields = [
        (Field::Age, FieldValue::Number(55.0)),
        (Field::Sex, FieldValue::Text(sex)),
        (Field::Race, FieldValue::Text(race)),
        (Field::TotalCholesterol, FieldValue::Number(213.0)),
        (Field::HdlCholesterol, FieldValue::Number(50.0)),
        (Field::SystolicBp, FieldValue::Number(120.0)),
    ];
    for (field, value) in fields {
        input
            .set(field, value)
            .expect("example values are well typed");
    }
    input
}

fn predict(input: &PatientInput) -> Prediction {
    Model::Pce2013
        .predict(input)
        .expect("example values are in range")
}

macro_rules! worked_example {
    ($name:ident, $sex:literal, $race:literal, $full_precision:expr, $printed:expr) => {
        #[test]
        fn $name() {
            let risk = predict(&example($sex, $race)).risk();
            assert!(
                (risk - $full_precision).abs() < 1e-3,
                "full precision: got {risk}, want {}",
                $full_precision
            );
            assert!(
                (risk * 100.0 - $printed).abs() <= 0.1 + 0.09,
                "printed: got {} %, want {} %",
                risk * 100.0,
                $printed
            );
        }
    };
}

// Full-precision values from the model specification; the printed guideline percentages within
// ±0.1 point (white men: the guideline truncated the sum to 60.69, printing 5.3 % for 5.38 %).
worked_example!(
    white_women_match_the_guideline,
    "female",
    "white",
    0.02052,
    2.1
);
worked_example!(
    african_american_women_match_the_guideline,
    "female",
    "african_american",
    0.03026,
    3.0
);
worked_example!(white_men_match_the_guideline, "male", "white", 0.05384, 5.3);
worked_example!(
    african_american_men_match_the_guideline,
    "male",
    "african_american",
    0.06073,
    6.1
);

#[test]
fn the_full_precision_examples_agree_to_a_millionth() {
    let cases = [
        ("female", "white", 0.020522298),
        ("female", "african_american", 0.030263293),
        ("male", "white", 0.053844220),
        ("male", "african_american", 0.060734373),
    ];
    for (sex, race, want) in cases {
        let got = predict(&example(sex, race)).risk();
        assert!((got - want).abs() < 1e-6, "{sex} {race}: {got} vs {want}");
    }
}

#[test]
fn absent_or_other_race_uses_the_white_equations_with_a_warning() {
    let white = predict(&example("female", "white"));
    let other = predict(&example("female", "other"));
    let mut absent_input = example("female", "white");
    absent_input.race = None;
    let absent = predict(&absent_input);

    assert_eq!(other.risk(), white.risk());
    assert_eq!(absent.risk(), white.risk());
    assert!(white.warnings.is_empty());
    assert_eq!(
        other.warnings,
        vec![crate::Warning::RaceOtherWhiteEquationsUsed]
    );
    assert_eq!(
        absent.warnings,
        vec![crate::Warning::RaceAbsentWhiteEquationsUsed]
    );
}

#[test]
fn the_reference_patient_has_no_contributions() {
    for (sex, race) in [("female", "white"), ("male", "african_american")] {
        let prediction = predict(&example(sex, race));
        assert!((prediction.linear_predictor - prediction.reference_value).abs() < 1e-9);
        for contribution in &prediction.contributions {
            assert!(contribution.value.abs() < 1e-9, "{contribution:?}");
        }
    }
}

#[test]
fn treatment_uses_the_treated_coefficients() {
    let mut input = example("female", "african_american");
    input
        .set(Field::OnBpTreatment, FieldValue::Flag(true))
        .unwrap();
    let p = predict(&input);
    // Printed AA-women model, treated branch, computed directly.
    let (a, t, h, s) = (55f64.ln(), 213f64.ln(), 50f64.ln(), 120f64.ln());
    let sum = 17.114 * a + 0.940 * t - 18.920 * h + 4.475 * a * h + 29.291 * s - 6.432 * a * s;
    let want = 1.0 - 0.9533f64.powf((sum - 86.61).exp());
    assert!((p.risk() - want).abs() < 1e-12, "{} vs {want}", p.risk());
    let treatment = p
        .contributions
        .iter()
        .find(|c| c.factor == Factor::OnBpTreatment)
        .unwrap();
    assert!(treatment.value > 0.0);
}

#[test]
fn the_model_declares_its_outcome_and_ranges() {
    assert_eq!(SPEC.outcomes.len(), 1);
    assert_eq!(SPEC.primary_outcome().name, "ascvd");
    let age = SPEC.input(Field::Age).unwrap();
    assert_eq!(age.range, Some(Range::new(40.0, 79.0)));
    assert!(SPEC.input(Field::Egfr).is_none());
}

/// The confidence evaluates the perturbed patients with `ascvd_value`, which must be the built
/// linear predictor's value to the last bit, or a prediction's confidence would change.
#[test]
fn the_value_alone_is_the_built_linear_predictors_to_the_bit() {
    for (sex, race) in [
        ("female", "white"),
        ("female", "african_american"),
        ("male", "white"),
        ("male", "african_american"),
    ] {
        for (age, treated, smoker, diabetic) in [
            (41.0, false, false, false),
            (55.0, true, true, false),
            (67.5, true, false, true),
            (79.0, false, true, true),
        ] {
            let mut input = example(sex, race);
            input.age = Some(age);
            input.on_bp_treatment = Some(treated);
            input.smoker = Some(smoker);
            input.diabetic = Some(diabetic);
            let (patient, _) =
                crate::validation::validate(&SPEC, &input).expect("values are in range");
            let built = ascvd(&patient).0.value();
            assert_eq!(
                ascvd_value(&patient).to_bits(),
                built.to_bits(),
                "{sex} {race} {age}"
            );
        }
    }
}
