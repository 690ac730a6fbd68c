//! The real OTLP bodies Spin 3.6.3 sent (tests/data/spin-otlp/ at the repository's root) through the exporter's
//! HTTP receiver, and the exact series that come out on /metrics.
//!
//! Expected values are worked out independently from the fixtures' JSON renderings (made by the
//! Python protobuf library), so the protobuf decoding is checked too.

mod common;

use std::collections::BTreeMap;

use common::{
    assert_close, fixture, spin_request, spin_span, string_attribute, Samples, Settings,
    TestExporter,
};
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::Value;

const PROTOBUF: &str = "application/x-protobuf";

/// One SERVER span of a fixture, as the Python decoder saw it.
struct JsonSpan {
    method: String,
    route: Option<String>,
    path: String,
    status: u16,
    seconds: f64,
}

fn json_server_spans(path: &str) -> Vec<JsonSpan> {
    let json: Value = serde_json::from_slice(&fixture(path)).expect("fixture JSON");
    let mut out = Vec::new();
    for rs in json["decoded"]["resource_spans"]
        .as_array()
        .expect("resource_spans")
    {
        for ss in rs["scope_spans"].as_array().expect("scope_spans") {
            for span in ss["spans"].as_array().expect("spans") {
                if span["kind"] != "SPAN_KIND_SERVER" {
                    continue;
                }
                let attr = |key: &str| {
                    span["attributes"]
                        .as_array()
                        .and_then(|a| a.iter().find(|kv| kv["key"] == key))
                        .and_then(|kv| kv["value"]["string_value"].as_str())
                        .map(str::to_owned)
                };
                let nanos = |key: &str| -> u64 {
                    span[key]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .expect("timestamp")
                };
                out.push(JsonSpan {
                    method: attr("http.request.method").expect("method"),
                    route: attr("http.route"),
                    path: attr("url.path").expect("path"),
                    status: attr("http.response.status_code")
                        .and_then(|s| s.parse().ok())
                        .expect("status"),
                    seconds: (nanos("end_time_unix_nano") - nanos("start_time_unix_nano")) as f64
                        / 1e9,
                });
            }
        }
    }
    out
}

fn class(status: u16) -> &'static str {
    match status / 100 {
        2 => "2xx",
        4 => "4xx",
        5 => "5xx",
        _ => "other",
    }
}

/// With the service's templates, the fixture app's routes: `/echo` is exact and names itself;
/// `/hello/...` is a wildcard whose paths match no template; router 404s have no route.
fn default_handler(span: &JsonSpan) -> &'static str {
    match span.route.as_deref() {
        Some("/echo") => "/echo",
        _ => "none",
    }
}

/// Checks every http_* series against the spans, given how each is labelled.
fn assert_http_families(
    samples: &Samples,
    spans: &[JsonSpan],
    handler: impl Fn(&JsonSpan) -> String,
) {
    let mut requests: BTreeMap<String, f64> = BTreeMap::new();
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    let mut counts: BTreeMap<String, f64> = BTreeMap::new();
    for span in spans {
        let h = handler(span);
        *requests
            .entry(format!(
                "http_requests_total{{handler=\"{h}\",method=\"{}\",status=\"{}\"}}",
                span.method,
                class(span.status)
            ))
            .or_default() += 1.0;
        let key = format!("{{handler=\"{h}\",method=\"{}\"}}", span.method);
        *sums.entry(key.clone()).or_default() += span.seconds;
        *counts.entry(key).or_default() += 1.0;
    }
    assert_eq!(samples.family("http_requests_total"), requests);
    for (labels, sum) in &sums {
        assert_close(
            samples.get(&format!("http_request_duration_seconds_sum{labels}")),
            *sum,
            labels,
        );
        assert_eq!(
            samples.get(&format!("http_request_duration_seconds_count{labels}")),
            counts[labels]
        );
    }
    assert_eq!(
        samples.family("http_request_duration_seconds_count").len(),
        sums.len()
    );
    let total: f64 = spans.iter().map(|s| s.seconds).sum();
    assert_close(
        samples.get("http_request_duration_highr_seconds_sum"),
        total,
        "highr sum",
    );
    assert_eq!(
        samples.get("http_request_duration_highr_seconds_count"),
        spans.len() as f64
    );
}

/// Spin's run1 batch (39 spans: 21 SERVER, 18 INTERNAL) becomes the original service's three
/// families, with the counts the capture's requests.txt lists.
#[test]
fn spin_trace_batch_becomes_the_original_http_families() {
    let exporter = TestExporter::start();
    let (status, content_type, body) = exporter.post(
        "/v1/traces",
        PROTOBUF,
        fixture("run1-default-env/004-POST-v1_traces.bin"),
    );
    assert_eq!((status, content_type.as_str()), (200, PROTOBUF));
    assert!(body.is_empty(), "a full success has no partial_success");

    let samples = exporter.samples();
    // requests.txt: 11 GETs under /hello/... answered 200, 3 router 404s and 2 component 404s,
    // a component 500 and a trap, 2 POSTs and a GET to /echo.
    let expected: BTreeMap<String, f64> = [
        (
            r#"http_requests_total{handler="/echo",method="GET",status="2xx"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{handler="/echo",method="POST",status="2xx"}"#,
            2.0,
        ),
        (
            r#"http_requests_total{handler="none",method="GET",status="2xx"}"#,
            11.0,
        ),
        (
            r#"http_requests_total{handler="none",method="GET",status="4xx"}"#,
            5.0,
        ),
        (
            r#"http_requests_total{handler="none",method="GET",status="5xx"}"#,
            2.0,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(samples.family("http_requests_total"), expected);

    let spans = json_server_spans("run1-default-env/004-POST-v1_traces.json");
    assert_eq!(spans.len(), 21);
    assert_http_families(&samples, &spans, |s| default_handler(s).to_owned());

    // The three router 404s took 41.5, 45.3 and 50.5 µs: sub-millisecond buckets tell them
    // apart from the component runs (0.6 ms and up).
    assert_eq!(
        samples
            .get(r#"http_request_duration_seconds_bucket{handler="none",method="GET",le="5e-05"}"#),
        2.0
    );
    assert_eq!(
        samples.get(
            r#"http_request_duration_seconds_bucket{handler="none",method="GET",le="0.0001"}"#
        ),
        3.0
    );
    assert_eq!(
        samples.get(
            r#"http_request_duration_seconds_bucket{handler="none",method="GET",le="0.0005"}"#
        ),
        3.0
    );
    assert_eq!(
        samples
            .get(r#"http_request_duration_seconds_bucket{handler="none",method="GET",le="0.001"}"#),
        17.0
    );
    assert_eq!(
        samples.get(
            r#"http_request_duration_seconds_bucket{handler="none",method="GET",le="0.0025"}"#
        ),
        18.0
    );
    // Every request took under 10 ms: the original highr histogram's first bucket holds all.
    assert_eq!(
        samples.get(r#"http_request_duration_highr_seconds_bucket{le="0.01"}"#),
        21.0
    );
    // No inference path was requested, so there is no model series.
    assert!(samples.family("model_inference_requests_total").is_empty());
    assert_eq!(samples.get("model_exporter_spans_received_total"), 39.0);
    assert_eq!(
        samples.get(r#"model_exporter_otlp_requests_total{signal="traces",code="200"}"#),
        1.0
    );
}

/// Templates for the fixture app's own paths name its wildcard endpoints; router 404s stay
/// "none" even though their paths would match nothing anyway.
#[test]
fn templates_name_the_paths_under_a_wildcard_route() {
    let exporter = TestExporter::with(Settings {
        templates: vec!["/hello".into(), "/hello/{name}".into(), "/echo".into()],
        ..Settings::default()
    });
    exporter.post(
        "/v1/traces",
        PROTOBUF,
        fixture("run1-default-env/004-POST-v1_traces.bin"),
    );
    let samples = exporter.samples();
    let spans = json_server_spans("run1-default-env/004-POST-v1_traces.json");
    assert_http_families(&samples, &spans, |s| {
        match (s.route.as_deref(), s.path.as_str()) {
            (None, _) => "none".to_owned(),
            (Some(_), "/hello") => "/hello".to_owned(),
            (Some(_), "/echo") => "/echo".to_owned(),
            (Some(_), _) => "/hello/{name}".to_owned(),
        }
    });
    assert_eq!(
        samples.get(r#"http_requests_total{handler="/hello/{name}",method="GET",status="2xx"}"#),
        8.0
    );
    assert_eq!(
        samples.get(r#"http_requests_total{handler="/hello/{name}",method="GET",status="5xx"}"#),
        2.0
    );
    assert_eq!(
        samples.get(r#"http_requests_total{handler="none",method="GET",status="4xx"}"#),
        3.0
    );
}

/// Both runs' traces add up; run2's resource attributes (service name, pod) change no label.
#[test]
fn a_second_spin_process_adds_to_the_same_series() {
    let exporter = TestExporter::start();
    for path in [
        "run1-default-env/004-POST-v1_traces.bin",
        "run2-resource-env/004-POST-v1_traces.bin",
    ] {
        assert_eq!(exporter.post("/v1/traces", PROTOBUF, fixture(path)).0, 200);
    }
    let samples = exporter.samples();
    let mut spans = json_server_spans("run1-default-env/004-POST-v1_traces.json");
    spans.extend(json_server_spans(
        "run2-resource-env/004-POST-v1_traces.json",
    ));
    assert_eq!(spans.len(), 25);
    assert_http_families(&samples, &spans, |s| default_handler(s).to_owned());
}

fn metric_files(run: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(common::fixture_dir().join(run))
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("v1_metrics.bin"))
        .map(|n| format!("{run}/{n}"))
        .collect();
    files.sort();
    files
}

/// Spin re-sends the same cumulative totals every interval: they are counted once. A restarted
/// Spin (run2: new start time, smaller totals) adds its own totals instead of going negative.
#[test]
fn spin_metrics_are_counted_once_and_survive_a_restart() {
    let exporter = TestExporter::start();
    let run1 = metric_files("run1-default-env");
    assert_eq!(run1.len(), 6);
    for path in &run1 {
        let (status, _, body) = exporter.post("/v1/metrics", PROTOBUF, fixture(path));
        assert_eq!(status, 200);
        assert!(body.is_empty(), "Spin's metrics are all accepted");
    }
    let samples = exporter.samples();
    let expected: BTreeMap<String, f64> = [
        (r#"spin_request_count_total{app_id="otel-capture",component_id="echo",trigger_type="http"}"#, 3.0),
        (r#"spin_request_count_total{app_id="otel-capture",component_id="hello",trigger_type="http"}"#, 15.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(samples.family("spin_request_count_total"), expected);
    assert_eq!(
        samples.get(r#"spin_component_memory_used_bytes_count{component_id="hello"}"#),
        15.0
    );
    assert_eq!(
        samples.get(r#"spin_component_memory_used_bytes_sum{component_id="hello"}"#),
        16711680.0
    );
    assert_eq!(
        samples.get(r#"spin_component_memory_used_on_init_bytes_sum{component_id="echo"}"#),
        3342336.0
    );
    assert_close(
        samples.get(r#"spin_component_cpu_time_seconds_sum{component_id="hello"}"#),
        0.00111872,
        "cpu sum",
    );
    assert_eq!(
        samples.get(r#"spin_component_memory_used_bytes_bucket{component_id="hello",le="+Inf"}"#),
        15.0
    );
    assert_eq!(
        samples.get("model_exporter_data_points_received_total"),
        48.0
    );

    for path in metric_files("run2-resource-env") {
        assert_eq!(
            exporter.post("/v1/metrics", PROTOBUF, fixture(&path)).0,
            200
        );
    }
    let samples = exporter.samples();
    assert_eq!(
        samples.get(r#"spin_request_count_total{app_id="otel-capture",component_id="echo",trigger_type="http"}"#),
        4.0
    );
    assert_eq!(
        samples.get(r#"spin_request_count_total{app_id="otel-capture",component_id="hello",trigger_type="http"}"#),
        17.0
    );
    assert_eq!(
        samples.get(r#"spin_component_memory_used_bytes_count{component_id="hello"}"#),
        17.0
    );
    assert_eq!(
        samples.get(r#"spin_component_memory_used_bytes_sum{component_id="hello"}"#),
        16711680.0 + 2228224.0
    );
    assert_eq!(samples.family("spin_request_count_total").len(), 2);
}

/// Spin's logs (the app's stdout) are accepted with a 200 and dropped.
#[test]
fn logs_are_accepted_and_dropped() {
    let exporter = TestExporter::start();
    let (status, content_type, _) = exporter.post(
        "/v1/logs",
        PROTOBUF,
        fixture("run1-default-env/001-POST-v1_logs.bin"),
    );
    assert_eq!((status, content_type.as_str()), (200, PROTOBUF));
    let samples = exporter.samples();
    assert_eq!(
        samples.get("model_exporter_log_records_dropped_total"),
        20.0
    );
    assert!(samples.family("http_requests_total").is_empty());
}

/// The same batch as OTLP/JSON, and gzip-compressed, gives the same series as protobuf.
#[test]
fn json_and_gzip_encodings_give_the_same_series() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use std::io::Write;

    let body = fixture("run1-default-env/004-POST-v1_traces.bin");
    let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("fixture decodes");
    let json = serde_json::to_vec(&request).expect("OTLP JSON");
    let text = String::from_utf8_lossy(&json);
    assert!(text.contains("\"resourceSpans\""), "lowerCamelCase keys");
    assert!(
        text.contains("\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\""),
        "hex trace ids"
    );

    let reference = TestExporter::start();
    reference.post("/v1/traces", PROTOBUF, body.clone());
    let reference = reference.samples();

    let from_json = TestExporter::start();
    let (status, content_type, response) = from_json.post("/v1/traces", "application/json", json);
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let response: Value = serde_json::from_slice(&response).expect("JSON response");
    assert!(
        response.get("partialSuccess").is_none_or(Value::is_null),
        "{response}"
    );

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).expect("gzip");
    let from_gzip = TestExporter::start();
    let (status, _, _) = common::post(
        &from_gzip.url("/v1/traces"),
        &[("content-type", PROTOBUF), ("content-encoding", "gzip")],
        gz.finish().expect("gzip"),
    );
    assert_eq!(status, 200);

    let http = |s: &Samples| {
        s.0.iter()
            .filter(|(k, _)| k.starts_with("http_"))
            .map(|(k, v)| (k.clone(), *v))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(http(&from_json.samples()), http(&reference));
    assert_eq!(http(&from_gzip.samples()), http(&reference));
}

/// Inference spans on the service's own routes give per-model counters and latency, with
/// model names outside the allowlist folded into "other".
#[test]
fn inference_spans_give_model_families() {
    let exporter = TestExporter::start();
    let t = 1_795_813_943_000_000_000u64;
    let models = Some("/v2/models/...");
    let request = spin_request(vec![
        spin_span(
            "POST",
            models,
            "/v2/models/pce-2013/infer",
            "200",
            t,
            2_000_000,
        ),
        spin_span(
            "POST",
            models,
            "/v2/models/pce-2013/infer",
            "200",
            t,
            4_000_000,
        ),
        spin_span(
            "POST",
            models,
            "/v2/models/pce-2013/infer",
            "500",
            t,
            1_000_000,
        ),
        spin_span(
            "POST",
            models,
            "/v2/models/prevent-2023/versions/1/infer",
            "400",
            t,
            300_000,
        ),
        spin_span("POST", models, "/v2/models/gpt/infer", "404", t, 200_000),
        spin_span(
            "GET",
            models,
            "/v2/models/pce-2013/ready",
            "200",
            t,
            100_000,
        ),
        spin_span(
            "GET",
            Some("/v2/health/..."),
            "/v2/health/live",
            "200",
            t,
            80_000,
        ),
        spin_span("GET", Some("/healthz"), "/healthz", "200", t, 70_000),
        spin_span("POST", Some("/predict"), "/predict", "422", t, 900_000),
        spin_span("GET", Some("/..."), "/wp-admin", "404", t, 60_000),
        spin_span("GET", None, "/", "404", t, 40_000),
    ]);
    let (status, _, _) = exporter.post("/v1/traces", PROTOBUF, request.encode_to_vec());
    assert_eq!(status, 200);
    let samples = exporter.samples();

    let expected: BTreeMap<String, f64> = [
        (
            r#"model_inference_requests_total{model="other",outcome="client_error"}"#,
            1.0,
        ),
        (
            r#"model_inference_requests_total{model="pce-2013",outcome="server_error"}"#,
            1.0,
        ),
        (
            r#"model_inference_requests_total{model="pce-2013",outcome="success"}"#,
            2.0,
        ),
        (
            r#"model_inference_requests_total{model="prevent-2023",outcome="client_error"}"#,
            1.0,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(samples.family("model_inference_requests_total"), expected);
    assert_eq!(
        samples.get(r#"model_inference_duration_seconds_count{model="pce-2013"}"#),
        3.0
    );
    assert_close(
        samples.get(r#"model_inference_duration_seconds_sum{model="pce-2013"}"#),
        0.007,
        "pce-2013 latency",
    );
    assert_eq!(
        samples.get(r#"model_inference_duration_seconds_bucket{model="pce-2013",le="0.0025"}"#),
        2.0
    );

    let expected: BTreeMap<String, f64> = [
        (r#"http_requests_total{handler="/healthz",method="GET",status="2xx"}"#, 1.0),
        (r#"http_requests_total{handler="/predict",method="POST",status="4xx"}"#, 1.0),
        (r#"http_requests_total{handler="/v2/health/live",method="GET",status="2xx"}"#, 1.0),
        (r#"http_requests_total{handler="/v2/models/{name}/infer",method="POST",status="2xx"}"#, 2.0),
        (r#"http_requests_total{handler="/v2/models/{name}/infer",method="POST",status="4xx"}"#, 1.0),
        (r#"http_requests_total{handler="/v2/models/{name}/infer",method="POST",status="5xx"}"#, 1.0),
        (r#"http_requests_total{handler="/v2/models/{name}/ready",method="GET",status="2xx"}"#, 1.0),
        (r#"http_requests_total{handler="/v2/models/{name}/versions/{version}/infer",method="POST",status="4xx"}"#, 1.0),
        (r#"http_requests_total{handler="none",method="GET",status="4xx"}"#, 2.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(samples.family("http_requests_total"), expected);
    assert_eq!(
        samples.get(r#"model_exporter_handler_info{handler="/healthz",kind="health"}"#),
        1.0
    );
}

/// Spin's `execute_wasm_component` span of a request, a child of its `SERVER` span, carrying
/// one stdout line of the component as an `app_log` event (as in the fixtures).
fn component_span(parent: &Span, line: &str) -> Span {
    Span {
        trace_id: parent.trace_id.clone(),
        span_id: parent.span_id.iter().map(|b| b ^ 0xff).collect(),
        parent_span_id: parent.span_id.clone(),
        name: "execute_wasm_component api".to_owned(),
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: parent.start_time_unix_nano + 1_000,
        end_time_unix_nano: parent.end_time_unix_nano - 1_000,
        events: vec![Event {
            time_unix_nano: parent.start_time_unix_nano + 2_000,
            name: "event crates/telemetry/src/logs.rs:57".to_owned(),
            attributes: vec![
                string_attribute("level", "INFO"),
                string_attribute("target", "spin_telemetry::logs"),
                string_attribute("app_log", line),
            ],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A `/predict` request span with its own id.
fn predict_span(id: u8, status: &str, nanos: u64) -> Span {
    let t = 1_795_813_943_000_000_000u64;
    let mut span = spin_span("POST", Some("/predict"), "/predict", status, t, nanos);
    span.span_id = vec![id; 8];
    span
}

/// `/predict` names its model in the body: the API reports it on stdout, Spin attaches the line
/// to the component's span, and the request counts for that model, whether the component's span
/// comes in the same batch as the request's or in an earlier one. Names off the allowlist are
/// "other"; a line that is not the API's, or a component span without a request, counts nothing.
#[test]
fn predict_requests_count_for_the_model_their_component_reports() {
    let exporter = TestExporter::start();
    let served = |model: &str| format!("model-api served model={model}\n");
    let ok_pce = predict_span(1, "200", 2_000_000);
    let refused_kfre = predict_span(2, "422", 1_000_000);
    let ok_kfre = predict_span(3, "200", 3_000_000);
    let unreported = predict_span(4, "400", 500_000);
    let renamed = predict_span(5, "200", 500_000);
    let other_line = predict_span(6, "200", 500_000);
    let first = spin_request(vec![
        component_span(&ok_pce, &served("pce-2013")),
        ok_pce.clone(),
        component_span(&refused_kfre, &served("kfre-2016")),
        refused_kfre.clone(),
        unreported.clone(),
        component_span(&renamed, &served("not-on-the-allowlist")),
        renamed.clone(),
        component_span(&other_line, "hello component: POST /predict\n"),
        other_line.clone(),
        // Its request span comes in the next batch.
        component_span(&ok_kfre, &served("kfre-2016")),
        // A component span whose request never comes.
        component_span(&predict_span(7, "200", 1), &served("pce-2013")),
    ]);
    let second = spin_request(vec![ok_kfre]);
    for batch in [first, second] {
        let (status, _, _) = exporter.post("/v1/traces", PROTOBUF, batch.encode_to_vec());
        assert_eq!(status, 200);
    }
    let samples = exporter.samples();
    let expected: BTreeMap<String, f64> = [
        (
            r#"model_inference_requests_total{model="kfre-2016",outcome="client_error"}"#,
            1.0,
        ),
        (
            r#"model_inference_requests_total{model="kfre-2016",outcome="success"}"#,
            1.0,
        ),
        (
            r#"model_inference_requests_total{model="other",outcome="success"}"#,
            1.0,
        ),
        (
            r#"model_inference_requests_total{model="pce-2013",outcome="success"}"#,
            1.0,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(samples.family("model_inference_requests_total"), expected);
    assert_close(
        samples.get(r#"model_inference_duration_seconds_sum{model="kfre-2016"}"#),
        0.004,
        "kfre-2016 latency",
    );
    assert_eq!(
        samples.get(r#"http_requests_total{handler="/predict",method="POST",status="2xx"}"#),
        4.0
    );
}
