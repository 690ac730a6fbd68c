//! The FHIR searches (CDS Hooks prefetch templates) generated from bindings.

mod common;

use std::borrow::Cow;

use common::*;
use fhir_record::{search_query, ChoiceMap, CodingMatch, FhirSource, ObservationBinding};

#[test]
fn patient_sources_read_the_patient() {
    let choices = ChoiceMap {
        pairs: Cow::Borrowed(&[]),
        otherwise: None,
    };
    for source in [
        FhirSource::Age,
        FhirSource::Gender(choices.clone()),
        FhirSource::Race(choices),
    ] {
        assert_eq!(
            search_query(&source).as_deref(),
            Some("Patient/{{context.patientId}}")
        );
    }
}

#[test]
fn an_observation_searches_its_codes_and_panels_newest_first() {
    assert_eq!(
        search_query(&systolic(365)).as_deref(),
        Some(
            "Observation?patient={{context.patientId}}\
             &code=http://loinc.org|8480-6,http://loinc.org|85354-9,http://loinc.org|55284-4&_sort=-date"
        )
    );
    assert_eq!(
        search_query(&cholesterol(365)).as_deref(),
        Some("Observation?patient={{context.patientId}}&code=http://loinc.org|2093-3,http://loinc.org|14647-2&_sort=-date")
    );
}

#[test]
fn a_coded_observation_searches_its_codes() {
    assert_eq!(
        search_query(&smoking(None)).as_deref(),
        Some("Observation?patient={{context.patientId}}&code=http://loinc.org|72166-2&_sort=-date")
    );
}

#[test]
fn repeated_codes_are_searched_once() {
    let source = FhirSource::Observation(ObservationBinding {
        codes: Cow::Owned(vec![CodingMatch::exact(LOINC, "8480-6")]),
        panels: Cow::Owned(vec![CodingMatch::exact(LOINC, "8480-6")]),
        units: Cow::Borrowed(&[]),
        max_age_days: 1,
    });
    assert_eq!(
        search_query(&source).as_deref(),
        Some("Observation?patient={{context.patientId}}&code=http://loinc.org|8480-6&_sort=-date")
    );
}

#[test]
fn a_code_prefix_cannot_be_a_token_search_so_every_observation_is_searched() {
    let source = FhirSource::Observation(ObservationBinding {
        codes: Cow::Owned(vec![
            CodingMatch::exact(LOINC, "2093-3"),
            CodingMatch::prefix(LOINC, "1464"),
        ]),
        panels: Cow::Borrowed(&[]),
        units: Cow::Borrowed(&[]),
        max_age_days: 1,
    });
    assert_eq!(
        search_query(&source).as_deref(),
        Some("Observation?patient={{context.patientId}}&_sort=-date")
    );
}

#[test]
fn conditions_and_medications_search_the_active_ones() {
    assert_eq!(
        search_query(&FhirSource::Condition(Cow::Borrowed(DIABETES))).as_deref(),
        Some("Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse")
    );
    assert_eq!(
        search_query(&FhirSource::Medication(Cow::Borrowed(STATINS))).as_deref(),
        Some("MedicationRequest?patient={{context.patientId}}&status=active")
    );
}

#[test]
fn a_binding_without_codes_searches_nothing() {
    let empty = ObservationBinding {
        codes: Cow::Borrowed(&[]),
        panels: Cow::Borrowed(&[]),
        units: Cow::Borrowed(&[]),
        max_age_days: 1,
    };
    assert_eq!(search_query(&FhirSource::Observation(empty)), None);
    assert_eq!(
        search_query(&FhirSource::Condition(Cow::Borrowed(&[]))),
        None
    );
    assert_eq!(
        search_query(&FhirSource::Medication(Cow::Borrowed(&[]))),
        None
    );
}
