//! Spin's request spans to the HTTP and model families (the spanmetrics idea: a call counter
//! and a duration histogram over a few fixed dimensions).
//!
//! Spin emits one `SERVER` span per request with `http.request.method`, `http.route` (absent on
//! a router 404), `url.path` and `http.response.status_code` (a string). Duration is end − start.
//! Other spans (Spin's `execute_wasm_component`) count only for the model their component
//! reports having served ([`crate::served_model`]), which is how a `/predict` request, whose
//! model is named in the body, reaches the model families. A `SERVER` span
//! without a method is not an HTTP request and is ignored too; an HTTP one without a usable
//! status code is rejected (reported to the sender as partial success), since a request of
//! unknown outcome cannot be counted honestly.
//!
//! A batch is aggregated first and applied to each family under one lock.

use std::collections::HashMap;
use std::time::Instant;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::cds_feedback::record_feedback;
use crate::cells::HistogramCell;
use crate::families::{Metrics, DURATION_BUCKETS, HIGHR_BUCKETS};
use crate::labels::{
    DurationLabels, Method, ModelDurationLabels, ModelRequestLabels, NoLabels, Outcome,
    RequestLabels, StatusClass,
};
use crate::routes::{HandlerRef, ModelRef, RouteTable};
use crate::served_model::{reported_model, span_id, SpanId, Waiting};

/// What became of a batch of spans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanReport {
    /// Spans in the request.
    pub spans: u64,
    /// HTTP `SERVER` spans turned into metrics.
    pub recorded: u64,
    /// HTTP `SERVER` spans refused for want of a valid status code.
    pub rejected: u64,
}

/// The attributes of a span that matter, borrowed from the decoded request.
#[derive(Debug, Default)]
struct HttpAttributes<'a> {
    method: Option<&'a str>,
    route: Option<&'a str>,
    path: Option<&'a str>,
    status: Option<StatusClass>,
}

impl<'a> HttpAttributes<'a> {
    /// Reads the current semantic-convention names, and the older ones (`http.method`,
    /// `http.target`, `http.status_code`) some senders still use.
    fn of(span: &'a Span) -> Self {
        let mut a = HttpAttributes::default();
        for kv in &span.attributes {
            let Some(value) = kv.value.as_ref().and_then(|v| v.value.as_ref()) else {
                continue;
            };
            match (kv.key.as_str(), value) {
                ("http.request.method" | "http.method", Value::StringValue(s)) => {
                    a.method = Some(s)
                }
                ("http.route", Value::StringValue(s)) => a.route = Some(s),
                ("url.path", Value::StringValue(s)) => a.path = Some(s),
                ("http.target", Value::StringValue(s)) if a.path.is_none() => {
                    a.path = s.split('?').next()
                }
                ("http.response.status_code" | "http.status_code", Value::StringValue(s)) => {
                    a.status = StatusClass::from_text(s)
                }
                ("http.response.status_code" | "http.status_code", Value::IntValue(i)) => {
                    a.status = StatusClass::from_code(*i)
                }
                _ => {}
            }
        }
        a
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RequestKey<'a> {
    handler: HandlerRef<'a>,
    method: Method,
    status: StatusClass,
}

#[derive(Debug)]
struct Aggregate {
    count: u64,
    durations: HistogramCell,
}

impl Aggregate {
    fn new() -> Self {
        Aggregate {
            count: 0,
            durations: HistogramCell::new(&DURATION_BUCKETS),
        }
    }

    fn add(&mut self, seconds: f64) {
        self.count += 1;
        self.durations.observe(seconds);
    }
}

/// A span's duration in seconds; an end before the start counts as zero (as the spanmetrics
/// connector does) rather than a negative latency.
fn duration_seconds(span: &Span) -> f64 {
    span.end_time_unix_nano
        .saturating_sub(span.start_time_unix_nano) as f64
        / 1e9
}

/// Records every HTTP `SERVER` span of a request into the HTTP and model families; `waiting`
/// holds the models reported by children of earlier batches whose parent had not arrived.
pub fn record_spans(
    request: &ExportTraceServiceRequest,
    routes: &RouteTable,
    metrics: &Metrics,
    waiting: &Waiting<ModelRef>,
    now: Instant,
) -> SpanReport {
    let mut report = SpanReport::default();
    let mut requests: HashMap<RequestKey<'_>, Aggregate> = HashMap::new();
    let mut models: HashMap<(ModelRef, Outcome), Aggregate> = HashMap::new();
    let mut highr = HistogramCell::new(&HIGHR_BUCKETS);

    let spans = || {
        request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
    };
    // The models components reported serving, by the id of the request span they served.
    let mut reported: HashMap<SpanId, ModelRef> = spans()
        .filter_map(reported_model)
        .map(|(parent, name)| (parent, routes.model_ref(name)))
        .collect();
    for span in spans() {
        report.spans += 1;
        if span.kind != SpanKind::Server as i32 {
            continue;
        }
        let attributes = HttpAttributes::of(span);
        let Some(method) = attributes.method else {
            continue;
        };
        let Some(status) = attributes.status else {
            report.rejected += 1;
            continue;
        };
        report.recorded += 1;
        let seconds = duration_seconds(span);
        let resolved = routes.resolve(attributes.route, attributes.path);
        requests
            .entry(RequestKey {
                handler: resolved.handler,
                method: Method::parse(method),
                status,
            })
            .or_insert_with(Aggregate::new)
            .add(seconds);
        highr.observe(seconds);
        // The path names the model (inference), or the component reported it (`/predict`).
        let from_component = || {
            let id = span_id(span)?;
            reported.remove(&id).or_else(|| waiting.take(&id))
        };
        if let Some(model) = resolved.model.or_else(from_component) {
            models
                .entry((model, status.outcome()))
                .or_insert_with(Aggregate::new)
                .add(seconds);
        }
    }
    // Children whose request span is not in this batch: it comes in a later one.
    waiting.keep(reported, now);
    record_feedback(spans(), routes, metrics, now);
    if report.recorded == 0 {
        return report;
    }

    let http = &metrics.http;
    http.requests.batch(now, |b| {
        for (key, agg) in &requests {
            let labels = RequestLabels {
                handler: routes.handler_label(key.handler),
                method: key.method,
                status: key.status,
            };
            b.update(labels, agg.count, |c| c.inc_by(agg.count));
        }
    });
    http.duration.batch(now, |b| {
        for (key, agg) in &requests {
            let labels = DurationLabels {
                handler: routes.handler_label(key.handler),
                method: key.method,
            };
            b.update(labels, agg.count, |h| h.merge(&agg.durations));
        }
    });
    http.duration_highr.batch(now, |b| {
        b.update(NoLabels {}, highr.count(), |h| h.merge(&highr));
    });
    if !models.is_empty() {
        metrics.model.requests.batch(now, |b| {
            for ((model, outcome), agg) in &models {
                let labels = ModelRequestLabels {
                    model: routes.model_label(*model),
                    outcome: *outcome,
                };
                b.update(labels, agg.count, |c| c.inc_by(agg.count));
            }
        });
        metrics.model.duration.batch(now, |b| {
            for ((model, _), agg) in &models {
                let labels = ModelDurationLabels {
                    model: routes.model_label(*model),
                };
                b.update(labels, agg.count, |h| h.merge(&agg.durations));
            }
        });
    }
    report
}
