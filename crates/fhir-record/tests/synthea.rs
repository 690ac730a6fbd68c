//! Real generator data: Synthea R4 patient bundles (tests/data/SOURCES.md). Every expected value
//! is computed here, independently of the crate, by scanning the bundle's JSON.

mod common;

use std::borrow::Cow;

use common::*;
use fhir_record::{
    pick, Answer, Basis, Date, FhirSource, ObservationBinding, PickProblem, Record, UnitBinding,
};
use serde_json::Value;

const BUNDLES: [&str; 3] = [
    "Dannie_Schmitt_22d6efc6-2dc7-4f36-9d27-84fc6609c469.json",
    "Felipe_Cazares_d374d52b-0e57-495a-b373-9150e3cc8286.json",
    "Stephen_McLaughlin_7735ab79-6ac8-4b81-9936-f7ddabd18751.json",
];

/// Assessment dates: after every value, and one in the middle of the records' history.
const AS_OF: [&str; 3] = ["2021-12-31", "2017-01-01", "2019-06-30"];
const TEN_YEARS: u32 = 3653;

fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/synthea/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn resources(bundle: &Value) -> Vec<&Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["resource"])
        .collect()
}

fn of_type<'a>(bundle: &'a Value, resource_type: &str) -> Vec<&'a Value> {
    resources(bundle)
        .into_iter()
        .filter(|resource| resource["resourceType"] == resource_type)
        .collect()
}

fn has_coding(concept: &Value, system: &str, code: &str) -> bool {
    concept["coding"].as_array().is_some_and(|codings| {
        codings
            .iter()
            .any(|coding| coding["system"] == system && coding["code"] == code)
    })
}

const HDL_CODES: &[fhir_record::CodingMatch] = &[fhir_record::CodingMatch::exact(LOINC, "2085-9")];

fn hdl(max_age_days: u32) -> FhirSource {
    FhirSource::Observation(ObservationBinding {
        codes: Cow::Borrowed(HDL_CODES),
        panels: Cow::Borrowed(&[]),
        units: Cow::Owned(vec![UnitBinding {
            ucum: "mg/dL".into(),
            factor: 1.0,
        }]),
        max_age_days,
    })
}

/// The expected pick, found by brute force: every final result with `code`, standalone or in a
/// listed panel's components, dated on or before `as_of`, sorted by its effective time (all of
/// Synthea's are `YYYY-MM-DDThh:mm:ss+00:00`, so their text sorts as their time does).
fn expected_newest(
    bundle: &Value,
    code: &str,
    panels: &[&str],
    as_of: &str,
) -> Option<(f64, String, String)> {
    let mut found: Vec<(String, f64, String, String)> = Vec::new();
    for observation in of_type(bundle, "Observation") {
        if !["final", "amended", "corrected"].contains(&observation["status"].as_str().unwrap()) {
            continue;
        }
        let effective = observation["effectiveDateTime"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            effective.len() == 25 && effective.ends_with("+00:00"),
            "{effective}"
        );
        let mut quantities = Vec::new();
        if has_coding(&observation["code"], LOINC, code) {
            quantities.push(&observation["valueQuantity"]);
        }
        if panels
            .iter()
            .any(|panel| has_coding(&observation["code"], LOINC, panel))
        {
            for component in observation["component"].as_array().unwrap() {
                if has_coding(&component["code"], LOINC, code) {
                    quantities.push(&component["valueQuantity"]);
                }
            }
        }
        for quantity in quantities {
            if effective[..10] <= *as_of {
                let value = quantity["value"].as_f64().unwrap();
                let unit = quantity["code"].as_str().unwrap().to_owned();
                found.push((
                    effective.clone(),
                    value,
                    observation["id"].as_str().unwrap().to_owned(),
                    unit,
                ));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let (effective, value, id, unit) = found.pop()?;
    Some((value, id, format!("{effective:.10}|{unit}")))
}

/// Age from the birth date's text: year difference, less one before the birthday.
fn expected_age(birth_date: &str, as_of: &str) -> f64 {
    let year = |text: &str| text[..4].parse::<i32>().unwrap();
    let before_birthday = as_of[5..10] < birth_date[5..10];
    f64::from(year(as_of) - year(birth_date) - i32::from(before_birthday))
}

fn expected_race(patient: &Value) -> &'static str {
    let codes: Vec<&str> = patient["extension"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|extension| extension["url"] == US_CORE_RACE)
        .flat_map(|extension| extension["extension"].as_array().unwrap())
        .filter(|part| part["url"] == "ombCategory" && part["valueCoding"]["system"] == OMB)
        .map(|part| part["valueCoding"]["code"].as_str().unwrap())
        .collect();
    assert!(!codes.is_empty());
    if codes.contains(&"2054-5") {
        "african_american"
    } else if codes.contains(&"2106-3") {
        "white"
    } else {
        "other"
    }
}

#[test]
fn each_bundle_is_read_with_its_one_patient() {
    for name in BUNDLES {
        let json: Value = serde_json::from_slice(&bytes(name)).unwrap();
        let patients = of_type(&json, "Patient");
        assert_eq!(patients.len(), 1, "{name}");
        let record = Record::from_json(&bytes(name)).unwrap();
        assert_eq!(
            record.patient_reference(),
            format!("Patient/{}", patients[0]["id"].as_str().unwrap()),
            "{name}"
        );
    }
}

#[test]
fn age_sex_and_race_are_the_patient_s() {
    let sex = FhirSource::Gender(fhir_record::ChoiceMap {
        pairs: Cow::Owned(vec![
            ("male".into(), "M".into()),
            ("female".into(), "F".into()),
        ]),
        otherwise: None,
    });
    for name in BUNDLES {
        let json: Value = serde_json::from_slice(&bytes(name)).unwrap();
        let patient = of_type(&json, "Patient")[0];
        let record = Record::from_json(&bytes(name)).unwrap();
        for as_of in AS_OF {
            let age = pick(&record, &FhirSource::Age, day(as_of)).unwrap();
            assert_eq!(
                age.value,
                Answer::Number(expected_age(patient["birthDate"].as_str().unwrap(), as_of)),
                "{name}"
            );
        }
        let expected_sex = if patient["gender"] == "male" {
            "M"
        } else {
            "F"
        };
        assert_eq!(
            pick(&record, &sex, day("2021-12-31")).unwrap().value,
            Answer::Choice(expected_sex.into()),
            "{name}"
        );
        let race = pick(&record, &pce_race(Some("other")), day("2021-12-31")).unwrap();
        assert_eq!(
            race.value,
            Answer::Choice(expected_race(patient).into()),
            "{name}"
        );
    }
}

#[test]
fn the_bundles_cover_more_than_one_race_and_sex() {
    let patients: Vec<Value> = BUNDLES
        .iter()
        .map(|name| serde_json::from_slice::<Value>(&bytes(name)).unwrap())
        .map(|json| of_type(&json, "Patient")[0].clone())
        .collect();
    let races: Vec<&str> = patients.iter().map(expected_race).collect();
    assert!(
        races.contains(&"white") && races.contains(&"african_american"),
        "{races:?}"
    );
    assert!(patients.iter().any(|patient| patient["gender"] == "female"));
    assert!(patients.iter().any(|patient| patient["gender"] == "male"));
}

/// Picks `source` and checks it against the brute-force answer for `code`.
fn check_newest(name: &str, source: &FhirSource, code: &str, panels: &[&str], ucum: &str) {
    let json: Value = serde_json::from_slice(&bytes(name)).unwrap();
    let record = Record::from_json(&bytes(name)).unwrap();
    for as_of in AS_OF {
        let (value, id, date_and_unit) = expected_newest(&json, code, panels, as_of)
            .unwrap_or_else(|| panic!("{name}: no {code} by {as_of}"));
        let (date, unit) = date_and_unit.split_once('|').unwrap();
        assert_eq!(unit, ucum, "{name}");
        let picked = pick(&record, source, day(as_of)).unwrap();
        assert_eq!(picked.value, Answer::Number(value), "{name} {code} {as_of}");
        assert_eq!(
            picked.basis,
            vec![Basis {
                reference: format!("Observation/{id}"),
                date: Date::parse(date)
            }]
        );
    }
}

#[test]
fn total_cholesterol_is_the_newest_final_value() {
    for name in BUNDLES {
        check_newest(name, &cholesterol(TEN_YEARS), "2093-3", &[], "mg/dL");
    }
}

#[test]
fn hdl_is_the_newest_final_value() {
    for name in BUNDLES {
        check_newest(name, &hdl(TEN_YEARS), "2085-9", &[], "mg/dL");
    }
}

#[test]
fn systolic_pressure_is_read_from_the_panels_components() {
    for name in BUNDLES {
        // These Synthea bundles carry blood pressure only as panels: the value comes from a
        // component, never from a standalone observation.
        let json: Value = serde_json::from_slice(&bytes(name)).unwrap();
        let standalone = of_type(&json, "Observation")
            .iter()
            .filter(|o| has_coding(&o["code"], LOINC, "8480-6"))
            .count();
        assert_eq!(standalone, 0, "{name}");
        check_newest(
            name,
            &systolic(TEN_YEARS),
            "8480-6",
            &["85354-9", "55284-4"],
            "mm[Hg]",
        );
    }
}

#[test]
fn old_values_are_stale_and_order_does_not_matter() {
    for name in BUNDLES {
        let record = Record::from_json(&bytes(name)).unwrap();
        assert_eq!(
            pick(&record, &cholesterol(365), day("2030-01-01")),
            Err(PickProblem::Stale { max_age_days: 365 }),
            "{name}"
        );
        // The same bundle with its entries reversed picks the same values.
        let mut json: Value = serde_json::from_slice(&bytes(name)).unwrap();
        json["entry"].as_array_mut().unwrap().reverse();
        let reversed = Record::from_json(&serde_json::to_vec(&json).unwrap()).unwrap();
        for source in [cholesterol(TEN_YEARS), hdl(TEN_YEARS), systolic(TEN_YEARS)] {
            for as_of in AS_OF {
                assert_eq!(
                    pick(&record, &source, day(as_of)),
                    pick(&reversed, &source, day(as_of)),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn diagnoses_and_active_prescriptions_are_read() {
    const HYPERTENSION: &[fhir_record::CodingMatch] =
        &[fhir_record::CodingMatch::exact(SNOMED, "38341003")];
    const HYDROCHLOROTHIAZIDE: &[fhir_record::CodingMatch] =
        &[fhir_record::CodingMatch::exact(RXNORM, "316049")];
    let hypertension = FhirSource::Condition(Cow::Borrowed(HYPERTENSION));
    let thiazide = FhirSource::Medication(Cow::Borrowed(HYDROCHLOROTHIAZIDE));
    let diabetes = FhirSource::Condition(Cow::Borrowed(DIABETES));
    for name in BUNDLES {
        let json: Value = serde_json::from_slice(&bytes(name)).unwrap();
        let record = Record::from_json(&bytes(name)).unwrap();
        let as_of = day("2021-12-31");
        let mut diagnosed: Vec<String> = of_type(&json, "Condition")
            .into_iter()
            .filter(|condition| has_coding(&condition["code"], SNOMED, "38341003"))
            .filter(|condition| {
                has_coding(
                    &condition["clinicalStatus"],
                    "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "active",
                )
            })
            .map(|condition| format!("Condition/{}", condition["id"].as_str().unwrap()))
            .collect();
        diagnosed.sort();
        let picked = pick(&record, &hypertension, as_of).unwrap();
        assert_eq!(
            picked.value,
            Answer::Boolean(!diagnosed.is_empty()),
            "{name}"
        );
        assert_eq!(
            picked
                .basis
                .iter()
                .map(|basis| basis.reference.clone())
                .collect::<Vec<_>>(),
            diagnosed,
            "{name}"
        );

        let prescribed: Vec<String> = of_type(&json, "MedicationRequest")
            .into_iter()
            .filter(|request| request["status"] == "active")
            .filter(|request| has_coding(&request["medicationCodeableConcept"], RXNORM, "316049"))
            .map(|request| format!("MedicationRequest/{}", request["id"].as_str().unwrap()))
            .collect();
        let picked = pick(&record, &thiazide, as_of).unwrap();
        assert_eq!(
            picked.value,
            Answer::Boolean(!prescribed.is_empty()),
            "{name}"
        );
        assert_eq!(
            picked
                .basis
                .iter()
                .map(|basis| basis.reference.clone())
                .collect::<Vec<_>>(),
            prescribed,
            "{name}"
        );

        // None of these patients has diabetes.
        assert_eq!(
            pick(&record, &diabetes, as_of).unwrap(),
            fhir_record::Picked {
                value: Answer::Boolean(false),
                basis: vec![]
            }
        );
    }
    // And one of them is hypertensive on a thiazide, so that the true branch is exercised.
    let treated = Record::from_json(&bytes(BUNDLES[2])).unwrap();
    assert_eq!(
        pick(&treated, &hypertension, day("2021-12-31"))
            .unwrap()
            .value,
        Answer::Boolean(true)
    );
    assert_eq!(
        pick(&treated, &thiazide, day("2021-12-31")).unwrap().value,
        Answer::Boolean(true)
    );
}
