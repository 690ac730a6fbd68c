//! OTLP data points, read out of the five metric data types into one shape: attributes, start
//! and point times, and totals (a value, or a histogram's count and sum).

use std::hash::{DefaultHasher, Hash, Hasher};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{
    number_data_point, AggregationTemporality, Metric, NumberDataPoint,
};
use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};

use super::cumulative::{Kind, Temporality, Totals};
use super::names::{label_name, label_value, OVERFLOW_LABEL};
use crate::labels::OverflowLabels;

/// Most attributes on one data point; Spin uses three.
pub const MAX_ATTRIBUTES: usize = 16;

/// A re-exported series' labels, sorted, so attribute order does not split series.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpinLabels(Vec<(String, String)>);

impl SpinLabels {
    /// A hash of the labels: tells streams apart once folded into the overflow series.
    pub fn hash_value(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }
}

impl OverflowLabels for SpinLabels {
    fn overflow() -> Self {
        SpinLabels(vec![(
            OVERFLOW_LABEL.0.to_owned(),
            OVERFLOW_LABEL.1.to_owned(),
        )])
    }
}

impl EncodeLabelSet for SpinLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }
}

/// One data point as read, before it is checked.
#[derive(Debug)]
pub struct RawPoint<'a> {
    /// The point's attributes.
    pub attributes: &'a [KeyValue],
    /// `start_time_unix_nano`.
    pub start: u64,
    /// `time_unix_nano`.
    pub time: u64,
    /// The value; `None` when the point carries none.
    pub totals: Option<Totals>,
}

impl RawPoint<'_> {
    /// The totals, if they are numbers a family of `kind` can hold (counts never negative).
    pub fn usable_totals(&self, kind: Kind) -> Option<Totals> {
        self.totals.filter(|t| {
            t.primary.is_finite() && t.sum.is_finite() && (kind == Kind::Gauge || t.primary >= 0.0)
        })
    }
}

/// A metric's points and how to read them.
#[derive(Debug)]
pub struct MetricPoints<'a> {
    /// The family kind the metric becomes.
    pub kind: Kind,
    /// How its points relate to earlier ones; `None` when the sender did not say.
    pub temporality: Option<Temporality>,
    /// Its points.
    pub points: Vec<RawPoint<'a>>,
}

/// `(attributes, start, time, count and sum)` of each data point of a histogram-like metric
/// (histogram, exponential histogram, summary: three prost types with the same fields, so a
/// macro rather than a trait).
macro_rules! summary_points {
    ($points:expr, $point:ident => $sum:expr) => {
        $points
            .iter()
            .map(|$point| RawPoint {
                attributes: $point.attributes.as_slice(),
                start: $point.start_time_unix_nano,
                time: $point.time_unix_nano,
                totals: Some(Totals {
                    primary: $point.count as f64,
                    sum: $sum,
                }),
            })
            .collect()
    };
}

/// The points of one metric; `None` when it carries no data at all.
pub fn metric_points(metric: &Metric) -> Option<MetricPoints<'_>> {
    let (kind, temporality, points) = match metric.data.as_ref()? {
        Data::Sum(s) => {
            let kind = if s.is_monotonic {
                Kind::Counter
            } else {
                Kind::Gauge
            };
            (
                kind,
                temporality(s.aggregation_temporality),
                number_points(&s.data_points),
            )
        }
        Data::Gauge(g) => (
            Kind::Gauge,
            Some(Temporality::LastValue),
            number_points(&g.data_points),
        ),
        Data::Histogram(h) => (
            Kind::Histogram,
            temporality(h.aggregation_temporality),
            summary_points!(h.data_points, p => p.sum.unwrap_or(0.0)),
        ),
        Data::ExponentialHistogram(h) => (
            Kind::Histogram,
            temporality(h.aggregation_temporality),
            summary_points!(h.data_points, p => p.sum.unwrap_or(0.0)),
        ),
        // OTLP summaries are always cumulative.
        Data::Summary(s) => (
            Kind::Histogram,
            Some(Temporality::Cumulative),
            summary_points!(s.data_points, p => p.sum),
        ),
    };
    // A non-monotonic cumulative sum is a level, not a count: the newest value wins.
    let temporality = match (kind, temporality) {
        (Kind::Gauge, Some(Temporality::Cumulative)) => Some(Temporality::LastValue),
        (_, t) => t,
    };
    Some(MetricPoints {
        kind,
        temporality,
        points,
    })
}

fn number_points(points: &[NumberDataPoint]) -> Vec<RawPoint<'_>> {
    points
        .iter()
        .map(|p| {
            let value = match p.value {
                Some(number_data_point::Value::AsInt(i)) => Some(i as f64),
                Some(number_data_point::Value::AsDouble(d)) => Some(d),
                None => None,
            };
            RawPoint {
                attributes: p.attributes.as_slice(),
                start: p.start_time_unix_nano,
                time: p.time_unix_nano,
                totals: value.map(|primary| Totals { primary, sum: 0.0 }),
            }
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

/// Labels of a point, and the unit Spin carries in a `unit` attribute (read only when the
/// metric itself has none). `None` when the point has too many attributes.
pub fn point_labels(
    attributes: &[KeyValue],
    unit_from_metric: bool,
) -> Option<(SpinLabels, Option<String>)> {
    if attributes.len() > MAX_ATTRIBUTES {
        return None;
    }
    let mut unit = None;
    let mut labels: Vec<(String, String)> = Vec::with_capacity(attributes.len());
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
    Some((SpinLabels(labels), unit))
}
