//! The value of one series: a counter or a fixed-bucket histogram, updated under its family's
//! lock (see [`crate::cardinality`]), so plain numbers rather than atomics.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// A counter value, updated under its family's lock (no atomics needed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CounterCell {
    value: u64,
}

impl CounterCell {
    /// Adds `n`.
    pub fn inc_by(&mut self, n: u64) {
        self.value = self.value.saturating_add(n);
    }

    /// The current total.
    pub fn get(&self) -> u64 {
        self.value
    }
}

impl EncodeMetric for CounterCell {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.value, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }
}

impl TypedMetric for CounterCell {
    const TYPE: MetricType = MetricType::Counter;
}

/// A histogram with fixed bucket bounds; one cell can be merged into another with the same
/// bounds, which is how a batch's observations are applied in one step.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramCell {
    /// `(upper bound, count in this bucket alone)`; the last bound is `+Inf`.
    buckets: Vec<(f64, u64)>,
    sum: f64,
    count: u64,
}

impl HistogramCell {
    /// An empty histogram with these finite, increasing upper bounds (and `+Inf`).
    pub fn new(bounds: &[f64]) -> Self {
        let mut buckets: Vec<(f64, u64)> = bounds
            .iter()
            .copied()
            .filter(|b| b.is_finite())
            .map(|b| (b, 0))
            .collect();
        buckets.push((f64::INFINITY, 0));
        HistogramCell {
            buckets,
            sum: 0.0,
            count: 0,
        }
    }

    /// Records one value. Not-a-number is ignored: it has no bucket and would poison the sum.
    pub fn observe(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        let index = self.buckets.partition_point(|(bound, _)| *bound < value);
        if let Some(bucket) = self.buckets.get_mut(index) {
            bucket.1 += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    /// Adds another histogram's observations; bounds must be the same (they always are within a
    /// family, whose constructor makes every cell).
    pub fn merge(&mut self, other: &HistogramCell) {
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            mine.1 = mine.1.saturating_add(theirs.1);
        }
        self.sum += other.sum;
        self.count = self.count.saturating_add(other.count);
    }

    /// Adds observations known only by their count and sum (they land in `+Inf`).
    pub fn add_count_sum(&mut self, count: u64, sum: f64) {
        if let Some(last) = self.buckets.last_mut() {
            last.1 = last.1.saturating_add(count);
        }
        self.sum += sum;
        self.count = self.count.saturating_add(count);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of observations.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// `(upper bound, count in this bucket alone)`.
    pub fn buckets(&self) -> &[(f64, u64)] {
        &self.buckets
    }
}

impl EncodeMetric for HistogramCell {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<NoLabelSet>(self.sum, self.count, &self.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

impl TypedMetric for HistogramCell {
    const TYPE: MetricType = MetricType::Histogram;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buckets count each value once, in the first bucket whose bound is not below it.
    #[test]
    fn histogram_buckets_are_upper_inclusive() {
        let mut h = HistogramCell::new(&[0.1, 0.5, 1.0]);
        for v in [0.1, 0.2, 0.5, 7.0, f64::NAN] {
            h.observe(v);
        }
        assert_eq!(
            h.buckets(),
            &[(0.1, 1), (0.5, 2), (1.0, 0), (f64::INFINITY, 1)]
        );
        assert_eq!(h.count(), 4);
        let mut total = HistogramCell::new(&[0.1, 0.5, 1.0]);
        total.merge(&h);
        total.merge(&h);
        assert_eq!(total.count(), 8);
        assert!((total.sum() - 15.6).abs() < 1e-9);
        total.add_count_sum(2, 1.0);
        assert_eq!(total.buckets()[3], (f64::INFINITY, 4));
    }
}
