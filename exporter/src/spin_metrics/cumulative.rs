//! Cumulative OpenTelemetry data turned into Prometheus counters that only grow.
//!
//! Spin sends its totals since process start, every export interval. Increments are taken per
//! *stream*: a series plus the point's `start_time_unix_nano`. A new start time is a new
//! process, whose whole value is new traffic; a value that goes back within a stream is a
//! reset, not negative traffic; a point not newer than the last one of its stream (a retry, or
//! Spin re-sending unchanged totals) adds nothing. The exported counters therefore only ever
//! grow, across Spin restarts and with several senders. Delta data is simply added; a gauge
//! keeps its newest value.

use std::time::Instant;

/// Streams remembered per series: more than a few processes feeding one series at once is not
/// a sidecar's situation, and the oldest is forgotten first.
pub const MAX_STREAMS_PER_SERIES: usize = 8;

/// What a re-exported family is, in Prometheus terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A monotonic sum.
    Counter,
    /// A gauge, or a sum that may go down.
    Gauge,
    /// A histogram, exponential histogram or summary: only its count and sum are kept.
    Histogram,
}

/// How a data point's value relates to earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    /// Totals since `start`.
    Cumulative,
    /// The change since the previous point.
    Delta,
    /// A level: the newest value wins.
    LastValue,
}

/// Totals carried by a point: a counter's value (`sum` unused) or a histogram's count and sum.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// A counter's or gauge's value, or a histogram's count.
    pub primary: f64,
    /// A histogram's sum.
    pub sum: f64,
}

/// A data point, reduced to what re-export needs.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// `start_time_unix_nano`: tells the processes feeding one series apart.
    pub start: u64,
    /// `time_unix_nano`.
    pub time: u64,
    /// The point's value.
    pub totals: Totals,
    /// Hash of the point's labels: tells streams apart inside the overflow series.
    pub label_hash: u64,
}

#[derive(Debug, Clone)]
struct Stream {
    label_hash: u64,
    start: u64,
    last_time: u64,
    last: Totals,
    seen: Instant,
}

/// One re-exported series: its running totals and the streams that feed it.
#[derive(Debug, Clone)]
pub struct CumulativeSeries {
    kind: Kind,
    totals: Totals,
    gauge_time: u64,
    streams: Vec<Stream>,
}

impl CumulativeSeries {
    /// An empty series of a family of this kind.
    pub fn new(kind: Kind) -> Self {
        CumulativeSeries {
            kind,
            totals: Totals::default(),
            gauge_time: 0,
            streams: Vec::new(),
        }
    }

    /// The family's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The running totals.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Applies one point; `max_streams` bounds the streams this series remembers.
    pub fn apply(
        &mut self,
        point: &Point,
        temporality: Temporality,
        now: Instant,
        max_streams: usize,
    ) {
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

    /// Forgets streams not heard from since `deadline`.
    pub fn forget_streams_before(&mut self, deadline: Instant) {
        self.streams.retain(|s| s.seen >= deadline);
    }

    /// The increment a cumulative point brings, given what its stream sent before.
    fn stream_delta(&mut self, point: &Point, now: Instant, max_streams: usize) -> Totals {
        if let Some(stream) = self
            .streams
            .iter_mut()
            .find(|s| s.start == point.start && s.label_hash == point.label_hash)
        {
            stream.seen = now;
            if point.time != 0 && point.time <= stream.last_time {
                return Totals::default(); // a retry, or an older point arriving late
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut s = CumulativeSeries::new(Kind::Counter);
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
        let mut s = CumulativeSeries::new(Kind::Counter);
        s.apply(&point(0, 1, 2.0), Temporality::Delta, now, 8);
        s.apply(&point(0, 2, 2.0), Temporality::Delta, now, 8);
        assert_eq!(s.totals.primary, 4.0);
        let mut g = CumulativeSeries::new(Kind::Gauge);
        g.apply(&point(0, 5, 7.0), Temporality::LastValue, now, 8);
        g.apply(&point(0, 4, 1.0), Temporality::LastValue, now, 8);
        assert_eq!(g.totals.primary, 7.0);
    }

    /// The number of streams a series remembers is bounded, and stale ones are forgotten.
    #[test]
    fn streams_are_bounded() {
        let now = Instant::now();
        let mut s = CumulativeSeries::new(Kind::Counter);
        for start in 0..100 {
            s.apply(&point(start, 1, 1.0), Temporality::Cumulative, now, 8);
        }
        assert_eq!(s.streams.len(), 8);
        assert_eq!(s.totals.primary, 100.0);
        s.forget_streams_before(now + std::time::Duration::from_secs(1));
        assert!(s.streams.is_empty());
    }
}
