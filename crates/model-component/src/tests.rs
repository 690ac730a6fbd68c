use super::*;
use risk_models::ValueKind;

fn empty() -> wit::PatientInput {
    wit::PatientInput {
        age: None,
        sex: None,
        race: None,
        total_cholesterol: None,
        hdl_cholesterol: None,
        cholesterol_unit: None,
        systolic_bp: None,
        on_bp_treatment: None,
        smoker: None,
        diabetic: None,
        egfr: None,
        on_statin: None,
    }
}

/// The PCE guideline's worked example (55 years, TC 213, HDL 50, untreated SBP 120).
fn pce_example(sex: wit::Sex, race: wit::Race) -> wit::PatientInput {
    wit::PatientInput {
        age: Some(55.0),
        sex: Some(sex),
        race: Some(race),
        total_cholesterol: Some(213.0),
        hdl_cholesterol: Some(50.0),
        systolic_bp: Some(120.0),
        on_bp_treatment: Some(false),
        smoker: Some(false),
        diabetic: Some(false),
        ..empty()
    }
}

#[test]
fn the_wit_patient_becomes_the_same_domain_input() {
    let patient = wit::PatientInput {
        cholesterol_unit: Some(wit::CholesterolUnit::MmolPerL),
        egfr: Some(90.0),
        on_statin: Some(true),
        ..pce_example(wit::Sex::Female, wit::Race::AfricanAmerican)
    };
    let input = patient_input(&patient).unwrap();
    assert_eq!(
        input,
        PatientInput {
            age: Some(55.0),
            sex: Some(Sex::Female),
            race: Some(Race::AfricanAmerican),
            total_cholesterol: Some(213.0),
            hdl_cholesterol: Some(50.0),
            cholesterol_unit: Some(CholesterolUnit::MmolPerL),
            systolic_bp: Some(120.0),
            on_bp_treatment: Some(false),
            smoker: Some(false),
            diabetic: Some(false),
            egfr: Some(90.0),
            on_statin: Some(true),
        }
    );
    assert_eq!(patient_input(&empty()).unwrap(), PatientInput::default());
}

#[test]
fn the_prediction_carries_every_number_of_the_domain_prediction() {
    let patient = pce_example(wit::Sex::Male, wit::Race::White);
    let native = Model::Pce2013
        .predict(&patient_input(&patient).unwrap())
        .unwrap();
    let wit = predict(Model::Pce2013, patient).unwrap();
    assert_eq!(wit.outcomes.len(), 1);
    assert_eq!(wit.outcomes[0].outcome, "ascvd");
    assert_eq!(wit.outcomes[0].risk, native.risk());
    assert!((wit.outcomes[0].risk - 0.05384).abs() < 1e-3);
    assert_eq!(wit.category, wit::RiskCategory::Borderline);
    assert_eq!(wit.confidence, native.confidence);
    assert_eq!(wit.linear_predictor, native.linear_predictor);
    assert_eq!(wit.reference_value, native.reference_value);
    let factors: Vec<&str> = wit
        .contributions
        .iter()
        .map(|c| c.factor.as_str())
        .collect();
    let native_factors: Vec<&str> = Model::Pce2013.factors().iter().map(|f| f.name()).collect();
    assert_eq!(factors, native_factors);
    let sum: f64 = wit.contributions.iter().map(|c| c.value).sum();
    assert!((sum - (wit.linear_predictor - wit.reference_value)).abs() < 1e-9);
    assert!(wit.warnings.is_empty());
}

#[test]
fn prevent_gives_both_outcomes_primary_first_and_warns_about_race() {
    let patient = wit::PatientInput {
        age: Some(50.0),
        total_cholesterol: Some(200.0),
        hdl_cholesterol: Some(45.0),
        systolic_bp: Some(160.0),
        on_bp_treatment: Some(true),
        diabetic: Some(true),
        egfr: Some(90.0),
        on_statin: Some(false),
        ..pce_example(wit::Sex::Female, wit::Race::White)
    };
    let wit = predict(Model::Prevent2023, patient).unwrap();
    let outcomes: Vec<&str> = wit.outcomes.iter().map(|o| o.outcome.as_str()).collect();
    assert_eq!(outcomes, ["total_cvd", "ascvd"]);
    assert!((wit.outcomes[0].risk - 0.1468).abs() < 1e-3);
    assert!((wit.outcomes[1].risk - 0.0920).abs() < 1e-3);
    assert_eq!(wit.warnings.len(), 1);
    assert_eq!(wit.warnings[0].code, "field_not_used");
    assert_eq!(
        wit.warnings[0].message,
        "race is not used by prevent-2023 and was ignored"
    );
}

#[test]
fn absent_race_is_read_with_the_white_equations_and_a_warning() {
    let patient = wit::PatientInput {
        race: None,
        ..pce_example(wit::Sex::Female, wit::Race::White)
    };
    let wit = predict(Model::Pce2013, patient).unwrap();
    let codes: Vec<&str> = wit.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["race_absent_white_equations_used"]);
}

#[test]
fn every_missing_field_is_reported_with_the_apis_message() {
    let errors = predict(Model::Prevent2023, empty()).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
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
    let patient = wit::PatientInput {
        total_cholesterol: Some(2.0),
        hdl_cholesterol: Some(1.3),
        cholesterol_unit: Some(wit::CholesterolUnit::MmolPerL),
        ..pce_example(wit::Sex::Male, wit::Race::White)
    };
    let errors = predict(Model::Pce2013, patient).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "total_cholesterol");
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
fn a_non_finite_number_is_refused_before_validation() {
    let patient = wit::PatientInput {
        age: Some(f64::NAN),
        systolic_bp: Some(f64::INFINITY),
        ..pce_example(wit::Sex::Male, wit::Race::White)
    };
    let errors = predict(Model::Pce2013, patient).unwrap_err();
    let fields: Vec<(&str, &wit::FieldProblem)> = errors
        .iter()
        .map(|e| (e.field.as_str(), &e.problem))
        .collect();
    assert_eq!(
        fields,
        [
            ("age", &wit::FieldProblem::NotFinite),
            ("systolic_bp", &wit::FieldProblem::NotFinite)
        ]
    );
    assert_eq!(errors[0].message, "age must be a finite number");
}

#[test]
fn every_field_problem_has_its_wit_case() {
    assert_eq!(
        field_problem(&FieldProblem::Unknown),
        wit::FieldProblem::Unknown
    );
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
fn every_category_has_its_wit_case() {
    let names: Vec<wit::RiskCategory> = RiskCategory::ALL.into_iter().map(risk_category).collect();
    assert_eq!(
        names,
        [
            wit::RiskCategory::Low,
            wit::RiskCategory::Borderline,
            wit::RiskCategory::Intermediate,
            wit::RiskCategory::High
        ]
    );
}

#[test]
fn info_is_the_models_specification() {
    for model in Model::ALL {
        let spec = model.spec();
        let info = model_info(model);
        assert_eq!(info.name, spec.name);
        assert_eq!(info.version, spec.version);
        assert_eq!(info.citation, spec.citation);
        assert_eq!(info.horizon_years, 10);
        assert_eq!(info.inputs.len(), spec.inputs.len());
        assert_eq!(info.outcomes[0].name, spec.primary_outcome().name);
    }
    let info = model_info(Model::Prevent2023);
    let egfr = info.inputs.iter().find(|i| i.field == "egfr").unwrap();
    assert_eq!(egfr.unit.as_deref(), Some("mL/min/1.73 m²"));
    assert!(egfr.required);
    assert_eq!(
        egfr.range,
        Some(wit::Range {
            min: 15.0,
            max: 140.0
        })
    );
    let statin = info.inputs.iter().find(|i| i.field == "on_statin").unwrap();
    assert!(!statin.required);
    assert_eq!(statin.unit, None);
    assert!(statin.when_absent.is_some());
}
