//! The two HTTP servers (OTLP in, metrics out), the expiry sweep, and the drain on shutdown.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Config, ConfigError};
use crate::connections::CappedListener;
use crate::exposition::Exposition;
use crate::pipeline::Pipeline;
use crate::receiver::{Limits, Receiver};

/// A server that could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A server failed while serving.
    #[error("server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// The exporter, configured but not yet listening.
#[derive(Debug, Clone)]
pub struct Exporter {
    pipeline: Arc<Pipeline>,
    limits: Limits,
    series_ttl: Duration,
    shutdown_grace: Duration,
    ready: Arc<AtomicBool>,
}

impl Exporter {
    /// Builds the pipeline from configuration.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let routes = config.routes()?;
        Ok(Self::from_parts(
            Arc::new(Pipeline::new(routes, config.max_series)),
            config.limits(),
            config.series_ttl,
            config.shutdown_grace,
        ))
    }

    /// Builds an exporter around an existing pipeline (tests, benchmarks).
    pub fn from_parts(
        pipeline: Arc<Pipeline>,
        limits: Limits,
        series_ttl: Duration,
        shutdown_grace: Duration,
    ) -> Self {
        Exporter {
            pipeline,
            limits,
            series_ttl,
            shutdown_grace,
            ready: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// Binds both addresses (a bad address fails here, before anything is served).
    pub async fn bind(self, otlp: SocketAddr, metrics: SocketAddr) -> Result<Bound, ServeError> {
        let bind = |addr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })
        };
        let otlp = bind(otlp).await?;
        let metrics = bind(metrics).await?;
        Ok(Bound {
            exporter: self,
            otlp,
            metrics,
        })
    }
}

/// The exporter with its ports bound.
#[derive(Debug)]
pub struct Bound {
    exporter: Exporter,
    otlp: TcpListener,
    metrics: TcpListener,
}

impl Bound {
    /// The OTLP receiver's address (with the port the OS chose for `:0`).
    pub fn otlp_addr(&self) -> std::io::Result<SocketAddr> {
        self.otlp.local_addr()
    }

    /// The metrics server's address.
    pub fn metrics_addr(&self) -> std::io::Result<SocketAddr> {
        self.metrics.local_addr()
    }

    /// Serves until `shutdown` resolves, then stops accepting, drains requests in flight (up
    /// to the grace period) and returns.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = &'static str>,
    ) -> Result<(), ServeError> {
        let Bound {
            exporter,
            otlp,
            metrics,
        } = self;
        let (stop, stopped) = watch::channel(false);
        let until_stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };

        let receiver = Receiver::new(Arc::clone(&exporter.pipeline), exporter.limits);
        let max_connections = exporter.limits.max_connections;
        let otlp_server = tokio::spawn(
            axum::serve(
                CappedListener::new(otlp, max_connections),
                receiver.router(),
            )
            .with_graceful_shutdown(until_stopped(stopped.clone()))
            .into_future(),
        );
        let metrics_server = tokio::spawn(
            axum::serve(
                CappedListener::new(metrics, max_connections),
                metrics_router(&exporter),
            )
            .with_graceful_shutdown(until_stopped(stopped.clone()))
            .into_future(),
        );
        let sweeper = tokio::spawn(sweep(
            Arc::clone(&exporter.pipeline),
            exporter.series_ttl,
            stopped.clone(),
        ));
        exporter.ready.store(true, Ordering::SeqCst);

        let signal = shutdown.await;
        tracing::info!(signal, "shutting down: draining requests in flight");
        exporter.ready.store(false, Ordering::SeqCst);
        let _ = stop.send(true);

        let drained = tokio::time::timeout(exporter.shutdown_grace, async {
            let otlp = otlp_server.await;
            let metrics = metrics_server.await;
            (otlp, metrics)
        })
        .await;
        sweeper.abort();
        match drained {
            Ok((Ok(otlp), Ok(metrics))) => {
                otlp?;
                metrics?;
                tracing::info!("stopped");
            }
            Ok(_) => tracing::warn!("a server task ended abnormally"),
            Err(_) => tracing::warn!("grace period over: exiting with requests in flight"),
        }
        Ok(())
    }
}

/// Removes stale series every quarter of the expiry period (at least every minute).
async fn sweep(pipeline: Arc<Pipeline>, ttl: Duration, mut stopped: watch::Receiver<bool>) {
    if ttl.is_zero() {
        return;
    }
    let every = (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        if let Some(deadline) = Instant::now().checked_sub(ttl) {
            let removed = pipeline.expire(deadline);
            if removed > 0 {
                tracing::info!(removed, "expired stale series");
            }
        }
    }
}

fn metrics_router(exporter: &Exporter) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(exporter.clone())
}

async fn scrape(State(exporter): State<Exporter>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Exposition::negotiate(accept);
    match exporter.pipeline.encode(format) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, format.content_type())],
            body,
        )
            .into_response(),
        Err(_) => {
            tracing::error!("encoding the metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Ready while serving; 503 once shutdown began, so the pod leaves its Service first.
async fn readyz(State(exporter): State<Exporter>) -> Response {
    if exporter.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    }
}
