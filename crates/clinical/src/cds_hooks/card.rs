//! The cards a service answers: the risk, with the values it was computed from and the
//! RiskAssessment to save; or, when the record cannot be scored, an info card saying why.
//!
//! CDS Hooks' rules kept here: `summary` under 140 characters; `indicator` one of info,
//! warning, critical; `source.label` present; optional members omitted, never empty or null;
//! a suggestion's `selectionBehavior` given whenever suggestions are.

use fhir_record::Answer;
use serde_json::{json, Value};

use crate::gather::{Missing, Refused};
use crate::model_card::ModelCard;
use crate::scoring::{FieldRefusal, Scored};

/// CDS Hooks' limit on a summary's length, in characters (it must be shorter).
pub const SUMMARY_LIMIT: usize = 140;

/// The card of a scored record. `uuid` identifies it in feedback; `assessment` is the
/// RiskAssessment the suggestion creates.
pub fn risk_card(
    card: &ModelCard,
    scored: &Scored,
    assessment: Value,
    uuid: &str,
    suggestion_uuid: &str,
) -> Value {
    let answer = &scored.answer;
    let primary = card.outputs.first();
    let risk = primary.and_then(|output| answer.outcomes.get(&output.name).copied());
    let category = answer.category.as_deref();
    let label = category.map(|name| card.category_label(name));
    let horizon = primary
        .and_then(|o| o.horizon_years)
        .map(|years| format!("{years}-year "));
    let summary = match (risk, primary) {
        (Some(risk), Some(output)) => summary_within_limit(&[
            format!(
                "{} {}{} risk{} ({})",
                percent(risk),
                horizon.clone().unwrap_or_default(),
                output.name,
                label.map(|l| format!(": {l}")).unwrap_or_default(),
                card.name
            ),
            format!("{} {} risk ({})", percent(risk), output.name, card.name),
            percent(risk),
        ]),
        _ => summary_within_limit(&[
            format!("{} answered ({})", card.title, card.name),
            card.name.clone(),
        ]),
    };
    let mut detail = String::new();
    for output in card.outputs.iter().filter(|o| o.is_probability()) {
        if let Some(value) = answer.outcomes.get(&output.name) {
            detail.push_str(&format!(
                "- **{}**: {}\n",
                percent(*value),
                output.description
            ));
        }
    }
    if let (Some(label), Some(categories)) = (label, &card.categories) {
        detail.push_str(&format!(
            "\nCategory: **{label}** ({}).\n",
            categories.source
        ));
    }
    detail.push_str(
        "\nValues read from the record:\n\n| feature | value | dated | from |\n|---|---|---|---|\n",
    );
    for used in &scored.gathered.values {
        let unit = card
            .feature(&used.feature)
            .and_then(|f| f.kind.unit.as_deref())
            .unwrap_or("");
        let shown = match &used.value {
            Answer::Number(number) => format!("{number} {unit}").trim_end().to_owned(),
            Answer::Boolean(true) => "yes".to_owned(),
            Answer::Boolean(false) => "no".to_owned(),
            Answer::Choice(choice) => choice.to_string(),
        };
        let dated = used
            .basis
            .iter()
            .filter_map(|b| b.date)
            .max()
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".to_owned());
        let from: Vec<&str> = used.basis.iter().map(|b| b.reference.as_str()).collect();
        let from = if from.is_empty() {
            "-".to_owned()
        } else {
            from.join(", ")
        };
        detail.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            used.feature,
            markdown_cell(&shown),
            dated,
            markdown_cell(&from)
        ));
    }
    if !answer.warnings.is_empty() {
        detail.push_str("\nWarnings:\n\n");
        for warning in &answer.warnings {
            detail.push_str(&format!("- {}\n", warning.message));
        }
    }
    detail.push_str(&format!("\nSource: {}\n", card.citation));
    json!({
        "uuid": uuid,
        "summary": summary,
        "indicator": indicator(card, category),
        "detail": detail,
        "source": source(card),
        "suggestions": [{
            "label": "Save this risk assessment to the chart",
            "uuid": suggestion_uuid,
            "actions": [{
                "type": "create",
                "description": format!("Create a RiskAssessment from {} {}", card.name, card.version),
                "resource": assessment,
            }],
        }],
        "selectionBehavior": "at-most-one",
    })
}

/// The card of a record that cannot be scored: what is missing or outside the model's ranges.
pub fn info_card(
    card: &ModelCard,
    uuid: &str,
    missing: &[Refused],
    refused: &[FieldRefusal],
) -> Value {
    let mut detail = String::new();
    if !missing.is_empty() {
        detail.push_str("The record does not give:\n\n");
        for refusal in missing {
            let why = match &refusal.why {
                Missing::Record(problem) => problem.to_string(),
                Missing::NoSource => "the model declares no FHIR source for it".to_owned(),
            };
            detail.push_str(&format!("- **{}**: {why}\n", refusal.feature));
        }
    }
    if !refused.is_empty() {
        detail.push_str("\nThe model does not apply to this patient:\n\n");
        for refusal in refused {
            detail.push_str(&format!("- **{}**: {}\n", refusal.field, refusal.detail));
        }
    }
    detail.push_str(&format!("\nSource: {}\n", card.citation));
    let summary = if missing.is_empty() {
        format!(
            "{}: not computed, outside the model's validated ranges",
            card.name
        )
    } else {
        format!(
            "{}: not computed, the record lacks data it needs",
            card.name
        )
    };
    json!({
        "uuid": uuid,
        "summary": summary_within_limit(&[summary, format!("{}: not computed", card.name)]),
        "indicator": "info",
        "detail": detail,
        "source": source(card),
    })
}

/// The model, as the card's source: its title, name and version.
fn source(card: &ModelCard) -> Value {
    json!({ "label": format!("{} ({} {})", card.title, card.name, card.version) })
}

/// The card's urgency, from the category's place among the model's bands (the contract has no
/// per-band urgency): the lowest band is `info`, the highest of three or more `critical`,
/// any other `warning`; a model without categories, `info`.
pub fn indicator(card: &ModelCard, category: Option<&str>) -> &'static str {
    match category.and_then(|name| card.category_rank(name)) {
        Some((0, _)) | None => "info",
        Some((rank, count)) if count >= 3 && rank + 1 == count => "critical",
        Some(_) => "warning",
    }
}

/// A probability as a percentage: one decimal, two under 1 %.
pub fn percent(probability: f64) -> String {
    let percent = probability * 100.0;
    if percent < 1.0 {
        format!("{percent:.2} %")
    } else {
        format!("{percent:.1} %")
    }
}

/// The first candidate shorter than CDS Hooks' limit, else the last cut to it.
fn summary_within_limit(candidates: &[String]) -> String {
    for candidate in candidates {
        if candidate.chars().count() < SUMMARY_LIMIT {
            return candidate.clone();
        }
    }
    let last = candidates.last().map(String::as_str).unwrap_or_default();
    last.chars().take(SUMMARY_LIMIT - 1).collect()
}

/// Text safe in a markdown table cell: no pipe, no line break.
fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A UUID (version 8, RFC 9562: a vendor-defined layout) derived from `parts`, so that the
/// same hook call gives the same card and suggestion ids (feedback refers to them) and
/// different calls or services different ones: 128-bit FNV-1a over the parts, each followed
/// by a 0 byte.
pub fn derived_uuid(parts: &[&str]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u128::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    let mut bytes = hash.to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
