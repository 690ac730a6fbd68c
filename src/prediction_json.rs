//! A model's [`ModelPrediction`] as the JSON object `/predict` returns, and a batch's answer.
//!
//! Members, in the original contract's order (`prediction`, `confidence` and `model_version`
//! first); a member a model does not define is left out, never invented. The meaning of every
//! member is documented in the OpenAPI document (`openapi.rs`) and the README.
//!
//! | member | value |
//! |---|---|
//! | `prediction` | the category's label; a model without categories: its primary class, or its primary output's name and value |
//! | `confidence` | as the model's `info().confidence` defines it; `null` when it gives none |
//! | `model_version`, `model` | the model's |
//! | `risk` | the primary output's value, when it is a number |
//! | `outcomes` | every probability output, by name, in declared order |
//! | `category` | the primary output's category, by name |
//! | `horizon_years` | the model's prediction horizon |
//! | `contributions`, `explanation` | per factor, and the scale they are on, when the model explains |
//! | `warnings` | the model's `{code, message}` for this patient |
//! | `status` | in a batch only: 200 |
//!
//! Written by hand rather than by serde's derived serialisers, because most of an answer is
//! the same for every patient (member names, the model's name and version, the explanation's
//! texts, category labels): [`AnswerWriter`] escapes those once per request, and a patient costs
//! its numbers and its warnings. Inside the component, writing a 1,000-patient batch with serde
//! took a third of the request's handler (docs/performance.md). The bytes are serde's, exactly:
//! `reference.rs` keeps the derived serialisers as the tests' oracle. Numbers and dynamic texts
//! still go through serde_json, so their formatting (shortest round-trip floats, non-finite
//! numbers as `null`, escapes) is serde_json's own.

use std::borrow::Cow;

use crate::catalog::contract::OutputKind;
use crate::catalog::{ModelInfo, ModelPrediction, Value};
use crate::json::write_json as json;
use crate::problem::FieldIssue;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

/// Where one constant fragment lies in [`AnswerWriter`]'s buffer.
#[derive(Clone, Copy, Default)]
struct Span {
    start: usize,
    end: usize,
}

/// One model's answers, its constant parts escaped once, all in one buffer (for one patient,
/// building it costs what serde's escaping of the same texts cost).
pub struct AnswerWriter<'a> {
    info: &'a ModelInfo,
    fragments: Vec<u8>,
    /// `,"model_version":"…","model":"…"`
    identity: Span,
    /// `"<output>":` for each output, in declared order (probabilities only are written).
    output_keys: Vec<Span>,
    /// Each category's `"<label>"`, and its `,"category":"<name>"`.
    category_labels: Vec<Span>,
    category_members: Vec<Span>,
    /// `,"horizon_years":N`, or nothing.
    horizon: Span,
    /// `"<factor>":` for each factor of the explanation.
    factor_keys: Vec<Span>,
    /// `,"explanation":{"outcome":"…","scale":"…","linear_predictor":` and
    /// `,"reference_patient":"…"}`.
    explanation_head: Span,
    explanation_tail: Span,
}

/// Appends to a fragment buffer, saying where each fragment lies.
struct Fragments(Vec<u8>);

impl Fragments {
    fn add(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Span {
        let start = self.0.len();
        write(&mut self.0);
        Span {
            start,
            end: self.0.len(),
        }
    }

    /// `"<name>":`
    fn key(&mut self, name: &str) -> Span {
        self.add(|out| {
            json(out, name);
            out.push(b':');
        })
    }
}

impl<'a> AnswerWriter<'a> {
    pub fn new(info: &'a ModelInfo) -> Self {
        let mut fragments = Fragments(Vec::with_capacity(1024));
        let identity = fragments.add(|out| {
            out.extend_from_slice(b",\"model_version\":");
            json(out, info.version.as_ref());
            out.extend_from_slice(b",\"model\":");
            json(out, info.name.as_ref());
        });
        // Loops rather than iterator chains: the same code, a kilobyte smaller in WebAssembly.
        let mut output_keys = Vec::with_capacity(info.outputs.len());
        for output in info.outputs.iter() {
            output_keys.push(fragments.key(&output.name));
        }
        let (mut category_labels, mut category_members) = (Vec::new(), Vec::new());
        for band in info.categories.iter().flat_map(|c| c.bands.iter()) {
            category_labels.push(fragments.add(|out| json(out, band.label.as_ref())));
            category_members.push(fragments.add(|out| {
                out.extend_from_slice(b",\"category\":");
                json(out, band.name.as_ref());
            }));
        }
        let horizon = fragments.add(|out| {
            if let Some(years) = info.horizon_years {
                out.extend_from_slice(b",\"horizon_years\":");
                json(out, &years);
            }
        });
        let mut factor_keys = Vec::new();
        for factor in info.explanation.iter().flat_map(|e| e.factors.iter()) {
            factor_keys.push(fragments.key(factor));
        }
        let (mut explanation_head, mut explanation_tail) = (Span::default(), Span::default());
        if let Some(explanation) = &info.explanation {
            explanation_head = fragments.add(|out| {
                out.extend_from_slice(b",\"explanation\":{\"outcome\":");
                json(out, info.primary_output());
                out.extend_from_slice(b",\"scale\":");
                json(out, explanation.scale.as_ref());
                out.extend_from_slice(b",\"linear_predictor\":");
            });
            explanation_tail = fragments.add(|out| {
                out.extend_from_slice(b",\"reference_patient\":");
                json(out, explanation.reference_patient.as_ref());
                out.push(b'}');
            });
        }
        AnswerWriter {
            info,
            fragments: fragments.0,
            identity,
            output_keys,
            category_labels,
            category_members,
            horizon,
            factor_keys,
            explanation_head,
            explanation_tail,
        }
    }

    fn fragment(&self, span: Span) -> &[u8] {
        self.fragments.get(span.start..span.end).unwrap_or_default()
    }

    /// The answer for one patient; `status` only in a batch.
    pub fn write(&self, out: &mut Vec<u8>, prediction: &ModelPrediction, status: Option<u16>) {
        let info = self.info;
        let category = prediction
            .category
            .filter(|&i| i < self.category_labels.len());
        out.extend_from_slice(b"{\"prediction\":");
        match category {
            Some(index) => out.extend_from_slice(self.fragment(self.category_labels[index])),
            None => json(out, headline(info, prediction).as_ref()),
        }
        out.extend_from_slice(b",\"confidence\":");
        json(out, &prediction.confidence);
        out.extend_from_slice(self.fragment(self.identity));
        if let Some(risk) = prediction.primary_number() {
            out.extend_from_slice(b",\"risk\":");
            json(out, &risk);
        }
        out.extend_from_slice(b",\"outcomes\":{");
        let mut first = true;
        for (index, output) in info.outputs.iter().enumerate() {
            if output.kind != OutputKind::Probability {
                continue;
            }
            if let Some(value) = prediction.number(index) {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(self.fragment(self.output_keys[index]));
                json(out, &value);
            }
        }
        out.push(b'}');
        if let Some(index) = category {
            out.extend_from_slice(self.fragment(self.category_members[index]));
        }
        out.extend_from_slice(self.fragment(self.horizon));
        // The explanation, and the contributions with it, only when the model explains and
        // gave both numbers of its explanation for this patient.
        let explained = match (prediction.linear_predictor, prediction.reference_value) {
            (Some(lp), Some(reference)) if info.explanation.is_some() => Some((lp, reference)),
            _ => None,
        };
        if let Some((linear_predictor, reference_value)) = explained {
            out.extend_from_slice(b",\"contributions\":{");
            for (index, (key, value)) in self
                .factor_keys
                .iter()
                .zip(&prediction.contributions)
                .enumerate()
            {
                if index > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(self.fragment(*key));
                json(out, value);
            }
            out.push(b'}');
            out.extend_from_slice(self.fragment(self.explanation_head));
            json(out, &linear_predictor);
            out.extend_from_slice(b",\"reference_value\":");
            json(out, &reference_value);
            out.extend_from_slice(self.fragment(self.explanation_tail));
        }
        out.extend_from_slice(b",\"warnings\":[");
        for (index, warning) in prediction.warnings.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"code\":");
            json(out, &warning.code);
            out.extend_from_slice(b",\"message\":");
            json(out, &warning.message);
            out.push(b'}');
        }
        out.push(b']');
        if let Some(status) = status {
            out.extend_from_slice(b",\"status\":");
            json(out, &status);
        }
        out.push(b'}');
    }
}

/// The original contract's `prediction` for a patient without a category: the primary class,
/// or the primary output's name and value.
fn headline<'a>(info: &'a ModelInfo, prediction: &'a ModelPrediction) -> Cow<'a, str> {
    let name = info.primary_output();
    match prediction.outputs.first() {
        Some(Value::Choice(class)) => Cow::Borrowed(class),
        Some(Value::Number(number)) => Cow::Owned(format!("{name} {number}")),
        Some(Value::Boolean(flag)) => Cow::Owned(format!("{name} {flag}")),
        None => Cow::Borrowed(""),
    }
}

/// The body for one patient.
pub fn prediction_body(info: &ModelInfo, prediction: &ModelPrediction) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    AnswerWriter::new(info).write(&mut out, prediction, None);
    out
}

/// The body of a batch: `{"model", "model_version", "count", "succeeded", "failed",
/// "results"}`, each result a prediction (`"status": 200`) or `{"status": 422, "errors"}`.
pub fn batch_body(
    info: &ModelInfo,
    outcomes: &[Result<ModelPrediction, Vec<FieldIssue>>],
) -> Vec<u8> {
    let writer = AnswerWriter::new(info);
    let succeeded = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    // About a kilobyte per answer: one allocation for most batches.
    let mut out = Vec::with_capacity(256 + outcomes.len() * 1024);
    out.extend_from_slice(b"{\"model\":");
    json(&mut out, info.name.as_ref());
    out.extend_from_slice(b",\"model_version\":");
    json(&mut out, info.version.as_ref());
    out.extend_from_slice(b",\"count\":");
    json(&mut out, &outcomes.len());
    out.extend_from_slice(b",\"succeeded\":");
    json(&mut out, &succeeded);
    out.extend_from_slice(b",\"failed\":");
    json(&mut out, &(outcomes.len() - succeeded));
    out.extend_from_slice(b",\"results\":[");
    for (index, outcome) in outcomes.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        match outcome {
            Ok(prediction) => writer.write(&mut out, prediction, Some(200)),
            Err(issues) => {
                out.extend_from_slice(b"{\"status\":422,\"errors\":");
                json(&mut out, issues);
                out.push(b'}');
            }
        }
    }
    out.extend_from_slice(b"]}");
    out
}
