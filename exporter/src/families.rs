//! Every metric family the exporter exposes, declared once, with its buckets and the reason for
//! them. Spin's own metrics are re-exported by [`crate::spin_metrics`], whose names come from
//! Spin.

use std::time::Instant;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::cardinality::{CapStats, CappedFamily, CounterCell, HistogramCell};
use crate::labels::{
    DurationLabels, ModelDurationLabels, ModelRequestLabels, NoLabels, RequestLabels,
};
use crate::routes::RouteTable;

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

/// Which capped family a self-metric is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum FamilyName {
    HttpRequests,
    HttpRequestDuration,
    HttpRequestDurationHighr,
    ModelInferenceRequests,
    ModelInferenceDuration,
    Spin,
}

impl EncodeLabelValue for FamilyName {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        use std::fmt::Write as _;
        encoder.write_str(match self {
            FamilyName::HttpRequests => "http_requests_total",
            FamilyName::HttpRequestDuration => "http_request_duration_seconds",
            FamilyName::HttpRequestDurationHighr => "http_request_duration_highr_seconds",
            FamilyName::ModelInferenceRequests => "model_inference_requests_total",
            FamilyName::ModelInferenceDuration => "model_inference_duration_seconds",
            FamilyName::Spin => "spin",
        })
    }
}

/// The OTLP signal of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(non_camel_case_types, missing_docs)]
pub enum Signal {
    traces,
    metrics,
    logs,
}

/// Why an OTLP request, or items in it, were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EncodeLabelValue)]
#[allow(non_camel_case_types, missing_docs)]
pub enum Reason {
    // Whole requests (answered 4xx).
    unsupported_content_type,
    unsupported_content_encoding,
    body_too_large,
    body_timeout,
    body_unreadable,
    malformed_gzip,
    malformed_protobuf,
    malformed_json,
    // Items inside an accepted request (answered 200 with partial_success).
    invalid_status_code,
    not_a_spin_metric,
    invalid_data_point,
    type_conflict,
    too_many_attributes,
    too_many_metric_names,
}

/// `model_exporter_otlp_requests_total{signal, code}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OtlpRequestLabels {
    /// The signal (from the path).
    pub signal: Signal,
    /// The HTTP status code answered.
    pub code: u16,
}

/// Labels naming a signal and a refusal reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ReasonLabels {
    /// The signal.
    pub signal: Signal,
    /// Why.
    pub reason: Reason,
}

/// Labels naming a capped family.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct FamilyLabels {
    /// The family, by its exposed name.
    pub family: FamilyName,
}

/// `model_exporter_build_info{version}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct BuildLabels {
    /// The crate version.
    pub version: &'static str,
}

/// `model_exporter_handler_info{handler, kind}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct HandlerInfoLabels {
    /// A handler label the exporter can produce.
    pub handler: String,
    /// Its kind: `health`, `metrics`, `inference`, `docs`, `api` or `unmatched`.
    pub kind: &'static str,
}

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

/// The exporter's own families (`model_exporter_*`): the telemetry path counts itself.
#[derive(Debug, Clone, Default)]
pub struct SelfMetrics {
    /// OTLP requests by signal and answer.
    pub otlp_requests: Family<OtlpRequestLabels, Counter>,
    /// Spans decoded from accepted requests.
    pub spans_received: Counter,
    /// Metric data points decoded from accepted requests.
    pub data_points_received: Counter,
    /// Log records accepted and dropped (Spin's app stdout: not metrics).
    pub log_records_dropped: Counter,
    /// Whole requests refused, by reason.
    pub decode_failures: Family<ReasonLabels, Counter>,
    /// Items refused inside accepted requests, by reason.
    pub items_rejected: Family<ReasonLabels, Counter>,
    /// Observations folded into overflow series.
    pub series_dropped: Family<FamilyLabels, Counter>,
    /// Series expired.
    pub series_expired: Family<FamilyLabels, Counter>,
    /// Series held.
    pub series: Family<FamilyLabels, Gauge>,
}

impl SelfMetrics {
    /// The handles a capped family reports into.
    pub fn cap_stats(&self, family: FamilyName) -> CapStats {
        let labels = FamilyLabels { family };
        CapStats {
            dropped: self.series_dropped.get_or_create(&labels).clone(),
            expired: self.series_expired.get_or_create(&labels).clone(),
            series: self.series.get_or_create(&labels).clone(),
        }
    }

    /// Counts one refused request.
    pub fn decode_failure(&self, signal: Signal, reason: Reason) {
        self.decode_failures
            .get_or_create(&ReasonLabels { signal, reason })
            .inc();
    }

    /// Counts items refused inside an accepted request.
    pub fn rejected(&self, signal: Signal, reason: Reason, n: u64) {
        if n > 0 {
            self.items_rejected
                .get_or_create(&ReasonLabels { signal, reason })
                .inc_by(n);
        }
    }
}

/// All families, and the registry that exposes them.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// HTTP families.
    pub http: HttpMetrics,
    /// Model families.
    pub model: ModelMetrics,
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

        let sub = registry.sub_registry_with_prefix("model_exporter");
        sub.register(
            "otlp_requests",
            "OTLP export requests (batches) received, by signal and HTTP status answered",
            own.otlp_requests.clone(),
        );
        sub.register(
            "spans_received",
            "Spans decoded from accepted OTLP requests",
            own.spans_received.clone(),
        );
        sub.register(
            "data_points_received",
            "Metric data points decoded from accepted OTLP requests",
            own.data_points_received.clone(),
        );
        sub.register(
            "log_records_dropped",
            "Log records accepted and dropped (logs are not turned into metrics)",
            own.log_records_dropped.clone(),
        );
        sub.register(
            "decode_failures",
            "OTLP requests refused whole (4xx), by signal and reason",
            own.decode_failures.clone(),
        );
        sub.register(
            "items_rejected",
            "Spans or data points refused inside accepted requests (reported as partial success)",
            own.items_rejected.clone(),
        );
        sub.register(
            "series_dropped",
            "Observations whose new label set was past the series cap, folded into the overflow series",
            own.series_dropped.clone(),
        );
        sub.register(
            "series_expired",
            "Series removed after receiving no data for the expiry period",
            own.series_expired.clone(),
        );
        sub.register(
            "series",
            "Series currently held, by family (the overflow series included)",
            own.series.clone(),
        );

        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        sub.register("build_info", "The exporter's version (value 1)", build_info);

        let handler_info = Family::<HandlerInfoLabels, Gauge>::default();
        let mut seen = std::collections::HashSet::new();
        for template in routes.templates() {
            let handler = template.label().as_str().to_owned();
            if seen.insert(handler.clone()) {
                handler_info
                    .get_or_create(&HandlerInfoLabels {
                        handler,
                        kind: template.kind().as_str(),
                    })
                    .set(1);
            }
        }
        handler_info
            .get_or_create(&HandlerInfoLabels {
                handler: "none".to_owned(),
                kind: "unmatched",
            })
            .set(1);
        sub.register(
            "handler_info",
            "Known handler labels and their kind (health, metrics, inference, docs, api), to filter probes out of traffic panels",
            handler_info,
        );

        Metrics { http, model, own }
    }

    /// Expires the series of every capped family last updated before `deadline`.
    pub fn expire(&self, deadline: Instant) -> usize {
        self.http.requests.expire(deadline)
            + self.http.duration.expire(deadline)
            + self.http.duration_highr.expire(deadline)
            + self.model.requests.expire(deadline)
            + self.model.duration.expire(deadline)
    }
}
