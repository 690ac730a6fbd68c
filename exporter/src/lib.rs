//! `model-exporter`: the sidecar that turns Spin's OpenTelemetry into the service's Prometheus
//! metrics.
//!
//! On SpinKube the prediction service runs as one WebAssembly container with no `/metrics`
//! endpoint. What Spin does emit is OTLP: a `SERVER` span per request and a few process metrics.
//! This crate receives that OTLP over HTTP and exposes, on `/metrics`, the families the original
//! Python service had (`http_requests_total`, `http_request_duration_seconds`,
//! `http_request_duration_highr_seconds`, same names and labels, so dashboards and PromQL keep
//! working), model-level families, Spin's own metrics and the exporter's self-metrics.
//!
//! Data flows one way:
//!
//! ```text
//! POST /v1/traces ─► receiver ─► decode (gzip, protobuf | JSON) ─► translate (span → labels via routes)
//!                                                                       │
//! POST /v1/metrics ─► receiver ─► decode ─► spin_metrics (cumulative/delta → totals)
//!                                                                       ▼
//!                           families (capped by cardinality) ─► exposition ─► GET /metrics
//! ```
//!
//! The principal types: [`config::Config`] (flags and environment), [`routes::RouteTable`] (raw
//! path → route template, generated from `spin.toml`), [`families::Metrics`] (the service's
//! families, declared once), [`self_metrics::SelfMetrics`] (the exporter's own),
//! [`cardinality::CappedFamily`] (the series cap and expiry, for every family),
//! [`spin_metrics::SpinMetrics`] (Spin's metrics re-exported), [`pipeline::Pipeline`] (all of
//! the above behind one value, used by the servers, tests and benchmarks) and
//! [`server::Exporter`] (the two HTTP servers wired together).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cardinality;
pub mod cds_feedback;
pub mod cells;
pub mod config;
pub mod connections;
pub mod decode;
pub mod exposition;
pub mod families;
pub mod labels;
pub mod logging;
pub mod pipeline;
pub mod receiver;
pub mod routes;
pub mod self_metrics;
pub mod served_model;
pub mod server;
pub mod signal;
pub mod spin_metrics;
pub mod translate;
