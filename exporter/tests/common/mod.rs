//! Helpers shared by the integration tests: the exporter on loopback ports, the Spin fixtures,
//! and a reader for the exposition text.
#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use model_exporter::pipeline::Pipeline;
use model_exporter::receiver::Limits;
use model_exporter::routes::{RouteTable, DEFAULT_MODELS, DEFAULT_TEMPLATES};
use model_exporter::server::Exporter;

/// The real OTLP bodies Spin 3.6.3 sent, kept in the repository (tests/data/spin-otlp).
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/spin-otlp")
}

/// One fixture file's bytes.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = fixture_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {} is missing: {e}", full.display()))
}

/// Settings of a test exporter.
#[derive(Clone)]
pub struct Settings {
    pub templates: Vec<String>,
    pub models: Vec<String>,
    pub max_series: usize,
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            templates: DEFAULT_TEMPLATES.iter().map(|t| t.to_string()).collect(),
            models: DEFAULT_MODELS.iter().map(|t| t.to_string()).collect(),
            max_series: 2000,
            limits: Limits {
                max_body_bytes: 4 << 20,
                max_concurrent_requests: 8,
                body_timeout: Duration::from_secs(5),
                max_connections: 64,
            },
        }
    }
}

/// The exporter serving on loopback ports the OS picked; stops when dropped.
pub struct TestExporter {
    pub otlp: SocketAddr,
    pub metrics: SocketAddr,
    pub pipeline: Arc<Pipeline>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestExporter {
    pub fn start() -> Self {
        Self::with(Settings::default())
    }

    pub fn with(settings: Settings) -> Self {
        let routes = RouteTable::new(&settings.templates, &settings.models).expect("valid routes");
        let pipeline = Arc::new(Pipeline::new(routes, settings.max_series));
        let exporter = Exporter::from_parts(
            Arc::clone(&pipeline),
            settings.limits,
            Duration::from_secs(600),
            Duration::from_secs(2),
        );
        let (addrs_tx, addrs_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let loopback: SocketAddr = "127.0.0.1:0".parse().expect("addr");
                let bound = exporter.bind(loopback, loopback).await.expect("bind");
                addrs_tx
                    .send((
                        bound.otlp_addr().expect("addr"),
                        bound.metrics_addr().expect("addr"),
                    ))
                    .expect("send");
                bound
                    .serve(async move {
                        let _ = stopped.await;
                        "test over"
                    })
                    .await
                    .expect("serve");
            });
        });
        let (otlp, metrics) = addrs_rx.recv().expect("exporter started");
        TestExporter {
            otlp,
            metrics,
            pipeline,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.otlp, path)
    }

    /// POSTs a body to an OTLP path; returns status, content type and body.
    pub fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String, Vec<u8>) {
        post(&self.url(path), &[("content-type", content_type)], body)
    }

    /// Scrapes /metrics as curl would (Prometheus text 0.0.4).
    pub fn scrape(&self) -> String {
        get(&format!("http://{}/metrics", self.metrics), None).2
    }

    /// Scrapes /metrics and reads every sample.
    pub fn samples(&self) -> Samples {
        Samples::parse(&self.scrape())
    }
}

impl Drop for TestExporter {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String, Vec<u8>) {
    let mut request = client().post(url).body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().expect("request sent");
    let (status, content_type) = status_and_type(&response);
    (
        status,
        content_type,
        response.bytes().expect("body").to_vec(),
    )
}

fn status_and_type(response: &reqwest::blocking::Response) -> (u16, String) {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (response.status().as_u16(), content_type)
}

pub fn get(url: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut request = client().get(url);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().expect("request sent");
    let (status, content_type) = status_and_type(&response);
    (status, content_type, response.text().expect("body"))
}

/// Samples of an exposition, keyed by name and labels as written (`name{a="b"}`).
#[derive(Debug, Default)]
pub struct Samples(pub BTreeMap<String, f64>);

impl Samples {
    pub fn parse(text: &str) -> Self {
        let mut map = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().expect("sample value"),
            };
            map.insert(series.to_owned(), value);
        }
        Samples(map)
    }

    /// The value of one series; panics with the family's series if it is missing.
    pub fn get(&self, series: &str) -> f64 {
        match self.0.get(series) {
            Some(v) => *v,
            None => {
                let name = series.split('{').next().unwrap_or(series);
                let similar: Vec<_> = self.0.keys().filter(|k| k.starts_with(name)).collect();
                panic!("no series {series}; {name} has {similar:#?}")
            }
        }
    }

    /// Every series of a family (by sample name), with values.
    pub fn family(&self, name: &str) -> BTreeMap<String, f64> {
        self.0
            .iter()
            .filter(|(k, _)| k.split('{').next() == Some(name))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The sum of a family's series.
    pub fn sum(&self, name: &str) -> f64 {
        self.family(name).values().sum()
    }
}

/// Asserts a float to within rounding.
pub fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-9 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} != {expected}"
    );
}

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, ResourceSpans, ScopeSpans, Span};

pub fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

/// A `SERVER` span shaped like Spin's: the status code as a string, the route only when Spin's
/// router matched one, `start` and duration in nanoseconds.
pub fn spin_span(
    method: &str,
    route: Option<&str>,
    path: &str,
    status: &str,
    start: u64,
    nanos: u64,
) -> Span {
    let mut attributes = vec![
        string_attribute("http.request.method", method),
        string_attribute("url.path", path),
        string_attribute("url.query", ""),
        string_attribute("url.scheme", ""),
        string_attribute("http.response.status_code", status),
        string_attribute("network.protocol.name", "http"),
    ];
    if let Some(route) = route {
        attributes.push(string_attribute("http.route", route));
    }
    Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: match route {
            Some(r) => format!("{method} {r}"),
            None => method.to_owned(),
        },
        kind: SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + nanos,
        attributes,
        ..Default::default()
    }
}

/// A trace export request holding `spans`, with Spin's resource and scope.
pub fn spin_request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string_attribute("service.name", "spin")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "spin".to_owned(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A loopback port free right now (bound then released: the caller binds it next).
pub fn free_port() -> u16 {
    let [port] = free_ports();
    port
}

/// `N` distinct loopback ports free right now: all are held at once while they are picked, so
/// the kernel cannot hand out the same port twice (two `free_port()` calls in a row can).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port"))
        .collect();
    std::array::from_fn(|i| {
        listeners[i]
            .local_addr()
            .expect("a bound listener has an address")
            .port()
    })
}

/// The `model-exporter` binary as its own process, on loopback ports.
pub struct ExporterProcess {
    pub child: std::process::Child,
    pub otlp: SocketAddr,
    pub metrics: SocketAddr,
}

impl ExporterProcess {
    pub fn start(extra_args: &[&str]) -> Self {
        for _attempt in 0..5 {
            let [otlp, metrics] = free_ports();
            let otlp: SocketAddr = format!("127.0.0.1:{otlp}").parse().expect("addr");
            let metrics: SocketAddr = format!("127.0.0.1:{metrics}").parse().expect("addr");
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_model-exporter"))
                .args([
                    "--otlp-addr",
                    &otlp.to_string(),
                    "--metrics-addr",
                    &metrics.to_string(),
                ])
                .args(["--log", "warn"])
                .args(extra_args)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("model-exporter starts");
            let ready = format!("http://{metrics}/readyz");
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: most likely a port was taken meanwhile; try others
                }
                if client()
                    .get(&ready)
                    .timeout(Duration::from_millis(500))
                    .send()
                    .is_ok_and(|r| r.status().is_success())
                {
                    return ExporterProcess {
                        child,
                        otlp,
                        metrics,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("model-exporter did not become ready");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.otlp, path)
    }

    /// Resident memory of the process, from /proc, in bytes.
    pub fn rss_bytes(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
            .map_or(0, |kb| kb * 1024)
    }

    pub fn samples(&self) -> Samples {
        Samples::parse(&get(&format!("http://{}/metrics", self.metrics), None).2)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ExporterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
