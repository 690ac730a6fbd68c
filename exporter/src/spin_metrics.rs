//! Spin's own OpenTelemetry metrics, re-exposed in Prometheus form.
//!
//! Spin 3.6 sends `spin.request_count` (a monotonic sum) and histograms of component memory and
//! CPU time, every `OTEL_METRIC_EXPORT_INTERVAL`, always **cumulative**. They become
//! `spin_request_count_total{app_id, component_id, trigger_type}` and histograms such as
//! `spin_component_memory_used_bytes` (the unit comes from Spin's `unit` attribute). Spin's
//! histograms use the SDK's default bounds (0 to 10 000), which say nothing about bytes or
//! seconds, so only their count and sum are kept (a histogram with just the `+Inf` bucket).
//!
//! Cumulative data is turned into increments per *stream*: a series plus the point's
//! `start_time_unix_nano`. A new start time is a new process, whose whole value is new traffic;
//! a value that goes back within a stream is a reset, not negative traffic; a point not newer
//! than the last one of its stream (a retry, or Spin re-sending unchanged totals) adds nothing.
//! The exported counters therefore only ever grow, across Spin restarts and with several
//! senders. Delta data, if a sender uses it, is simply added.
//!
//! Only metrics named `spin.*` are re-exported: the prefix keeps them apart from the families
//! this exporter defines, and bounds what an unrelated sender can add.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use crate::cardinality::CapStats;
use crate::families::Reason;

/// Metric names re-exported (OpenTelemetry spelling).
pub const PREFIX: &str = "spin.";

/// Most distinct metric families re-exported; Spin has four.
const MAX_FAMILIES: usize = 64;

/// Most attributes on one data point; Spin uses three.
const MAX_ATTRIBUTES: usize = 16;

/// Longest label value kept; longer ones are cut (at a character boundary).
const MAX_LABEL_VALUE: usize = 128;

/// Streams remembered per series: more than a few processes feeding one series at once is not
/// a sidecar's situation, and the oldest is forgotten first.
const MAX_STREAMS_PER_SERIES: usize = 8;

/// The label set of the overflow series (OpenTelemetry's overflow attribute, in Prometheus form).
const OVERFLOW_LABEL: (&str, &str) = ("otel_metric_overflow", "true");

type Labels = Vec<(String, String)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn metric_type(self) -> MetricType {
        match self {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge => MetricType::Gauge,
            Kind::Histogram => MetricType::Histogram,
        }
    }

    /// The sample names a family of this kind exposes, to refuse families that would clash.
    fn sample_names(self, name: &str) -> Vec<String> {
        match self {
            Kind::Counter => vec![format!("{name}_total"), format!("{name}_created")],
            Kind::Gauge => vec![name.to_owned()],
            Kind::Histogram => vec![
                format!("{name}_bucket"),
                format!("{name}_sum"),
                format!("{name}_count"),
                format!("{name}_created"),
            ],
        }
    }
}

/// How a data point's value relates to earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Temporality {
    Cumulative,
    Delta,
    /// A gauge: the newest value wins.
    LastValue,
}

/// Totals carried by a point: a counter's value (`sum` unused) or a histogram's count and sum.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Totals {
    primary: f64,
    sum: f64,
}

#[derive(Debug, Clone)]
struct Stream {
    label_hash: u64,
    start: u64,
    last_time: u64,
    last: Totals,
    seen: Instant,
}

#[derive(Debug, Clone)]
struct Series {
    totals: Totals,
    gauge_time: u64,
    streams: Vec<Stream>,
    last_seen: Instant,
}

impl Series {
    fn new(now: Instant) -> Self {
        Series {
            totals: Totals {
                primary: 0.0,
                sum: 0.0,
            },
            gauge_time: 0,
            streams: Vec::new(),
            last_seen: now,
        }
    }

    /// Applies one point; `max_streams` bounds the streams this series remembers.
    fn apply(&mut self, point: &Point, temporality: Temporality, now: Instant, max_streams: usize) {
        self.last_seen = now;
        match temporality {
            Temporality::Delta => {
                self.totals.primary += point.totals.primary;
                self.totals.sum += point.totals.sum;
            }
            Temporality::LastValue => {
                if point.time >= self.gauge_time {
                    self.gauge_time = point.time;
                    self.totals = point.totals;
                }
            }
            Temporality::Cumulative => {
                let delta = self.stream_delta(point, now, max_streams);
                self.totals.primary += delta.primary;
                self.totals.sum += delta.sum;
            }
        }
    }

    /// The increment a cumulative point brings, given what its stream sent before.
    fn stream_delta(&mut self, point: &Point, now: Instant, max_streams: usize) -> Totals {
        let zero = Totals {
            primary: 0.0,
            sum: 0.0,
        };
        if let Some(stream) = self
            .streams
            .iter_mut()
            .find(|s| s.start == point.start && s.label_hash == point.label_hash)
        {
            stream.seen = now;
            if point.time != 0 && point.time <= stream.last_time {
                return zero; // a retry, or an older point arriving late
            }
            let delta = if point.totals.primary >= stream.last.primary {
                Totals {
                    primary: point.totals.primary - stream.last.primary,
                    sum: point.totals.sum - stream.last.sum,
                }
            } else {
                point.totals // went back: the process restarted, all of it is new
            };
            stream.last = point.totals;
            stream.last_time = point.time;
            return delta;
        }
        if self.streams.len() >= max_streams {
            if let Some(oldest) = self
                .streams
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.seen)
                .map(|(i, _)| i)
            {
                self.streams.swap_remove(oldest);
            }
        }
        self.streams.push(Stream {
            label_hash: point.label_hash,
            start: point.start,
            last_time: point.time,
            last: point.totals,
            seen: now,
        });
        point.totals // a new stream: everything it counted so far is new to us
    }
}

#[derive(Debug)]
struct FamilyState {
    kind: Kind,
    unit: Option<Unit>,
    base: String,
    help: String,
    series: HashMap<Labels, Series>,
    overflow: Option<Series>,
}

#[derive(Debug)]
struct Store {
    families: BTreeMap<String, FamilyState>,
    series_total: usize,
    cap: usize,
}

/// A data point, reduced to what re-export needs.
#[derive(Debug)]
struct Point {
    start: u64,
    time: u64,
    totals: Totals,
    /// Hash of the original labels: tells streams apart inside the overflow series.
    label_hash: u64,
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
    store: Arc<Mutex<Store>>,
    stats: CapStats,
}

/// OpenTelemetry instrument name syntax (which also makes the name safe to quote in help text).
fn is_instrument_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 255
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'))
}

/// OpenTelemetry name to Prometheus name: invalid characters become `_`, runs of `_` collapse.
fn prometheus_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == ':' {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// OpenTelemetry attribute key to Prometheus label name.
fn label_name(key: &str) -> Option<String> {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() {
        return None;
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out == "le" || out == "quantile" {
        out.insert_str(0, "key_");
    } else if out.starts_with("__") {
        out.insert_str(0, "key");
    }
    Some(out)
}

/// An attribute value as label text; arrays, maps and bytes have no faithful short form.
fn label_value(value: &Value) -> Option<String> {
    let mut text = match value {
        Value::StringValue(s) => s.clone(),
        Value::BoolValue(b) => b.to_string(),
        Value::IntValue(i) => i.to_string(),
        Value::DoubleValue(d) => d.to_string(),
        _ => return None,
    };
    if text.len() > MAX_LABEL_VALUE {
        let mut end = MAX_LABEL_VALUE;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Some(text)
}

/// The Prometheus unit of an OpenTelemetry (UCUM) unit; dimensionless and annotations have none.
fn unit_of(unit: &str) -> Option<Unit> {
    match unit {
        "" | "1" => None,
        "By" => Some(Unit::Bytes),
        "s" => Some(Unit::Seconds),
        "ms" => Some(Unit::Other("milliseconds".to_owned())),
        "us" => Some(Unit::Other("microseconds".to_owned())),
        "ns" => Some(Unit::Other("nanoseconds".to_owned())),
        "%" => Some(Unit::Other("percent".to_owned())),
        u if u.starts_with('{') => None,
        u if u.len() <= 32 && u.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(Unit::Other(u.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// Labels of a point (sorted, so attribute order does not split series), and the unit Spin
/// carries in a `unit` attribute. `None` when the point has too many attributes.
fn point_labels(
    attributes: &[KeyValue],
    unit_from_metric: bool,
) -> Option<(Labels, Option<String>)> {
    if attributes.len() > MAX_ATTRIBUTES {
        return None;
    }
    let mut unit = None;
    let mut labels: Labels = Vec::with_capacity(attributes.len());
    for kv in attributes {
        let Some(value) = kv.value.as_ref().and_then(|v| v.value.as_ref()) else {
            continue;
        };
        if kv.key == "unit" && !unit_from_metric {
            if let Value::StringValue(u) = value {
                unit = Some(u.clone());
                continue;
            }
        }
        if let (Some(name), Some(text)) = (label_name(&kv.key), label_value(value)) {
            labels.push((name, text));
        }
    }
    labels.sort();
    // Keys that collapse to one name are joined, as the OpenTelemetry-Prometheus rules say.
    labels.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1.push(';');
            earlier.1.push_str(&later.1);
            true
        } else {
            false
        }
    });
    Some((labels, unit))
}

fn hash_labels(labels: &Labels) -> u64 {
    let mut h = DefaultHasher::new();
    labels.hash(&mut h);
    h.finish()
}

/// `(attributes, start, time, count and sum)` of each data point of a histogram-like metric
/// (histogram, exponential histogram, summary: three prost types with the same fields, so a
/// macro rather than a trait).
macro_rules! summary_points {
    ($points:expr, $point:ident => $sum:expr) => {
        $points
            .iter()
            .map(|$point| {
                (
                    $point.attributes.as_slice(),
                    $point.start_time_unix_nano,
                    $point.time_unix_nano,
                    Some(Totals {
                        primary: $point.count as f64,
                        sum: $sum,
                    }),
                )
            })
            .collect()
    };
}

impl SpinMetrics {
    /// An empty store holding at most `cap` series in all.
    pub fn new(cap: usize, stats: CapStats) -> Self {
        SpinMetrics {
            store: Arc::new(Mutex::new(Store {
                families: BTreeMap::new(),
                series_total: 0,
                cap,
            })),
            stats,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // Updates leave the store consistent at every step; a panic elsewhere must not stop
        // the export.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-exports the `spin.*` metrics of one request.
    pub fn ingest(&self, request: &ExportMetricsServiceRequest, now: Instant) -> PointReport {
        let mut report = PointReport::default();
        let mut store = self.lock();
        let mut dropped = 0;
        let metrics = request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics);
        for metric in metrics {
            let (kind, temporality, points) = match &metric.data {
                Some(Data::Sum(s)) => {
                    let points = number_points(&s.data_points);
                    let kind = if s.is_monotonic {
                        Kind::Counter
                    } else {
                        Kind::Gauge
                    };
                    (kind, temporality(s.aggregation_temporality), points)
                }
                Some(Data::Gauge(g)) => (
                    Kind::Gauge,
                    Some(Temporality::LastValue),
                    number_points(&g.data_points),
                ),
                Some(Data::Histogram(h)) => (
                    Kind::Histogram,
                    temporality(h.aggregation_temporality),
                    summary_points!(h.data_points, p => p.sum.unwrap_or(0.0)),
                ),
                Some(Data::ExponentialHistogram(h)) => (
                    Kind::Histogram,
                    temporality(h.aggregation_temporality),
                    summary_points!(h.data_points, p => p.sum.unwrap_or(0.0)),
                ),
                // OTLP summaries are always cumulative.
                Some(Data::Summary(s)) => (
                    Kind::Histogram,
                    Some(Temporality::Cumulative),
                    summary_points!(s.data_points, p => p.sum),
                ),
                None => continue,
            };
            let n = points.len() as u64;
            report.points += n;
            if !metric.name.starts_with(PREFIX) || !is_instrument_name(&metric.name) {
                report.reject(Reason::not_a_spin_metric, n);
                continue;
            }
            let Some(temporality) = temporality else {
                report.reject(Reason::invalid_data_point, n);
                continue;
            };
            // A non-monotonic cumulative sum is a level, not a count: the newest value wins.
            let temporality = match (kind, temporality) {
                (Kind::Gauge, Temporality::Cumulative) => Temporality::LastValue,
                (_, t) => t,
            };
            for (attributes, start, time, totals) in points {
                let Some(totals) = totals.filter(|t| {
                    t.primary.is_finite()
                        && t.sum.is_finite()
                        && (kind == Kind::Gauge || t.primary >= 0.0)
                }) else {
                    report.reject(Reason::invalid_data_point, 1);
                    continue;
                };
                let Some((labels, unit_attribute)) =
                    point_labels(attributes, !metric.unit.is_empty())
                else {
                    report.reject(Reason::too_many_attributes, 1);
                    continue;
                };
                let unit_text = if metric.unit.is_empty() {
                    unit_attribute.unwrap_or_default()
                } else {
                    metric.unit.clone()
                };
                let point = Point {
                    start,
                    time,
                    totals,
                    label_hash: hash_labels(&labels),
                };
                match store.apply(
                    &metric.name,
                    kind,
                    &unit_text,
                    labels,
                    &point,
                    temporality,
                    now,
                ) {
                    Ok(true) => {}
                    Ok(false) => dropped += 1,
                    Err(reason) => report.reject(reason, 1),
                }
            }
        }
        if dropped > 0 {
            self.stats.dropped.inc_by(dropped);
        }
        self.stats.series.set(store.series_held() as i64);
        report
    }

    /// Removes series (and streams) not updated since `deadline`; returns how many series.
    pub fn expire(&self, deadline: Instant) -> usize {
        let mut store = self.lock();
        let before = store.series_held();
        for family in store.families.values_mut() {
            family.series.retain(|_, s| s.last_seen >= deadline);
            if family
                .overflow
                .as_ref()
                .is_some_and(|s| s.last_seen < deadline)
            {
                family.overflow = None;
            }
            for series in family.series.values_mut().chain(family.overflow.as_mut()) {
                series.streams.retain(|s| s.seen >= deadline);
            }
        }
        store
            .families
            .retain(|_, f| !f.series.is_empty() || f.overflow.is_some());
        store.series_total = store.families.values().map(|f| f.series.len()).sum();
        let removed = before - store.series_held();
        if removed > 0 {
            self.stats.expired.inc_by(removed as u64);
        }
        self.stats.series.set(store.series_held() as i64);
        removed
    }
}

type RawPoint<'a> = (&'a [KeyValue], u64, u64, Option<Totals>);

fn number_points(
    points: &[opentelemetry_proto::tonic::metrics::v1::NumberDataPoint],
) -> Vec<RawPoint<'_>> {
    points
        .iter()
        .map(|p| {
            let value = match p.value {
                Some(number_data_point::Value::AsInt(i)) => Some(i as f64),
                Some(number_data_point::Value::AsDouble(d)) => Some(d),
                None => None,
            };
            (
                p.attributes.as_slice(),
                p.start_time_unix_nano,
                p.time_unix_nano,
                value.map(|primary| Totals { primary, sum: 0.0 }),
            )
        })
        .collect()
}

fn temporality(value: i32) -> Option<Temporality> {
    match AggregationTemporality::try_from(value) {
        Ok(AggregationTemporality::Cumulative) => Some(Temporality::Cumulative),
        Ok(AggregationTemporality::Delta) => Some(Temporality::Delta),
        _ => None,
    }
}

impl Store {
    fn series_held(&self) -> usize {
        self.series_total
            + self
                .families
                .values()
                .filter(|f| f.overflow.is_some())
                .count()
    }

    /// Applies a point; `Ok(false)` when it went to the overflow series.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        otel_name: &str,
        kind: Kind,
        unit_text: &str,
        labels: Labels,
        point: &Point,
        temporality: Temporality,
        now: Instant,
    ) -> Result<bool, Reason> {
        let unit = unit_of(unit_text);
        let mut base = prometheus_name(otel_name);
        if kind == Kind::Counter {
            if let Some(stripped) = base.strip_suffix("_total") {
                base = stripped.to_owned();
            }
        }
        if let Some(unit) = &unit {
            if let Some(stripped) = base.strip_suffix(&format!("_{}", unit.as_str())) {
                base = stripped.to_owned();
            }
        }
        let exposed = match &unit {
            Some(unit) => format!("{base}_{}", unit.as_str()),
            None => base.clone(),
        };
        if !self.families.contains_key(&exposed) {
            if self.families.len() >= MAX_FAMILIES {
                return Err(Reason::too_many_metric_names);
            }
            let new_names = kind.sample_names(&exposed);
            let clash = self.families.iter().any(|(name, f)| {
                f.kind
                    .sample_names(name)
                    .iter()
                    .any(|existing| new_names.contains(existing))
            });
            if clash {
                return Err(Reason::type_conflict);
            }
            self.families.insert(
                exposed.clone(),
                FamilyState {
                    kind,
                    unit,
                    base,
                    help: format!("Spin's OpenTelemetry metric {otel_name}, re-exported"),
                    series: HashMap::new(),
                    overflow: None,
                },
            );
        }
        let room = self.series_total < self.cap;
        let Some(family) = self.families.get_mut(&exposed) else {
            return Err(Reason::invalid_data_point);
        };
        if family.kind != kind {
            return Err(Reason::type_conflict);
        }
        if let Some(series) = family.series.get_mut(&labels) {
            series.apply(point, temporality, now, MAX_STREAMS_PER_SERIES);
            return Ok(true);
        }
        if room {
            let mut series = Series::new(now);
            series.apply(point, temporality, now, MAX_STREAMS_PER_SERIES);
            family.series.insert(labels, series);
            self.series_total += 1;
            return Ok(true);
        }
        // Past the cap: fold into the overflow series, whose streams are told apart by the
        // hash of the labels they would have had (bounded like the cap itself).
        let cap = self.cap.max(MAX_STREAMS_PER_SERIES);
        family
            .overflow
            .get_or_insert_with(|| Series::new(now))
            .apply(point, temporality, now, cap);
        Ok(false)
    }
}

fn encode_series(
    kind: Kind,
    series: &Series,
    mut encoder: MetricEncoder<'_>,
) -> Result<(), std::fmt::Error> {
    match kind {
        Kind::Counter => encoder.encode_counter::<NoLabelSet, _, f64>(&series.totals.primary, None),
        Kind::Gauge => encoder.encode_gauge(&series.totals.primary),
        Kind::Histogram => {
            let count = series.totals.primary as u64;
            encoder.encode_histogram::<NoLabelSet>(
                series.totals.sum,
                count,
                &[(f64::INFINITY, count)],
                None,
            )
        }
    }
}

impl Collector for SpinMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let store = self.lock();
        for family in store.families.values() {
            if family.series.is_empty() && family.overflow.is_none() {
                continue;
            }
            let mut metric = encoder.encode_descriptor(
                &family.base,
                &family.help,
                family.unit.as_ref(),
                family.kind.metric_type(),
            )?;
            let mut series: Vec<(&Labels, &Series)> = family.series.iter().collect();
            series.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (labels, s) in series {
                encode_series(family.kind, s, metric.encode_family(labels)?)?;
            }
            if let Some(s) = &family.overflow {
                let labels = vec![OVERFLOW_LABEL];
                encode_series(family.kind, s, metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names and label keys follow the OpenTelemetry-to-Prometheus rules.
    #[test]
    fn names_are_sanitised() {
        assert_eq!(prometheus_name("spin.request_count"), "spin_request_count");
        assert_eq!(prometheus_name("spin..odd-name/x"), "spin_odd_name_x");
        assert_eq!(label_name("component_id").as_deref(), Some("component_id"));
        assert_eq!(label_name("k8s.pod.name").as_deref(), Some("k8s_pod_name"));
        assert_eq!(label_name("1st").as_deref(), Some("key_1st"));
        assert_eq!(label_name("__x").as_deref(), Some("key__x"));
        assert_eq!(label_name("le").as_deref(), Some("key_le"));
        assert_eq!(label_name(""), None);
        assert!(is_instrument_name("spin.component_memory_used"));
        assert!(!is_instrument_name("spin.bad\nname"));
        assert!(!is_instrument_name(".spin"));
    }

    /// Units become suffixes; annotations and dimensionless units do not.
    #[test]
    fn units_map_to_suffixes() {
        assert_eq!(unit_of("By"), Some(Unit::Bytes));
        assert_eq!(unit_of("s"), Some(Unit::Seconds));
        assert_eq!(unit_of("1"), None);
        assert_eq!(unit_of("{request}"), None);
        assert_eq!(unit_of("a b"), None);
    }

    fn point(start: u64, time: u64, value: f64) -> Point {
        Point {
            start,
            time,
            totals: Totals {
                primary: value,
                sum: 0.0,
            },
            label_hash: 0,
        }
    }

    /// Re-sent totals add nothing; a new start time or a value going back is a new process.
    #[test]
    fn cumulative_streams_survive_restarts() {
        let now = Instant::now();
        let mut s = Series::new(now);
        let c = Temporality::Cumulative;
        s.apply(&point(1, 10, 3.0), c, now, 8);
        s.apply(&point(1, 20, 3.0), c, now, 8);
        s.apply(&point(1, 30, 5.0), c, now, 8);
        assert_eq!(s.totals.primary, 5.0);
        s.apply(&point(1, 25, 4.0), c, now, 8); // late, older point
        assert_eq!(s.totals.primary, 5.0);
        s.apply(&point(2, 40, 1.0), c, now, 8); // restarted process
        assert_eq!(s.totals.primary, 6.0);
        s.apply(&point(1, 50, 7.0), c, now, 8); // the old process, still running
        assert_eq!(s.totals.primary, 8.0);
        s.apply(&point(0, 60, 4.0), c, now, 8);
        s.apply(&point(0, 70, 1.0), c, now, 8); // no start time, value went back: reset
        assert_eq!(s.totals.primary, 13.0);
    }

    /// Delta points add; gauges keep the newest value.
    #[test]
    fn delta_and_gauge_points() {
        let now = Instant::now();
        let mut s = Series::new(now);
        s.apply(&point(0, 1, 2.0), Temporality::Delta, now, 8);
        s.apply(&point(0, 2, 2.0), Temporality::Delta, now, 8);
        assert_eq!(s.totals.primary, 4.0);
        let mut g = Series::new(now);
        g.apply(&point(0, 5, 7.0), Temporality::LastValue, now, 8);
        g.apply(&point(0, 4, 1.0), Temporality::LastValue, now, 8);
        assert_eq!(g.totals.primary, 7.0);
    }

    fn request_count(value: i64, start: u64, component: &str) -> ExportMetricsServiceRequest {
        use opentelemetry_proto::tonic::common::v1::AnyValue;
        use opentelemetry_proto::tonic::metrics::v1::{
            Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
        };
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
                        name: "spin.request_count".into(),
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
            let store = spin.lock();
            let family = &store.families["spin_request_count"];
            assert_eq!(family.series.len(), 1);
            assert_eq!(
                family.overflow.as_ref().map(|s| s.totals.primary),
                Some(10.0)
            );
        }
        assert_eq!(spin.expire(now + std::time::Duration::from_secs(1)), 2);
        assert_eq!(stats.expired.get(), 2);
        assert_eq!(stats.series.get(), 0);
        spin.ingest(&request_count(7, 1, "b"), now);
        assert_eq!(stats.series.get(), 1);
    }

    /// The number of streams a series remembers is bounded.
    #[test]
    fn streams_are_bounded() {
        let now = Instant::now();
        let mut s = Series::new(now);
        for start in 0..100 {
            s.apply(&point(start, 1, 1.0), Temporality::Cumulative, now, 8);
        }
        assert_eq!(s.streams.len(), 8);
        assert_eq!(s.totals.primary, 100.0);
    }
}
