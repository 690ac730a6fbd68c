//! The re-exported families as a whole: admission under the shared budget, overflow, expiry.

use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{
    number_data_point, AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum,
};

use super::*;
use crate::labels::OverflowLabels;

fn counter(name: &str, value: i64, start: u64, component: &str) -> ExportMetricsServiceRequest {
    let attribute = KeyValue {
        key: "component_id".into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(component.into())),
        }),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: name.into(),
                    data: Some(Data::Sum(Sum {
                        data_points: vec![NumberDataPoint {
                            attributes: vec![attribute],
                            start_time_unix_nano: start,
                            time_unix_nano: start + value as u64,
                            value: Some(number_data_point::Value::AsInt(value)),
                            ..Default::default()
                        }],
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: true,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn request_count(value: i64, start: u64, component: &str) -> ExportMetricsServiceRequest {
    counter("spin.request_count", value, start, component)
}

/// Past the cap, points fold into the overflow series (streams kept apart); stale series
/// expire and free room.
#[test]
fn cap_overflow_and_expiry() {
    let stats = CapStats::default();
    let spin = SpinMetrics::new(1, stats.clone());
    let now = Instant::now();
    spin.ingest(&request_count(3, 1, "a"), now);
    spin.ingest(&request_count(4, 1, "b"), now);
    spin.ingest(&request_count(5, 1, "c"), now);
    spin.ingest(&request_count(6, 1, "c"), now); // c's stream grew by 1 (not by 6)
    assert_eq!(stats.dropped.get(), 3);
    assert_eq!(stats.series.get(), 2);
    {
        let families = spin.lock();
        let family = &families["spin_request_count"];
        assert_eq!(family.series.len(), 2);
        assert_eq!(
            family
                .series
                .get(&SpinLabels::overflow())
                .map(|s| s.totals().primary),
            Some(10.0)
        );
    }
    assert_eq!(spin.expire(now + Duration::from_secs(1)), 2);
    assert_eq!(stats.expired.get(), 2);
    assert_eq!(stats.series.get(), 0);
    assert!(spin.lock().is_empty());
    spin.ingest(&request_count(7, 1, "b"), now);
    assert_eq!(stats.series.get(), 1);
}

/// The cap is shared: a second metric name gets no room of its own, so a sender cannot grow
/// memory by inventing names.
#[test]
fn families_share_one_budget() {
    let stats = CapStats::default();
    let spin = SpinMetrics::new(2, stats.clone());
    let now = Instant::now();
    spin.ingest(&counter("spin.one", 1, 1, "a"), now);
    spin.ingest(&counter("spin.two", 1, 1, "a"), now);
    spin.ingest(&counter("spin.three", 1, 1, "a"), now);
    assert_eq!(stats.dropped.get(), 1);
    assert_eq!(stats.series.get(), 3); // two own series and the third family's overflow
                                       // Expiring everything returns the room.
    spin.expire(now + Duration::from_secs(1));
    spin.ingest(&counter("spin.three", 1, 1, "a"), now);
    assert_eq!(stats.dropped.get(), 1);
}

/// Names outside `spin.*` are refused and reported.
#[test]
fn other_metrics_are_refused() {
    let spin = SpinMetrics::new(10, CapStats::default());
    let report = spin.ingest(&counter("http.server.requests", 1, 1, "a"), Instant::now());
    assert_eq!(report.points, 1);
    assert_eq!(report.rejected, vec![(Reason::NotASpinMetric, 1)]);
}
