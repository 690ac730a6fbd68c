//! The FHIR R4 resources this service writes: a `RiskAssessment` per model answer, and an
//! `OperationOutcome` naming every feature a record could not give.
//!
//! Conventions, chosen where FHIR leaves a choice (each is stated in the resource itself):
//!
//! - `prediction.probabilityDecimal` is a **fraction** (0 to 1), as FHIR's own example
//!   (`riskassessment-example-cardiac`, 0.02 for 2 %) writes it, not a percentage; every
//!   prediction's `rationale` says so.
//! - `method` and each `outcome` are coded in this service's own code systems (a model and an
//!   output are named as the model declares them), with the model's title and the output's
//!   description as text: no terminology has codes for them.
//! - The horizon is `whenPeriod`, from the assessment's date to the same day that many years on.
//! - `basis` references exactly the resources the values came from, each once.
//! - An issue names the feature (`expression`) and why it is missing or refused; never a
//!   value from the record.

use serde_json::{json, Value};

use crate::date::Date;
use crate::pick::{Basis, PickProblem};

/// Code system of the models' names (`RiskAssessment.method`).
pub const MODEL_SYSTEM: &str = "urn:healthcare-model-service:model";
/// Code system of the models' outputs (`prediction.outcome`).
pub const OUTPUT_SYSTEM: &str = "urn:healthcare-model-service:output";
/// Code system of the categories' names (`prediction.qualitativeRisk`).
pub const CATEGORY_SYSTEM: &str = "urn:healthcare-model-service:category";

/// The model that answered, as its card names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Method<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub title: &'a str,
}

/// One output of the model's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<'a> {
    pub name: &'a str,
    pub description: &'a str,
    /// A fraction, 0 to 1.
    pub probability: f64,
    pub horizon_years: Option<u32>,
}

/// The primary output's category.
#[derive(Debug, Clone, PartialEq)]
pub struct Category<'a> {
    pub name: &'a str,
    pub label: &'a str,
}

/// Everything one `RiskAssessment` says.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment<'a> {
    /// `Patient/<id>`.
    pub subject: &'a str,
    pub occurrence: Date,
    pub method: Method<'a>,
    /// The primary output first: the category, when there is one, is on it.
    pub outcomes: Vec<Outcome<'a>>,
    pub category: Option<Category<'a>>,
    /// Every warning the model gave, one `note` each.
    pub warnings: Vec<&'a str>,
    pub basis: &'a [Basis],
}

/// The assessment as a FHIR R4 `RiskAssessment`.
pub fn risk_assessment(assessment: &Assessment<'_>) -> Value {
    let start = assessment.occurrence;
    let predictions: Vec<Value> = assessment
        .outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| {
            let mut prediction = json!({
                "outcome": {
                    "coding": [{"system": OUTPUT_SYSTEM, "code": outcome.name}],
                    "text": outcome.description,
                },
                "probabilityDecimal": outcome.probability,
                "rationale": format!(
                    "probabilityDecimal is a fraction from 0 to 1 (not a percentage), computed \
                     by {} {}.",
                    assessment.method.name, assessment.method.version
                ),
            });
            if let Some(end) = outcome
                .horizon_years
                .and_then(|years| years_later(start, years))
            {
                prediction["whenPeriod"] =
                    json!({"start": start.to_string(), "end": end.to_string()});
            }
            if let (0, Some(category)) = (index, &assessment.category) {
                prediction["qualitativeRisk"] = json!({
                    "coding": [{
                        "system": CATEGORY_SYSTEM,
                        "code": category.name,
                        "display": category.label,
                    }],
                    "text": category.label,
                });
            }
            prediction
        })
        .collect();
    let mut resource = json!({
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": {"reference": assessment.subject},
        "occurrenceDateTime": start.to_string(),
        "method": {
            "coding": [{
                "system": MODEL_SYSTEM,
                "code": assessment.method.name,
                "version": assessment.method.version,
                "display": assessment.method.title,
            }],
            "text": assessment.method.title,
        },
        "prediction": predictions,
    });
    if !assessment.basis.is_empty() {
        // Each resource once, though several features may come from it (the Patient gives age,
        // sex and race; a blood-pressure panel two pressures).
        let mut references: Vec<&str> = Vec::new();
        for basis in assessment.basis {
            if !references.contains(&basis.reference.as_str()) {
                references.push(&basis.reference);
            }
        }
        resource["basis"] = references
            .into_iter()
            .map(|reference| json!({"reference": reference}))
            .collect();
    }
    if !assessment.warnings.is_empty() {
        resource["note"] = assessment
            .warnings
            .iter()
            .map(|warning| json!({"text": warning}))
            .collect();
    }
    resource
}

/// Why a feature cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal<'a> {
    /// The record could not give it.
    Record(&'a PickProblem),
    /// The model refused the value it was given (outside its validated range, say): the
    /// model's own message, which names the feature and the range, never the value.
    Model(&'a str),
    /// The model declares no FHIR source for a feature it requires, so no record can give it.
    NoSource,
}

/// Every refused feature as an `OperationOutcome`, one `error` issue each.
pub fn operation_outcome(refused: &[(&str, Refusal<'_>)]) -> Value {
    let issues: Vec<Value> = refused
        .iter()
        .map(|(feature, refusal)| {
            let (code, diagnostics) = match refusal {
                Refusal::Record(problem) => (issue_type(problem), format!("{feature}: {problem}")),
                Refusal::Model(message) => ("value", (*message).to_owned()),
                Refusal::NoSource => (
                    "not-supported",
                    format!("{feature}: the model declares no FHIR source for it"),
                ),
            };
            json!({
                "severity": "error",
                "code": code,
                "diagnostics": diagnostics,
                "expression": [feature],
            })
        })
        .collect();
    json!({"resourceType": "OperationOutcome", "issue": issues})
}

/// The FHIR issue type for a problem picking a value.
fn issue_type(problem: &PickProblem) -> &'static str {
    match problem {
        PickProblem::NotFound | PickProblem::Stale { .. } | PickProblem::NoValue => "required",
        PickProblem::UnknownUnit { .. } | PickProblem::Unmapped => "code-invalid",
    }
}

/// The same day `years` on (28 February for a 29 February that year lacks).
fn years_later(date: Date, years: u32) -> Option<Date> {
    let (year, month, day) = date.ymd();
    let year = year.checked_add(i32::try_from(years).ok()?)?;
    Date::from_ymd(year, month, day).or_else(|| Date::from_ymd(year, month, day - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).expect("a date")
    }

    fn assessment<'a>(basis: &'a [Basis]) -> Assessment<'a> {
        Assessment {
            subject: "Patient/p1",
            occurrence: day("2024-02-29"),
            method: Method {
                name: "m",
                version: "1.0.0",
                title: "A model",
            },
            outcomes: vec![
                Outcome {
                    name: "primary",
                    description: "Ten-year risk",
                    probability: 0.0734,
                    horizon_years: Some(10),
                },
                Outcome {
                    name: "second",
                    description: "Other risk",
                    probability: 0.01,
                    horizon_years: None,
                },
            ],
            category: Some(Category {
                name: "intermediate",
                label: "Intermediate Risk",
            }),
            warnings: vec!["a warning"],
            basis,
        }
    }

    #[test]
    fn a_risk_assessment_has_its_subject_method_basis_predictions_and_notes() {
        let basis = [
            Basis {
                reference: "Observation/o1".into(),
                date: Some(day("2024-01-02")),
            },
            Basis {
                reference: "Patient/p1".into(),
                date: None,
            },
            Basis {
                reference: "Observation/o1".into(),
                date: Some(day("2024-01-02")),
            },
        ];
        let resource = risk_assessment(&assessment(&basis));
        assert_eq!(resource["resourceType"], "RiskAssessment");
        assert_eq!(resource["status"], "final");
        assert_eq!(resource["subject"]["reference"], "Patient/p1");
        assert_eq!(resource["occurrenceDateTime"], "2024-02-29");
        assert_eq!(resource["method"]["coding"][0]["code"], "m");
        assert_eq!(resource["method"]["coding"][0]["version"], "1.0.0");
        assert_eq!(
            resource["basis"],
            json!([{"reference": "Observation/o1"}, {"reference": "Patient/p1"}])
        );
        let primary = &resource["prediction"][0];
        assert_eq!(primary["probabilityDecimal"], 0.0734);
        assert_eq!(primary["outcome"]["coding"][0]["code"], "primary");
        // Ten years after a 29 February is the 28th: 2034 is no leap year.
        assert_eq!(
            primary["whenPeriod"],
            json!({"start": "2024-02-29", "end": "2034-02-28"})
        );
        assert_eq!(
            primary["qualitativeRisk"]["coding"][0]["code"],
            "intermediate"
        );
        assert!(primary["rationale"]
            .as_str()
            .is_some_and(|r| r.contains("fraction")));
        let second = &resource["prediction"][1];
        assert!(second.get("qualitativeRisk").is_none() && second.get("whenPeriod").is_none());
        assert_eq!(resource["note"], json!([{"text": "a warning"}]));
    }

    #[test]
    fn without_basis_or_warnings_those_members_are_absent() {
        let mut bare = assessment(&[]);
        bare.warnings.clear();
        let resource = risk_assessment(&bare);
        assert!(resource.get("basis").is_none() && resource.get("note").is_none());
    }

    #[test]
    fn an_operation_outcome_names_each_feature_and_why_never_a_value() {
        let unit = PickProblem::UnknownUnit { unit: "mg".into() };
        let stale = PickProblem::Stale { max_age_days: 365 };
        let outcome = operation_outcome(&[
            ("total_cholesterol", Refusal::Record(&unit)),
            ("systolic_bp", Refusal::Record(&stale)),
            ("age", Refusal::Model("age must be between 40 and 79 years")),
            ("mean_radius", Refusal::NoSource),
        ]);
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        let issues = outcome["issue"].as_array().expect("issues");
        assert_eq!(issues.len(), 4);
        assert_eq!(issues[0]["code"], "code-invalid");
        assert_eq!(issues[0]["expression"], json!(["total_cholesterol"]));
        assert_eq!(issues[1]["code"], "required");
        assert_eq!(
            issues[1]["diagnostics"],
            "systolic_bp: every value the record holds for it is more than 365 days old"
        );
        assert_eq!(issues[2]["code"], "value");
        assert_eq!(issues[3]["code"], "not-supported");
        assert_eq!(
            issues[3]["diagnostics"],
            "mean_radius: the model declares no FHIR source for it"
        );
        assert!(issues.iter().all(|issue| issue["severity"] == "error"));
    }
}
