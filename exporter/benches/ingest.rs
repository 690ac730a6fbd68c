//! Spans ingested per second on one core: Spin's real trace batch, decoded from protobuf and
//! translated into the families, in process (no HTTP).
//!
//! The batch is the run1 capture (39 spans: 21 SERVER, 18 INTERNAL) repeated 13 times, which
//! protobuf allows by concatenation: 507 spans, about the 512 of the SDK's default batch.
//!
//!     cargo bench -p model-exporter --bench ingest

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use model_exporter::pipeline::Pipeline;
use model_exporter::routes::RouteTable;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

const COPIES: usize = 13;

fn spin_batch() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/spin-otlp/run1-default-env/004-POST-v1_traces.bin");
    let one = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    one.repeat(COPIES)
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
    let pipeline = Pipeline::new(RouteTable::service_default(), 2000);

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
}

criterion_group!(benches, ingest);
criterion_main!(benches);
