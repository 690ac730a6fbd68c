//! Lenient serde structs for the few FHIR R4 resources and fields this crate reads.
//!
//! Only the fields read are declared; every other member is ignored, every member is optional,
//! and a `null` (not valid FHIR JSON, but seen) reads as absent. A member of the wrong JSON type
//! is still an error: the record is then refused rather than read with a value silently
//! dropped (see `RecordError::Malformed`). Full FHIR model crates are megabytes; these are a
//! few kilobytes of a component's budget.

use serde::{Deserialize, Deserializer};

/// A member read as its default (empty list) when absent or `null`.
fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Coding {
    pub system: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CodeableConcept {
    #[serde(default, deserialize_with = "or_default")]
    pub coding: Vec<Coding>,
}

impl CodeableConcept {
    /// The codings that have both a system and a code (the only ones a binding can match).
    pub fn codings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.coding
            .iter()
            .filter_map(|coding| Some((coding.system.as_deref()?, coding.code.as_deref()?)))
    }

    /// Whether any coding has this code, whatever its system (for FHIR's own status codes,
    /// whose system some servers leave out).
    pub fn has_code(&self, wanted: &str) -> bool {
        self.coding
            .iter()
            .any(|coding| coding.code.as_deref() == Some(wanted))
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Reference {
    pub reference: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Quantity {
    pub value: Option<f64>,
    /// `<`, `<=`, `>=`, `>`: the value is a bound, not a measurement.
    pub comparator: Option<String>,
    pub unit: Option<String>,
    pub system: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Period {
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Extension {
    pub url: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub extension: Vec<Extension>,
    #[serde(rename = "valueCoding")]
    pub value_coding: Option<Coding>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Patient {
    pub id: Option<String>,
    pub gender: Option<String>,
    #[serde(rename = "birthDate")]
    pub birth_date: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub extension: Vec<Extension>,
}

/// The reference to whom a resource is about: its `subject`, else its `patient` (the name some
/// resources, and some servers, use).
pub(crate) fn subject_reference<'a>(
    subject: &'a Option<Reference>,
    patient: &'a Option<Reference>,
) -> Option<&'a str> {
    subject.as_ref().or(patient.as_ref())?.reference.as_deref()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Observation {
    pub id: Option<String>,
    pub status: Option<String>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub patient: Option<Reference>,
    #[serde(rename = "effectiveDateTime")]
    pub effective_date_time: Option<String>,
    #[serde(rename = "effectivePeriod")]
    pub effective_period: Option<Period>,
    #[serde(rename = "effectiveInstant")]
    pub effective_instant: Option<String>,
    pub issued: Option<String>,
    #[serde(rename = "valueQuantity")]
    pub value_quantity: Option<Quantity>,
    #[serde(rename = "valueCodeableConcept")]
    pub value_codeable_concept: Option<CodeableConcept>,
    #[serde(default, deserialize_with = "or_default")]
    pub component: Vec<Component>,
}

impl Observation {
    /// The text of the observation's clinically relevant time, in the order of precedence the
    /// issue sets: `effectiveDateTime`, else the period's end, else its start, else
    /// `effectiveInstant`, else `issued`. The first one present decides, even if it cannot be
    /// read: a later field (`issued` is when the result was released) would make the value look
    /// more recent than it is.
    pub fn effective_text(&self) -> Option<&str> {
        let period = self.effective_period.as_ref();
        self.effective_date_time
            .as_deref()
            .or_else(|| period.and_then(|period| period.end.as_deref()))
            .or_else(|| period.and_then(|period| period.start.as_deref()))
            .or(self.effective_instant.as_deref())
            .or(self.issued.as_deref())
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Component {
    pub code: Option<CodeableConcept>,
    #[serde(rename = "valueQuantity")]
    pub value_quantity: Option<Quantity>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Condition {
    pub id: Option<String>,
    #[serde(rename = "clinicalStatus")]
    pub clinical_status: Option<CodeableConcept>,
    #[serde(rename = "verificationStatus")]
    pub verification_status: Option<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub patient: Option<Reference>,
    #[serde(rename = "onsetDateTime")]
    pub onset_date_time: Option<String>,
    #[serde(rename = "recordedDate")]
    pub recorded_date: Option<String>,
}

/// A MedicationRequest or a MedicationStatement: the members read are the same in both.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MedicationUse {
    pub id: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "medicationCodeableConcept")]
    pub medication_codeable_concept: Option<CodeableConcept>,
    #[serde(rename = "medicationReference")]
    pub medication_reference: Option<Reference>,
    pub subject: Option<Reference>,
    pub patient: Option<Reference>,
    /// MedicationRequest's date.
    #[serde(rename = "authoredOn")]
    pub authored_on: Option<String>,
    /// MedicationStatement's dates.
    #[serde(rename = "effectiveDateTime")]
    pub effective_date_time: Option<String>,
    #[serde(rename = "effectivePeriod")]
    pub effective_period: Option<Period>,
    #[serde(rename = "dateAsserted")]
    pub date_asserted: Option<String>,
    /// Resources carried inside this one, where a `#id` medicationReference points.
    #[serde(default, deserialize_with = "or_default")]
    pub contained: Vec<serde_json::Value>,
}

impl MedicationUse {
    /// The text of the date shown beside the medication in the basis.
    pub fn date_text(&self) -> Option<&str> {
        self.authored_on
            .as_deref()
            .or(self.effective_date_time.as_deref())
            .or_else(|| {
                self.effective_period
                    .as_ref()
                    .and_then(|period| period.start.as_deref())
            })
            .or(self.date_asserted.as_deref())
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Medication {
    pub id: Option<String>,
    pub code: Option<CodeableConcept>,
}
