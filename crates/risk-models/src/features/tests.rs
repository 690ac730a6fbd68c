//! The general validation gives, for the two cardiovascular models, exactly the answers of the
//! field-based one (`crate::validation`): the same errors with the same messages in the same
//! order, the same canonical values, and the same fields left unused.

use proptest::prelude::*;

use super::*;
use crate::field::{Field, FieldKind};
use crate::input::PatientInput;
use crate::models::Model;
use crate::validation::validate;

/// A value a client might send for `field`: mostly well typed and near the validated ranges,
/// sometimes outside them, not finite, of the wrong type, or not an allowed string.
fn value_for(field: Field, clean: bool) -> BoxedStrategy<FieldValue<'static>> {
    let wrong = prop_oneof![
        Just(FieldValue::Text("55")),
        Just(FieldValue::Flag(true)),
        Just(FieldValue::Number(1.0)),
    ];
    // Mostly inside every model's validated range, so that valid patients are common.
    let typical = match field {
        Field::Age => 40.0..79.0,
        Field::TotalCholesterol => 130.0..320.0,
        Field::HdlCholesterol => 20.0..100.0,
        Field::SystolicBp => 90.0..180.0,
        _ => 15.0..140.0,
    };
    if clean {
        return match field.kind() {
            FieldKind::Number { .. } => typical.prop_map(FieldValue::Number).boxed(),
            FieldKind::Flag => any::<bool>().prop_map(FieldValue::Flag).boxed(),
            // mg/dL only: the typical ranges are in mg/dL.
            FieldKind::Choice { .. } if field == Field::CholesterolUnit => {
                Just(FieldValue::Text("mg/dL")).boxed()
            }
            FieldKind::Choice { allowed } => proptest::sample::select(allowed.to_vec())
                .prop_map(FieldValue::Text)
                .boxed(),
        };
    }
    match field.kind() {
        FieldKind::Number { .. } => prop_oneof![
            12 => typical.prop_map(FieldValue::Number),
            3 => (-10.0f64..400.0).prop_map(FieldValue::Number),
            2 => (1.0f64..12.0).prop_map(FieldValue::Number),
            1 => Just(FieldValue::Number(f64::NAN)),
            1 => wrong,
        ]
        .boxed(),
        FieldKind::Flag => prop_oneof![
            8 => any::<bool>().prop_map(FieldValue::Flag),
            1 => wrong,
        ]
        .boxed(),
        FieldKind::Choice { allowed } => prop_oneof![
            8 => proptest::sample::select(allowed.to_vec()).prop_map(FieldValue::Text),
            1 => Just(FieldValue::Text("Xyzzy")),
            1 => wrong,
        ]
        .boxed(),
    }
}

/// Which fields a patient gives (by name, the alias `cholesterol` sometimes, both sometimes),
/// and their values: half the cases clean (well typed, in range, mg/dL), so that valid
/// patients are frequent, half noisy.
fn patient() -> impl Strategy<Value = Vec<(&'static str, FieldValue<'static>)>> {
    prop_oneof![patient_of(true), patient_of(false)]
}

fn patient_of(clean: bool) -> impl Strategy<Value = Vec<(&'static str, FieldValue<'static>)>> {
    let fields: Vec<BoxedStrategy<Vec<(&'static str, FieldValue<'static>)>>> = Field::ALL
        .into_iter()
        .map(|field| {
            let names: Vec<Vec<&'static str>> = match field.alias() {
                Some(alias) if clean => vec![vec![field.name()], vec![alias]],
                None if clean => vec![vec![field.name()]; 9]
                    .into_iter()
                    .chain([vec![]])
                    .collect(),
                Some(alias) => vec![
                    vec![field.name()],
                    vec![alias],
                    vec![field.name(), alias],
                    vec![],
                ],
                None => vec![
                    vec![field.name()],
                    vec![field.name()],
                    vec![field.name()],
                    vec![],
                ],
            };
            (
                proptest::sample::select(names),
                value_for(field, clean),
                value_for(field, clean),
            )
                .prop_map(|(names, first, second)| {
                    names.into_iter().zip([first, second]).collect::<Vec<_>>()
                })
                .boxed()
        })
        .collect();
    fields.prop_map(|lists| lists.into_iter().flatten().collect())
}

/// The field-based answer: the typed input (errors from `PatientInput::set`), then validation.
fn field_based(
    model: Model,
    given: &[(&'static str, FieldValue<'static>)],
) -> Result<crate::validation::Patient, Vec<String>> {
    let mut input = PatientInput::default();
    let mut errors = Vec::new();
    for (name, value) in given {
        let Some(field) = Field::from_name(name) else {
            continue;
        };
        if let Err(problem) = input.set(field, value.clone()) {
            errors.push(FieldError::new(field.name(), problem).to_string());
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    validate(model.spec(), &input)
        .map(|(patient, _)| patient)
        .map_err(|e| e.0.iter().map(ToString::to_string).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_general_validation_answers_as_the_field_based_one(given in patient()) {
        // The API's step: types, over every feature of every served model.
        let mut known: Vec<Feature> = Vec::new();
        for model in Model::ALL {
            for feature in model.describe().features {
                if !known.iter().any(|k| k.name == feature.name) {
                    known.push(feature);
                }
            }
        }
        for model in Model::ALL {
            let description = model.describe();
            let general = check_types(&known, &given)
                .and_then(|()| validate_features(&description, &given))
                .map_err(|e| e.0.iter().map(ToString::to_string).collect::<Vec<_>>());
            match (field_based(model, &given), general) {
                (Err(expected), Err(got)) => prop_assert_eq!(expected, got),
                (Ok(patient), Ok(features)) => {
                    prop_assert_eq!(features.number("age"), Some(patient.age()));
                    prop_assert_eq!(features.number("total_cholesterol"), Some(patient.total_cholesterol()));
                    prop_assert_eq!(features.number("hdl_cholesterol"), Some(patient.hdl_cholesterol()));
                    prop_assert_eq!(features.number("systolic_bp"), Some(patient.systolic_bp()));
                    prop_assert_eq!(features.boolean("smoker").unwrap_or(false), patient.smoker());
                    prop_assert_eq!(features.boolean("diabetic").unwrap_or(false), patient.diabetic());
                    prop_assert_eq!(
                        features.boolean("on_bp_treatment").unwrap_or(false),
                        patient.on_bp_treatment()
                    );
                    if model == Model::Prevent2023 {
                        prop_assert_eq!(features.number("egfr"), patient.egfr());
                        prop_assert_eq!(features.boolean("on_statin").unwrap_or(false), patient.on_statin());
                    }
                    // What the general validation leaves to the caller is what the field-based
                    // one warns about: fields of the list this model does not use.
                    let unused: Vec<String> = given
                        .iter()
                        .filter_map(|(name, _)| Field::from_name(name))
                        .filter(|field| {
                            *field != Field::CholesterolUnit && model.spec().input(*field).is_none()
                        })
                        .map(|field| field.name().to_owned())
                        .collect();
                    prop_assert_eq!(features.not_declared.clone(), unused);
                }
                (expected, got) => prop_assert!(false, "{:?} against {:?}", expected, got.map(|_| ())),
            }
        }
    }
}

/// A patient that passes both: the general answer is valid, in canonical units (mmol/L
/// converted), and equal to the field-based one.
#[test]
fn a_valid_patient_in_mmol_per_litre_is_converted() {
    let given = [
        ("age", FieldValue::Number(55.0)),
        ("sex", FieldValue::Text("male")),
        ("cholesterol", FieldValue::Number(5.5)),
        ("hdl_cholesterol", FieldValue::Number(1.3)),
        ("cholesterol_unit", FieldValue::Text("mmol/L")),
        ("systolic_bp", FieldValue::Number(120.0)),
        ("egfr", FieldValue::Number(90.0)),
    ];
    let features = validate_features(&Model::Pce2013.describe(), &given);
    let features = features.expect("a valid pce-2013 patient");
    let patient = field_based(Model::Pce2013, &given).expect("valid the old way too");
    assert_eq!(
        features.number("total_cholesterol"),
        Some(patient.total_cholesterol())
    );
    assert!((patient.total_cholesterol() - 5.5 * 38.67).abs() < 1e-9);
    assert_eq!(features.choice("cholesterol_unit"), Some("mmol/L"));
    assert_eq!(features.not_declared, vec!["egfr".to_owned()]);
}

/// A number given in mmol/L is refused with the range in both units, as today.
#[test]
fn an_out_of_range_value_in_another_unit_shows_the_range_in_it() {
    let given = [
        ("age", FieldValue::Number(55.0)),
        ("sex", FieldValue::Text("male")),
        ("total_cholesterol", FieldValue::Number(2.0)),
        ("hdl_cholesterol", FieldValue::Number(1.3)),
        ("cholesterol_unit", FieldValue::Text("mmol/L")),
        ("systolic_bp", FieldValue::Number(120.0)),
    ];
    let errors = validate_features(&Model::Pce2013.describe(), &given).map(|_| ());
    let messages: Vec<String> = errors
        .err()
        .map(|e| e.0.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    assert_eq!(
        messages,
        vec![
            "total_cholesterol must be between 3.362 and 8.275 mmol/L (130 to 320 mg/dL), the \
             validated range of pce-2013"
        ]
    );
}
