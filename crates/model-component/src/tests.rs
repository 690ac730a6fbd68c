use super::*;
use risk_models::{Kfre, Model, ValueKind};

fn number(name: &str, value: f64) -> wit::FeatureValue {
    wit::FeatureValue {
        name: name.into(),
        value: wit::Value::Number(value),
    }
}

fn boolean(name: &str, value: bool) -> wit::FeatureValue {
    wit::FeatureValue {
        name: name.into(),
        value: wit::Value::Boolean(value),
    }
}

fn choice(name: &str, value: &str) -> wit::FeatureValue {
    wit::FeatureValue {
        name: name.into(),
        value: wit::Value::Choice(value.into()),
    }
}

/// The PCE guideline's worked example (55 years, TC 213, HDL 50, untreated SBP 120).
fn pce_example(sex: &str, race: &str) -> wit::Patient {
    vec![
        number("age", 55.0),
        choice("sex", sex),
        choice("race", race),
        number("total_cholesterol", 213.0),
        number("hdl_cholesterol", 50.0),
        number("systolic_bp", 120.0),
        boolean("on_bp_treatment", false),
        boolean("smoker", false),
        boolean("diabetic", false),
    ]
}

/// `patient` with the values of `changes` replacing (or adding to) its own.
fn with(mut patient: wit::Patient, changes: Vec<wit::FeatureValue>) -> wit::Patient {
    for change in changes {
        patient.retain(|given| given.name != change.name);
        patient.push(change);
    }
    patient
}

fn without(mut patient: wit::Patient, name: &str) -> wit::Patient {
    patient.retain(|given| given.name != name);
    patient
}

#[test]
fn the_wit_patient_becomes_the_same_named_values() {
    let patient = with(
        pce_example("female", "african_american"),
        vec![
            choice("cholesterol_unit", "mmol/L"),
            boolean("on_statin", true),
        ],
    );
    let given = given(&patient);
    assert_eq!(given[0], ("age", FieldValue::Number(55.0)));
    assert_eq!(given[1], ("sex", FieldValue::Text("female")));
    assert_eq!(given[9], ("cholesterol_unit", FieldValue::Text("mmol/L")));
    assert_eq!(given[10], ("on_statin", FieldValue::Flag(true)));
}

#[test]
fn the_kidney_model_is_served_by_the_same_code() {
    let patient = vec![
        number("age", 63.0),
        choice("sex", "female"),
        number("egfr", 45.0),
        number("urine_acr", 3.0),
        choice("urine_acr_unit", "mg/mmol"),
        choice("region", "non_north_american"),
    ];
    let wit = predict(&Kfre, &patient).unwrap();
    let outputs: Vec<&str> = wit.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["kidney_failure_5y", "kidney_failure_2y"]);
    assert_eq!(wit.confidence, None);
    assert_eq!(wit.reference_value, Some(0.0));
    let info = model_info(&Kfre);
    assert_eq!(info.name, "kfre-2016");
    assert_eq!(info.horizon_years, None);
    let horizons: Vec<Option<u32>> = info.outputs.iter().map(|o| o.horizon_years).collect();
    assert_eq!(horizons, [Some(5), Some(2)]);
    let errors = predict(&Kfre, &vec![number("egfr", 75.0)]).unwrap_err();
    let refused: Vec<&str> = errors.iter().map(|e| e.feature.as_str()).collect();
    assert_eq!(refused, ["age", "sex", "egfr", "urine_acr"]);
}

#[test]
fn the_prediction_carries_every_number_of_the_domain_prediction() {
    let patient = pce_example("male", "white");
    let native = Model::Pce2013.predict_features(&given(&patient)).unwrap();
    let wit = predict(&Model::Pce2013, &patient).unwrap();
    assert_eq!(wit.outputs.len(), 1);
    assert_eq!(wit.outputs[0].name, "ascvd");
    assert_eq!(
        wit.outputs[0].value,
        wit::Value::Number(native.outputs[0].1)
    );
    assert!((native.outputs[0].1 - 0.05384).abs() < 1e-3);
    assert_eq!(wit.category.as_deref(), Some("borderline"));
    let (lp, reference) = native.explanation.unwrap();
    assert_eq!(wit.confidence, native.confidence);
    assert_eq!(wit.linear_predictor, Some(lp));
    assert_eq!(wit.reference_value, Some(reference));
    let factors: Vec<&str> = wit
        .contributions
        .iter()
        .map(|c| c.factor.as_str())
        .collect();
    let native_factors: Vec<&str> = Model::Pce2013.factors().iter().map(|f| f.name()).collect();
    assert_eq!(factors, native_factors);
    let sum: f64 = wit.contributions.iter().map(|c| c.value).sum();
    let difference = lp - reference;
    assert!((sum - difference).abs() < 1e-9);
    assert!(wit.warnings.is_empty());
}

#[test]
fn prevent_gives_both_outputs_primary_first_and_warns_about_race() {
    let patient = with(
        pce_example("female", "white"),
        vec![
            number("age", 50.0),
            number("total_cholesterol", 200.0),
            number("hdl_cholesterol", 45.0),
            number("systolic_bp", 160.0),
            boolean("on_bp_treatment", true),
            boolean("diabetic", true),
            number("egfr", 90.0),
            boolean("on_statin", false),
        ],
    );
    let wit = predict(&Model::Prevent2023, &patient).unwrap();
    let outputs: Vec<&str> = wit.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["total_cvd", "ascvd"]);
    let risk = |index: usize| match wit.outputs[index].value {
        wit::Value::Number(risk) => risk,
        _ => f64::NAN,
    };
    assert!((risk(0) - 0.1468).abs() < 1e-3);
    assert!((risk(1) - 0.0920).abs() < 1e-3);
    assert_eq!(wit.warnings.len(), 1);
    assert_eq!(wit.warnings[0].code, "field_not_used");
    assert_eq!(
        wit.warnings[0].message,
        "race is not used by prevent-2023 and was ignored"
    );
}

#[test]
fn a_name_the_model_does_not_declare_is_ignored_with_a_warning() {
    let patient = with(
        pce_example("male", "white"),
        vec![number("urine_acr", 30.0)],
    );
    let wit = predict(&Model::Pce2013, &patient).unwrap();
    let warnings: Vec<(&str, &str)> = wit
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(
        warnings,
        [(
            "field_not_used",
            "urine_acr is not used by pce-2013 and was ignored"
        )]
    );
}

#[test]
fn absent_race_is_read_with_the_white_equations_and_a_warning() {
    let patient = without(pce_example("female", "white"), "race");
    let wit = predict(&Model::Pce2013, &patient).unwrap();
    let codes: Vec<&str> = wit.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["race_absent_white_equations_used"]);
}

#[test]
fn every_missing_field_is_reported_with_the_apis_message() {
    let errors = predict(&Model::Prevent2023, &Vec::new()).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.feature.as_str()).collect();
    assert_eq!(
        fields,
        [
            "age",
            "sex",
            "total_cholesterol",
            "hdl_cholesterol",
            "systolic_bp",
            "egfr"
        ]
    );
    assert!(errors
        .iter()
        .all(|e| e.problem == wit::FieldProblem::Missing));
    assert_eq!(errors[0].message, "age is required");
}

#[test]
fn out_of_range_carries_the_range_in_canonical_units() {
    let patient = with(
        pce_example("male", "white"),
        vec![
            number("total_cholesterol", 2.0),
            number("hdl_cholesterol", 1.3),
            choice("cholesterol_unit", "mmol/L"),
        ],
    );
    let errors = predict(&Model::Pce2013, &patient).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].feature, "total_cholesterol");
    assert_eq!(
        errors[0].problem,
        wit::FieldProblem::OutOfRange(wit::Range {
            min: 130.0,
            max: 320.0
        })
    );
    assert_eq!(
        errors[0].message,
        "total_cholesterol must be between 3.362 and 8.275 mmol/L (130 to 320 mg/dL), the \
         validated range of pce-2013"
    );
}

#[test]
fn a_non_finite_number_or_a_wrong_kind_is_refused_before_validation() {
    let patient = with(
        pce_example("male", "white"),
        vec![
            number("age", f64::NAN),
            number("systolic_bp", f64::INFINITY),
            number("smoker", 1.0),
        ],
    );
    let errors = predict(&Model::Pce2013, &patient).unwrap_err();
    let fields: Vec<(&str, &wit::FieldProblem)> = errors
        .iter()
        .map(|e| (e.feature.as_str(), &e.problem))
        .collect();
    assert_eq!(
        fields,
        [
            ("age", &wit::FieldProblem::NotFinite),
            ("systolic_bp", &wit::FieldProblem::NotFinite),
            ("smoker", &wit::FieldProblem::WrongType),
        ]
    );
    assert_eq!(errors[0].message, "age must be a finite number");
}

#[test]
fn a_batch_answers_each_patient_in_order() {
    let good = pce_example("male", "white");
    let bad = without(good.clone(), "age");
    let results = predict_batch(&Model::Pce2013, &[good.clone(), bad, good]);
    let ok: Vec<bool> = results.iter().map(Result::is_ok).collect();
    assert_eq!(ok, [true, false, true]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn every_field_problem_has_its_wit_case() {
    assert_eq!(
        field_problem(&FieldProblem::WrongType {
            expected: ValueKind::Boolean
        }),
        wit::FieldProblem::WrongType
    );
    assert_eq!(
        field_problem(&FieldProblem::NotAllowed {
            allowed: &["female", "male"]
        }),
        wit::FieldProblem::NotAllowed(vec!["female".into(), "male".into()])
    );
    assert_eq!(
        field_problem(&FieldProblem::Duplicate {
            alias: "cholesterol"
        }),
        wit::FieldProblem::Duplicate
    );
}

#[test]
fn info_is_the_models_description() {
    for model in Model::ALL {
        let spec = model.spec();
        let info = model_info(&model);
        assert_eq!(info.name, spec.name);
        assert_eq!(info.version, spec.version);
        assert_eq!(info.citation, spec.citation);
        assert_eq!(info.horizon_years, Some(10));
        assert_eq!(info.features.len(), model.describe().features.len());
        assert_eq!(info.outputs[0].name, spec.primary_outcome().name);
        let bands: Vec<&str> = info
            .categories
            .iter()
            .flat_map(|c| c.bands.iter().map(|b| b.label.as_str()))
            .collect();
        assert_eq!(bands.len(), 4);
        assert!(info.confidence.is_some());
    }
    let info = model_info(&Model::Prevent2023);
    let egfr = info.features.iter().find(|f| f.name == "egfr").unwrap();
    assert!(egfr.required);
    let wit::FeatureKind::Number(number) = &egfr.kind else {
        panic!("egfr is a number");
    };
    assert_eq!(number.unit, "mL/min/1.73 m²");
    assert_eq!(
        number.range,
        Some(wit::Range {
            min: 15.0,
            max: 140.0
        })
    );
    let statin = info
        .features
        .iter()
        .find(|f| f.name == "on_statin")
        .unwrap();
    assert!(!statin.required);
    assert!(matches!(statin.kind, wit::FeatureKind::Boolean(_)));
}
