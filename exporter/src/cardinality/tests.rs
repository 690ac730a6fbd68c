//! The cap, overflow and expiry of one family, and a budget shared by several.

use super::*;
use crate::cells::CounterCell;
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

/// Families sharing a budget share its room, and expiry gives room back to all of them.
#[test]
fn a_shared_budget_caps_families_together() {
    let budget = SeriesBudget::new(1);
    let stats = CapStats::default();
    let one = CappedFamily::<RequestLabels, CounterCell>::with_budget(
        budget.clone(),
        stats.clone(),
        CounterCell::default,
    );
    let two = CappedFamily::<RequestLabels, CounterCell>::with_budget(
        budget,
        stats.clone(),
        CounterCell::default,
    );
    let start = Instant::now();
    assert_eq!(one.update(labels("/a"), 1, |c| c.inc_by(1)), Admission::Own);
    assert_eq!(
        two.update(labels("/a"), 1, |c| c.inc_by(1)),
        Admission::Overflow
    );
    assert_eq!(stats.series.get(), 2);
    assert_eq!(one.expire(start + Duration::from_secs(60)), 1);
    assert_eq!(two.update(labels("/b"), 1, |c| c.inc_by(1)), Admission::Own);
    assert_eq!(stats.series.get(), 2);
}
