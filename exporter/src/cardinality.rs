//! The series cap: a metric family that holds at most N label sets, folds the rest into one
//! overflow series, and forgets series that stopped receiving data.
//!
//! A sender controls the label values we derive (routes, methods, model names), so without a
//! cap a hostile or buggy one could grow memory without bound. Past the cap, OpenTelemetry's
//! own rule applies (see the spanmetrics connector's `AggregationCardinalityLimit`): data is not
//! lost but folded into one series whose every label is `overflow`, so totals stay right, and
//! the number of folded observations is counted (`model_exporter_series_dropped_total`).
//!
//! One lock covers admission, update and expiry of a family, so a series can never be updated
//! after it was expired and orphaned outside the cap. Translation aggregates a whole OTLP batch
//! first and takes the lock once per batch, so the lock is cheap.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};

use crate::labels::OverflowLabels;

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

/// Self-metric handles a family reports into.
#[derive(Debug, Clone, Default)]
pub struct CapStats {
    /// Observations folded into the overflow series.
    pub dropped: Counter,
    /// Series removed because they received nothing for the expiry period.
    pub expired: Counter,
    /// Series currently held (the overflow series included).
    pub series: Gauge,
}

#[derive(Debug)]
struct Slot<C> {
    cell: C,
    last_seen: Instant,
}

struct Store<L, C> {
    series: HashMap<L, Slot<C>>,
    overflow: Option<Slot<C>>,
    cap: usize,
    make: Box<dyn Fn() -> C + Send + Sync>,
}

impl<L, C> Store<L, C> {
    fn len(&self) -> usize {
        self.series.len() + usize::from(self.overflow.is_some())
    }
}

impl<L: Debug, C: Debug> Debug for Store<L, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("series", &self.series.len())
            .field("cap", &self.cap)
            .finish()
    }
}

/// Whether an update landed in its own series or was folded into the overflow series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The label set has (or now has) its own series.
    Own,
    /// The family was full: the update went to the overflow series.
    Overflow,
}

/// A metric family with a series cap and expiry. Cheap to clone (shared state), registered in a
/// prometheus-client `Registry` like any family.
#[derive(Debug)]
pub struct CappedFamily<L, C> {
    store: Arc<Mutex<Store<L, C>>>,
    stats: CapStats,
}

impl<L, C> Clone for CappedFamily<L, C> {
    fn clone(&self) -> Self {
        CappedFamily {
            store: Arc::clone(&self.store),
            stats: self.stats.clone(),
        }
    }
}

impl<L, C> CappedFamily<L, C>
where
    L: Clone + Hash + Eq + Ord + OverflowLabels,
    C: Clone,
{
    /// A family of at most `cap` series (plus overflow), whose cells `make` creates.
    pub fn new(cap: usize, stats: CapStats, make: impl Fn() -> C + Send + Sync + 'static) -> Self {
        CappedFamily {
            store: Arc::new(Mutex::new(Store {
                series: HashMap::new(),
                overflow: None,
                cap,
                make: Box::new(make),
            })),
            stats,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Store<L, C>> {
        // A panic while holding the lock leaves the counters as they were before or after one
        // whole update, so the data is still consistent: carry on rather than stop exporting.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies several updates under one lock. `weight` is the number of observations an update
    /// stands for (what is counted as dropped if it overflows).
    pub fn batch(&self, now: Instant, f: impl FnOnce(&mut Batch<'_, L, C>)) {
        let mut store = self.lock();
        let mut batch = Batch {
            store: &mut store,
            now,
            dropped: 0,
        };
        f(&mut batch);
        let dropped = batch.dropped;
        if dropped > 0 {
            self.stats.dropped.inc_by(dropped);
        }
        self.stats.series.set(store.len() as i64);
    }

    /// Applies one update.
    pub fn update(&self, labels: L, weight: u64, f: impl FnOnce(&mut C)) -> Admission {
        let mut admission = Admission::Own;
        self.batch(Instant::now(), |b| admission = b.update(labels, weight, f));
        admission
    }

    /// Removes series last updated before `deadline`; returns how many.
    pub fn expire(&self, deadline: Instant) -> usize {
        let mut store = self.lock();
        let before = store.len();
        store.series.retain(|_, slot| slot.last_seen >= deadline);
        if store
            .overflow
            .as_ref()
            .is_some_and(|slot| slot.last_seen < deadline)
        {
            store.overflow = None;
        }
        let removed = before - store.len();
        if removed > 0 {
            self.stats.expired.inc_by(removed as u64);
        }
        self.stats.series.set(store.len() as i64);
        removed
    }

    /// Number of series held, the overflow series included.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the family holds no series.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of one series' cell (for tests and diagnostics).
    pub fn get(&self, labels: &L) -> Option<C> {
        let store = self.lock();
        if *labels == L::overflow() {
            return store.overflow.as_ref().map(|s| s.cell.clone());
        }
        store.series.get(labels).map(|s| s.cell.clone())
    }
}

/// Updates applied under one lock; see [`CappedFamily::batch`].
pub struct Batch<'a, L, C> {
    store: &'a mut Store<L, C>,
    now: Instant,
    dropped: u64,
}

impl<L, C> Batch<'_, L, C>
where
    L: Hash + Eq + OverflowLabels,
{
    /// Updates the series of `labels`, creating it if there is room, else the overflow series.
    pub fn update(&mut self, labels: L, weight: u64, f: impl FnOnce(&mut C)) -> Admission {
        let now = self.now;
        if let Some(slot) = self.store.series.get_mut(&labels) {
            slot.last_seen = now;
            f(&mut slot.cell);
            return Admission::Own;
        }
        if self.store.series.len() < self.store.cap {
            let mut cell = (self.store.make)();
            f(&mut cell);
            self.store.series.insert(
                labels,
                Slot {
                    cell,
                    last_seen: now,
                },
            );
            return Admission::Own;
        }
        self.dropped += weight;
        let make = &self.store.make;
        let slot = self.store.overflow.get_or_insert_with(|| Slot {
            cell: make(),
            last_seen: now,
        });
        slot.last_seen = now;
        f(&mut slot.cell);
        Admission::Overflow
    }
}

impl<L, C> TypedMetric for CappedFamily<L, C>
where
    C: TypedMetric,
{
    const TYPE: MetricType = C::TYPE;
}

impl<L, C> EncodeMetric for CappedFamily<L, C>
where
    L: Clone + Hash + Eq + Ord + OverflowLabels + EncodeLabelSet + Debug + Send + Sync,
    C: Clone + EncodeMetric + TypedMetric + Debug + Send,
{
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        // Sorted, so that the exposition is stable from scrape to scrape (and testable).
        let store = self.lock();
        let mut series: Vec<(&L, &Slot<C>)> = store.series.iter().collect();
        series.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (labels, slot) in series {
            slot.cell.encode(encoder.encode_family(labels)?)?;
        }
        if let Some(slot) = &store.overflow {
            let labels = L::overflow();
            slot.cell.encode(encoder.encode_family(&labels)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        C::TYPE
    }

    fn is_empty(&self) -> bool {
        self.lock().len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{Handler, Method, RequestLabels, StatusClass};
    use std::time::Duration;

    fn labels(handler: &str) -> RequestLabels {
        RequestLabels {
            handler: Handler(Arc::from(handler)),
            method: Method::Get,
            status: StatusClass::Success,
        }
    }

    /// Past the cap, new label sets fold into one overflow series and are counted.
    #[test]
    fn new_series_past_the_cap_fold_into_overflow() {
        let stats = CapStats::default();
        let family = CappedFamily::<RequestLabels, CounterCell>::new(2, stats.clone(), || {
            CounterCell::default()
        });
        assert_eq!(
            family.update(labels("/a"), 1, |c| c.inc_by(1)),
            Admission::Own
        );
        assert_eq!(
            family.update(labels("/b"), 1, |c| c.inc_by(1)),
            Admission::Own
        );
        assert_eq!(
            family.update(labels("/c"), 5, |c| c.inc_by(5)),
            Admission::Overflow
        );
        assert_eq!(
            family.update(labels("/d"), 1, |c| c.inc_by(1)),
            Admission::Overflow
        );
        // An existing series still updates in place.
        assert_eq!(
            family.update(labels("/a"), 1, |c| c.inc_by(1)),
            Admission::Own
        );
        assert_eq!(family.len(), 3);
        assert_eq!(family.get(&labels("/a")).map(|c| c.get()), Some(2));
        assert_eq!(
            family.get(&RequestLabels::overflow()).map(|c| c.get()),
            Some(6)
        );
        assert_eq!(stats.dropped.get(), 6);
        assert_eq!(stats.series.get(), 3);
    }

    /// Series that stop receiving data expire, and free room under the cap.
    #[test]
    fn stale_series_expire() {
        let stats = CapStats::default();
        let family = CappedFamily::<RequestLabels, CounterCell>::new(1, stats.clone(), || {
            CounterCell::default()
        });
        let start = Instant::now();
        family.batch(start, |b| {
            b.update(labels("/a"), 1, |c| c.inc_by(1));
            b.update(labels("/b"), 1, |c| c.inc_by(1));
        });
        let later = start + Duration::from_secs(60);
        assert_eq!(family.expire(later), 2);
        assert!(family.is_empty());
        assert_eq!(stats.expired.get(), 2);
        assert_eq!(
            family.update(labels("/b"), 1, |c| c.inc_by(1)),
            Admission::Own
        );
    }

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
