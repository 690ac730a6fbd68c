//! A diagnostic build only (`--features server-timing`, never shipped): how long the handler
//! and its calls to the models take inside the component, reported in a `Server-Timing`
//! response header (W3C Server Timing; durations in milliseconds).
//!
//! Why: the server's CPU time per request (what the benchmarks measure) mixes the runtime's work
//! (instantiating every component, WASI, Spin's bookkeeping) with ours. Timing the handler from
//! inside splits them, and timing the same request a second time in the same instance
//! (`handler-again`, `model-again`) separates the cost of code that runs for the first time in a
//! fresh instance, which every request pays under Spin, from the work itself
//! (docs/design/model-wiring.md, "Inside the component"). `scripts/bench-guest-timing.sh` builds
//! and reads it.

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    /// Time spent in calls to the models since the last [`take_model_time`].
    static MODEL_TIME: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Runs one call to a model, adding its duration to the handler's model time.
pub fn time_model_call<T>(call: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = call();
    let elapsed = start.elapsed();
    MODEL_TIME.with(|total| total.set(total.get() + elapsed));
    result
}

/// The model time accumulated since the last call, and a fresh start.
pub fn take_model_time() -> Duration {
    MODEL_TIME.with(|total| total.replace(Duration::ZERO))
}

/// Runs `handler` twice, timing each run and its model calls: the first run's answer is the
/// response; the second only measures the same work in an instance that has run it once.
pub fn timed<T>(mut handler: impl FnMut() -> T) -> (T, String) {
    take_model_time();
    let start = Instant::now();
    let answer = handler();
    let first = start.elapsed();
    let first_model = take_model_time();
    let start = Instant::now();
    drop(handler());
    let again = start.elapsed();
    let again_model = take_model_time();
    let header = [
        ("handler", first),
        ("model", first_model),
        ("handler-again", again),
        ("model-again", again_model),
    ]
    .iter()
    .map(|(name, duration)| format!("{name};dur={:.4}", duration.as_secs_f64() * 1000.0))
    .collect::<Vec<_>>()
    .join(", ");
    (answer, header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_each_run_and_its_model_time() {
        let mut runs = 0;
        let (answer, header) = timed(|| {
            runs += 1;
            time_model_call(|| std::thread::sleep(Duration::from_millis(2)));
            runs
        });
        assert_eq!(answer, 1, "the first run's answer is the response");
        assert_eq!(runs, 2);
        let durations: Vec<(&str, f64)> = header
            .split(", ")
            .map(|metric| {
                let (name, duration) = metric.split_once(";dur=").expect("name;dur=ms");
                (name, duration.parse().expect("milliseconds"))
            })
            .collect();
        let names: Vec<&str> = durations.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["handler", "model", "handler-again", "model-again"]);
        for (name, milliseconds) in durations {
            assert!(
                milliseconds >= 2.0,
                "{name} took the 2 ms sleep: {milliseconds}"
            );
        }
    }
}
