use risk_models::{Field, FieldValue, Model, PatientInput};

use super::{Catalog, Link};

fn patient() -> PatientInput {
    let mut input = PatientInput::default();
    for (field, value) in [
        (Field::Age, FieldValue::Number(55.0)),
        (Field::Sex, FieldValue::Text("female")),
        (Field::Race, FieldValue::Text("white")),
        (Field::TotalCholesterol, FieldValue::Number(213.0)),
        (Field::HdlCholesterol, FieldValue::Number(50.0)),
        (Field::SystolicBp, FieldValue::Number(120.0)),
        (Field::Egfr, FieldValue::Number(90.0)),
    ] {
        input.set(field, value).unwrap();
    }
    input
}

#[test]
fn the_linked_catalog_serves_every_model_the_default_first_and_is_wired_right() {
    let catalog = Catalog::linked();
    assert_eq!(catalog.names(), ["pce-2013", "prevent-2023"]);
    assert_eq!(catalog.default_model().name(), Model::DEFAULT.name());
    assert!(catalog.wiring_problems().is_empty());
}

#[test]
fn a_model_answers_with_the_domain_crate_numbers_and_declarations() {
    let catalog = Catalog::linked();
    for model in Model::ALL {
        let served = catalog.find(model.name()).unwrap();
        let expected = model.predict(&patient()).unwrap();
        let answer = served.predict(&patient()).unwrap();
        assert_eq!(answer.risk(), expected.risk());
        assert_eq!(answer.category, expected.category);
        assert_eq!(answer.confidence, expected.confidence);
        assert_eq!(answer.contributions.len(), expected.contributions.len());
        assert_eq!(served.info().version, model.spec().version);
        assert_eq!(served.info().inputs.len(), model.spec().inputs.len());
        for input in model.spec().inputs {
            let declared = served.info().input(input.field).unwrap();
            assert_eq!(declared.range, input.range.map(|r| (r.min, r.max)));
        }
    }
}

#[test]
fn field_errors_keep_the_field_name_and_the_models_message() {
    let mut input = patient();
    input.systolic_bp = Some(300.0);
    let errors = Catalog::linked()
        .default_model()
        .predict(&input)
        .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "systolic_bp");
    assert!(errors[0].message.contains("90"), "{}", errors[0].message);
    assert!(!errors[0].message.contains("300"), "{}", errors[0].message);
}

#[test]
fn an_unknown_name_finds_no_model() {
    assert!(Catalog::linked().find("framingham-2008").is_none());
}

/// PREVENT wired into the import named pce-2013's neighbour: it still answers only as
/// prevent-2023, and readiness names the mistake.
static SWAPPED: &[Link] = &[
    super::in_process::LINKS[1],
    Link {
        import: Some("prevent-2023"),
        ..super::in_process::LINKS[0]
    },
];

#[test]
fn a_model_wired_into_another_models_import_answers_only_under_its_own_name() {
    let catalog = Catalog::new(SWAPPED);
    assert_eq!(catalog.default_model().name(), "prevent-2023");
    assert_eq!(catalog.find("pce-2013").unwrap().name(), "pce-2013");
    assert_eq!(catalog.find("prevent-2023").unwrap().name(), "prevent-2023");
    let problems = catalog.wiring_problems();
    assert_eq!(
        problems,
        ["the import prevent-2023 is answered by the model pce-2013"]
    );
}

static TWICE: &[Link] = &[super::in_process::LINKS[0], super::in_process::LINKS[0]];

#[test]
fn one_model_in_two_imports_is_served_once_and_reported() {
    let catalog = Catalog::new(TWICE);
    assert_eq!(catalog.names(), ["pce-2013"]);
    assert_eq!(catalog.wiring_problems().len(), 1);
}
