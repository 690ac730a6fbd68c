//! What clinicians did with the CDS Hooks cards: `cds_feedback_total{service, outcome}`.
//!
//! The clinical component writes one stdout line per feedback item (`crates/clinical`,
//! `cds_hooks/feedback.rs`): [`FEEDBACK_PREFIX`], then `service=<model> outcome=<accepted |
//! overridden>`. Spin turns each line into an `app_log` event on a span of the request; every
//! such event of a batch is counted here, whatever span carries it (no join with the request
//! span is needed: the line says everything counted). The service becomes a label only through
//! the route table's allowlist of models, and the outcome only as one of two words.

use std::collections::HashMap;
use std::time::Instant;

use opentelemetry_proto::tonic::trace::v1::Span;

use crate::families::Metrics;
use crate::labels::{FeedbackLabels, FeedbackOutcome};
use crate::routes::{ModelRef, RouteTable};
use crate::served_model::app_log_lines;

/// The start of the clinical component's feedback line (`tests/spin/test_cds_hooks.py` checks
/// the two agree through a real Spin).
pub const FEEDBACK_PREFIX: &str = "model-api cds feedback ";

/// The service and outcome a line reports, if it is a feedback line.
pub fn feedback_of_line(line: &str) -> Option<(&str, FeedbackOutcome)> {
    let rest = line.strip_prefix(FEEDBACK_PREFIX)?.trim_end();
    let (service, outcome) = rest.split_once(' ')?;
    let service = service.strip_prefix("service=")?;
    let outcome = match outcome.strip_prefix("outcome=")? {
        "accepted" => FeedbackOutcome::Accepted,
        "overridden" => FeedbackOutcome::Overridden,
        _ => return None,
    };
    (!service.is_empty()).then_some((service, outcome))
}

/// Counts the feedback lines of `spans` into `cds_feedback_total`.
pub fn record_feedback<'s>(
    spans: impl Iterator<Item = &'s Span>,
    routes: &RouteTable,
    metrics: &Metrics,
    now: Instant,
) {
    let mut counts: HashMap<(ModelRef, FeedbackOutcome), u64> = HashMap::new();
    let lines = spans.flat_map(app_log_lines);
    for (service, outcome) in lines.filter_map(feedback_of_line) {
        *counts
            .entry((routes.model_ref(service), outcome))
            .or_default() += 1;
    }
    if counts.is_empty() {
        return;
    }
    metrics.cds.feedback.batch(now, |b| {
        for ((service, outcome), count) in &counts {
            let labels = FeedbackLabels {
                service: routes.model_label(*service),
                outcome: *outcome,
            };
            b.update(labels, *count, |c| c.inc_by(*count));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feedback_line_gives_its_service_and_one_of_two_outcomes() {
        assert_eq!(
            feedback_of_line("model-api cds feedback service=pce-2013 outcome=accepted\n"),
            Some(("pce-2013", FeedbackOutcome::Accepted))
        );
        assert_eq!(
            feedback_of_line("model-api cds feedback service=kfre-2016 outcome=overridden"),
            Some(("kfre-2016", FeedbackOutcome::Overridden))
        );
        for other in [
            "model-api cds feedback service=pce-2013 outcome=ignored",
            "model-api cds feedback service= outcome=accepted",
            "model-api cds feedback outcome=accepted",
            "model-api served model=pce-2013",
            "cds feedback service=pce-2013 outcome=accepted",
        ] {
            assert_eq!(feedback_of_line(other), None, "{other}");
        }
    }
}
