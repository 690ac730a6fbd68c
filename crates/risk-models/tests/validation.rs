//! Every validation rule, through the public API a adapter uses.

use risk_models::{Field, FieldProblem, FieldValue, Model, PatientInput, ValidationErrors};

fn input(fields: &[(Field, FieldValue<'static>)]) -> PatientInput {
    let mut input = PatientInput::default();
    for (field, value) in fields {
        input
            .set(*field, value.clone())
            .expect("test values are well typed");
    }
    input
}

fn complete_pce() -> Vec<(Field, FieldValue<'static>)> {
    vec![
        (Field::Age, FieldValue::Number(60.0)),
        (Field::Sex, FieldValue::Text("male")),
        (Field::Race, FieldValue::Text("white")),
        (Field::TotalCholesterol, FieldValue::Number(200.0)),
        (Field::HdlCholesterol, FieldValue::Number(45.0)),
        (Field::SystolicBp, FieldValue::Number(140.0)),
    ]
}

fn complete_prevent() -> Vec<(Field, FieldValue<'static>)> {
    vec![
        (Field::Age, FieldValue::Number(60.0)),
        (Field::Sex, FieldValue::Text("female")),
        (Field::TotalCholesterol, FieldValue::Number(200.0)),
        (Field::HdlCholesterol, FieldValue::Number(45.0)),
        (Field::SystolicBp, FieldValue::Number(140.0)),
        (Field::Egfr, FieldValue::Number(80.0)),
    ]
}

fn errors(model: Model, input: &PatientInput) -> ValidationErrors {
    model.predict(input).expect_err("input is invalid")
}

fn fields_of(errors: &ValidationErrors) -> Vec<&str> {
    errors.0.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn the_original_services_example_names_every_missing_required_field() {
    let original = input(&[
        (Field::Age, FieldValue::Number(65.0)),
        (Field::TotalCholesterol, FieldValue::Number(240.0)),
    ]);
    let errors = errors(Model::Pce2013, &original);
    assert_eq!(
        fields_of(&errors),
        ["sex", "hdl_cholesterol", "systolic_bp"]
    );
    assert!(errors.0.iter().all(|e| e.problem == FieldProblem::Missing));
}

#[test]
fn prevent_requires_egfr() {
    let mut fields = complete_prevent();
    fields.retain(|(f, _)| *f != Field::Egfr);
    let errors = errors(Model::Prevent2023, &input(&fields));
    assert_eq!(fields_of(&errors), ["egfr"]);
}

#[test]
fn every_range_bound_is_inclusive_and_nothing_outside_is_accepted() {
    let cases = [
        (Model::Pce2013, Field::Age, 40.0, 79.0),
        (Model::Pce2013, Field::TotalCholesterol, 130.0, 320.0),
        (Model::Pce2013, Field::HdlCholesterol, 20.0, 100.0),
        (Model::Pce2013, Field::SystolicBp, 90.0, 200.0),
        (Model::Prevent2023, Field::Age, 30.0, 79.0),
        (Model::Prevent2023, Field::TotalCholesterol, 130.0, 320.0),
        (Model::Prevent2023, Field::HdlCholesterol, 20.0, 100.0),
        (Model::Prevent2023, Field::SystolicBp, 90.0, 180.0),
        (Model::Prevent2023, Field::Egfr, 15.0, 140.0),
    ];
    for (model, field, min, max) in cases {
        let base = match model {
            Model::Pce2013 => complete_pce(),
            Model::Prevent2023 => complete_prevent(),
        };
        for (value, ok) in [
            (min, true),
            (max, true),
            (min - 0.01, false),
            (max + 0.01, false),
        ] {
            let mut fields = base.clone();
            fields.retain(|(f, _)| *f != field);
            fields.push((field, FieldValue::Number(value)));
            let result = model.predict(&input(&fields));
            assert_eq!(
                result.is_ok(),
                ok,
                "{} {} = {value}",
                model.name(),
                field.name()
            );
            if let Err(errors) = result {
                assert_eq!(fields_of(&errors), [field.name()]);
                assert!(matches!(
                    errors.0[0].problem,
                    FieldProblem::OutOfRange { .. }
                ));
            }
        }
    }
}

#[test]
fn out_of_range_messages_name_the_field_and_range_but_not_the_value() {
    let mut fields = complete_pce();
    fields.retain(|(f, _)| *f != Field::Age);
    fields.push((Field::Age, FieldValue::Number(27.5)));
    let message = errors(Model::Pce2013, &input(&fields)).0[0].to_string();
    assert_eq!(
        message,
        "age must be between 40 and 79 years, the validated range of pce-2013"
    );
    assert!(!message.contains("27.5"));
}

#[test]
fn mmol_per_litre_cholesterol_is_converted_before_the_range_check() {
    let mut fields = complete_pce();
    fields.retain(|(f, _)| !matches!(f, Field::TotalCholesterol | Field::HdlCholesterol));
    fields.push((Field::CholesterolUnit, FieldValue::Text("mmol/L")));
    fields.push((Field::TotalCholesterol, FieldValue::Number(200.0 / 38.67)));
    fields.push((Field::HdlCholesterol, FieldValue::Number(45.0 / 38.67)));
    let in_mmol = Model::Pce2013.predict(&input(&fields)).unwrap();
    let in_mg = Model::Pce2013.predict(&input(&complete_pce())).unwrap();
    assert!((in_mmol.risk() - in_mg.risk()).abs() < 1e-12);

    // 200 "mmol/L" would be 7734 mg/dL: refused, with the range shown in mmol/L.
    let mut fields = complete_pce();
    fields.retain(|(f, _)| *f != Field::TotalCholesterol);
    fields.push((Field::CholesterolUnit, FieldValue::Text("mmol/L")));
    fields.push((Field::TotalCholesterol, FieldValue::Number(200.0)));
    let errors = errors(Model::Pce2013, &input(&fields));
    assert_eq!(
        errors.0[0].to_string(),
        "total_cholesterol must be between 3.362 and 8.275 mmol/L (130 to 320 mg/dL), \
         the validated range of pce-2013"
    );
}

#[test]
fn the_shown_mmol_range_is_accepted_at_both_ends() {
    for value in [3.362, 8.275] {
        let mut fields = complete_pce();
        fields.retain(|(f, _)| !matches!(f, Field::TotalCholesterol | Field::HdlCholesterol));
        fields.push((Field::CholesterolUnit, FieldValue::Text("mmol/L")));
        fields.push((Field::TotalCholesterol, FieldValue::Number(value)));
        fields.push((Field::HdlCholesterol, FieldValue::Number(1.2)));
        assert!(Model::Pce2013.predict(&input(&fields)).is_ok(), "{value}");
    }
}

#[test]
fn absent_flags_mean_false() {
    let absent = Model::Pce2013.predict(&input(&complete_pce())).unwrap();
    let mut fields = complete_pce();
    for flag in [Field::OnBpTreatment, Field::Smoker, Field::Diabetic] {
        fields.push((flag, FieldValue::Flag(false)));
    }
    let explicit = Model::Pce2013.predict(&input(&fields)).unwrap();
    assert_eq!(absent.risk(), explicit.risk());
}

#[test]
fn fields_a_model_does_not_use_are_ignored_with_a_warning() {
    let mut fields = complete_pce();
    fields.push((Field::Egfr, FieldValue::Number(5.0)));
    fields.push((Field::OnStatin, FieldValue::Flag(true)));
    let p = Model::Pce2013.predict(&input(&fields)).unwrap();
    let codes: Vec<String> = p.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        codes,
        [
            "egfr is not used by pce-2013 and was ignored",
            "on_statin is not used by pce-2013 and was ignored"
        ]
    );
}

#[test]
fn several_problems_are_reported_together() {
    let bad = input(&[
        (Field::Age, FieldValue::Number(20.0)),
        (Field::Sex, FieldValue::Text("female")),
        (Field::TotalCholesterol, FieldValue::Number(500.0)),
    ]);
    let errors = errors(Model::Pce2013, &bad);
    assert_eq!(
        fields_of(&errors),
        ["age", "total_cholesterol", "hdl_cholesterol", "systolic_bp"]
    );
}
