//! Spans ingested per second on one core: Spin's real trace batch, decoded from protobuf and
//! translated into the families, in process (no HTTP).
//!
//! The batch is the run1 capture (39 spans: 21 SERVER, 18 INTERNAL) repeated 13 times, which
//! protobuf allows by concatenation: 507 spans, about the 512 of the SDK's default batch.
//!
//! Spin's metrics take the other path (cumulative points re-exported as deltas into capped
//! series): the run1 metrics batch (`003-POST-v1_metrics.bin`) decoded and ingested, and the
//! exposition encoded once every family holds series.
//!
//!     cargo bench -p model-exporter --bench ingest

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use model_exporter::exposition::Exposition;
use model_exporter::pipeline::Pipeline;
use model_exporter::routes::RouteTable;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

const COPIES: usize = 13;

fn capture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/spin-otlp/run1-default-env")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn spin_batch() -> Vec<u8> {
    capture("004-POST-v1_traces.bin").repeat(COPIES)
}

fn ingest(c: &mut Criterion) {
    let body = spin_batch();
    let spans = ExportTraceServiceRequest::decode(body.as_slice())
        .map(|r| {
            r.resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len() as u64)
                .sum::<u64>()
        })
        .unwrap_or(0);
    assert_eq!(spans, 39 * COPIES as u64);
    let routes = RouteTable::service_default().expect("the route table from spin.toml is usable");
    let pipeline = Pipeline::new(routes, 2000);

    let mut group = c.benchmark_group("spin_trace_batch");
    group.throughput(Throughput::Elements(spans));
    group.bench_function("decode_and_translate", |b| {
        b.iter(|| {
            let request = ExportTraceServiceRequest::decode(black_box(body.as_slice()));
            if let Ok(request) = request {
                black_box(pipeline.traces(&request));
            }
        })
    });
    let decoded = ExportTraceServiceRequest::decode(body.as_slice()).unwrap_or_default();
    group.bench_function("decode_only", |b| {
        b.iter(|| {
            black_box(ExportTraceServiceRequest::decode(black_box(
                body.as_slice(),
            )))
        })
    });
    group.bench_function("translate_only", |b| {
        b.iter(|| black_box(pipeline.traces(black_box(&decoded))))
    });
    group.finish();

    let body = capture("003-POST-v1_metrics.bin");
    let decoded = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap_or_default();
    let points = pipeline.metrics(&decoded).points;
    assert!(points > 0, "the metrics capture holds no data point");
    let mut group = c.benchmark_group("spin_metrics_batch");
    group.throughput(Throughput::Elements(points));
    group.bench_function("decode_and_ingest", |b| {
        b.iter(|| {
            let request = ExportMetricsServiceRequest::decode(black_box(body.as_slice()));
            if let Ok(request) = request {
                black_box(pipeline.metrics(&request));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("exposition");
    group.bench_function("encode_openmetrics", |b| {
        b.iter(|| black_box(pipeline.encode(Exposition::OpenMetrics)))
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
