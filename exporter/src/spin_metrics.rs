//! Spin's own OpenTelemetry metrics, re-exposed in Prometheus form.
//!
//! Spin 3.6 sends `spin.request_count` (a monotonic sum) and histograms of component memory and
//! CPU time, every `OTEL_METRIC_EXPORT_INTERVAL`, always **cumulative**. They become
//! `spin_request_count_total{app_id, component_id, trigger_type}` and histograms such as
//! `spin_component_memory_used_bytes` (the unit comes from Spin's `unit` attribute).
//!
//! One job per module: [`names`] spells Spin's names the Prometheus way, [`points`] reads OTLP
//! data points, [`cumulative`] turns cumulative totals into counters that only grow, and
//! [`encode`] writes a series. The series cap is the one every family has
//! ([`crate::cardinality`]); Spin's families share one budget, since the sender picks their
//! names. This module ties them together: which metrics are accepted, and one family per name.
//!
//! Only metrics named `spin.*` are re-exported: the prefix keeps them apart from the families
//! this exporter defines, and bounds what an unrelated sender can add.

pub mod cumulative;
pub mod encode;
pub mod names;
pub mod points;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Unit;

use crate::cardinality::{Admission, Batch, CapStats, CappedFamily, SeriesBudget};
use crate::self_metrics::Reason;
use cumulative::{CumulativeSeries, Kind, Point, Temporality, MAX_STREAMS_PER_SERIES};
use names::{family_names, is_instrument_name, unit_of};
use points::{metric_points, point_labels, SpinLabels};

/// Metric names re-exported (OpenTelemetry spelling).
pub const PREFIX: &str = "spin.";

/// Most distinct metric families re-exported; Spin has four.
const MAX_FAMILIES: usize = 64;

/// One re-exported family.
#[derive(Debug)]
struct SpinFamily {
    kind: Kind,
    unit: Option<Unit>,
    base: String,
    help: String,
    series: CappedFamily<SpinLabels, CumulativeSeries>,
}

/// What became of a batch of metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PointReport {
    /// Data points in the request.
    pub points: u64,
    /// Points refused, by reason.
    pub rejected: Vec<(Reason, u64)>,
}

impl PointReport {
    fn reject(&mut self, reason: Reason, n: u64) {
        if n == 0 {
            return;
        }
        match self.rejected.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, count)) => *count += n,
            None => self.rejected.push((reason, n)),
        }
    }

    /// Total points refused.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().map(|(_, n)| n).sum()
    }
}

/// Spin's metrics as Prometheus families; registered as a collector, fed by the receiver.
#[derive(Debug, Clone)]
pub struct SpinMetrics {
    /// By exposed name (the base name with its unit), so two spellings cannot clash.
    families: Arc<Mutex<BTreeMap<String, SpinFamily>>>,
    budget: SeriesBudget,
    stats: CapStats,
}

impl SpinMetrics {
    /// No families yet; at most `cap` series in all of them together.
    pub fn new(cap: usize, stats: CapStats) -> Self {
        SpinMetrics {
            families: Arc::new(Mutex::new(BTreeMap::new())),
            budget: SeriesBudget::new(cap),
            stats,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, SpinFamily>> {
        // Updates leave the table consistent at every step; a panic elsewhere must not stop
        // the export.
        self.families.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-exports the `spin.*` metrics of one request.
    pub fn ingest(&self, request: &ExportMetricsServiceRequest, now: Instant) -> PointReport {
        let mut report = PointReport::default();
        let mut families = self.lock();
        let metrics = request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics);
        for metric in metrics {
            self.ingest_metric(&mut families, metric, now, &mut report);
        }
        report
    }

    fn ingest_metric(
        &self,
        families: &mut BTreeMap<String, SpinFamily>,
        metric: &Metric,
        now: Instant,
        report: &mut PointReport,
    ) {
        let Some(read) = metric_points(metric) else {
            return;
        };
        let n = read.points.len() as u64;
        report.points += n;
        if !metric.name.starts_with(PREFIX) || !is_instrument_name(&metric.name) {
            report.reject(Reason::NotASpinMetric, n);
            return;
        }
        let Some(temporality) = read.temporality else {
            report.reject(Reason::InvalidDataPoint, n);
            return;
        };
        for raw in &read.points {
            let Some(totals) = raw.usable_totals(read.kind) else {
                report.reject(Reason::InvalidDataPoint, 1);
                continue;
            };
            let Some((labels, unit_attribute)) =
                point_labels(raw.attributes, !metric.unit.is_empty())
            else {
                report.reject(Reason::TooManyAttributes, 1);
                continue;
            };
            // Spin puts the unit in an attribute; a metric's own unit wins.
            let unit_text = if metric.unit.is_empty() {
                unit_attribute.unwrap_or_default()
            } else {
                metric.unit.clone()
            };
            let family = match self.family(families, &metric.name, read.kind, &unit_text) {
                Ok(family) => family,
                Err(reason) => {
                    report.reject(reason, 1);
                    continue;
                }
            };
            let point = Point {
                start: raw.start,
                time: raw.time,
                totals,
                label_hash: labels.hash_value(),
            };
            let overflow_streams = self.budget.limit().max(MAX_STREAMS_PER_SERIES);
            family.series.batch(now, |b| {
                apply(b, labels, &point, temporality, now, overflow_streams)
            });
        }
    }

    /// The family a point belongs to, created on first use unless that would exceed the number
    /// of families or clash with another family's samples.
    fn family<'f>(
        &self,
        families: &'f mut BTreeMap<String, SpinFamily>,
        otel_name: &str,
        kind: Kind,
        unit_text: &str,
    ) -> Result<&'f SpinFamily, Reason> {
        let unit = unit_of(unit_text);
        let names = family_names(otel_name, kind == Kind::Counter, unit.as_ref());
        if !families.contains_key(&names.exposed) {
            if families.len() >= MAX_FAMILIES {
                return Err(Reason::TooManyMetricNames);
            }
            let new_samples = kind.sample_names(&names.exposed);
            let clash = families.iter().any(|(name, f)| {
                f.kind
                    .sample_names(name)
                    .iter()
                    .any(|existing| new_samples.contains(existing))
            });
            if clash {
                return Err(Reason::TypeConflict);
            }
            let family = SpinFamily {
                kind,
                unit,
                base: names.base,
                help: format!("Spin's OpenTelemetry metric {otel_name}, re-exported"),
                series: CappedFamily::with_budget(
                    self.budget.clone(),
                    self.stats.clone(),
                    move || CumulativeSeries::new(kind),
                ),
            };
            families.insert(names.exposed.clone(), family);
        }
        match families.get(&names.exposed) {
            Some(family) if family.kind == kind => Ok(family),
            _ => Err(Reason::TypeConflict),
        }
    }

    /// Removes series (and streams) not updated since `deadline`; returns how many series.
    pub fn expire(&self, deadline: Instant) -> usize {
        let mut families = self.lock();
        let removed = families
            .values()
            .map(|f| {
                f.series
                    .expire_with(deadline, |s| s.forget_streams_before(deadline))
            })
            .sum();
        families.retain(|_, f| !f.series.is_empty());
        removed
    }
}

/// Applies a point to its series or, past the cap, to the overflow series, whose streams are
/// told apart by the hash of the labels they would have had (at most `overflow_streams`).
fn apply(
    batch: &mut Batch<'_, SpinLabels, CumulativeSeries>,
    labels: SpinLabels,
    point: &Point,
    temporality: Temporality,
    now: Instant,
    overflow_streams: usize,
) {
    batch.update_admitted(labels, 1, |series, admission| {
        let max_streams = match admission {
            Admission::Own => MAX_STREAMS_PER_SERIES,
            Admission::Overflow => overflow_streams,
        };
        series.apply(point, temporality, now, max_streams);
    });
}

impl Collector for SpinMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let families = self.lock();
        for family in families.values() {
            if family.series.is_empty() {
                continue;
            }
            let mut metric = encoder.encode_descriptor(
                &family.base,
                &family.help,
                family.unit.as_ref(),
                family.kind.metric_type(),
            )?;
            family.series.encode_series(&mut metric)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
