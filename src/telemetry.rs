//! What a request tells the monitoring beyond what Spin sees.
//!
//! Spin's request span names the route and the status, not the model a `/predict` body asked
//! for. So the component writes one line to stdout naming the model that answered; Spin turns
//! each stdout line into an `app_log` event on the component's span, and the metrics sidecar
//! (`exporter/src/served_model.rs`, which reads this exact prefix) counts the request for that
//! model. The line holds the model's own name, never anything from the request, so no patient
//! data reaches the logs.
//!
//! It is not free: under `spin up` each line goes to Spin's log file and its stderr through
//! tokio's blocking pool, 25-30 µs of CPU per request (docs/design/model-wiring.md, "The
//! served-model line"). Only `/predict` writes it; a path that names its model needs none.

/// The start of the line; the sidecar matches it exactly.
pub const SERVED_MODEL_PREFIX: &str = "model-api served model=";

/// The line naming the model that answered a request.
pub fn served_model_line(model: &str) -> String {
    format!("{SERVED_MODEL_PREFIX}{model}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_the_prefix_and_the_name() {
        assert_eq!(
            served_model_line("some-model"),
            "model-api served model=some-model"
        );
    }
}
