//! The exporter's own families (`model_exporter_*`): the telemetry path counts itself, so an
//! operator can tell "no traffic" from "no telemetry" and see what was refused and why.

use std::fmt::Write as _;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::cardinality::CapStats;
use crate::labels::Handler;
use crate::routes::{HandlerKind, RouteTable};

/// Which capped family a self-metric is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FamilyName {
    /// `http_requests_total`.
    HttpRequests,
    /// `http_request_duration_seconds`.
    HttpRequestDuration,
    /// `http_request_duration_highr_seconds`.
    HttpRequestDurationHighr,
    /// `model_inference_requests_total`.
    ModelInferenceRequests,
    /// `model_inference_duration_seconds`.
    ModelInferenceDuration,
    /// `cds_feedback_total`.
    CdsFeedback,
    /// Every re-exported `spin_*` family (they share one cap).
    Spin,
}

impl EncodeLabelValue for FamilyName {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(match self {
            FamilyName::HttpRequests => "http_requests_total",
            FamilyName::HttpRequestDuration => "http_request_duration_seconds",
            FamilyName::HttpRequestDurationHighr => "http_request_duration_highr_seconds",
            FamilyName::ModelInferenceRequests => "model_inference_requests_total",
            FamilyName::ModelInferenceDuration => "model_inference_duration_seconds",
            FamilyName::CdsFeedback => "cds_feedback_total",
            FamilyName::Spin => "spin",
        })
    }
}

/// The OTLP signal of a request, by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// `/v1/traces`.
    Traces,
    /// `/v1/metrics`.
    Metrics,
    /// `/v1/logs`.
    Logs,
}

impl Signal {
    /// The label value: OTLP's own name for the signal.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }
}

impl EncodeLabelValue for Signal {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// Why an OTLP request, or items in it, were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    // Whole requests (answered 4xx).
    /// Neither protobuf nor JSON.
    UnsupportedContentType,
    /// Neither identity nor gzip.
    UnsupportedContentEncoding,
    /// Larger than the body cap, before or after decompression.
    BodyTooLarge,
    /// The body did not arrive in time.
    BodyTimeout,
    /// The connection failed while reading the body.
    BodyUnreadable,
    /// Not valid gzip.
    MalformedGzip,
    /// Not a valid protobuf message of the signal's type.
    MalformedProtobuf,
    /// Not valid OTLP JSON.
    MalformedJson,
    // Items inside an accepted request (answered 200 with partial_success).
    /// An HTTP server span without a usable status code.
    InvalidStatusCode,
    /// A metric not named `spin.*`.
    NotASpinMetric,
    /// A data point with no value, a non-finite or negative count, or no temporality.
    InvalidDataPoint,
    /// A metric whose name another family of a different type already uses.
    TypeConflict,
    /// A data point with more attributes than allowed.
    TooManyAttributes,
    /// More distinct metric names than allowed.
    TooManyMetricNames,
}

impl Reason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnsupportedContentType => "unsupported_content_type",
            Reason::UnsupportedContentEncoding => "unsupported_content_encoding",
            Reason::BodyTooLarge => "body_too_large",
            Reason::BodyTimeout => "body_timeout",
            Reason::BodyUnreadable => "body_unreadable",
            Reason::MalformedGzip => "malformed_gzip",
            Reason::MalformedProtobuf => "malformed_protobuf",
            Reason::MalformedJson => "malformed_json",
            Reason::InvalidStatusCode => "invalid_status_code",
            Reason::NotASpinMetric => "not_a_spin_metric",
            Reason::InvalidDataPoint => "invalid_data_point",
            Reason::TypeConflict => "type_conflict",
            Reason::TooManyAttributes => "too_many_attributes",
            Reason::TooManyMetricNames => "too_many_metric_names",
        }
    }
}

impl EncodeLabelValue for Reason {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
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
    pub handler: Handler,
    /// Its kind, for dashboards to leave probes out of traffic panels.
    pub kind: HandlerKind,
}

/// The exporter's own families.
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

    /// Declares the self-metrics under `model_exporter_`, with the handler labels `routes` can
    /// produce in `model_exporter_handler_info`.
    pub fn register(&self, registry: &mut Registry, routes: &RouteTable) {
        let sub = registry.sub_registry_with_prefix("model_exporter");
        sub.register(
            "otlp_requests",
            "OTLP export requests (batches) received, by signal and HTTP status answered",
            self.otlp_requests.clone(),
        );
        sub.register(
            "spans_received",
            "Spans decoded from accepted OTLP requests",
            self.spans_received.clone(),
        );
        sub.register(
            "data_points_received",
            "Metric data points decoded from accepted OTLP requests",
            self.data_points_received.clone(),
        );
        sub.register(
            "log_records_dropped",
            "Log records accepted and dropped (logs are not turned into metrics)",
            self.log_records_dropped.clone(),
        );
        sub.register(
            "decode_failures",
            "OTLP requests refused whole (4xx), by signal and reason",
            self.decode_failures.clone(),
        );
        sub.register(
            "items_rejected",
            "Spans or data points refused inside accepted requests (reported as partial success)",
            self.items_rejected.clone(),
        );
        sub.register(
            "series_dropped",
            "Observations whose new label set was past the series cap, folded into the overflow series",
            self.series_dropped.clone(),
        );
        sub.register(
            "series_expired",
            "Series removed after receiving no data for the expiry period",
            self.series_expired.clone(),
        );
        sub.register(
            "series",
            "Series currently held, by family (the overflow series included)",
            self.series.clone(),
        );

        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        sub.register("build_info", "The exporter's version (value 1)", build_info);

        let handler_info = Family::<HandlerInfoLabels, Gauge>::default();
        for (handler, kind) in routes.handler_labels() {
            handler_info
                .get_or_create(&HandlerInfoLabels { handler, kind })
                .set(1);
        }
        sub.register(
            "handler_info",
            "Known handler labels and their kind (health, metrics, inference, docs, api, unmatched), to filter probes out of traffic panels",
            handler_info,
        );
    }
}
