//! A real Prometheus (Debian's `prometheus` package) scrapes the exporter on loopback, and its
//! HTTP API answers the queries dashboards run: `sum(rate(http_requests_total[1m]))` and
//! `histogram_quantile` over the duration histograms. `promtool check metrics` lints the text
//! exposition. Skipped, loudly, only when /usr/bin/prometheus is absent.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    assert_close, fixture, free_port, get, post, spin_request, spin_span, ExporterProcess, Samples,
    TestExporter,
};
use prost::Message;
use serde_json::Value;

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

fn skip_without(binary: &str) -> bool {
    if Path::new(binary).exists() {
        return false;
    }
    eprintln!(
        "\n!!!!!!!!!! SKIPPED: {binary} is absent; install Debian's `prometheus` package \
         (scripts/setup.sh does) to run this test !!!!!!!!!!\n"
    );
    true
}

/// Prometheus on a loopback port with a temporary config and data directory; killed and
/// cleaned up when dropped.
struct Prometheus {
    child: Child,
    dir: PathBuf,
    base: String,
}

impl Prometheus {
    fn start(target: std::net::SocketAddr) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "model-exporter-prometheus-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(dir.join("data")).expect("temp dir");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: model-exporter\n    static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("config");
        let port = free_port();
        let child = Command::new(PROMETHEUS)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            child,
            dir,
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_until(Duration::from_secs(30), "Prometheus ready", || {
            common::client()
                .get(format!("{}/-/ready", prometheus.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
        prometheus
    }

    fn api(&self, path_and_query: &str) -> Value {
        let (status, _, body) = get(&format!("{}{path_and_query}", self.base), None);
        assert_eq!(status, 200, "{path_and_query}: {body}");
        serde_json::from_str(&body).expect("API JSON")
    }

    /// An instant query at `time` (Unix seconds); the result vector.
    fn query(&self, query: &str, time: f64) -> Vec<Value> {
        let v = self.api(&format!(
            "/api/v1/query?query={}&time={time:.3}",
            urlencode(query)
        ));
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The single value of an instant query.
    fn value(&self, query: &str, time: f64) -> f64 {
        let result = self.query(query, time);
        assert_eq!(result.len(), 1, "{query}: {result:?}");
        result[0]["value"][1]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("sample value")
    }

    /// The one scrape target.
    fn target(&self) -> Value {
        let v = self.api("/api/v1/targets");
        v["data"]["activeTargets"][0].clone()
    }

    /// The start time of the latest scrape, in seconds (Prometheus reports RFC 3339).
    fn last_scrape(&self) -> Option<String> {
        self.target()["lastScrape"].as_str().map(str::to_owned)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// One burst of traffic: 10 requests, 5 of them in 3 ms and 5 in 30 ms.
fn burst() -> Vec<u8> {
    let t = 1_795_813_943_000_000_000u64;
    let infer = Some("/v2/models/...");
    let mut spans = Vec::new();
    for _ in 0..5 {
        spans.push(spin_span(
            "POST",
            Some("/predict"),
            "/predict",
            "200",
            t,
            3_000_000,
        ));
    }
    for _ in 0..3 {
        spans.push(spin_span(
            "POST",
            infer,
            "/v2/models/pce-2013/infer",
            "200",
            t,
            30_000_000,
        ));
    }
    for _ in 0..2 {
        spans.push(spin_span(
            "POST",
            Some("/predict"),
            "/predict",
            "422",
            t,
            30_000_000,
        ));
    }
    spin_request(spans).encode_to_vec()
}

const PER_BURST: f64 = 10.0;
const BURSTS: usize = 5;

/// Prometheus 2.42's `rate()` (promql/functions.go `extrapolatedRate`) over raw samples.
fn extrapolated_rate(samples: &[(f64, f64)], range_start: f64, range_end: f64, range: f64) -> f64 {
    if samples.len() < 2 {
        return 0.0;
    }
    let (first_t, first_v) = samples[0];
    let (last_t, last_v) = samples[samples.len() - 1];
    let mut result = last_v - first_v;
    let mut previous = 0.0;
    for (_, v) in samples {
        if *v < previous {
            result += previous;
        }
        previous = *v;
    }
    let mut to_start = first_t - range_start;
    let to_end = range_end - last_t;
    let sampled = last_t - first_t;
    let average = sampled / (samples.len() - 1) as f64;
    if result > 0.0 && first_v >= 0.0 {
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        average / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        average / 2.0
    };
    result * (interval / sampled) / range
}

/// Dashboards' queries through a real Prometheus scraping the real binary: the request rate is
/// the traffic sent, the quantiles are those of the latencies sent.
#[test]
fn prometheus_computes_rates_and_quantiles_from_the_exporter() {
    if skip_without(PROMETHEUS) {
        return;
    }
    let started = Instant::now();
    let exporter = ExporterProcess::start(&[]);
    let prometheus = Prometheus::start(exporter.metrics);
    wait_until(Duration::from_secs(20), "the target to be up", || {
        prometheus.target()["health"] == "up"
    });

    // One burst right after each scrape, so each later scrape sees exactly one more burst.
    for _ in 0..BURSTS {
        let before = prometheus.last_scrape();
        wait_until(Duration::from_secs(10), "a new scrape", || {
            prometheus.last_scrape() != before
        });
        let (status, ..) = post(
            &exporter.url("/v1/traces"),
            &[("content-type", "application/x-protobuf")],
            burst(),
        );
        assert_eq!(status, 200);
    }
    let total = PER_BURST * BURSTS as f64;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    wait_until(
        Duration::from_secs(10),
        "Prometheus to store the last burst",
        || {
            prometheus
                .query("sum(http_requests_total)", now())
                .first()
                .and_then(|r| r["value"][1].as_str().and_then(|s| s.parse::<f64>().ok()))
                == Some(total)
        },
    );

    // Evaluate exactly at the last scrape, from the raw samples Prometheus stored.
    let raw = prometheus.query("http_requests_total[1m]", now());
    let series: Vec<Vec<(f64, f64)>> = raw
        .iter()
        .map(|s| {
            s["values"]
                .as_array()
                .expect("samples")
                .iter()
                .map(|p| {
                    (
                        p[0].as_f64().expect("timestamp"),
                        p[1].as_str().and_then(|v| v.parse().ok()).expect("value"),
                    )
                })
                .collect()
        })
        .collect();
    assert_eq!(series.len(), 3, "{raw:?}");
    let at = series
        .iter()
        .filter_map(|s| s.last().map(|p| p.0))
        .fold(0.0, f64::max);
    let expected: f64 = series
        .iter()
        .map(|s| extrapolated_rate(s, at - 60.0, at, 60.0))
        .sum();
    let rate = prometheus.value("sum(rate(http_requests_total[1m]))", at);
    assert_close(rate, expected, "sum(rate(http_requests_total[1m]))");
    // When each scrape saw exactly one more burst (the normal case), the extrapolation makes
    // the rate exactly the requests of the last minute over 60 s.
    let one_burst_per_scrape = series
        .iter()
        .all(|s| s.len() == BURSTS && s.windows(2).all(|w| w[1].1 - w[0].1 == s[0].1));
    if one_burst_per_scrape {
        assert_close(rate, total / 60.0, "requests of the last minute per second");
        assert_close(
            prometheus.value(
                r#"sum(rate(model_inference_requests_total{model="pce-2013"}[1m]))"#,
                at,
            ),
            3.0 * BURSTS as f64 / 60.0,
            "inference rate",
        );
    } else {
        eprintln!(
            "note: a scrape saw two bursts or none (a slow machine); checked against the samples"
        );
        assert!(
            (rate - total / 60.0).abs() < total / 60.0 * 0.5,
            "rate {rate}"
        );
    }

    // Latencies: half the requests at 3 ms, half at 30 ms. Linear interpolation inside the
    // buckets (2.5, 5] ms and (25, 50] ms gives these exact quantiles.
    let quantile = |q: f64, family: &str| {
        prometheus.value(
            &format!("histogram_quantile({q}, sum by (le) (rate({family}_bucket[1m])))"),
            at,
        )
    };
    assert_close(quantile(0.5, "http_request_duration_seconds"), 0.005, "p50");
    assert_close(quantile(0.9, "http_request_duration_seconds"), 0.045, "p90");
    assert_close(
        quantile(0.99, "http_request_duration_highr_seconds"),
        0.0495,
        "highr p99",
    );
    assert_close(
        prometheus.value(
            r#"histogram_quantile(0.5, sum by (le) (rate(model_inference_duration_seconds_bucket{model="pce-2013"}[1m])))"#,
            at,
        ),
        0.0375,
        "inference p50",
    );

    // Prometheus negotiated OpenMetrics and its parser took every scrape.
    let target = prometheus.target();
    assert_eq!(target["health"], "up");
    assert_eq!(target["lastError"], "");
    let (_, content_type, _) = get(
        &format!("http://{}/metrics", exporter.metrics),
        Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
    );
    assert!(content_type.starts_with("application/openmetrics-text"));
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "took {:?}",
        started.elapsed()
    );
}

fn promtool_check(text: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool ran");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `promtool check metrics` passes on the text exposition with every family populated: Spin's
/// traces, metrics and logs, inference spans, refused requests and an overflow series.
#[test]
fn promtool_accepts_the_exposition() {
    if skip_without(PROMTOOL) {
        return;
    }
    let exporter = TestExporter::with(common::Settings {
        max_series: 20,
        ..Default::default()
    });
    for path in [
        "run1-default-env/001-POST-v1_logs.bin",
        "run1-default-env/002-POST-v1_metrics.bin",
        "run1-default-env/004-POST-v1_traces.bin",
        "run2-resource-env/002-POST-v1_metrics.bin",
    ] {
        let signal = if path.contains("logs") {
            "/v1/logs"
        } else if path.contains("metrics") {
            "/v1/metrics"
        } else {
            "/v1/traces"
        };
        assert_eq!(
            exporter
                .post(signal, "application/x-protobuf", fixture(path))
                .0,
            200
        );
    }
    exporter.post("/v1/traces", "application/x-protobuf", burst());
    exporter.post("/v1/traces", "application/x-protobuf", vec![0xff; 10]);
    exporter.post("/v1/traces", "text/plain", vec![]);
    let many = (0..50)
        .map(|i| {
            let route = format!("/r/{i}");
            spin_span("GET", Some(&route), &route, "200", 1, 1000)
        })
        .collect();
    exporter.post(
        "/v1/traces",
        "application/x-protobuf",
        spin_request(many).encode_to_vec(),
    );

    let text = exporter.scrape();
    let samples = Samples::parse(&text);
    assert!(samples.family("spin_request_count_total").len() == 2);
    assert!(
        samples
            .get(r#"http_requests_total{handler="overflow",method="overflow",status="overflow"}"#)
            > 0.0
    );
    assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
    let (ok, output) = promtool_check(&text);
    assert!(ok && output.trim().is_empty(), "promtool: {output}\n{text}");

    // The OpenMetrics variant ends with # EOF and declares units.
    let (_, content_type, om) = get(
        &format!("http://{}/metrics", exporter.metrics),
        Some("application/openmetrics-text;version=1.0.0"),
    );
    assert!(content_type.starts_with("application/openmetrics-text; version=1.0.0"));
    assert!(om.ends_with("# EOF\n"));
    assert!(om.contains("# UNIT http_request_duration_seconds seconds"));
    assert!(om.contains("# TYPE http_requests counter"));
}
