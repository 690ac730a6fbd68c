//! The series cap: a metric family that holds at most N label sets, folds the rest into one
//! overflow series, and forgets series that stopped receiving data. Every family the exporter
//! exposes is one, the families it derives from spans as the ones it re-exports from Spin.
//!
//! A sender controls the label values we derive (routes, methods, model names, Spin's metric
//! attributes), so without a cap a hostile or buggy one could grow memory without bound. Past
//! the cap, OpenTelemetry's own rule applies (see the spanmetrics connector's
//! `AggregationCardinalityLimit`): data is not lost but folded into one series whose labels say
//! `overflow`, so totals stay right, and the number of folded observations is counted
//! (`model_exporter_series_dropped_total`).
//!
//! The cap is a [`SeriesBudget`]: a family's own, or one shared by several families (Spin's
//! metrics, whose names the sender chooses, share one budget, so adding names adds no room).
//!
//! One lock covers admission, update and expiry of a family, so a series can never be updated
//! after it was expired and orphaned outside the cap. Translation aggregates a whole OTLP batch
//! first and takes the lock once per batch, so the lock is cheap.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};

use crate::labels::OverflowLabels;

/// Self-metric handles a family reports into (several families may share one set).
#[derive(Debug, Clone, Default)]
pub struct CapStats {
    /// Observations folded into the overflow series.
    pub dropped: Counter,
    /// Series removed because they received nothing for the expiry period.
    pub expired: Counter,
    /// Series currently held (the overflow series included).
    pub series: Gauge,
}

impl CapStats {
    /// Moves the series gauge by the change in a family's size; a delta rather than a set, so
    /// families sharing the handles add up.
    fn resized(&self, before: usize, after: usize) {
        match after.cmp(&before) {
            std::cmp::Ordering::Greater => {
                self.series.inc_by((after - before) as i64);
            }
            std::cmp::Ordering::Less => {
                self.series.dec_by((before - after) as i64);
            }
            std::cmp::Ordering::Equal => {}
        }
    }
}

/// How many series (overflow series not counted) one or more families may hold together.
#[derive(Debug, Clone)]
pub struct SeriesBudget {
    limit: usize,
    used: Arc<AtomicUsize>,
}

impl SeriesBudget {
    /// Room for `limit` series; clones share it.
    pub fn new(limit: usize) -> Self {
        SeriesBudget {
            limit,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The most series it has room for.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes room for one series, if any is left.
    fn take(&self) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < self.limit).then_some(used + 1)
            })
            .is_ok()
    }

    /// Gives back room for `n` series.
    fn give_back(&self, n: usize) {
        if n > 0 {
            self.used.fetch_sub(n, Ordering::AcqRel);
        }
    }
}

#[derive(Debug)]
struct Slot<C> {
    cell: C,
    last_seen: Instant,
}

struct Store<L, C> {
    series: HashMap<L, Slot<C>>,
    overflow: Option<Slot<C>>,
    budget: SeriesBudget,
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
            .field("budget", &self.budget)
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
        Self::with_budget(SeriesBudget::new(cap), stats, make)
    }

    /// A family whose series count against `budget`, which other families may share.
    pub fn with_budget(
        budget: SeriesBudget,
        stats: CapStats,
        make: impl Fn() -> C + Send + Sync + 'static,
    ) -> Self {
        CappedFamily {
            store: Arc::new(Mutex::new(Store {
                series: HashMap::new(),
                overflow: None,
                budget,
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
        let before = store.len();
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
        self.stats.resized(before, store.len());
    }

    /// Applies one update.
    pub fn update(&self, labels: L, weight: u64, f: impl FnOnce(&mut C)) -> Admission {
        let mut admission = Admission::Own;
        self.batch(Instant::now(), |b| admission = b.update(labels, weight, f));
        admission
    }

    /// Removes series last updated before `deadline`, after letting each remaining cell forget
    /// its own stale state (`prune`); returns how many series were removed.
    pub fn expire_with(&self, deadline: Instant, mut prune: impl FnMut(&mut C)) -> usize {
        let mut store = self.lock();
        let before = store.len();
        let held = store.series.len();
        store.series.retain(|_, slot| slot.last_seen >= deadline);
        let freed = held - store.series.len();
        store.budget.give_back(freed);
        if store
            .overflow
            .as_ref()
            .is_some_and(|slot| slot.last_seen < deadline)
        {
            store.overflow = None;
        }
        let store = &mut *store;
        for slot in store.series.values_mut().chain(store.overflow.as_mut()) {
            prune(&mut slot.cell);
        }
        let removed = before - store.len();
        if removed > 0 {
            self.stats.expired.inc_by(removed as u64);
        }
        self.stats.resized(before, store.len());
        removed
    }

    /// Removes series last updated before `deadline`; returns how many.
    pub fn expire(&self, deadline: Instant) -> usize {
        self.expire_with(deadline, |_| {})
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

    /// Writes every series, sorted by labels so the exposition is stable from scrape to scrape
    /// (and testable), the overflow series last.
    pub fn encode_series(&self, encoder: &mut MetricEncoder<'_>) -> Result<(), std::fmt::Error>
    where
        L: EncodeLabelSet,
        C: EncodeMetric,
    {
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
}

impl<L, C> Drop for Store<L, C> {
    fn drop(&mut self) {
        // A family dropped while holding series (Spin's, when its name expires) returns them.
        self.budget.give_back(self.series.len());
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
        self.update_admitted(labels, weight, |cell, _| f(cell))
    }

    /// Like [`Batch::update`], telling `f` which series it updates (the overflow series may
    /// need to keep apart what its folded label sets would have kept apart).
    pub fn update_admitted(
        &mut self,
        labels: L,
        weight: u64,
        f: impl FnOnce(&mut C, Admission),
    ) -> Admission {
        let now = self.now;
        if let Some(slot) = self.store.series.get_mut(&labels) {
            slot.last_seen = now;
            f(&mut slot.cell, Admission::Own);
            return Admission::Own;
        }
        if self.store.budget.take() {
            let mut cell = (self.store.make)();
            f(&mut cell, Admission::Own);
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
        f(&mut slot.cell, Admission::Overflow);
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
        self.encode_series(&mut encoder)
    }

    fn metric_type(&self) -> MetricType {
        C::TYPE
    }

    fn is_empty(&self) -> bool {
        self.lock().len() == 0
    }
}

#[cfg(test)]
mod tests;
