//! The two HTTP servers (OTLP in, metrics out), the expiry sweep, and the drain on shutdown.
//!
//! Both servers speak HTTP/1.1 through hyper with a header read timeout (the request timeout):
//! a client that sends its request head slowly, or keeps a connection open without sending a
//! request, loses it after that long. Without it, `--max-connections` such clients would hold
//! every slot of a listener for ever and starve the others (slowloris).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::Listener;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

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
        let receiver = Receiver::new(Arc::clone(&exporter.pipeline), exporter.limits);
        let max_connections = exporter.limits.max_connections;
        let header_timeout = exporter.limits.body_timeout;
        let otlp_server = tokio::spawn(serve_http(
            CappedListener::new(otlp, max_connections),
            receiver.router(),
            header_timeout,
            stopped.clone(),
        ));
        let metrics_server = tokio::spawn(serve_http(
            CappedListener::new(metrics, max_connections),
            metrics_router(&exporter),
            header_timeout,
            stopped.clone(),
        ));
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
            Ok((Ok(()), Ok(()))) => tracing::info!("stopped"),
            Ok(_) => tracing::warn!("a server task ended abnormally"),
            Err(_) => tracing::warn!("grace period over: exiting with requests in flight"),
        }
        Ok(())
    }
}

/// Serves HTTP/1.1 on `listener` until `stopped`; then stops accepting, lets each connection
/// finish the request it is in, and returns once all are closed. A request head (or, on an
/// idle kept-alive connection, the next one) must arrive within `header_timeout`.
async fn serve_http(
    mut listener: CappedListener,
    router: Router,
    header_timeout: Duration,
    stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let mut stop = stopped.clone();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let mut stop = stopped.clone();
        connections.spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stop.wait_for(|stop| *stop) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
        // Connections that ended are reaped here, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
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
