use super::*;
use risk_models::{Kfre, Model, ValueKind};

/// A patient by name, as a client sends it; [`wit_patient`] puts it in a model's positions.
type Named = Vec<(String, wit::Value)>;

fn number(name: &str, value: f64) -> (String, wit::Value) {
    (name.into(), wit::Value::Number(value))
}

fn boolean(name: &str, value: bool) -> (String, wit::Value) {
    (name.into(), wit::Value::Boolean(value))
}

fn choice(name: &str, value: &str) -> (String, wit::Value) {
    (name.into(), wit::Value::Choice(value.into()))
}

/// `named` in `model`'s positions, as the API sends it: the values of the features it
/// declares in their places, the names of the others apart.
fn wit_patient(model: &dyn TabularModel, named: &Named) -> wit::Patient {
    let positions = Positions::of(model);
    let mut patient = wit::Patient {
        values: vec![None; positions.features.len()],
        not_declared: Vec::new(),
    };
    for (name, value) in named {
        match position(&positions.features, name) {
            Some(index) => patient.values[index] = Some(value.clone()),
            None => patient.not_declared.push(name.clone()),
        }
    }
    patient
}

/// What the component answers for `named`.
fn call(model: &dyn TabularModel, named: &Named) -> Result<wit::Prediction, Vec<wit::FieldError>> {
    predict(model, &Positions::of(model), &wit_patient(model, named))
}

/// The domain's named values, as `predict_features` takes them.
fn domain(named: &Named) -> Vec<(&str, FieldValue<'_>)> {
    named
        .iter()
        .map(|(name, value)| {
            let value = match value {
                wit::Value::Number(number) => FieldValue::Number(*number),
                wit::Value::Boolean(flag) => FieldValue::Flag(*flag),
                wit::Value::Choice(text) => FieldValue::Text(text),
            };
            (name.as_str(), value)
        })
        .collect()
}

/// The PCE guideline's worked example (55 years, TC 213, HDL 50, untreated SBP 120).
fn pce_example(sex: &str, race: &str) -> Named {
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
fn with(mut patient: Named, changes: Named) -> Named {
    for change in changes {
        patient.retain(|(name, _)| *name != change.0);
        patient.push(change);
    }
    patient
}

fn without(mut patient: Named, name: &str) -> Named {
    patient.retain(|(given, _)| given != name);
    patient
}

fn numbers(values: &[wit::Value]) -> Vec<f64> {
    values
        .iter()
        .map(|value| match value {
            wit::Value::Number(number) => *number,
            _ => f64::NAN,
        })
        .collect()
}

#[test]
fn the_wit_patient_becomes_the_same_named_values() {
    let named = with(
        pce_example("female", "african_american"),
        vec![
            choice("cholesterol_unit", "mmol/L"),
            boolean("on_statin", true),
        ],
    );
    let patient = wit_patient(&Model::Pce2013, &named);
    assert_eq!(patient.not_declared, ["on_statin"]);
    let positions = Positions::of(&Model::Pce2013);
    let given = given(&positions, &patient.values).unwrap();
    assert_eq!(given.len(), 10);
    assert_eq!(given[0], ("age", FieldValue::Number(55.0)));
    assert_eq!(given[1], ("sex", FieldValue::Text("female")));
    assert!(given.contains(&("cholesterol_unit", FieldValue::Text("mmol/L"))));
}

#[test]
fn a_patient_of_another_length_is_refused_as_a_wrong_call() {
    let mut patient = wit_patient(&Model::Pce2013, &pce_example("male", "white"));
    let declared = patient.values.len();
    patient.values.pop();
    let positions = Positions::of(&Model::Pce2013);
    assert!(given(&positions, &patient.values).is_none());
    let errors = predict(&Model::Pce2013, &positions, &patient).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].feature, "");
    assert_eq!(
        errors[0].message,
        format!(
            "the call gave {} values for the model's {declared} features",
            declared - 1
        )
    );
}

#[test]
fn every_builtin_prediction_crosses_in_its_declared_positions() {
    let examples: [(&dyn TabularModel, Named); 3] = [
        (&Model::Pce2013, pce_example("male", "white")),
        (
            &Model::Prevent2023,
            with(pce_example("female", "white"), vec![number("egfr", 90.0)]),
        ),
        (
            &Kfre,
            vec![
                number("age", 63.0),
                choice("sex", "female"),
                number("egfr", 45.0),
                number("urine_acr", 30.0),
            ],
        ),
    ];
    for (model, named) in examples {
        let positions = Positions::of(model);
        let native = model.predict_features(&domain(&named)).unwrap();
        let outputs: Vec<&str> = native.outputs.iter().map(|(name, _)| *name).collect();
        assert_eq!(outputs, positions.outputs, "{}", model.name());
        let factors: Vec<&str> = native.contributions.iter().map(|(name, _)| *name).collect();
        assert_eq!(factors, positions.factors, "{}", model.name());
        let category = native.category.unwrap();
        assert!(positions.categories.contains(&category), "{}", model.name());
        let wit = call(model, &named).unwrap();
        let values: Vec<f64> = native.outputs.iter().map(|(_, value)| *value).collect();
        assert_eq!(numbers(&wit.outputs), values);
        let index = wit.category.unwrap() as usize;
        assert_eq!(positions.categories[index], category);
    }
}

#[test]
fn names_not_declared_are_warned_about_exactly_as_if_given_with_their_values() {
    // egfr and on_statin are shared cardiovascular fields pce-2013 does not use; urine_acr
    // and region are the kidney model's; systolic_bp and race are not the kidney model's.
    let pce = with(
        pce_example("male", "white"),
        vec![
            number("urine_acr", 30.0),
            boolean("on_statin", true),
            choice("region", "north_american"),
            number("egfr", 90.0),
        ],
    );
    let kfre = vec![
        number("systolic_bp", 120.0),
        number("age", 63.0),
        choice("race", "white"),
        choice("sex", "female"),
        number("egfr", 45.0),
        number("urine_acr", 30.0),
    ];
    let cases: [(&dyn TabularModel, Named); 2] = [(&Model::Pce2013, pce), (&Kfre, kfre)];
    for (model, named) in cases {
        let native = model.predict_features(&domain(&named)).unwrap();
        let expected: Vec<(&str, &str)> = native
            .warnings
            .iter()
            .map(|w| (w.code, w.message.as_str()))
            .collect();
        let wit = call(model, &named).unwrap();
        let warnings: Vec<(&str, &str)> = wit
            .warnings
            .iter()
            .map(|w| (w.code.as_str(), w.message.as_str()))
            .collect();
        assert_eq!(warnings, expected, "{}", model.name());
        assert!(warnings.len() >= 2, "{}", model.name());
    }
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
    let wit = call(&Kfre, &patient).unwrap();
    assert_eq!(wit.outputs.len(), 2);
    assert_eq!(wit.confidence, None);
    assert_eq!(wit.reference_value, Some(0.0));
    let info = model_info(&Kfre);
    assert_eq!(info.name, "kfre-2016");
    assert_eq!(info.horizon_years, None);
    let outputs: Vec<&str> = info.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["kidney_failure_5y", "kidney_failure_2y"]);
    let horizons: Vec<Option<u32>> = info.outputs.iter().map(|o| o.horizon_years).collect();
    assert_eq!(horizons, [Some(5), Some(2)]);
    let factors = info.explanation.map(|e| e.factors).unwrap_or_default();
    assert_eq!(factors, ["age", "sex", "egfr", "urine_acr"]);
    assert_eq!(wit.contributions.len(), 4);
    let errors = call(&Kfre, &vec![number("egfr", 75.0)]).unwrap_err();
    let refused: Vec<&str> = errors.iter().map(|e| e.feature.as_str()).collect();
    assert_eq!(refused, ["age", "sex", "egfr", "urine_acr"]);
}

#[test]
fn the_prediction_carries_every_number_of_the_domain_prediction() {
    let patient = pce_example("male", "white");
    let native = Model::Pce2013.predict_features(&domain(&patient)).unwrap();
    let wit = call(&Model::Pce2013, &patient).unwrap();
    assert_eq!(numbers(&wit.outputs), [native.outputs[0].1]);
    assert!((native.outputs[0].1 - 0.05384).abs() < 1e-3);
    let info = model_info(&Model::Pce2013);
    assert_eq!(info.outputs[0].name, "ascvd");
    let bands = info.categories.unwrap().bands;
    assert_eq!(bands[wit.category.unwrap() as usize].name, "borderline");
    let (lp, reference) = native.explanation.unwrap();
    assert_eq!(wit.confidence, native.confidence);
    assert_eq!(wit.linear_predictor, Some(lp));
    assert_eq!(wit.reference_value, Some(reference));
    let factors = info.explanation.unwrap().factors;
    let native_factors: Vec<&str> = Model::Pce2013.factors().iter().map(|f| f.name()).collect();
    assert_eq!(factors, native_factors);
    let native_values: Vec<f64> = native.contributions.iter().map(|(_, v)| *v).collect();
    assert_eq!(wit.contributions, native_values);
    let sum: f64 = wit.contributions.iter().sum();
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
    let wit = call(&Model::Prevent2023, &patient).unwrap();
    let info = model_info(&Model::Prevent2023);
    let outputs: Vec<&str> = info.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["total_cvd", "ascvd"]);
    let risks = numbers(&wit.outputs);
    assert!((risks[0] - 0.1468).abs() < 1e-3);
    assert!((risks[1] - 0.0920).abs() < 1e-3);
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
    let wit = call(&Model::Pce2013, &patient).unwrap();
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
    let wit = call(&Model::Pce2013, &patient).unwrap();
    let codes: Vec<&str> = wit.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["race_absent_white_equations_used"]);
}

#[test]
fn every_missing_field_is_reported_with_the_apis_message() {
    let errors = call(&Model::Prevent2023, &Vec::new()).unwrap_err();
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
    let errors = call(&Model::Pce2013, &patient).unwrap_err();
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
    let errors = call(&Model::Pce2013, &patient).unwrap_err();
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

/// The patients as one `patient-batch`, one row each.
fn wit_batch(model: &dyn TabularModel, patients: &[Named]) -> wit::PatientBatch {
    let mut batch = wit::PatientBatch {
        count: patients.len() as u32,
        values: Vec::new(),
        not_declared: Vec::new(),
    };
    for (row, named) in patients.iter().enumerate() {
        let patient = wit_patient(model, named);
        batch.values.extend(patient.values);
        let names = patient.not_declared.into_iter();
        batch
            .not_declared
            .extend(names.map(|name| (row as u32, name)));
    }
    batch
}

/// Patient `patient`'s answer read back from the batch's columns (`rows_before`: how many
/// patients before it were scored).
fn batch_answer(
    batch: &wit::BatchPredictions,
    patient: u32,
    rows_before: usize,
    outputs: usize,
    factors: usize,
) -> Result<wit::Prediction, Vec<wit::FieldError>> {
    if let Some(refusal) = batch.refused.iter().find(|r| r.patient == patient) {
        return Err(refusal.errors.clone());
    }
    let row = rows_before;
    Ok(wit::Prediction {
        outputs: batch.outputs[row * outputs..(row + 1) * outputs].to_vec(),
        category: batch.scored[row].category,
        confidence: batch.scored[row].confidence,
        contributions: batch.contributions[row * factors..(row + 1) * factors].to_vec(),
        linear_predictor: batch.scored[row].linear_predictor,
        reference_value: batch.scored[row].reference_value,
        warnings: (batch.warnings.iter())
            .filter(|(sent_for, _)| *sent_for == patient)
            .map(|(_, warning)| warning.clone())
            .collect(),
    })
}

#[test]
fn a_batch_answers_each_patient_as_it_is_answered_alone() {
    let prevent = with(
        pce_example("female", "white"),
        vec![number("egfr", 90.0), boolean("on_statin", true)],
    );
    let kfre = vec![
        number("age", 63.0),
        choice("sex", "female"),
        number("egfr", 45.0),
        number("urine_acr", 30.0),
    ];
    let examples: [(&dyn TabularModel, Named); 3] = [
        (&Model::Pce2013, pce_example("male", "white")),
        (&Model::Prevent2023, prevent),
        (&Kfre, kfre),
    ];
    for (model, example) in examples {
        // Scored, refused, scored with another model's name and a warning, scored.
        let patients = [
            example.clone(),
            without(example.clone(), "age"),
            with(
                example.clone(),
                vec![boolean("some_other_models_flag", true)],
            ),
            example.clone(),
        ];
        let positions = Positions::of(model);
        let batch = predict_batch(model, &positions, &wit_batch(model, &patients));
        assert_eq!(batch.refused.len(), 1, "{}", model.name());
        assert_eq!(batch.refused[0].patient, 1);
        let mut rows_before = 0;
        for (index, named) in patients.iter().enumerate() {
            let alone = call(model, named);
            let (outputs, factors) = (positions.outputs.len(), positions.factors.len());
            let answer = batch_answer(&batch, index as u32, rows_before, outputs, factors);
            assert_eq!(answer, alone, "{} patient {index}", model.name());
            rows_before += usize::from(alone.is_ok());
        }
        assert_eq!(batch.warnings.iter().filter(|(p, _)| *p == 2).count(), {
            let alone = call(model, &patients[2]).expect("scored");
            alone.warnings.len()
        });
    }
}

#[test]
fn a_batch_of_the_wrong_width_refuses_every_patient_as_a_wrong_call() {
    let positions = Positions::of(&Model::Pce2013);
    let patient = pce_example("male", "white");
    let mut batch = wit_batch(&Model::Pce2013, &[patient.clone(), patient]);
    batch.values.pop();
    let answer = predict_batch(&Model::Pce2013, &positions, &batch);
    let refused: Vec<(u32, &str)> = (answer.refused.iter())
        .map(|refusal| (refusal.patient, refusal.errors[0].feature.as_str()))
        .collect();
    assert_eq!(refused, [(0, ""), (1, "")]);
    assert_eq!(
        answer.refused[0].errors[0].message,
        "the call gave 19 values for 2 patients of the model's 10 features"
    );
    assert!(answer.outputs.is_empty() && answer.scored.is_empty());
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

#[test]
fn a_batchs_other_names_reach_their_patients_in_any_order() {
    let positions = Positions::of(&Model::Pce2013);
    let patients = [
        with(
            pce_example("male", "white"),
            vec![boolean("on_statin", true)],
        ),
        pce_example("female", "white"),
        with(pce_example("male", "white"), vec![number("egfr", 60.0)]),
    ];
    let in_order = wit_batch(&Model::Pce2013, &patients);
    let mut reversed = in_order.clone();
    reversed.not_declared.reverse();
    for batch in [in_order, reversed] {
        let answer = predict_batch(&Model::Pce2013, &positions, &batch);
        let warned: Vec<(u32, &str)> = (answer.warnings.iter())
            .filter(|(_, warning)| warning.code == "field_not_used")
            .map(|(patient, warning)| (*patient, warning.message.as_str()))
            .collect();
        assert_eq!(
            warned,
            [
                (0, "on_statin is not used by pce-2013 and was ignored"),
                (2, "egfr is not used by pce-2013 and was ignored"),
            ]
        );
    }
}
