use risk_models::{Field, FieldValue, Model, PatientInput};

use super::{Catalog, Link, DEFAULT_IMPORT};

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

/// The models wired into each other's imports, under import names that say nothing about
/// them (Spin dependency names are the deployer's choice): each still answers only under the
/// name its own info() declares, the default is whichever model answers the predictor import,
/// and nothing about that is a wiring problem.
static SWAPPED: &[Link] = &[
    Link {
        import: DEFAULT_IMPORT,
        ..super::in_process::LINKS[1]
    },
    Link {
        import: "second",
        ..super::in_process::LINKS[0]
    },
];

#[test]
fn models_are_known_by_their_own_info_whatever_import_answers_them() {
    let catalog = Catalog::new(SWAPPED);
    assert_eq!(catalog.default_model().name(), "prevent-2023");
    assert_eq!(catalog.find("pce-2013").unwrap().name(), "pce-2013");
    assert_eq!(catalog.find("prevent-2023").unwrap().name(), "prevent-2023");
    assert!(
        catalog.find("second").is_none(),
        "an import name is no model name"
    );
    assert_eq!(catalog.names(), ["prevent-2023", "pce-2013"]);
    assert!(catalog.wiring_problems().is_empty());
}

static TWICE: &[Link] = &[
    super::in_process::LINKS[0],
    Link {
        import: "prevent",
        ..super::in_process::LINKS[0]
    },
];

#[test]
fn one_model_in_two_imports_is_served_once_and_reported_naming_both_imports() {
    let catalog = Catalog::new(TWICE);
    assert_eq!(catalog.names(), ["pce-2013"]);
    assert_eq!(
        catalog.wiring_problems(),
        ["the imports healthcare:risk/predictor@1.0.0 and prevent are both answered by the model pce-2013"]
    );
}

/// A model component whose info() declares no name and no outcome (a broken build).
static NAMELESS: &[Link] = &[
    super::in_process::LINKS[0],
    Link {
        import: "broken",
        info: || super::ModelInfo {
            name: String::new(),
            ..(super::in_process::LINKS[0].info)()
        },
        ..super::in_process::LINKS[0]
    },
    Link {
        import: "empty",
        info: || super::ModelInfo {
            name: "outcomeless".to_string(),
            outcomes: Vec::new(),
            ..(super::in_process::LINKS[0].info)()
        },
        ..super::in_process::LINKS[0]
    },
];

#[test]
fn a_model_declaring_no_name_or_no_outcome_is_a_wiring_problem() {
    assert_eq!(
        Catalog::new(NAMELESS).wiring_problems(),
        [
            "the model in the import broken declares no name",
            "the model outcomeless (import empty) declares no outcome",
        ]
    );
}
