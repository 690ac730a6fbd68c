//! Malformed, truncated, oversized, wrongly typed and hostile OTLP requests: each gets the
//! status the OTLP/HTTP specification asks for, with a `google.rpc.Status` body, and the
//! exporter keeps serving.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{fixture, post, spin_request, spin_span, string_attribute, Settings, TestExporter};
use model_exporter::receiver::{Limits, RpcStatus};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use prost::Message;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

fn small() -> TestExporter {
    TestExporter::with(Settings {
        limits: Limits {
            max_body_bytes: 64 << 10,
            max_concurrent_requests: 4,
            body_timeout: Duration::from_secs(5),
            max_connections: 64,
        },
        ..Settings::default()
    })
}

/// Asserts a 4xx answer carries a google.rpc.Status in the expected encoding.
fn assert_status_body(content_type: &str, body: &[u8], code: i32) {
    let status = if content_type == PROTOBUF {
        RpcStatus::decode(body).expect("protobuf google.rpc.Status")
    } else {
        assert_eq!(content_type, JSON);
        let v: serde_json::Value = serde_json::from_slice(body).expect("JSON google.rpc.Status");
        RpcStatus {
            code: v["code"].as_i64().unwrap_or(-1) as i32,
            message: v["message"].as_str().unwrap_or("").to_owned(),
        }
    };
    assert_eq!(status.code, code);
    assert!(!status.message.is_empty());
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// Garbage, truncated protobuf and invalid UTF-8 are 400 with a protobuf Status.
#[test]
fn malformed_protobuf_is_a_bad_request() {
    let exporter = small();
    let spans = fixture("run1-default-env/004-POST-v1_traces.bin");
    let truncated = spans[..spans.len() / 2].to_vec();
    let mut bad_utf8 =
        spin_request(vec![spin_span("GET", None, "/x", "200", 1, 1)]).encode_to_vec();
    let at = bad_utf8
        .windows(3)
        .position(|w| w == b"GET")
        .expect("method bytes");
    bad_utf8[at] = 0xff;
    for body in [
        vec![0xff; 64],
        truncated,
        bad_utf8,
        b"\x0a\x05\x0a\x03".to_vec(),
    ] {
        let (status, content_type, response) = exporter.post("/v1/traces", PROTOBUF, body);
        assert_eq!(status, 400);
        assert_status_body(&content_type, &response, 3);
    }
    let (status, ..) = exporter.post(
        "/v1/metrics",
        PROTOBUF,
        fixture("run1-default-env/002-POST-v1_metrics.bin")[..100].to_vec(),
    );
    assert_eq!(status, 400);
}

/// Syntax errors, truncation and wrongly typed fields in OTLP/JSON are 400 with a JSON Status.
#[test]
fn malformed_json_is_a_bad_request() {
    let exporter = small();
    for body in [
        "{",
        "[]",
        "null",
        r#"{"resourceSpans": 5}"#,
        r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": "SERVER"}]}]}]}"#,
        r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "not hex"}]}]}]}"#,
        r#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "-1"}]}]}]}"#,
    ] {
        let (status, content_type, response) =
            exporter.post("/v1/traces", JSON, body.as_bytes().to_vec());
        assert_eq!(status, 400, "{body}");
        assert_status_body(&content_type, &response, 3);
    }
}

/// Nesting deep enough to blow a naive decoder's stack is refused, not a crash.
#[test]
fn deep_nesting_is_refused_without_a_crash() {
    let exporter = small();
    let mut value = AnyValue {
        value: Some(any_value::Value::StringValue("x".into())),
    };
    for _ in 0..2000 {
        value = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vec![value],
            })),
        };
    }
    let mut span = spin_span("GET", Some("/predict"), "/predict", "200", 1, 1);
    let mut attribute = string_attribute("deep", "");
    attribute.value = Some(value);
    span.attributes.push(attribute);
    let (status, ..) = exporter.post(
        "/v1/traces",
        PROTOBUF,
        spin_request(vec![span]).encode_to_vec(),
    );
    assert_eq!(status, 400);

    let deep_json = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"attributes":[{{"key":"k","value":{}"x"{}}}]}}]}}]}}]}}"#,
        r#"{"arrayValue":{"values":["#.repeat(500),
        "]}}".repeat(500)
    );
    let (status, ..) = exporter.post("/v1/traces", JSON, deep_json.into_bytes());
    assert_eq!(status, 400);
    assert_eq!(exporter.post("/v1/traces", PROTOBUF, Vec::new()).0, 200);
}

/// Bodies over the cap are 413: declared, streamed without a length, or expanding from gzip.
#[test]
fn oversized_bodies_are_refused() {
    let exporter = small();
    // The server answers as soon as it knows, without reading the rest; the client may then
    // see the 413 or, if the connection closes under its unread bytes, a reset. Either way the
    // self-metrics below prove each request was refused as too large.
    let declared = raw_post_status(&exporter, false, 100, 1024);
    assert!(matches!(declared, Some(413) | None), "{declared:?}");
    let chunked = raw_post_status(&exporter, true, 100, 1024);
    assert!(matches!(chunked, Some(413) | None), "{chunked:?}");
    // A declared length over the cap is answered before any of the body is sent, with a
    // google.rpc.Status.
    let mut stream = std::net::TcpStream::connect(exporter.otlp).expect("connect");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: {PROTOBUF}\r\ncontent-length: 1000000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut response = Vec::new();
    let _ = std::io::Read::read_to_end(&mut stream, &mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 413"), "{head}");
    assert!(
        head.contains("content-type: application/x-protobuf"),
        "{head}"
    );
    let body = &response[split + 4..];
    assert_status_body(PROTOBUF, body, 3);

    let bomb = gzip(&vec![0u8; 50 << 20]);
    assert!(bomb.len() < 64 << 10);
    let (status, ..) = post(
        &exporter.url("/v1/traces"),
        &[("content-type", PROTOBUF), ("content-encoding", "gzip")],
        bomb,
    );
    assert_eq!(status, 413);
    let samples = exporter.samples();
    assert_eq!(
        samples.get(
            r#"model_exporter_decode_failures_total{signal="traces",reason="body_too_large"}"#
        ),
        4.0
    );
    assert_eq!(
        samples.get(r#"model_exporter_otlp_requests_total{signal="traces",code="413"}"#),
        4.0
    );
}

/// Sends a body of `chunks` × `size` bytes over a raw socket, with `Content-Length` or
/// chunked (no declared length), stopping when the server stops reading; the status answered,
/// or `None` if the connection was reset before it could be read.
fn raw_post_status(
    exporter: &TestExporter,
    chunked: bool,
    chunks: usize,
    size: usize,
) -> Option<u16> {
    use std::io::{BufRead, BufReader};
    let mut stream = std::net::TcpStream::connect(exporter.otlp).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let length = if chunked {
        "transfer-encoding: chunked".to_owned()
    } else {
        format!("content-length: {}", chunks * size)
    };
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: {}\r\ncontent-type: {PROTOBUF}\r\n{length}\r\n\r\n",
        exporter.otlp
    );
    stream.write_all(head.as_bytes()).expect("write head");
    let chunk = vec![0u8; size];
    for _ in 0..chunks {
        let sent = if chunked {
            stream
                .write_all(format!("{size:x}\r\n").as_bytes())
                .and_then(|_| stream.write_all(&chunk))
                .and_then(|_| stream.write_all(b"\r\n"))
        } else {
            stream.write_all(&chunk)
        };
        if sent.is_err() {
            break; // the server answered and closed: read what it said
        }
    }
    if chunked {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line).ok()?;
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
}

/// Content types and encodings OTLP/HTTP does not define are 415; bad gzip is 400.
#[test]
fn unsupported_media_is_refused() {
    let exporter = small();
    let body = fixture("run1-default-env/004-POST-v1_traces.bin");
    for content_type in [
        "text/plain",
        "application/grpc",
        "application/octet-stream",
        "",
    ] {
        let (status, ..) = exporter.post("/v1/traces", content_type, body.clone());
        assert_eq!(status, 415, "{content_type:?}");
    }
    let response = common::client()
        .post(exporter.url("/v1/traces"))
        .body(body.clone())
        .send()
        .expect("sent");
    assert_eq!(response.status().as_u16(), 415);
    for encoding in ["br", "deflate", "zstd"] {
        let (status, content_type, response) = post(
            &exporter.url("/v1/traces"),
            &[("content-type", PROTOBUF), ("content-encoding", encoding)],
            body.clone(),
        );
        assert_eq!(status, 415, "{encoding}");
        assert_status_body(&content_type, &response, 3);
    }
    let (status, ..) = post(
        &exporter.url("/v1/traces"),
        &[("content-type", PROTOBUF), ("content-encoding", "gzip")],
        body,
    );
    assert_eq!(status, 400);
}

/// Wrong paths are 404, wrong methods 405 with `Allow`.
#[test]
fn wrong_paths_and_methods() {
    let exporter = small();
    assert_eq!(exporter.post("/v1/profiles", PROTOBUF, Vec::new()).0, 404);
    assert_eq!(exporter.post("/", PROTOBUF, Vec::new()).0, 404);
    let response = common::client()
        .get(exporter.url("/v1/traces"))
        .send()
        .expect("sent");
    assert_eq!(response.status().as_u16(), 405);
    let allow = response
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(allow.contains("POST"), "{allow}");
}

/// Spans without a usable status code are refused one by one (partial success), the rest of
/// the batch is recorded.
#[test]
fn spans_without_status_are_partially_rejected() {
    let exporter = small();
    let request = spin_request(vec![
        spin_span("GET", Some("/healthz"), "/healthz", "200", 1, 1000),
        spin_span("GET", Some("/healthz"), "/healthz", "abc", 1, 1000),
        spin_span("GET", Some("/healthz"), "/healthz", "999", 1, 1000),
    ]);
    let (status, _, body) = exporter.post("/v1/traces", PROTOBUF, request.encode_to_vec());
    assert_eq!(status, 200);
    let response = ExportTraceServiceResponse::decode(body.as_slice()).expect("response");
    let partial = response.partial_success.expect("partial_success");
    assert_eq!(partial.rejected_spans, 2);
    assert!(partial.error_message.contains("status_code"));
    let samples = exporter.samples();
    assert_eq!(
        samples.get(r#"http_requests_total{handler="/healthz",method="GET",status="2xx"}"#),
        1.0
    );
    assert_eq!(
        samples.get(
            r#"model_exporter_items_rejected_total{signal="traces",reason="invalid_status_code"}"#
        ),
        2.0
    );
}

fn sum_metric(name: &str, value: number_data_point::Value, temporality: i32) -> Metric {
    Metric {
        name: name.to_owned(),
        data: Some(Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                start_time_unix_nano: 1,
                time_unix_nano: 2,
                value: Some(value),
                ..Default::default()
            }],
            aggregation_temporality: temporality,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

/// Metrics that are not Spin's, not finite, or of unknown temporality are refused as partial
/// success; Spin's in the same batch are kept.
#[test]
fn foreign_and_invalid_metrics_are_partially_rejected() {
    let exporter = small();
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    sum_metric("spin.request_count", number_data_point::Value::AsInt(5), 2),
                    sum_metric("http.requests", number_data_point::Value::AsInt(5), 2),
                    sum_metric("spin.nan", number_data_point::Value::AsDouble(f64::NAN), 2),
                    sum_metric("spin.negative", number_data_point::Value::AsDouble(-1.0), 2),
                    sum_metric("spin.unspecified", number_data_point::Value::AsInt(1), 0),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let (status, _, body) = exporter.post("/v1/metrics", PROTOBUF, request.encode_to_vec());
    assert_eq!(status, 200);
    let response = ExportMetricsServiceResponse::decode(body.as_slice()).expect("response");
    assert_eq!(
        response.partial_success.map(|p| p.rejected_data_points),
        Some(4)
    );
    let samples = exporter.samples();
    assert_eq!(samples.get("spin_request_count_total"), 5.0);
    assert!(samples.family("http_requests_total").is_empty());
}

/// Label values a sender controls are escaped or refused, never break the exposition.
#[test]
fn hostile_route_names_cannot_break_the_exposition() {
    let exporter = small();
    let request = spin_request(vec![
        spin_span("GET", Some(r#"/a"b\c"#), "/x", "200", 1, 1),
        spin_span("GET", Some("/line\nbreak"), "/x", "200", 1, 1),
        spin_span("BREW", Some("/tea"), "/tea", "418", 1, 1),
    ]);
    assert_eq!(
        exporter
            .post("/v1/traces", PROTOBUF, request.encode_to_vec())
            .0,
        200
    );
    let text = exporter.scrape();
    assert!(
        text.contains(r#"http_requests_total{handler="/a\"b\\c",method="GET",status="2xx"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"http_requests_total{handler="none",method="GET",status="2xx"} 1"#));
    assert!(text.contains(r#"http_requests_total{handler="/tea",method="_OTHER",status="4xx"} 1"#));
    assert!(!text.contains("break"));
}

/// Connections that open and never speak cannot pile up: past the cap, new ones wait until
/// one closes.
#[test]
fn open_connections_are_capped() {
    let exporter = TestExporter::with(Settings {
        limits: Limits {
            max_body_bytes: 64 << 10,
            max_concurrent_requests: 4,
            body_timeout: Duration::from_secs(5),
            max_connections: 2,
        },
        ..Settings::default()
    });
    let idle: Vec<std::net::TcpStream> = (0..2)
        .map(|_| std::net::TcpStream::connect(exporter.otlp).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let refused = common::client()
        .post(exporter.url("/v1/traces"))
        .header("content-type", PROTOBUF)
        .timeout(Duration::from_millis(700))
        .send();
    assert!(refused.is_err(), "a third connection must wait");
    drop(idle);
    let (status, ..) = exporter.post("/v1/traces", PROTOBUF, Vec::new());
    assert_eq!(status, 200);
}

/// A body that never arrives holds its slot only until the request timeout: 408.
#[test]
fn slow_bodies_time_out() {
    let exporter = TestExporter::with(Settings {
        limits: Limits {
            max_body_bytes: 64 << 10,
            max_concurrent_requests: 4,
            body_timeout: Duration::from_millis(300),
            max_connections: 64,
        },
        ..Settings::default()
    });
    let mut stream = std::net::TcpStream::connect(exporter.otlp).expect("connect");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: {PROTOBUF}\r\ncontent-length: 100\r\n\r\nonly part"
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stream), &mut line).expect("answer");
    assert!(line.starts_with("HTTP/1.1 408"), "{line}");
    assert_eq!(
        exporter
            .samples()
            .get(r#"model_exporter_decode_failures_total{signal="traces",reason="body_timeout"}"#),
        1.0
    );
}

/// Opens `count` connections that each send `head` and then nothing more.
fn stalled(addr: std::net::SocketAddr, count: usize, head: &str) -> Vec<std::net::TcpStream> {
    (0..count)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream.write_all(head.as_bytes()).expect("write");
            stream
        })
        .collect()
}

/// Slowloris: connections that never finish their request head, as many as the cap, lose
/// them at the request timeout, so other clients of either listener get through.
#[test]
fn unfinished_request_heads_cannot_hold_every_connection() {
    let exporter = TestExporter::with(Settings {
        limits: Limits {
            max_body_bytes: 64 << 10,
            max_concurrent_requests: 4,
            body_timeout: Duration::from_millis(500),
            max_connections: 2,
        },
        ..Settings::default()
    });
    let _otlp = stalled(
        exporter.otlp,
        2,
        "POST /v1/traces HTTP/1.1\r\nhost: x\r\nx-slow: a",
    );
    let _metrics = stalled(
        exporter.metrics,
        2,
        "GET /metrics HTTP/1.1\r\nhost: x\r\nx-slow: a",
    );
    std::thread::sleep(Duration::from_millis(100));
    let started = std::time::Instant::now();
    let answered = common::client()
        .post(exporter.url("/v1/traces"))
        .header("content-type", PROTOBUF)
        .timeout(Duration::from_secs(5))
        .send()
        .expect("answered once the stalled heads time out");
    assert_eq!(answered.status().as_u16(), 200);
    let scraped = common::client()
        .get(format!("http://{}/metrics", exporter.metrics))
        .timeout(Duration::from_secs(5))
        .send()
        .expect("scraped once the stalled heads time out");
    assert_eq!(scraped.status().as_u16(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Bodies that trickle in hold only the bytes they sent, not a decode slot: other senders are
/// not answered 503 meanwhile.
#[test]
fn slow_bodies_do_not_make_other_senders_busy() {
    let exporter = TestExporter::with(Settings {
        limits: Limits {
            max_body_bytes: 64 << 10,
            max_concurrent_requests: 1,
            body_timeout: Duration::from_secs(10),
            max_connections: 64,
        },
        ..Settings::default()
    });
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: {PROTOBUF}\r\ncontent-length: 1000\r\n\r\nsome"
    );
    let _slow = stalled(exporter.otlp, 3, &head);
    std::thread::sleep(Duration::from_millis(200));
    let body = spin_request(vec![spin_span(
        "GET",
        Some("/healthz"),
        "/healthz",
        "200",
        1,
        1_000,
    )]);
    let (status, ..) = exporter.post("/v1/traces", PROTOBUF, body.encode_to_vec());
    assert_eq!(status, 200);
}
