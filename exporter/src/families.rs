//! The service's metric families, declared once, with their buckets and the reason for them:
//! the original service's HTTP families and the model families, fed from Spin's spans. The
//! exporter's own families are in [`crate::self_metrics`]; Spin's metrics are re-exported by
//! [`crate::spin_metrics`], whose names come from Spin.

use std::time::Instant;

use prometheus_client::registry::{Registry, Unit};

use crate::cardinality::CappedFamily;
use crate::cells::{CounterCell, HistogramCell};
use crate::labels::{
    DurationLabels, FeedbackLabels, ModelDurationLabels, ModelRequestLabels, NoLabels,
    RequestLabels,
};
use crate::routes::RouteTable;
use crate::self_metrics::{FamilyName, SelfMetrics};

/// Bucket bounds of `http_request_duration_seconds` and `model_inference_duration_seconds`.
///
/// The original service used 0.1, 0.5 and 1 s, made for a Python process. The WebAssembly
/// service answers in about 50 µs (Spin's router 404) to a few milliseconds (a batch
/// inference), so every request fell in the first bucket and no quantile could be read. These
/// bounds resolve 50 µs to 10 s in 1-2.5-5 steps, and keep the original three bounds so that
/// existing queries on `le="0.1"`, `le="0.5"` and `le="1"` still find their series.
pub const DURATION_BUCKETS: [f64; 17] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];

/// Bucket bounds of `http_request_duration_highr_seconds`: the original service's 21 bounds,
/// unchanged, so its percentile queries and recording rules give comparable answers.
pub const HIGHR_BUCKETS: [f64; 21] = [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0,
    7.5, 10.0, 30.0, 60.0,
];

/// The original service's HTTP families, fed from Spin's `SERVER` spans.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    /// `http_requests_total{handler, method, status}`.
    pub requests: CappedFamily<RequestLabels, CounterCell>,
    /// `http_request_duration_seconds{handler, method}`.
    pub duration: CappedFamily<DurationLabels, HistogramCell>,
    /// `http_request_duration_highr_seconds`.
    pub duration_highr: CappedFamily<NoLabels, HistogramCell>,
}

/// Model-level families, in the style of the model servers (MLServer, Triton, KServe).
#[derive(Debug, Clone)]
pub struct ModelMetrics {
    /// `model_inference_requests_total{model, outcome}`.
    pub requests: CappedFamily<ModelRequestLabels, CounterCell>,
    /// `model_inference_duration_seconds{model}`.
    pub duration: CappedFamily<ModelDurationLabels, HistogramCell>,
}

/// The CDS Hooks families.
#[derive(Debug, Clone)]
pub struct CdsMetrics {
    /// `cds_feedback_total{service, outcome}`.
    pub feedback: CappedFamily<FeedbackLabels, CounterCell>,
}

/// All families, and the registry that exposes them.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// HTTP families.
    pub http: HttpMetrics,
    /// Model families.
    pub model: ModelMetrics,
    /// CDS Hooks families.
    pub cds: CdsMetrics,
    /// Self-metrics.
    pub own: SelfMetrics,
}

impl Metrics {
    /// Declares every family in `registry`, each capped at `max_series` label sets.
    pub fn register(registry: &mut Registry, max_series: usize, routes: &RouteTable) -> Self {
        let own = SelfMetrics::default();
        let http = HttpMetrics {
            requests: CappedFamily::new(
                max_series,
                own.cap_stats(FamilyName::HttpRequests),
                CounterCell::default,
            ),
            duration: CappedFamily::new(
                max_series,
                own.cap_stats(FamilyName::HttpRequestDuration),
                || HistogramCell::new(&DURATION_BUCKETS),
            ),
            duration_highr: CappedFamily::new(
                1,
                own.cap_stats(FamilyName::HttpRequestDurationHighr),
                || HistogramCell::new(&HIGHR_BUCKETS),
            ),
        };
        let model = ModelMetrics {
            requests: CappedFamily::new(
                max_series,
                own.cap_stats(FamilyName::ModelInferenceRequests),
                CounterCell::default,
            ),
            duration: CappedFamily::new(
                max_series,
                own.cap_stats(FamilyName::ModelInferenceDuration),
                || HistogramCell::new(&DURATION_BUCKETS),
            ),
        };
        let cds = CdsMetrics {
            feedback: CappedFamily::new(
                max_series,
                own.cap_stats(FamilyName::CdsFeedback),
                CounterCell::default,
            ),
        };
        // Make the spin family's stats visible from the start too.
        let _ = own.cap_stats(FamilyName::Spin);

        registry.register(
            "http_requests",
            "Total number of requests by method, status and handler",
            http.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Latency by handler and method, from Spin's request spans (end minus start)",
            Unit::Seconds,
            http.duration.clone(),
        );
        registry.register_with_unit(
            "http_request_duration_highr",
            "Latency with many buckets but no API specific labels, for accurate percentiles",
            Unit::Seconds,
            http.duration_highr.clone(),
        );
        registry.register(
            "model_inference_requests",
            "Inference requests by model and outcome (success, client_error, server_error)",
            model.requests.clone(),
        );
        registry.register_with_unit(
            "model_inference_duration",
            "Inference latency by model, from Spin's request spans",
            Unit::Seconds,
            model.duration.clone(),
        );

        registry.register(
            "cds_feedback",
            "CDS Hooks feedback by service (model) and outcome (accepted, overridden)",
            cds.feedback.clone(),
        );

        own.register(registry, routes);

        Metrics {
            http,
            model,
            cds,
            own,
        }
    }

    /// Expires the series of every capped family last updated before `deadline`.
    pub fn expire(&self, deadline: Instant) -> usize {
        self.http.requests.expire(deadline)
            + self.http.duration.expire(deadline)
            + self.http.duration_highr.expire(deadline)
            + self.model.requests.expire(deadline)
            + self.model.duration.expire(deadline)
            + self.cds.feedback.expire(deadline)
    }
}
