//! The exporter's OTLP/HTTP decoding and ingest, as its receiver runs them: content type,
//! content encoding, gzip with the size cap, protobuf or JSON, then the pipeline (spans →
//! `http_requests_total` and friends, Spin's metrics, logs) and the exposition.
//!
//! Input: one control byte, then the body.
//!
//! | bits | meaning |
//! |---|---|
//! | 0-1 | signal: traces, metrics, logs (3: traces) |
//! | 2 | `content-type`: `application/x-protobuf` or `application/json` |
//! | 3-4 | encoding: identity; gzip of the body (compressed here, so the fuzzer mutates what is inside); the body given to gunzip as it is (malformed gzip, bombs); identity |
//! | 5 | exposition: OpenMetrics or Prometheus text 0.0.4 |
//!
//! Invariants: no panic; a refusal is a 4xx whose message is short and does not depend on the
//! data; gunzip never holds more than the cap; the report's counts are consistent; the
//! exposition is well-formed line by line (label values escaped) and its size is bounded by
//! the input's (series caps hold).
#![no_main]

use std::borrow::Cow;
use std::io::Write;

use healthcare_fuzz::check_exposition;
use libfuzzer_sys::fuzz_target;
use model_exporter::decode;
use model_exporter::exposition::Exposition;
use model_exporter::pipeline::Pipeline;
use model_exporter::routes::RouteTable;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// The body cap: small, so that gzip bombs of a few KiB reach it.
const LIMIT: usize = 64 << 10;
/// Series per family: small, so that the cap and its overflow series are exercised.
const MAX_SERIES: usize = 8;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn refused(error: &decode::DecodeError) {
    let status = error.status().as_u16();
    assert!(
        matches!(status, 400 | 413 | 415),
        "refusal with status {status}"
    );
    // Messages go to logs and to the sender: bounded. (prost's name the path of message
    // fields to the error, at most its recursion limit of 100 levels deep.)
    let message = error.to_string();
    assert!(message.len() <= 8192, "long error message: {message}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let content_type = if control & 4 == 0 {
        "application/x-protobuf"
    } else {
        "application/json"
    };
    let format = decode::format(Some(content_type)).expect("the content types OTLP defines");
    let body = match (control >> 3) & 3 {
        1 => {
            let compressed = gzip(body);
            let inflated = decode::gunzip(&compressed, LIMIT);
            match inflated {
                // What we compressed comes back whole, or is over the cap.
                Ok(inflated) => {
                    assert_eq!(&inflated[..], body, "gzip round trip");
                    Cow::Owned(inflated.to_vec())
                }
                Err(e) => {
                    assert!(body.len() > LIMIT, "gunzip refused a valid stream: {e}");
                    return refused(&e);
                }
            }
        }
        2 => match decode::gunzip(body, LIMIT) {
            Ok(inflated) => {
                assert!(inflated.len() <= LIMIT, "gunzip past the cap");
                Cow::Owned(inflated.to_vec())
            }
            Err(e) => return refused(&e),
        },
        _ => Cow::Borrowed(body),
    };
    let exposition = if control & 32 == 0 {
        Exposition::OpenMetrics
    } else {
        Exposition::PrometheusText
    };

    let routes = RouteTable::service_default().expect("the route table from spin.toml is usable");
    let pipeline = Pipeline::new(routes, MAX_SERIES);
    let baseline = pipeline.encode(exposition).expect("exposition").len();
    match control & 3 {
        1 => match decode::message::<ExportMetricsServiceRequest>(&body, format) {
            Ok(request) => {
                let report = pipeline.metrics(&request);
                assert!(report.rejected_total() <= report.points, "{report:?}");
                // Re-sent unchanged (Spin re-sends cumulative totals): accepted again.
                pipeline.metrics(&request);
            }
            Err(e) => return refused(&e),
        },
        2 => match decode::message::<ExportLogsServiceRequest>(&body, format) {
            Ok(request) => {
                pipeline.logs(&request);
            }
            Err(e) => return refused(&e),
        },
        _ => match decode::message::<ExportTraceServiceRequest>(&body, format) {
            Ok(request) => {
                let report = pipeline.traces(&request);
                assert!(
                    report.recorded + report.rejected <= report.spans,
                    "{report:?}"
                );
            }
            Err(e) => return refused(&e),
        },
    }
    let text = pipeline.encode(exposition).expect("exposition");
    check_exposition(&text, exposition == Exposition::OpenMetrics);
    // Bounded output: what the input adds to the exposition is at most a constant factor of
    // the input (each label value is cut at 128 bytes, each family capped at MAX_SERIES).
    let added = text.len().saturating_sub(baseline);
    assert!(
        added <= 64 * body.len() + 64 * 1024,
        "exposition grew by {added} bytes for a {}-byte body",
        body.len()
    );
});
