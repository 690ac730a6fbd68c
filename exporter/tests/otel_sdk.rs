//! Payloads produced by the official `opentelemetry-otlp` Rust exporter (the family of the one
//! Spin embeds), over OTLP/HTTP protobuf and JSON, and the exact series that result.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use common::{assert_close, Samples, TestExporter};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

/// One request as the SDK records it: method, route, path, status, duration.
type Request = (&'static str, Option<&'static str>, &'static str, i64, u64);

const REQUESTS: &[Request] = &[
    ("POST", Some("/predict"), "/predict", 200, 1_500_000),
    ("POST", Some("/predict"), "/predict", 200, 2_500_000),
    ("POST", Some("/predict"), "/predict", 422, 500_000),
    (
        "POST",
        Some("/v2/models/..."),
        "/v2/models/prevent-2023/infer",
        200,
        3_000_000,
    ),
    ("GET", Some("/healthz"), "/healthz", 200, 100_000),
    ("GET", None, "/nope", 404, 40_000),
];

/// Records `REQUESTS` as SERVER spans (plus an INTERNAL child-like span) through the SDK and
/// the official OTLP exporter, which sends them to the exporter under test.
fn send_spans(exporter: &TestExporter, protocol: Protocol) {
    let otlp = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(exporter.url("/v1/traces"))
        .with_timeout(Duration::from_secs(10))
        .build()
        .expect("OTLP span exporter");
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(otlp)
        .with_resource(Resource::builder().with_service_name("spin").build())
        .build();
    let tracer = provider.tracer("spin");
    let start = SystemTime::now();
    for (method, route, path, status, nanos) in REQUESTS {
        let mut attributes = vec![
            KeyValue::new("http.request.method", *method),
            KeyValue::new("url.path", *path),
            // The semantic conventions' type (Spin sends a string instead; both are read).
            KeyValue::new("http.response.status_code", *status),
        ];
        if let Some(route) = route {
            attributes.push(KeyValue::new("http.route", *route));
        }
        let mut span = tracer
            .span_builder(format!("{method} {}", route.unwrap_or("")))
            .with_kind(SpanKind::Server)
            .with_start_time(start)
            .with_attributes(attributes)
            .start(&tracer);
        span.end_with_timestamp(start + Duration::from_nanos(*nanos));
    }
    let mut internal = tracer
        .span_builder("execute_wasm_component api")
        .with_kind(SpanKind::Internal)
        .start(&tracer);
    internal.end();
    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");
}

fn expected_requests() -> BTreeMap<String, f64> {
    [
        (
            r#"http_requests_total{handler="/healthz",method="GET",status="2xx"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{handler="/predict",method="POST",status="2xx"}"#,
            2.0,
        ),
        (
            r#"http_requests_total{handler="/predict",method="POST",status="4xx"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{handler="/v2/models/{name}/infer",method="POST",status="2xx"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{handler="none",method="GET",status="4xx"}"#,
            1.0,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn assert_span_series(samples: &Samples) {
    assert_eq!(samples.family("http_requests_total"), expected_requests());
    assert_close(
        samples.get(r#"http_request_duration_seconds_sum{handler="/predict",method="POST"}"#),
        0.0045,
        "/predict latency",
    );
    assert_eq!(
        samples.get(
            r#"http_request_duration_seconds_bucket{handler="/predict",method="POST",le="0.001"}"#
        ),
        1.0
    );
    assert_eq!(
        samples.get(
            r#"http_request_duration_seconds_bucket{handler="/predict",method="POST",le="0.0025"}"#
        ),
        3.0
    );
    assert_eq!(
        samples.get("http_request_duration_highr_seconds_count"),
        6.0
    );
    assert_close(
        samples.get("http_request_duration_highr_seconds_sum"),
        0.00764,
        "all latency",
    );
    assert_eq!(
        samples.get(r#"model_inference_requests_total{model="prevent-2023",outcome="success"}"#),
        1.0
    );
    assert_eq!(
        samples.get(r#"model_inference_duration_seconds_bucket{model="prevent-2023",le="0.0025"}"#),
        0.0
    );
    assert_eq!(
        samples.get(r#"model_inference_duration_seconds_bucket{model="prevent-2023",le="0.005"}"#),
        1.0
    );
    assert_eq!(samples.get("model_exporter_spans_received_total"), 7.0);
}

/// http/protobuf, the SDK's default protocol (and Spin's).
#[test]
fn sdk_protobuf_spans_become_the_http_and_model_families() {
    let exporter = TestExporter::start();
    send_spans(&exporter, Protocol::HttpBinary);
    let samples = exporter.samples();
    assert_span_series(&samples);
    assert!(
        samples.get(r#"model_exporter_otlp_requests_total{signal="traces",code="200"}"#) >= 1.0
    );
}

/// http/json gives exactly the same series.
#[test]
fn sdk_json_spans_become_the_same_series() {
    let exporter = TestExporter::start();
    send_spans(&exporter, Protocol::HttpJson);
    assert_span_series(&exporter.samples());
}

/// Sends Spin-named metrics twice through the SDK with the given temporality.
fn send_metrics(exporter: &TestExporter, protocol: Protocol, temporality: Temporality) {
    let otlp = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(exporter.url("/v1/metrics"))
        .with_temporality(temporality)
        .build()
        .expect("OTLP metric exporter");
    let reader = PeriodicReader::builder(otlp)
        .with_interval(Duration::from_secs(3600))
        .build();
    let provider = SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(Resource::builder().with_service_name("spin").build())
        .build();
    let meter = provider.meter("tracing/tracing-opentelemetry");
    let requests = meter.u64_counter("spin.request_count").build();
    let memory = meter
        .u64_histogram("spin.component_memory_used")
        .with_unit("By")
        .build();
    let attributes = [
        KeyValue::new("app_id", "model-api"),
        KeyValue::new("component_id", "api"),
        KeyValue::new("trigger_type", "http"),
    ];
    requests.add(3, &attributes);
    memory.record(1_000_000, &[KeyValue::new("component_id", "api")]);
    provider.force_flush().expect("flush");
    // Unchanged totals sent again must not count twice (cumulative); nothing new (delta).
    provider.force_flush().expect("flush");
    requests.add(2, &attributes);
    memory.record(3_000_000, &[KeyValue::new("component_id", "api")]);
    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");
}

fn assert_metric_series(samples: &Samples) {
    assert_eq!(
        samples.get(
            r#"spin_request_count_total{app_id="model-api",component_id="api",trigger_type="http"}"#
        ),
        5.0
    );
    assert_eq!(
        samples.get(r#"spin_component_memory_used_bytes_count{component_id="api"}"#),
        2.0
    );
    assert_eq!(
        samples.get(r#"spin_component_memory_used_bytes_sum{component_id="api"}"#),
        4_000_000.0
    );
}

/// Cumulative totals (Spin's temporality), re-sent and grown, are counted once.
#[test]
fn sdk_cumulative_metrics_are_counted_once() {
    let exporter = TestExporter::start();
    send_metrics(&exporter, Protocol::HttpBinary, Temporality::Cumulative);
    assert_metric_series(&exporter.samples());
}

/// Delta data, which Spin does not send but another sender may, adds up to the same totals.
#[test]
fn sdk_delta_metrics_add_up() {
    let exporter = TestExporter::start();
    send_metrics(&exporter, Protocol::HttpJson, Temporality::Delta);
    assert_metric_series(&exporter.samples());
}
