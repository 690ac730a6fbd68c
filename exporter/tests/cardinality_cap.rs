//! 100,000 distinct routes against a capped exporter: the series cap holds, totals stay right,
//! and memory stays bounded. The exporter runs as its own process (the real binary), so its
//! resident memory is read from /proc without the test client's allocations.

mod common;

use common::{post, spin_request, spin_span, ExporterProcess};
use prost::Message;

const CAP: usize = 1000;
const ROUTES: usize = 100_000;
const BATCH: usize = 5_000;

/// Sends `ROUTES` spans, each with its own exact route, starting at route number `first`.
fn send_distinct_routes(exporter: &ExporterProcess, first: usize) {
    for batch in 0..ROUTES / BATCH {
        let spans = (0..BATCH)
            .map(|i| {
                let route = format!("/r/{}", first + batch * BATCH + i);
                spin_span("GET", Some(&route), &route, "200", 1, 1_000_000)
            })
            .collect();
        let (status, ..) = post(
            &exporter.url("/v1/traces"),
            &[("content-type", "application/x-protobuf")],
            spin_request(spans).encode_to_vec(),
        );
        assert_eq!(status, 200);
    }
}

/// The cap holds at 100,000 distinct routes: `CAP` series plus one overflow series, the
/// overflow counted, the totals exact, and a second 100,000 routes cost no more memory.
#[test]
fn a_hundred_thousand_routes_stay_within_the_cap() {
    let mut exporter = ExporterProcess::start(&["--max-series", &CAP.to_string()]);
    let before = exporter.rss_bytes();
    send_distinct_routes(&exporter, 0);
    let after_first = exporter.rss_bytes();

    let samples = exporter.samples();
    let requests = samples.family("http_requests_total");
    assert_eq!(requests.len(), CAP + 1);
    assert_eq!(
        samples
            .get(r#"http_requests_total{handler="overflow",method="overflow",status="overflow"}"#),
        (ROUTES - CAP) as f64
    );
    assert_eq!(samples.sum("http_requests_total"), ROUTES as f64);
    assert_eq!(
        samples.get(r#"model_exporter_series_dropped_total{family="http_requests_total"}"#),
        (ROUTES - CAP) as f64
    );
    assert_eq!(
        samples.get(r#"model_exporter_series{family="http_requests_total"}"#),
        (CAP + 1) as f64
    );
    assert_eq!(
        samples.family("http_request_duration_seconds_count").len(),
        CAP + 1
    );
    assert_eq!(
        samples.get("http_request_duration_highr_seconds_count"),
        ROUTES as f64
    );

    send_distinct_routes(&exporter, ROUTES);
    let after_second = exporter.rss_bytes();
    let samples = exporter.samples();
    assert_eq!(samples.family("http_requests_total").len(), CAP + 1);
    assert_eq!(samples.sum("http_requests_total"), (2 * ROUTES) as f64);

    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    eprintln!(
        "RSS: {:.1} MiB before, {:.1} MiB after 100k routes, {:.1} MiB after 200k",
        mib(before),
        mib(after_first),
        mib(after_second)
    );
    assert!(before > 0, "RSS is readable from /proc");
    // The first round creates CAP series in two families (under 1 MiB) and decodes 5,000-span
    // batches (a few MiB the allocator may keep); the second round creates no series.
    assert!(
        after_first < 64 << 20,
        "RSS {:.1} MiB after 100k routes",
        mib(after_first)
    );
    assert!(
        after_second.saturating_sub(after_first) < 4 << 20,
        "second 100k routes grew RSS by {:.1} MiB",
        mib(after_second - after_first)
    );
    assert_eq!(exporter.terminate(), Some(0), "SIGTERM stops it cleanly");
}
