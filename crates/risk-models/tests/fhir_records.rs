//! The built-in models' FHIR bindings (`src/fhir_sources.rs`) read against real generated
//! records, end to end: a Synthea patient's bundle (crates/fhir-record/tests/data/synthea,
//! sources in its SOURCES.md) → each feature's value by its binding → the equation's risk,
//! checked against the same patient's values read independently here, straight from the JSON.

use fhir_record::{pick, Answer, Date, PickProblem, Record};
use risk_models::models::builtin;
use risk_models::FieldValue;
use serde_json::Value;

const STEPHEN: &str = "../fhir-record/tests/data/synthea/\
    Stephen_McLaughlin_7735ab79-6ac8-4b81-9936-f7ddabd18751.json";

fn bundle() -> (Record, Value) {
    let bytes = std::fs::read(STEPHEN).expect("the Synthea bundle");
    let json = serde_json::from_slice(&bytes).expect("JSON");
    (Record::from_json(&bytes).expect("a record"), json)
}

/// The newest final value of `loinc` in the bundle (standalone, or a panel's component), and
/// its day, read by the test itself: every Observation scanned, sorted by date.
fn newest(json: &Value, loinc: &str) -> (f64, String) {
    let mut found = Vec::new();
    for entry in json["entry"].as_array().expect("entries") {
        let resource = &entry["resource"];
        if resource["resourceType"] != "Observation" || resource["status"] != "final" {
            continue;
        }
        let date = resource["effectiveDateTime"].as_str().expect("dated")[..10].to_owned();
        let mut parts = vec![resource];
        parts.extend(resource["component"].as_array().into_iter().flatten());
        for part in parts {
            let coded = part["code"]["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["system"] == "http://loinc.org" && c["code"] == loinc);
            if let (true, Some(value)) = (coded, part["valueQuantity"]["value"].as_f64()) {
                found.push((date.clone(), value));
            }
        }
    }
    let (date, value) = found
        .into_iter()
        .max_by(|a, b| a.0.cmp(&b.0))
        .expect("a value");
    (value, date)
}

/// Whether the newest smoking status (LOINC 72166-2) says "current smoker" (SNOMED CT
/// 449868002, the code Synthea writes for one; 266919005 never and 8517006 former otherwise).
fn currently_smokes(json: &Value) -> bool {
    let mut statuses: Vec<(String, String)> = json["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| &entry["resource"])
        .filter(|r| {
            r["resourceType"] == "Observation" && r["code"]["coding"][0]["code"] == "72166-2"
        })
        .map(|r| {
            let date = r["effectiveDateTime"].as_str().expect("dated")[..10].to_owned();
            let code = r["valueCodeableConcept"]["coding"][0]["code"]
                .as_str()
                .expect("coded");
            (date, code.to_owned())
        })
        .collect();
    statuses.sort();
    let (_, code) = statuses.pop().expect("a smoking status");
    assert!(
        ["449868002", "266919005", "8517006"].contains(&code.as_str()),
        "{code}"
    );
    code == "449868002"
}

fn day(text: &str) -> Date {
    Date::parse(text).expect("a date")
}

/// The day after the patient's newest blood pressure: every binding's window then holds the
/// latest visit.
fn assessed(json: &Value) -> Date {
    let (_, date) = newest(json, "8480-6");
    let (year, month, day_of_month) = day(&date).ymd();
    Date::from_ymd(year, month, day_of_month + 1)
        .or_else(|| Date::from_ymd(year, month + 1, 1))
        .expect("a day")
}

#[test]
fn a_synthea_patient_is_read_by_the_pce_bindings_and_scored() {
    let (record, json) = bundle();
    let as_of = assessed(&json);
    let model = builtin("pce-2013").expect("built in");
    let mut picked: Vec<(String, Answer)> = Vec::new();
    let mut basis = Vec::new();
    for feature in model.describe().features {
        let Some(source) = feature.fhir else { continue };
        match pick(&record, &source, as_of) {
            Ok(value) => {
                picked.push((feature.name.to_owned(), value.value));
                basis.extend(value.basis);
            }
            Err(problem) => panic!("{}: {problem}", feature.name),
        }
    }
    let value = |name: &str| {
        picked
            .iter()
            .find(|(feature, _)| feature == name)
            .map(|(_, answer)| answer.clone())
            .expect("picked")
    };
    // Read independently from the JSON: the newest final values, in the units Synthea writes
    // (mg/dL, mm[Hg]), which the bindings accept at factor 1.
    assert_eq!(
        value("total_cholesterol"),
        Answer::Number(newest(&json, "2093-3").0)
    );
    assert_eq!(
        value("hdl_cholesterol"),
        Answer::Number(newest(&json, "2085-9").0)
    );
    assert_eq!(
        value("systolic_bp"),
        Answer::Number(newest(&json, "8480-6").0)
    );
    assert_eq!(value("sex"), Answer::Choice("male".into()));
    assert_eq!(value("race"), Answer::Choice("white".into()));
    // An active hydrochlorothiazide prescription (RxNorm 316049); no diabetes diagnosis.
    assert_eq!(value("on_bp_treatment"), Answer::Boolean(true));
    assert_eq!(value("diabetic"), Answer::Boolean(false));
    let birth = day(json["entry"][0]["resource"]["birthDate"]
        .as_str()
        .expect("a birth date"));
    let age = birth.whole_years_until(as_of).expect("born before");
    assert_eq!(value("age"), Answer::Number(f64::from(age)));

    // The equation scores what was picked, exactly as it scores the same values typed in.
    let given: Vec<(&str, FieldValue<'_>)> = picked
        .iter()
        .map(|(name, answer)| {
            let value = match answer {
                Answer::Number(number) => FieldValue::Number(*number),
                Answer::Boolean(flag) => FieldValue::Flag(*flag),
                Answer::Choice(choice) => FieldValue::Text(choice),
            };
            (name.as_str(), value)
        })
        .collect();
    let typed_in = [
        ("age", FieldValue::Number(f64::from(age))),
        ("sex", FieldValue::Text("male")),
        ("race", FieldValue::Text("white")),
        (
            "total_cholesterol",
            FieldValue::Number(newest(&json, "2093-3").0),
        ),
        (
            "hdl_cholesterol",
            FieldValue::Number(newest(&json, "2085-9").0),
        ),
        ("systolic_bp", FieldValue::Number(newest(&json, "8480-6").0)),
        ("on_bp_treatment", FieldValue::Flag(true)),
        ("diabetic", FieldValue::Flag(false)),
        ("smoker", FieldValue::Flag(currently_smokes(&json))),
    ];
    let from_record = model
        .predict_features(&given)
        .expect("within the validated ranges");
    assert_eq!(Ok(from_record.clone()), model.predict_features(&typed_in));
    let risk = from_record.outputs[0].1;
    assert!((0.0..1.0).contains(&risk), "{risk}");

    // ... and is written as the RiskAssessment the FHIR endpoints answer, its basis exactly
    // the resources the values came from.
    let description = model.describe();
    let assessment = fhir_record::risk_assessment(&fhir_record::Assessment {
        subject: &record.patient_reference(),
        occurrence: as_of,
        method: fhir_record::Method {
            name: description.name,
            version: description.version,
            title: description.title,
        },
        outcomes: vec![fhir_record::Outcome {
            name: description.outputs[0].name,
            description: description.outputs[0].description,
            probability: risk,
            horizon_years: description.outputs[0].horizon_years,
        }],
        category: None,
        warnings: from_record
            .warnings
            .iter()
            .map(|w| w.message.as_str())
            .collect(),
        basis: &basis,
    });
    assert_eq!(assessment["prediction"][0]["probabilityDecimal"], risk);
    let references: Vec<&str> = assessment["basis"]
        .as_array()
        .expect("a basis")
        .iter()
        .filter_map(|b| b["reference"].as_str())
        .collect();
    let patient = record.patient_reference();
    assert_eq!(
        references.iter().filter(|r| **r == patient).count(),
        1,
        "{references:?}"
    );
    assert_eq!(
        references
            .iter()
            .filter(|r| r.starts_with("Observation/"))
            .count(),
        4,
        "cholesterol, HDL, the blood-pressure panel and the smoking status: {references:?}"
    );
    assert!(references
        .iter()
        .any(|r| r.starts_with("MedicationRequest/")));
}

#[test]
fn a_value_older_than_its_window_is_stale_not_used() {
    let (record, json) = bundle();
    let model = builtin("pce-2013").expect("built in");
    let source = model
        .describe()
        .features
        .into_iter()
        .find(|f| f.name == "systolic_bp")
        .and_then(|f| f.fhir)
        .expect("a binding");
    let (year, month, day_of_month) = assessed(&json).ymd();
    let two_years_later = Date::from_ymd(year + 2, month, day_of_month.min(28)).expect("a day");
    assert_eq!(
        pick(&record, &source, two_years_later).map(|p| p.value),
        Err(PickProblem::Stale { max_age_days: 365 })
    );
}
