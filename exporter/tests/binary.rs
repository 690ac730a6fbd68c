//! The `model-exporter` binary as an operator runs it: configured by environment variables,
//! refusing bad configuration before binding, logging JSON without request data, and
//! stopping cleanly on SIGTERM.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_ports, get, post, spin_request, spin_span, Samples};
use prost::Message;

const BIN: &str = env!("CARGO_BIN_EXE_model-exporter");

fn wait_ready(metrics: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if common::client()
            .get(format!("http://{metrics}/readyz"))
            .timeout(Duration::from_millis(500))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("not ready");
}

/// Environment variables configure everything; logs are JSON lines that never repeat a path,
/// a query or an attribute; SIGTERM drains and exits 0.
#[test]
fn environment_configures_it_and_logs_carry_no_request_data() {
    let [otlp, metrics] = free_ports();
    let (otlp, metrics) = (format!("127.0.0.1:{otlp}"), format!("127.0.0.1:{metrics}"));
    let mut child = Command::new(BIN)
        .env("MODEL_EXPORTER_OTLP_ADDR", &otlp)
        .env("MODEL_EXPORTER_METRICS_ADDR", &metrics)
        .env("MODEL_EXPORTER_MODELS", "pce-2013")
        .env("MODEL_EXPORTER_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    wait_ready(&metrics);

    let secret = "SECRET-PATIENT-7f3a";
    let path = format!("/v2/models/{secret}/infer");
    let mut span = spin_span("POST", Some("/v2/models/..."), &path, "200", 1, 1000);
    span.attributes.push(common::string_attribute(
        "url.query",
        &format!("mrn={secret}"),
    ));
    let url = format!("http://{otlp}/v1/traces");
    let protobuf = [("content-type", "application/x-protobuf")];
    assert_eq!(
        post(&url, &protobuf, spin_request(vec![span]).encode_to_vec()).0,
        200
    );
    let json = [("content-type", "application/json")];
    let bad = format!(r#"{{"resourceSpans": "{secret}"}}"#).into_bytes();
    assert_eq!(post(&url, &json, bad).0, 400);

    let samples = Samples::parse(&get(&format!("http://{metrics}/metrics"), None).2);
    assert_eq!(
        samples.get(r#"model_inference_requests_total{model="other",outcome="success"}"#),
        1.0
    );

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));

    let mut logs = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("logs");
    assert!(!logs.contains(secret), "logs leak request data:\n{logs}");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    for expected in [
        "listening",
        "refused an OTLP request",
        "shutting down: draining requests in flight",
        "stopped",
    ] {
        assert!(
            messages.contains(&expected),
            "{expected:?} not in {messages:?}"
        );
    }
}

/// Configuration that cannot work is refused with one line and exit status 64, before any
/// port is bound.
#[test]
fn bad_configuration_exits_64() {
    for args in [
        vec!["--otlp-addr", "not-an-address"],
        vec!["--max-series", "0"],
        vec!["--route-templates", "no-leading-slash"],
        vec!["--series-ttl", "forever"],
    ] {
        let out = Command::new(BIN).args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("model-exporter: "), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let out = Command::new(BIN).arg("--version").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}
