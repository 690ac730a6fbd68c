//! Properties that must hold for every input inside the validated ranges.

use proptest::prelude::*;
use risk_models::{Field, FieldValue, Model, PatientInput, Prediction};

#[derive(Debug, Clone)]
struct Profile {
    age: f64,
    female: bool,
    race: &'static str,
    total_cholesterol: f64,
    hdl: f64,
    sbp: f64,
    treated: bool,
    smoker: bool,
    diabetic: bool,
    egfr: f64,
    statin: bool,
}

fn profile() -> impl Strategy<Value = Profile> {
    (
        (
            30.0..=79.0f64,
            any::<bool>(),
            prop::sample::select(vec!["white", "african_american", "other"]),
        ),
        (130.0..=320.0f64, 20.0..=100.0f64, 90.0..=200.0f64),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            15.0..=140.0f64,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (age, female, race),
                (total_cholesterol, hdl, sbp),
                (treated, smoker, diabetic, egfr, statin),
            )| Profile {
                age,
                female,
                race,
                total_cholesterol,
                hdl,
                sbp,
                treated,
                smoker,
                diabetic,
                egfr,
                statin,
            },
        )
}

fn input(p: &Profile, model: Model) -> PatientInput {
    let mut input = PatientInput::default();
    let sex = if p.female { "female" } else { "male" };
    let mut fields = vec![
        (Field::Age, FieldValue::Number(p.age)),
        (Field::Sex, FieldValue::Text(sex)),
        (
            Field::TotalCholesterol,
            FieldValue::Number(p.total_cholesterol),
        ),
        (Field::HdlCholesterol, FieldValue::Number(p.hdl)),
        (Field::SystolicBp, FieldValue::Number(p.sbp)),
        (Field::OnBpTreatment, FieldValue::Flag(p.treated)),
        (Field::Smoker, FieldValue::Flag(p.smoker)),
        (Field::Diabetic, FieldValue::Flag(p.diabetic)),
    ];
    match model {
        Model::Pce2013 => fields.push((Field::Race, FieldValue::Text(p.race))),
        Model::Prevent2023 => {
            fields.push((Field::Egfr, FieldValue::Number(p.egfr)));
            fields.push((Field::OnStatin, FieldValue::Flag(p.statin)));
        }
    }
    for (field, value) in fields {
        input.set(field, value).unwrap();
    }
    input
}

/// Clamps a profile into a model's validated ranges (PCE: age ≥ 40; PREVENT: SBP ≤ 180).
fn in_range(mut p: Profile, model: Model) -> Profile {
    match model {
        Model::Pce2013 => p.age = p.age.max(40.0),
        Model::Prevent2023 => p.sbp = p.sbp.min(180.0),
    }
    p
}

fn predict(p: &Profile, model: Model) -> Prediction {
    model
        .predict(&input(p, model))
        .expect("profile is in range")
}

/// Net log-hazard effect of smoking in the printed PCE equations at this age: the smoker
/// coefficient plus the age × smoker interaction. It turns negative for white men from about
/// 78.7 years, a known property of the equations.
fn pce_smoking_effect(p: &Profile) -> f64 {
    let ln_age = p.age.ln();
    match (p.female, p.race == "african_american") {
        (true, false) => 7.574 - 1.665 * ln_age,
        (false, false) => 7.837 - 1.795 * ln_age,
        (true, true) => 0.691,
        (false, true) => 0.549,
    }
}

/// Derivative of the linear predictor with respect to the age term, from the printed
/// coefficients (independently of the implementation's term rewriting).
fn age_slope(model: Model, p: &Profile) -> f64 {
    match model {
        Model::Pce2013 => {
            let (a, t, h, s) = (p.age.ln(), p.total_cholesterol.ln(), p.hdl.ln(), p.sbp.ln());
            let smk = if p.smoker { 1.0 } else { 0.0 };
            match (p.female, p.race == "african_american") {
                (true, false) => -29.799 + 2.0 * 4.884 * a - 3.114 * t + 3.149 * h - 1.665 * smk,
                (false, false) => 12.344 - 2.664 * t + 1.769 * h - 1.795 * smk,
                (true, true) => 17.114 + 4.475 * h - if p.treated { 6.432 } else { 6.087 } * s,
                (false, true) => 2.469,
            }
        }
        Model::Prevent2023 => {
            let non_hdl = (p.total_cholesterol - p.hdl) * 0.02586 - 3.5;
            let hdl = (p.hdl * 0.02586 - 1.3) / 0.3;
            let sbp_ge = (p.sbp.max(110.0) - 130.0) / 20.0;
            let egfr_lt = (p.egfr.min(60.0) - 60.0) / -15.0;
            let (dm, smk) = (
                f64::from(u8::from(p.diabetic)),
                f64::from(u8::from(p.smoker)),
            );
            let c = if p.female {
                [
                    0.7939329, -0.0819715, 0.0306769, -0.0946348, -0.27057, -0.078715, -0.1637806,
                ]
            } else {
                [
                    0.7688528, -0.0517874, 0.0191169, -0.1049477, -0.2251948, -0.0895067,
                    -0.1543702,
                ]
            };
            c[0] + c[1] * non_hdl
                + c[2] * hdl
                + c[3] * sbp_ge
                + c[4] * dm
                + c[5] * smk
                + c[6] * egfr_lt
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_in_range_input_gives_finite_risks_in_the_unit_interval(p in profile()) {
        for model in Model::ALL {
            let prediction = predict(&in_range(p.clone(), model), model);
            for outcome in &prediction.outcomes {
                prop_assert!(outcome.risk.is_finite() && (0.0..=1.0).contains(&outcome.risk));
            }
            prop_assert!(prediction.confidence.is_finite());
            prop_assert!((0.0..=1.0).contains(&prediction.confidence));
            prop_assert!(prediction.linear_predictor.is_finite());
        }
    }

    #[test]
    fn contributions_add_up_to_the_linear_predictor_minus_the_reference(p in profile()) {
        for model in Model::ALL {
            let prediction = predict(&in_range(p.clone(), model), model);
            let total: f64 = prediction.contributions.iter().map(|c| c.value).sum();
            let difference = prediction.linear_predictor - prediction.reference_value;
            prop_assert!((total - difference).abs() < 1e-9, "{total} vs {difference}");
            prop_assert!(prediction.contributions.iter().all(|c| c.value.is_finite()));
        }
    }

    #[test]
    fn risk_rises_with_age_where_the_coefficients_say_so(p in profile(), step in 0.5..10.0f64) {
        for model in Model::ALL {
            // Both ages inside the model's range, the higher by at least 0.5 years.
            let mut low = in_range(p.clone(), model);
            low.age = low.age.min(78.5);
            let mut high = low.clone();
            high.age = (low.age + step).min(79.0);
            let (risk_low, risk_high) = (predict(&low, model).risk(), predict(&high, model).risk());
            let (slope_low, slope_high) = (age_slope(model, &low), age_slope(model, &high));
            // A slope within rounding of zero has no sign to check.
            const FLAT: f64 = 1e-9;
            if slope_low > FLAT && slope_high > FLAT {
                prop_assert!(risk_high > risk_low, "{}", model.name());
            } else if slope_low < -FLAT && slope_high < -FLAT {
                prop_assert!(risk_high < risk_low, "{}", model.name());
            }
        }
    }

    #[test]
    fn risk_rises_with_systolic_pressure_from_110_mmhg(p in profile(), step in 1.0..40.0f64) {
        // Both models' SBP coefficients are positive in this region (PREVENT's sbp_ge110 term
        // outweighs its negative age and treatment interactions over the validated range).
        for model in Model::ALL {
            // Both pressures inside [110, the model's maximum], the higher by at least 1 mmHg
            // (no rejected cases, so any number of cases can run).
            let max = match model { Model::Pce2013 => 200.0, Model::Prevent2023 => 180.0 };
            let mut low = in_range(p.clone(), model);
            low.sbp = low.sbp.clamp(110.0, max - 1.0);
            let mut high = low.clone();
            high.sbp = (low.sbp + step).min(max);
            prop_assert!(predict(&high, model).risk() > predict(&low, model).risk(), "{}", model.name());
        }
    }

    #[test]
    fn diabetes_raises_risk(p in profile()) {
        for model in Model::ALL {
            let mut off = in_range(p.clone(), model);
            off.diabetic = false;
            let mut on = off.clone();
            on.diabetic = true;
            prop_assert!(predict(&on, model).risk() > predict(&off, model).risk(), "{}", model.name());
        }
    }

    #[test]
    fn smoking_raises_risk_where_the_coefficients_say_so(p in profile()) {
        for model in Model::ALL {
            let mut off = in_range(p.clone(), model);
            off.smoker = false;
            let mut on = off.clone();
            on.smoker = true;
            let (risk_on, risk_off) = (predict(&on, model).risk(), predict(&off, model).risk());
            match model {
                Model::Pce2013 if pce_smoking_effect(&off) < 0.0 => prop_assert!(risk_on < risk_off),
                _ => prop_assert!(risk_on > risk_off, "{}", model.name()),
            }
        }
    }

}

/// The age effect's sign depends on the other inputs in both models (PCE's white women
/// smokers at 40 with high cholesterol, PREVENT's low eGFR with diabetes); for the guidelines'
/// example profiles it is positive over the whole age range, in every group.
#[test]
fn risk_rises_with_age_across_the_range_for_the_example_profiles() {
    for model in Model::ALL {
        for female in [true, false] {
            for race in ["white", "african_american"] {
                let mut previous = 0.0;
                for age in (40..=79).map(f64::from) {
                    let p = Profile {
                        age,
                        female,
                        race,
                        total_cholesterol: 213.0,
                        hdl: 50.0,
                        sbp: 120.0,
                        treated: false,
                        smoker: false,
                        diabetic: false,
                        egfr: 90.0,
                        statin: false,
                    };
                    let risk = predict(&p, model).risk();
                    assert!(risk > previous, "{} {female} {race} {age}", model.name());
                    previous = risk;
                }
            }
        }
    }
}
