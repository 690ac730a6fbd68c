//! Everything between a decoded OTLP message and the exposition, behind one value: the route
//! table, every family and the registry. The HTTP receiver, the tests and the benchmarks all go
//! through it, so they measure and check the same code.

use std::time::Instant;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prometheus_client::registry::Registry;

use crate::exposition::Exposition;
use crate::families::Metrics;
use crate::routes::{ModelRef, RouteTable};
use crate::self_metrics::{FamilyName, Reason, Signal};
use crate::served_model::Waiting;
use crate::spin_metrics::{PointReport, SpinMetrics};
use crate::translate::{record_spans, SpanReport};

/// Routes, families and registry.
#[derive(Debug)]
pub struct Pipeline {
    routes: RouteTable,
    metrics: Metrics,
    spin: SpinMetrics,
    registry: Registry,
    /// Models reported by components whose request span has not arrived yet.
    waiting: Waiting<ModelRef>,
}

impl Pipeline {
    /// Declares every family, each capped at `max_series` label sets (Spin's metrics share one
    /// cap of the same size).
    pub fn new(routes: RouteTable, max_series: usize) -> Self {
        let mut registry = Registry::default();
        let metrics = Metrics::register(&mut registry, max_series, &routes);
        let spin = SpinMetrics::new(max_series, metrics.own.cap_stats(FamilyName::Spin));
        registry.register_collector(Box::new(spin.clone()));
        Pipeline {
            routes,
            metrics,
            spin,
            registry,
            waiting: Waiting::default(),
        }
    }

    /// Records a batch of spans.
    pub fn traces(&self, request: &ExportTraceServiceRequest) -> SpanReport {
        let report = record_spans(
            request,
            &self.routes,
            &self.metrics,
            &self.waiting,
            Instant::now(),
        );
        let own = &self.metrics.own;
        own.spans_received.inc_by(report.spans);
        own.rejected(Signal::Traces, Reason::InvalidStatusCode, report.rejected);
        report
    }

    /// Re-exports a batch of Spin's metrics.
    pub fn metrics(&self, request: &ExportMetricsServiceRequest) -> PointReport {
        let report = self.spin.ingest(request, Instant::now());
        let own = &self.metrics.own;
        own.data_points_received.inc_by(report.points);
        for (reason, n) in &report.rejected {
            own.rejected(Signal::Metrics, *reason, *n);
        }
        report
    }

    /// Accepts a batch of logs, which are not metrics: counted and dropped.
    pub fn logs(&self, request: &ExportLogsServiceRequest) -> u64 {
        let records: u64 = request
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len() as u64)
            .sum();
        self.metrics.own.log_records_dropped.inc_by(records);
        records
    }

    /// Forgets every series not updated since `deadline`; returns how many.
    pub fn expire(&self, deadline: Instant) -> usize {
        self.metrics.expire(deadline) + self.spin.expire(deadline)
    }

    /// The exposition, in the given format.
    pub fn encode(&self, format: Exposition) -> Result<String, std::fmt::Error> {
        format.encode(&self.registry)
    }

    /// The families, for the receiver's self-metrics and for tests.
    pub fn families(&self) -> &Metrics {
        &self.metrics
    }
}
