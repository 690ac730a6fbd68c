use std::sync::atomic::{AtomicUsize, Ordering};

use risk_models::{Field, FieldValue, Model, PatientInput};

use super::{Catalog, FeatureKind, Link, Patient, Value};

/// One patient, by name, and as the domain crate reads it.
fn patient() -> (Vec<(String, Value)>, PatientInput) {
    let values = [
        (Field::Age, Value::Number(55.0)),
        (Field::Sex, Value::Choice("female".into())),
        (Field::Race, Value::Choice("white".into())),
        (Field::TotalCholesterol, Value::Number(213.0)),
        (Field::HdlCholesterol, Value::Number(50.0)),
        (Field::SystolicBp, Value::Number(120.0)),
        (Field::Egfr, Value::Number(90.0)),
    ];
    let mut input = PatientInput::default();
    for (field, value) in &values {
        let value = match value {
            Value::Number(number) => FieldValue::Number(*number),
            Value::Boolean(flag) => FieldValue::Flag(*flag),
            Value::Choice(text) => FieldValue::Text(text),
        };
        input.set(*field, value).unwrap();
    }
    let patient = values
        .into_iter()
        .map(|(field, value)| (field.name().to_string(), value))
        .collect();
    (patient, input)
}

/// Every model spin.toml lists, in its order: the first is the default.
#[test]
fn the_linked_catalog_serves_every_listed_model_the_default_first_and_is_wired_right() {
    let catalog = Catalog::linked();
    assert_eq!(catalog.names(), super::in_process::LISTED_MODELS);
    assert_eq!(
        catalog.default_model().name(),
        super::in_process::LISTED_MODELS[0]
    );
    assert!(catalog.wiring_problems().is_empty());
}

#[test]
fn a_model_answers_with_the_domain_crate_numbers_and_declarations() {
    let catalog = Catalog::linked();
    for model in Model::ALL {
        let served = catalog.find(model.name()).unwrap();
        let (given, input) = patient();
        let expected = model.predict(&input).unwrap();
        let answer = served
            .predict(Patient::from_named(served.info(), given))
            .unwrap()
            .unwrap();
        assert_eq!(answer.primary_number(), Some(expected.risk()));
        let category = answer
            .category
            .and_then(|index| served.info().category(index));
        assert_eq!(category.unwrap().name, expected.category.name());
        assert_eq!(answer.confidence, Some(expected.confidence));
        assert_eq!(answer.contributions.len(), expected.contributions.len());
        assert_eq!(served.info().version, model.spec().version);
        for input in model.spec().inputs {
            let declared = served.info().feature(input.field.name()).unwrap();
            let FeatureKind::Number(number) = &declared.kind else {
                continue;
            };
            assert_eq!(number.range, input.range.map(|r| (r.min, r.max)));
        }
    }
}

#[test]
fn field_errors_keep_the_field_name_and_the_models_message() {
    let (mut given, _) = patient();
    for (name, value) in &mut given {
        if name == "systolic_bp" {
            *value = Value::Number(300.0);
        }
    }
    let catalog = Catalog::linked();
    let model = catalog.default_model();
    let errors = model
        .predict(Patient::from_named(model.info(), given))
        .unwrap()
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
/// name its own info() declares, the default is whichever model answers the first import,
/// and nothing about that is a wiring problem.
static SWAPPED: &[Link] = &[
    Link {
        import: "model0",
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
        import: "model1",
        ..super::in_process::LINKS[0]
    },
];

#[test]
fn one_model_in_two_imports_is_served_once_and_reported_naming_both_imports() {
    let catalog = Catalog::new(TWICE);
    assert_eq!(catalog.names(), ["pce-2013"]);
    assert_eq!(
        catalog.wiring_problems(),
        ["the imports model0 and model1 are both answered by the model pce-2013"]
    );
}

/// A model component whose info() declares no name and no output (a broken build).
static NAMELESS: &[Link] = &[
    super::in_process::LINKS[0],
    Link {
        import: "broken",
        info: nameless,
        declared: || identity_of(nameless()),
        ..super::in_process::LINKS[0]
    },
    Link {
        import: "empty",
        info: outputless,
        declared: || identity_of(outputless()),
        ..super::in_process::LINKS[0]
    },
];

fn identity_of(info: super::ModelInfo) -> super::Identity {
    super::Identity {
        name: info.name,
        version: info.version,
    }
}

fn nameless() -> super::ModelInfo {
    super::ModelInfo {
        name: "".into(),
        ..(super::in_process::LINKS[0].info)()
    }
}

fn outputless() -> super::ModelInfo {
    super::ModelInfo {
        name: "outputless".into(),
        outputs: Vec::new().into(),
        ..(super::in_process::LINKS[0].info)()
    }
}

/// A component composed into an import other than the one the build described: the API would
/// send that model's requests to another model, so readiness says so.
static MISCOMPOSED: &[Link] = &[
    super::in_process::LINKS[0],
    Link {
        declared: super::in_process::LINKS[0].declared,
        ..super::in_process::LINKS[1]
    },
];

#[test]
fn a_component_other_than_the_one_described_is_a_wiring_problem() {
    let problems = Catalog::new(MISCOMPOSED).wiring_problems();
    assert_eq!(
        problems,
        [
            "the imports model0 and model1 are both answered by the model pce-2013",
            "the component in the import model1 declares pce-2013 1.0.0, not the prevent-2023 \
             1.0.0 this build describes: compose it with scripts/build.sh",
        ]
    );
}

#[test]
fn a_model_declaring_no_name_or_no_output_is_a_wiring_problem() {
    assert_eq!(
        Catalog::new(NAMELESS).wiring_problems(),
        [
            "the model in the import broken declares no name",
            "the model outputless (import empty) declares no output",
        ]
    );
}

/// The union of features is every model's, the default's first, each name once: with the
/// cardiovascular models listed first, today's patient fields in their documented order, then
/// whatever further models add.
#[test]
fn the_catalog_knows_every_feature_of_every_model_once() {
    let catalog = Catalog::linked();
    let names: Vec<&str> = catalog.features().iter().map(|f| f.name.as_ref()).collect();
    let mut expected: Vec<String> = Vec::new();
    for model in catalog.models() {
        for feature in model.info().features.iter() {
            if !expected.iter().any(|name| *name == feature.name) {
                expected.push(feature.name.to_string());
            }
        }
    }
    assert_eq!(names, expected);
    let fields: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    assert!(names.starts_with(&fields), "{names:?}");
}

static BATCH_CALLS: AtomicUsize = AtomicUsize::new(0);
static PATIENTS_SENT: AtomicUsize = AtomicUsize::new(0);

/// The default model, counting the calls it gets and the patients they carry.
static COUNTED: &[Link] = &[Link {
    predict_batch: |patients| {
        BATCH_CALLS.fetch_add(1, Ordering::SeqCst);
        PATIENTS_SENT.fetch_add(patients.len(), Ordering::SeqCst);
        (super::in_process::LINKS[0].predict_batch)(patients)
    },
    ..super::in_process::LINKS[0]
}];

/// A batch of 1,000 patients, through `/predict`, is one call to the model.
#[test]
fn a_batch_of_a_thousand_patients_is_one_call_to_the_model() {
    let patient = serde_json::json!({
        "age": 55, "sex": "female", "race": "white", "total_cholesterol": 213,
        "hdl_cholesterol": 50, "systolic_bp": 120
    });
    let body = serde_json::json!({"instances": vec![patient; 1000]}).to_string();
    let catalog = Catalog::new(COUNTED);
    let answer = crate::predict::predict_body(&catalog, body.as_bytes()).unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["succeeded"], 1000);
    assert_eq!(BATCH_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(PATIENTS_SENT.load(Ordering::SeqCst), 1000);
}

/// Everything the models declare that the HTTP code must not know: model, feature, alias,
/// output and category names, unit symbols and validated ranges. (Not choice values and
/// category labels: plain words such as "other" or "white" say nothing about a model.)
fn declared_words(catalog: &Catalog) -> Vec<String> {
    let mut words = Vec::new();
    for model in catalog.models() {
        let info = model.info();
        words.push(info.name.to_string());
        words.extend(info.outputs.iter().map(|o| o.name.to_string()));
        for category in info.categories.iter().flat_map(|c| c.bands.iter()) {
            words.push(category.name.to_string());
        }
        for feature in info.features.iter() {
            words.push(feature.name.to_string());
            words.extend(feature.aliases.iter().map(|a| a.to_string()));
            match &feature.kind {
                FeatureKind::Number(number) => {
                    words.push(number.unit.to_string());
                    words.extend(number.alternative_units.iter().map(|(u, _)| u.to_string()));
                    if let Some((min, max)) = number.range {
                        words.push(format!("{min}-{max}"));
                        words.push(format!("{min} to {max}"));
                        words.push(format!("{min}..={max}"));
                    }
                }
                FeatureKind::Choice { .. } | FeatureKind::Boolean { .. } => {}
            }
            words.extend(feature.fhir.iter().flat_map(fhir_codes));
        }
    }
    words.sort();
    words.dedup();
    words
}

/// The codes a FHIR binding declares (LOINC, SNOMED CT, ICD-10-CM, ATC, OMB race codes) and
/// its UCUM units: the service holds no code list of its own. (Not `Patient.gender`'s codes:
/// FHIR's own words, "male" and "female".)
fn fhir_codes(source: &fhir_record::FhirSource) -> Vec<String> {
    use fhir_record::FhirSource;
    let codes = |codings: &[fhir_record::CodingMatch]| -> Vec<String> {
        codings.iter().map(|c| c.code.to_string()).collect()
    };
    match source {
        FhirSource::Age | FhirSource::Gender(_) => Vec::new(),
        FhirSource::Race(map) => map.pairs.iter().map(|(code, _)| code.to_string()).collect(),
        FhirSource::Observation(binding) => {
            let mut words = codes(&binding.codes);
            words.extend(codes(&binding.panels));
            words.extend(binding.units.iter().map(|u| u.ucum.to_string()));
            words
        }
        FhirSource::Condition(codings) | FhirSource::Medication(codings) => codes(codings),
        FhirSource::CodedObservation(binding) => {
            let mut words = codes(&binding.codes);
            words.extend(binding.answers.iter().map(|(c, _)| c.code.to_string()));
            words
        }
    }
}

/// `word` in `text` as a whole word (not inside an identifier such as `horizon_years`).
fn mentions(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// The source files of the HTTP component, without their test code: every `.rs` file under
/// `src/` except `tests.rs` files (its text up to its `#[cfg(test)]` module), and the OpenAPI
/// document's fixed part.
fn http_sources() -> Vec<(std::path::PathBuf, String)> {
    fn walk(directory: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(directory).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.file_name().is_some_and(|name| name != "tests.rs") {
                found.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut paths,
    );
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .to_string();
            (path, code)
        })
        .collect()
}

/// The HTTP code knows no model: nothing any built-in model declares appears in `src/` outside
/// tests. Everything the API says about a model comes from the model's `info()`.
#[test]
fn the_http_code_names_no_model_feature_unit_or_range() {
    let catalog = Catalog::linked();
    let words = declared_words(&catalog);
    assert!(words.len() > 40, "{words:?}");
    let sources = http_sources();
    assert!(sources.len() > 20);
    let found: Vec<String> = sources
        .iter()
        .flat_map(|(path, code)| {
            words
                .iter()
                .filter(|word| mentions(code, word))
                .map(move |word| format!("{}: {word}", path.display()))
        })
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_mention_is_a_whole_word() {
    assert!(mentions("the age of", "age"));
    assert!(mentions("\"mg/dL\"", "mg/dL"));
    assert!(!mentions("usage", "age"));
    assert!(!mentions("horizon_years", "years"));
    assert!(!mentions("pce-2013-x", "pce-2013"));
}

/// What build.rs generates for the built-in models (the WebAssembly build uses it instead of
/// calling `info()` on every request).
mod generated {
    #[allow(unused_imports)]
    use std::borrow::Cow;

    #[allow(unused_imports)]
    use crate::catalog::contract::{
        Categories, Category, ExplanationInfo, Feature, FeatureKind, ModelInfo, NumberFeature,
        Output, OutputKind,
    };

    include!(concat!(env!("OUT_DIR"), "/model_info.rs"));
}

/// The description compiled into the HTTP component is exactly what each model component's
/// `info()` answers.
#[test]
fn the_generated_descriptions_are_what_the_models_answer() {
    let catalog = Catalog::linked();
    assert_eq!(generated::GENERATED.len(), catalog.models().len());
    for info in generated::GENERATED {
        let info = info();
        let linked = catalog.find(&info.name).unwrap();
        assert_eq!(&info, linked.info());
    }
}

/// The default model answering with one contribution fewer than its info() declares.
static MISFIT: &[Link] = &[Link {
    predict_batch: |patients| {
        (super::in_process::LINKS[0].predict_batch)(patients)
            .into_iter()
            .map(|result| {
                result.map(|mut prediction| {
                    prediction.contributions.pop();
                    prediction
                })
            })
            .collect()
    },
    ..super::in_process::LINKS[0]
}];

/// A model whose answer does not fit its own description is a broken build (500), never
/// numbers shown under names they are not: for one patient and for a batch.
#[test]
fn an_answer_that_does_not_fit_the_models_info_is_a_broken_build() {
    let patient = serde_json::json!({
        "age": 55, "sex": "female", "race": "white", "total_cholesterol": 213,
        "hdl_cholesterol": 50, "systolic_bp": 120
    });
    let catalog = Catalog::new(MISFIT);
    for body in [
        serde_json::json!({ "patient_data": patient }),
        serde_json::json!({ "instances": [patient] }),
    ] {
        let error =
            crate::predict::predict_body(&catalog, body.to_string().as_bytes()).unwrap_err();
        assert!(
            matches!(
                error,
                crate::problem::ApiError::BrokenBuild(crate::predict::MISFIT)
            ),
            "{error:?}"
        );
    }
}

/// Something done to a model's batch table on its way to the API.
type Damage = fn(&mut model_component::wit::BatchPredictions);

/// PCE's answer to `patients` as a table, damaged by `damage`, read back by the API's
/// conversions.
fn read_back(patients: Vec<Patient>, damage: Damage) -> Vec<super::PredictResult> {
    let positions = model_component::Positions::of(&Model::Pce2013);
    super::in_process::predict_batch(patients, |batch| {
        let mut answer = model_component::predict_batch(&Model::Pce2013, &positions, batch);
        damage(&mut answer);
        answer
    })
}

/// A model's batch table that is not what the contract says is no answer at all (which the
/// handlers answer as a broken build), never rows read out of line.
#[test]
fn a_batch_table_out_of_line_is_no_answer() {
    let catalog = Catalog::linked();
    let info = catalog.find("pce-2013").unwrap().info();
    let (named, _) = patient();
    let scored = Patient::from_named(info, named.clone());
    let refused = Patient::from_named(info, named.into_iter().skip(1));
    let patients = || vec![scored.clone(), refused.clone(), scored.clone()];

    let intact = read_back(patients(), |_| {});
    let outcomes: Vec<bool> = intact.iter().map(Result::is_ok).collect();
    assert_eq!(outcomes, [true, false, true]);
    assert_eq!(intact[0], intact[2]);

    let damages: [(&str, Damage); 6] = [
        ("an output short", |answer| drop(answer.outputs.pop())),
        ("a contribution short", |answer| {
            answer.contributions.truncate(13);
        }),
        ("a row short", |answer| answer.scored.truncate(1)),
        ("a refusal for no patient", |answer| {
            answer.refused[0].patient = 7;
        }),
        ("a warning for no patient", |answer| {
            let warning = model_component::wit::Warning {
                code: "field_not_used".into(),
                message: "x is not used".into(),
            };
            answer.warnings.push((9, warning));
        }),
        ("a warning out of order", |answer| {
            let warning = model_component::wit::Warning {
                code: "field_not_used".into(),
                message: "x is not used".into(),
            };
            answer.warnings.push((2, warning.clone()));
            answer.warnings.push((0, warning));
        }),
    ];
    for (damage, apply) in damages {
        assert!(read_back(patients(), apply).is_empty(), "{damage}");
    }
}
