//! Picking numeric and coded observations: status, recency, window, units, panels, order.

mod common;

use common::*;
use fhir_record::{pick, Answer, Basis, PickProblem};
use serde_json::json;

#[test]
fn the_newest_final_value_is_picked_with_its_resource_and_day() {
    let record = record(vec![
        lab(
            "old",
            "2093-3",
            "final",
            "2019-02-01T08:00:00Z",
            190.0,
            "mg/dL",
        ),
        lab(
            "new",
            "2093-3",
            "final",
            "2021-03-18T10:09:19+00:00",
            181.5,
            "mg/dL",
        ),
        lab("mid", "2093-3", "final", "2020-06-30", 201.0, "mg/dL"),
    ]);
    let picked = pick(&record, &cholesterol(3650), day("2021-06-01")).unwrap();
    assert_eq!(picked.value, Answer::Number(181.5));
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Observation/new".into(),
            date: Some(day("2021-03-18"))
        }]
    );
}

#[test]
fn a_value_older_than_the_window_is_stale_and_within_it_is_picked() {
    let record = record(vec![lab(
        "a",
        "2093-3",
        "final",
        "2018-06-01",
        190.0,
        "mg/dL",
    )]);
    assert_eq!(
        pick(&record, &cholesterol(365), day("2021-06-01")),
        Err(PickProblem::Stale { max_age_days: 365 })
    );
    // The window's last day is still inside it: 2018-06-01 to 2021-06-01 is 1096 days.
    assert_eq!(
        pick(&record, &cholesterol(1096), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Number(190.0)
    );
    assert_eq!(
        pick(&record, &cholesterol(1095), day("2021-06-01")),
        Err(PickProblem::Stale { max_age_days: 1095 })
    );
}

#[test]
fn a_stale_newest_value_is_stale_even_when_an_older_one_exists() {
    let record = record(vec![
        lab("older", "2093-3", "final", "2010-01-01", 150.0, "mg/dL"),
        lab("newer", "2093-3", "final", "2015-01-01", 160.0, "mg/dL"),
    ]);
    assert_eq!(
        pick(&record, &cholesterol(365), day("2021-06-01")),
        Err(PickProblem::Stale { max_age_days: 365 })
    );
}

#[test]
fn mixed_units_are_converted_by_their_ucum_code() {
    let in_mmol = record(vec![
        lab("mg", "2093-3", "final", "2020-01-10", 180.0, "mg/dL"),
        lab("mmol", "14647-2", "final", "2021-01-10", 5.0, "mmol/L"),
    ]);
    let picked = pick(&in_mmol, &cholesterol(3650), day("2021-06-01")).unwrap();
    assert!(
        (number(&picked.value) - 5.0 * 38.67).abs() < 1e-9,
        "{picked:?}"
    );
    assert_eq!(picked.basis[0].reference, "Observation/mmol");

    let in_mg = record(vec![
        lab("mg", "2093-3", "final", "2021-02-10", 180.0, "mg/dL"),
        lab("mmol", "14647-2", "final", "2021-01-10", 5.0, "mmol/L"),
    ]);
    assert_eq!(
        pick(&in_mg, &cholesterol(3650), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Number(180.0)
    );
}

#[test]
fn an_unknown_unit_on_the_newest_value_is_refused_never_replaced_by_an_older_one() {
    let record = record(vec![
        lab("known", "2093-3", "final", "2020-01-10", 180.0, "mg/dL"),
        lab("unknown", "2093-3", "final", "2021-01-10", 1.8, "g/L"),
    ]);
    assert_eq!(
        pick(&record, &cholesterol(3650), day("2021-06-01")),
        Err(PickProblem::UnknownUnit { unit: "g/L".into() })
    );
}

#[test]
fn ucum_codes_compare_exactly_and_case_sensitively() {
    let lower_case = record(vec![lab(
        "a",
        "2093-3",
        "final",
        "2021-01-10",
        180.0,
        "mg/dl",
    )]);
    assert_eq!(
        pick(&lower_case, &cholesterol(3650), day("2021-06-01")),
        Err(PickProblem::UnknownUnit {
            unit: "mg/dl".into()
        })
    );
}

#[test]
fn the_display_unit_stands_in_only_for_an_absent_ucum_code() {
    let quantity = |quantity: serde_json::Value| {
        let mut observation = lab("a", "2093-3", "final", "2021-01-10", 0.0, "mg/dL");
        observation["valueQuantity"] = quantity;
        record(vec![observation])
    };
    let as_of = day("2021-06-01");
    // No code, no system, the display is a listed UCUM code: accepted.
    let display_only = quantity(json!({"value": 175.0, "unit": "mg/dL"}));
    assert_eq!(
        pick(&display_only, &cholesterol(3650), as_of)
            .unwrap()
            .value,
        Answer::Number(175.0)
    );
    // No code, UCUM system: accepted too.
    let display_ucum = quantity(json!({"value": 175.0, "unit": "mg/dL", "system": UCUM}));
    assert_eq!(
        pick(&display_ucum, &cholesterol(3650), as_of)
            .unwrap()
            .value,
        Answer::Number(175.0)
    );
    // A display that is not the UCUM code is not guessed at.
    let display_other = quantity(json!({"value": 175.0, "unit": "mg per dL"}));
    assert_eq!(
        pick(&display_other, &cholesterol(3650), as_of),
        Err(PickProblem::UnknownUnit {
            unit: "mg per dL".into()
        })
    );
    // The code decides when there is one, whatever the display says.
    let code_decides =
        quantity(json!({"value": 4.5, "unit": "mg/dL", "system": UCUM, "code": "mmol/L"}));
    assert!(
        (number(
            &pick(&code_decides, &cholesterol(3650), as_of)
                .unwrap()
                .value
        ) - 4.5 * 38.67)
            .abs()
            < 1e-9
    );
    // A code of another unit system is never taken for a UCUM code.
    let other_system =
        quantity(json!({"value": 175.0, "unit": "mg/dL", "system": SNOMED, "code": "mg/dL"}));
    assert_eq!(
        pick(&other_system, &cholesterol(3650), as_of),
        Err(PickProblem::UnknownUnit {
            unit: "mg/dL".into()
        })
    );
    // No unit at all.
    let unitless = quantity(json!({"value": 175.0}));
    assert_eq!(
        pick(&unitless, &cholesterol(3650), as_of),
        Err(PickProblem::UnknownUnit {
            unit: String::new()
        })
    );
}

#[test]
fn mmhg_written_as_plain_text_is_not_the_ucum_code() {
    let mut observation = lab("bp", "8480-6", "final", "2021-01-10", 128.0, "mm[Hg]");
    observation["valueQuantity"] =
        json!({"value": 128.0, "unit": "mmHg", "system": UCUM, "code": "mmHg"});
    let record = record(vec![observation]);
    assert_eq!(
        pick(&record, &systolic(365), day("2021-06-01")),
        Err(PickProblem::UnknownUnit {
            unit: "mmHg".into()
        })
    );
}

#[test]
fn a_newer_panel_component_wins_over_an_older_standalone_value() {
    let record = record(vec![
        lab(
            "alone",
            "8480-6",
            "final",
            "2021-01-10T09:00:00Z",
            150.0,
            "mm[Hg]",
        ),
        bp_panel("panel", "85354-9", "2021-02-10T09:00:00Z", 128.0, 82.0),
    ]);
    let picked = pick(&record, &systolic(365), day("2021-06-01")).unwrap();
    assert_eq!(picked.value, Answer::Number(128.0));
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Observation/panel".into(),
            date: Some(day("2021-02-10"))
        }]
    );
}

#[test]
fn a_newer_standalone_value_wins_over_an_older_panel() {
    let record = record(vec![
        bp_panel("panel", "85354-9", "2021-02-10T09:00:00Z", 128.0, 82.0),
        lab(
            "alone",
            "8480-6",
            "final",
            "2021-03-10T09:00:00Z",
            150.0,
            "mm[Hg]",
        ),
        bp_panel("legacy", "55284-4", "2020-02-10T09:00:00Z", 118.0, 75.0),
    ]);
    let picked = pick(&record, &systolic(365), day("2021-06-01")).unwrap();
    assert_eq!(picked.value, Answer::Number(150.0));
    assert_eq!(picked.basis[0].reference, "Observation/alone");
}

#[test]
fn the_legacy_panel_is_read_like_the_current_one() {
    let record = record(vec![bp_panel(
        "legacy",
        "55284-4",
        "2021-02-10",
        118.0,
        75.0,
    )]);
    assert_eq!(
        pick(&record, &systolic(365), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Number(118.0)
    );
}

#[test]
fn a_panel_without_the_component_is_not_a_value() {
    let mut panel = bp_panel("diastolic-only", "85354-9", "2021-03-10", 0.0, 80.0);
    panel["component"].as_array_mut().unwrap().pop();
    let record = record(vec![
        lab("alone", "8480-6", "final", "2021-01-10", 140.0, "mm[Hg]"),
        panel,
    ]);
    assert_eq!(
        pick(&record, &systolic(365), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Number(140.0)
    );
}

#[test]
fn a_component_of_an_unlisted_panel_is_not_read() {
    let record = record(vec![bp_panel(
        "other",
        "35094-2",
        "2021-03-10",
        128.0,
        80.0,
    )]);
    assert_eq!(
        pick(&record, &systolic(365), day("2021-06-01")),
        Err(PickProblem::NotFound)
    );
}

#[test]
fn results_that_are_not_final_are_ignored_even_when_newest() {
    for status in [
        "entered-in-error",
        "preliminary",
        "registered",
        "cancelled",
        "unknown",
    ] {
        let record = record(vec![
            lab("final", "2093-3", "final", "2020-01-10", 180.0, "mg/dL"),
            lab("newest", "2093-3", status, "2021-05-10", 999.0, "mg/dL"),
        ]);
        let picked = pick(&record, &cholesterol(3650), day("2021-06-01")).unwrap();
        assert_eq!(picked.value, Answer::Number(180.0), "{status}");
        assert_eq!(picked.basis[0].reference, "Observation/final", "{status}");
    }
}

#[test]
fn amended_and_corrected_results_count() {
    for status in ["amended", "corrected"] {
        let record = record(vec![
            lab("final", "2093-3", "final", "2020-01-10", 180.0, "mg/dL"),
            lab("newest", "2093-3", status, "2021-05-10", 170.0, "mg/dL"),
        ]);
        assert_eq!(
            pick(&record, &cholesterol(3650), day("2021-06-01"))
                .unwrap()
                .value,
            Answer::Number(170.0)
        );
    }
}

#[test]
fn only_non_results_is_not_found() {
    let record = record(vec![
        lab("a", "2093-3", "preliminary", "2021-05-10", 180.0, "mg/dL"),
        lab(
            "b",
            "2093-3",
            "entered-in-error",
            "2021-05-11",
            180.0,
            "mg/dL",
        ),
    ]);
    assert_eq!(
        pick(&record, &cholesterol(3650), day("2021-06-01")),
        Err(PickProblem::NotFound)
    );
    assert_eq!(
        pick(&record, &systolic(3650), day("2021-06-01")),
        Err(PickProblem::NotFound)
    );
}

#[test]
fn the_pick_does_not_depend_on_the_order_of_the_record() {
    let observations = [
        lab(
            "a",
            "2093-3",
            "final",
            "2019-02-01T08:00:00Z",
            190.0,
            "mg/dL",
        ),
        lab(
            "b",
            "2093-3",
            "final",
            "2021-03-18T10:09:19-05:00",
            181.5,
            "mg/dL",
        ),
        lab(
            "c",
            "2093-3",
            "entered-in-error",
            "2021-04-01",
            999.0,
            "mg/dL",
        ),
        lab(
            "d",
            "14647-2",
            "final",
            "2021-03-18T14:09:19+00:00",
            4.0,
            "mmol/L",
        ),
        lab("e", "2093-3", "final", "2021-07-01", 777.0, "mg/dL"),
    ];
    // b is 15:09 UTC, d is 14:09 UTC the same day: b is the newest, whatever the order.
    let mut order: Vec<usize> = (0..observations.len()).collect();
    let mut seen = 0;
    permutations(&mut order, 0, &mut |order| {
        let shuffled = order.iter().map(|&i| observations[i].clone()).collect();
        let picked = pick(&record(shuffled), &cholesterol(3650), day("2021-06-01")).unwrap();
        assert_eq!(picked.value, Answer::Number(181.5), "{order:?}");
        assert_eq!(picked.basis[0].reference, "Observation/b", "{order:?}");
        seen += 1;
    });
    assert_eq!(seen, 120);
}

fn permutations(items: &mut Vec<usize>, start: usize, visit: &mut dyn FnMut(&[usize])) {
    if start == items.len() {
        visit(items);
        return;
    }
    for i in start..items.len() {
        items.swap(start, i);
        permutations(items, start + 1, visit);
        items.swap(start, i);
    }
}

#[test]
fn equal_times_are_ordered_by_issued_then_reference_not_by_the_record() {
    let with_issued = |id: &str, value: f64, issued: &str| {
        let mut observation = lab(
            id,
            "2093-3",
            "final",
            "2021-03-18T10:00:00Z",
            value,
            "mg/dL",
        );
        observation["issued"] = json!(issued);
        observation
    };
    let first = with_issued("x", 170.0, "2021-03-19T10:00:00Z");
    let reissued = with_issued("w", 175.0, "2021-03-20T10:00:00Z");
    for resources in [vec![first.clone(), reissued.clone()], vec![reissued, first]] {
        let picked = pick(&record(resources), &cholesterol(3650), day("2021-06-01")).unwrap();
        assert_eq!(picked.value, Answer::Number(175.0));
    }
    let same_a = lab("a", "2093-3", "final", "2021-03-18", 170.0, "mg/dL");
    let same_b = lab("b", "2093-3", "final", "2021-03-18", 175.0, "mg/dL");
    for resources in [vec![same_a.clone(), same_b.clone()], vec![same_b, same_a]] {
        let picked = pick(&record(resources), &cholesterol(3650), day("2021-06-01")).unwrap();
        assert_eq!(picked.basis[0].reference, "Observation/b");
    }
}

#[test]
fn a_value_dated_after_the_assessment_is_not_used() {
    let record = record(vec![
        lab("past", "2093-3", "final", "2021-01-10", 180.0, "mg/dL"),
        lab("future", "2093-3", "final", "2021-06-02", 150.0, "mg/dL"),
    ]);
    assert_eq!(
        pick(&record, &cholesterol(3650), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Number(180.0)
    );
    // On the day itself it is used; the day is the one written, whatever the offset.
    assert_eq!(
        pick(&record, &cholesterol(3650), day("2021-06-02"))
            .unwrap()
            .value,
        Answer::Number(150.0)
    );
    let evening = record_with_one(lab(
        "evening",
        "2093-3",
        "final",
        "2021-06-01T22:30:00-05:00",
        160.0,
        "mg/dL",
    ));
    assert_eq!(
        pick(&evening, &cholesterol(3650), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Number(160.0)
    );
    let only_future = record_with_one(lab(
        "future",
        "2093-3",
        "final",
        "2022-01-01",
        150.0,
        "mg/dL",
    ));
    assert_eq!(
        pick(&only_future, &cholesterol(3650), day("2021-06-01")),
        Err(PickProblem::NoValue)
    );
}

fn record_with_one(observation: serde_json::Value) -> fhir_record::Record {
    record(vec![observation])
}

#[test]
fn an_observation_without_a_full_date_is_not_usable() {
    let mut undated = lab("undated", "2093-3", "final", "", 150.0, "mg/dL");
    undated.as_object_mut().unwrap().remove("effectiveDateTime");
    let partial = lab("partial", "2093-3", "final", "2021-05", 140.0, "mg/dL");
    let record = record(vec![
        lab("dated", "2093-3", "final", "2020-01-10", 180.0, "mg/dL"),
        undated.clone(),
        partial,
    ]);
    assert_eq!(
        pick(&record, &cholesterol(3650), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Number(180.0)
    );
    assert_eq!(
        pick(
            &record_with_one(undated),
            &cholesterol(3650),
            day("2021-06-01")
        ),
        Err(PickProblem::NoValue)
    );
}

#[test]
fn the_effective_time_follows_the_issue_s_precedence() {
    let as_of = day("2021-06-01");
    let base = |id: &str, value: f64| {
        let mut observation = lab(id, "2093-3", "final", "", value, "mg/dL");
        observation
            .as_object_mut()
            .unwrap()
            .remove("effectiveDateTime");
        observation
    };
    // A period's end is its time: this one ends after the plain one, so it is newer.
    let mut period = base("period", 170.0);
    period["effectivePeriod"] = json!({"start": "2020-01-01", "end": "2021-02-01"});
    let plain = lab("plain", "2093-3", "final", "2021-01-01", 180.0, "mg/dL");
    let picked = pick(
        &record(vec![period.clone(), plain.clone()]),
        &cholesterol(3650),
        as_of,
    )
    .unwrap();
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Observation/period".into(),
            date: Some(day("2021-02-01"))
        }]
    );
    // Without an end, its start.
    period["effectivePeriod"] = json!({"start": "2020-01-01"});
    let picked = pick(
        &record(vec![period, plain.clone()]),
        &cholesterol(3650),
        as_of,
    )
    .unwrap();
    assert_eq!(picked.basis[0].reference, "Observation/plain");
    // effectiveInstant, then issued when nothing else dates the result.
    let mut instant = base("instant", 160.0);
    instant["effectiveInstant"] = json!("2021-03-01T10:00:00.000Z");
    instant["issued"] = json!("2021-05-01T10:00:00.000Z");
    let picked = pick(
        &record(vec![instant, plain.clone()]),
        &cholesterol(3650),
        as_of,
    )
    .unwrap();
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Observation/instant".into(),
            date: Some(day("2021-03-01"))
        }]
    );
    let mut issued = base("issued", 150.0);
    issued["issued"] = json!("2021-04-01T10:00:00.000Z");
    let picked = pick(&record(vec![issued, plain]), &cholesterol(3650), as_of).unwrap();
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Observation/issued".into(),
            date: Some(day("2021-04-01"))
        }]
    );
    // effectiveDateTime comes before issued, even when issued is later.
    let mut both = lab("both", "2093-3", "final", "2019-01-01", 140.0, "mg/dL");
    both["issued"] = json!("2021-05-01T10:00:00Z");
    let picked = pick(&record_with_one(both), &cholesterol(365), as_of);
    assert_eq!(picked, Err(PickProblem::Stale { max_age_days: 365 }));
}

#[test]
fn the_newest_result_without_a_quantity_is_refused_not_skipped() {
    let mut no_value = lab("no-value", "2093-3", "final", "2021-05-10", 0.0, "mg/dL");
    no_value.as_object_mut().unwrap().remove("valueQuantity");
    no_value["dataAbsentReason"] = json!({"coding": [{"code": "error"}]});
    let record = record(vec![
        lab("older", "2093-3", "final", "2020-01-10", 180.0, "mg/dL"),
        no_value,
    ]);
    assert_eq!(
        pick(&record, &cholesterol(3650), day("2021-06-01")),
        Err(PickProblem::NoValue)
    );
}

#[test]
fn no_matching_observation_is_not_found() {
    let record = record(vec![lab(
        "hdl",
        "2085-9",
        "final",
        "2021-01-10",
        50.0,
        "mg/dL",
    )]);
    assert_eq!(
        pick(&record, &cholesterol(3650), day("2021-06-01")),
        Err(PickProblem::NotFound)
    );
}

fn smoking_status(id: &str, effective: &str, answer: &str) -> serde_json::Value {
    json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "72166-2"}]},
        "subject": {"reference": format!("Patient/{PATIENT_ID}")},
        "effectiveDateTime": effective,
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": answer}]}
    })
}

#[test]
fn a_coded_observation_maps_its_newest_answer() {
    let record = record(vec![
        smoking_status("then", "2021-01-10", "449868002"),
        smoking_status("now", "2021-05-10", "8517006"),
    ]);
    let picked = pick(&record, &smoking(None), day("2021-06-01")).unwrap();
    assert_eq!(picked.value, Answer::Boolean(false));
    assert_eq!(
        picked.basis,
        vec![Basis {
            reference: "Observation/now".into(),
            date: Some(day("2021-05-10"))
        }]
    );
    let current = record_with_one(smoking_status("now", "2021-05-10", "428041000124106"));
    assert_eq!(
        pick(&current, &smoking(None), day("2021-06-01"))
            .unwrap()
            .value,
        Answer::Boolean(true)
    );
}

#[test]
fn an_unlisted_answer_takes_otherwise_or_is_refused() {
    let unknown = record_with_one(smoking_status("now", "2021-05-10", "266927001"));
    assert_eq!(
        pick(
            &unknown,
            &smoking(Some(Answer::Boolean(false))),
            day("2021-06-01")
        )
        .unwrap()
        .value,
        Answer::Boolean(false)
    );
    assert_eq!(
        pick(&unknown, &smoking(None), day("2021-06-01")),
        Err(PickProblem::Unmapped)
    );
}

#[test]
fn a_coded_observation_follows_the_same_status_and_window_rules() {
    let record = record(vec![smoking_status("old", "2019-05-10", "449868002"), {
        let mut wrong = smoking_status("wrong", "2021-05-10", "8517006");
        wrong["status"] = json!("entered-in-error");
        wrong
    }]);
    assert_eq!(
        pick(&record, &smoking(None), day("2021-06-01")),
        Err(PickProblem::Stale { max_age_days: 365 })
    );
    let mut without_value = smoking_status("blank", "2021-05-10", "8517006");
    without_value
        .as_object_mut()
        .unwrap()
        .remove("valueCodeableConcept");
    assert_eq!(
        pick(
            &record_with_one(without_value),
            &smoking(None),
            day("2021-06-01")
        ),
        Err(PickProblem::NoValue)
    );
}

#[test]
fn a_bound_is_not_a_value() {
    let mut bound = lab("bound", "2093-3", "final", "2021-05-10", 100.0, "mg/dL");
    bound["valueQuantity"]["comparator"] = json!("<");
    let record = record(vec![
        lab("older", "2093-3", "final", "2020-01-10", 180.0, "mg/dL"),
        bound,
    ]);
    assert_eq!(
        pick(&record, &cholesterol(3650), day("2021-06-01")),
        Err(PickProblem::NoValue)
    );
}
