//! Which model answered a request whose path does not name one (`POST /predict` names its
//! model in the body, which Spin's spans never see).
//!
//! The API component writes one line to stdout per such request, [`LOG_PREFIX`] followed by
//! the model's name (the name it serves, never text from the request). Spin turns each stdout
//! line into an event with an `app_log` attribute on the `execute_wasm_component` span, a child
//! of the request's `SERVER` span. This module reads those events and joins them to their
//! parent: in the same batch, or in a later one, because Spin exports a span when it ends and
//! the child ends first, so a batch boundary can fall between the two.
//!
//! A child whose parent has not arrived waits in a bounded table (oldest dropped first, and
//! nothing older than [`MAX_WAIT`]), so a sender cannot grow it without limit. The name only
//! ever becomes a label through the route table's allowlist of models.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;

/// The start of the API's line naming the model it served (`src/telemetry.rs` of the API
/// writes it; `tests/spin/test_exporter_e2e.py` checks the two agree through a real Spin).
pub const LOG_PREFIX: &str = "model-api served model=";

/// The attribute of Spin's event that carries one stdout line of the component.
const APP_LOG: &str = "app_log";

/// Longest model name read from a line; longer ones are not a served model's.
const MAX_NAME: usize = 128;

/// Children waiting for their parent span.
pub const MAX_WAITING: usize = 4096;

/// How long a child waits for its parent: Spin exports spans every 5 s by default, so a parent
/// later than this is not coming.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// A span id, as the key of the join.
pub type SpanId = [u8; 8];

/// The model a non-`SERVER` span reports, with the id of its parent span.
pub fn reported_model(span: &Span) -> Option<(SpanId, &str)> {
    if span.kind == SpanKind::Server as i32 {
        return None;
    }
    let parent: SpanId = span.parent_span_id.as_slice().try_into().ok()?;
    let model = app_log_lines(span).find_map(model_of_line)?;
    Some((parent, model))
}

/// The component's stdout lines a span carries, as Spin attaches them: one `app_log` event
/// attribute per line.
pub fn app_log_lines(span: &Span) -> impl Iterator<Item = &str> {
    span.events
        .iter()
        .flat_map(|event| &event.attributes)
        .filter(|kv| kv.key == APP_LOG)
        .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(line) => Some(line.as_str()),
            _ => None,
        })
}

/// The model a line names, if it is the API's line.
pub fn model_of_line(line: &str) -> Option<&str> {
    let name = line.strip_prefix(LOG_PREFIX)?.trim_end();
    (!name.is_empty() && name.len() <= MAX_NAME).then_some(name)
}

/// The id of a span, when it has a valid one.
pub fn span_id(span: &Span) -> Option<SpanId> {
    span.span_id.as_slice().try_into().ok()
}

/// Children of earlier batches still waiting for their parent, by parent id, with the
/// allowlisted model they reported.
#[derive(Debug)]
pub struct Waiting<M> {
    inner: Mutex<WaitingTable<M>>,
}

impl<M> Default for Waiting<M> {
    fn default() -> Self {
        Waiting {
            inner: Mutex::new(WaitingTable::default()),
        }
    }
}

#[derive(Debug)]
struct WaitingTable<M> {
    by_parent: HashMap<SpanId, M>,
    /// Arrival order, for dropping the oldest first.
    order: VecDeque<(Instant, SpanId)>,
}

impl<M> Default for WaitingTable<M> {
    fn default() -> Self {
        WaitingTable {
            by_parent: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<M: Copy> Waiting<M> {
    /// Takes the model reported for `parent` by a child of an earlier batch.
    pub fn take(&self, parent: &SpanId) -> Option<M> {
        let mut table = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if table.by_parent.is_empty() {
            return None;
        }
        table.by_parent.remove(parent)
    }

    /// Keeps children whose parent was not in their batch, dropping what waited too long and,
    /// past [`MAX_WAITING`], the oldest. Returns how many were dropped.
    pub fn keep(&self, children: impl IntoIterator<Item = (SpanId, M)>, now: Instant) -> u64 {
        let mut table = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for (parent, model) in children {
            if table.by_parent.insert(parent, model).is_none() {
                table.order.push_back((now, parent));
            }
        }
        let mut dropped = 0;
        while let Some(&(since, parent)) = table.order.front() {
            let expired = now.saturating_duration_since(since) > MAX_WAIT;
            if !expired && table.order.len() <= MAX_WAITING {
                break;
            }
            table.order.pop_front();
            // An entry already taken by its parent leaves only its place in the order.
            if table.by_parent.remove(&parent).is_some() {
                dropped += 1;
            }
        }
        dropped
    }

    /// How many children wait.
    pub fn len(&self) -> usize {
        let table = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        table.by_parent.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apis_line_names_a_model() {
        assert_eq!(
            model_of_line("model-api served model=kfre-2016\n"),
            Some("kfre-2016")
        );
        assert_eq!(model_of_line("model-api served model=\n"), None);
        assert_eq!(model_of_line("hello component: GET /hello\n"), None);
        assert_eq!(
            model_of_line(&format!("{LOG_PREFIX}{}", "x".repeat(200))),
            None
        );
    }

    #[test]
    fn the_waiting_table_is_bounded_and_forgets_old_children() {
        let waiting = Waiting::default();
        let start = Instant::now();
        let ids = (0..MAX_WAITING as u64 + 10).map(|i| (i.to_le_bytes(), i));
        assert_eq!(waiting.keep(ids, start), 10);
        assert_eq!(waiting.len(), MAX_WAITING);
        // The oldest went first.
        assert_eq!(waiting.take(&0u64.to_le_bytes()), None);
        assert_eq!(waiting.take(&10u64.to_le_bytes()), Some(10));
        // Taken entries leave; the rest expire after MAX_WAIT.
        let later = start + MAX_WAIT + Duration::from_secs(1);
        let dropped = waiting.keep([(u64::MAX.to_le_bytes(), 0)], later);
        assert_eq!(dropped, MAX_WAITING as u64 - 1);
        assert_eq!(waiting.len(), 1);
    }
}
