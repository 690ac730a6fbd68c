//! The paper's worked example and the model's structure.

use super::*;
use crate::input::PatientInput;
use crate::models::Model;
use crate::{FieldValue, Prediction};

/// The supplement's example: age 50, TC 200, HDL 45, SBP 160 on treatment, diabetes,
/// non-smoker, eGFR 90, no statin.
fn example(sex: &str) -> PatientInput {
    let mut input = PatientInput::default();
    let fields = [
        (Field::Age, FieldValue::Number(50.0)),
        (Field::Sex, FieldValue::Text(sex)),
        (Field::TotalCholesterol, FieldValue::Number(200.0)),
        (Field::HdlCholesterol, FieldValue::Number(45.0)),
        (Field::SystolicBp, FieldValue::Number(160.0)),
        (Field::OnBpTreatment, FieldValue::Flag(true)),
        (Field::Diabetic, FieldValue::Flag(true)),
        (Field::Smoker, FieldValue::Flag(false)),
        (Field::Egfr, FieldValue::Number(90.0)),
        (Field::OnStatin, FieldValue::Flag(false)),
    ];
    for (field, value) in fields {
        input
            .set(field, value)
            .expect("example values are well typed");
    }
    input
}

fn predict(input: &PatientInput) -> Prediction {
    Model::Prevent2023
        .predict(input)
        .expect("example values are in range")
}

fn outcome(prediction: &Prediction, name: &str) -> f64 {
    prediction
        .outcomes
        .iter()
        .find(|o| o.outcome.name == name)
        .map(|o| o.risk)
        .unwrap()
}

#[test]
fn women_match_the_papers_example() {
    let p = predict(&example("female"));
    assert!(
        (outcome(&p, "total_cvd") - 0.1468).abs() < 1e-3,
        "{:?}",
        p.outcomes
    );
    assert!(
        (outcome(&p, "ascvd") - 0.0920).abs() < 1e-3,
        "{:?}",
        p.outcomes
    );
}

#[test]
fn men_match_the_papers_example() {
    let p = predict(&example("male"));
    assert!(
        (outcome(&p, "total_cvd") - 0.1632).abs() < 1e-3,
        "{:?}",
        p.outcomes
    );
    assert!(
        (outcome(&p, "ascvd") - 0.1019).abs() < 1e-3,
        "{:?}",
        p.outcomes
    );
}

#[test]
fn total_cvd_is_the_primary_outcome() {
    let p = predict(&example("female"));
    assert_eq!(p.outcomes[0].outcome.name, "total_cvd");
    assert_eq!(p.risk(), outcome(&p, "total_cvd"));
    assert_eq!(p.category, crate::RiskCategory::Intermediate);
}

#[test]
fn the_reference_value_is_the_equations_constant() {
    let p = predict(&example("male"));
    assert!((p.reference_value - MEN_TOTAL_CVD.constant).abs() < 1e-12);
}

#[test]
fn the_centring_profile_has_no_contributions() {
    let mut input = example("female");
    input.age = Some(55.0);
    input.hdl_cholesterol = Some(1.3 / MMOL_L_PER_MG_DL);
    input.total_cholesterol = Some((3.5 + 1.3) / MMOL_L_PER_MG_DL);
    input.systolic_bp = Some(130.0);
    input.on_bp_treatment = Some(false);
    input.diabetic = Some(false);
    let p = predict(&input);
    assert!((p.linear_predictor - WOMEN_TOTAL_CVD.constant).abs() < 1e-9);
    for c in &p.contributions {
        assert!(c.value.abs() < 1e-9, "{c:?}");
    }
}

#[test]
fn race_is_ignored_with_a_warning() {
    let plain = predict(&example("female"));
    let mut with_race = example("female");
    with_race.race = Some(crate::Race::AfricanAmerican);
    let p = predict(&with_race);
    assert_eq!(p.risk(), plain.risk());
    assert_eq!(
        p.warnings,
        vec![crate::Warning::FieldNotUsed {
            field: Field::Race,
            model: "prevent-2023"
        }]
    );
}

/// The confidence evaluates the perturbed patients with `total_cvd_value`, which must be the
/// built linear predictor's value to the last bit, or a prediction's confidence would change.
#[test]
fn the_primary_value_alone_is_the_built_linear_predictors_to_the_bit() {
    for sex in ["female", "male"] {
        for (sbp, egfr, statin) in [
            (100.0, 45.0, false),
            (160.0, 90.0, true),
            (120.0, 61.0, true),
        ] {
            let mut input = example(sex);
            input.systolic_bp = Some(sbp);
            input.egfr = Some(egfr);
            input.on_statin = Some(statin);
            let (patient, _) =
                crate::validation::validate(&SPEC, &input).expect("values are in range");
            let built = equations(&patient, egfr)[0].0.value();
            let alone = total_cvd_value(&patient, egfr);
            assert_eq!(alone.to_bits(), built.to_bits(), "{sex} {sbp} {egfr}");
        }
    }
}
