//! The signals that stop the exporter.
//!
//! SIGTERM is how the kubelet stops a container (then SIGKILL after the pod's grace period):
//! the exporter stops taking OTLP, answers what is in flight and exits. SIGINT is Ctrl-C when
//! run by hand, and means the same.

/// Resolves with the signal's name when the process is asked to stop.
pub async fn shutdown() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = tokio::signal::ctrl_c() => "SIGINT",
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the exporter");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
