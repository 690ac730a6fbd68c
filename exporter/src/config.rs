//! Configuration, from flags or environment variables (a flag wins), read and checked before
//! any port is bound.
//!
//! Every setting has a default fit for a sidecar beside Spin on SpinKube, so the container
//! needs no arguments: Spin exports to `http://127.0.0.1:4318`, Prometheus scrapes `:9464`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::receiver::Limits;
use crate::routes::{RouteError, RouteTable, DEFAULT_MODELS, DEFAULT_TEMPLATES};

/// OTLP/HTTP's registered port, on every interface (Spin reaches it on localhost).
pub const DEFAULT_OTLP_ADDR: &str = "0.0.0.0:4318";
/// The port OpenTelemetry's Prometheus exporters conventionally use.
pub const DEFAULT_METRICS_ADDR: &str = "0.0.0.0:9464";

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for log collectors).
    Json,
    /// Human-readable lines.
    Text,
}

/// The exporter's settings.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "model-exporter",
    version,
    about = "Receives Spin's OpenTelemetry (OTLP/HTTP) and serves the service's Prometheus metrics"
)]
pub struct Config {
    /// Address of the OTLP/HTTP receiver.
    #[arg(long, env = "MODEL_EXPORTER_OTLP_ADDR", default_value = DEFAULT_OTLP_ADDR)]
    pub otlp_addr: SocketAddr,

    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "MODEL_EXPORTER_METRICS_ADDR", default_value = DEFAULT_METRICS_ADDR)]
    pub metrics_addr: SocketAddr,

    /// Model names exported as `model` label values (comma-separated); others are "other".
    #[arg(
        long = "models",
        env = "MODEL_EXPORTER_MODELS",
        value_delimiter = ',',
        default_values_t = DEFAULT_MODELS.iter().map(|m| m.to_string())
    )]
    pub models: Vec<String>,

    /// Route templates `PATTERN[=LABEL]` matched against paths under wildcard routes
    /// (comma-separated; replaces the service's defaults).
    #[arg(
        long = "route-templates",
        env = "MODEL_EXPORTER_ROUTE_TEMPLATES",
        value_delimiter = ',',
        default_values_t = DEFAULT_TEMPLATES.iter().map(|t| t.to_string())
    )]
    pub route_templates: Vec<String>,

    /// Most label sets per family; past it, data folds into one `overflow` series.
    #[arg(long, env = "MODEL_EXPORTER_MAX_SERIES", default_value_t = 2000)]
    pub max_series: usize,

    /// Largest OTLP request body, in bytes, before and after gzip decompression.
    #[arg(long, env = "MODEL_EXPORTER_MAX_BODY_BYTES", default_value_t = 4 << 20)]
    pub max_body_bytes: usize,

    /// OTLP requests processed at once; more are answered 503 (senders retry).
    #[arg(
        long,
        env = "MODEL_EXPORTER_MAX_CONCURRENT_REQUESTS",
        default_value_t = 8
    )]
    pub max_concurrent_requests: usize,

    /// Connections open at once, per listener; more wait in the kernel's backlog.
    #[arg(long, env = "MODEL_EXPORTER_MAX_CONNECTIONS", default_value_t = 256)]
    pub max_connections: usize,

    /// Series that receive nothing for this long are removed (e.g. 90s, 15m, 1h; 0 = never).
    #[arg(long, env = "MODEL_EXPORTER_SERIES_TTL", default_value = "15m", value_parser = parse_duration)]
    pub series_ttl: Duration,

    /// Time allowed to receive a request head (or, on an idle connection, the next one), and
    /// then its body.
    #[arg(long, env = "MODEL_EXPORTER_REQUEST_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// On SIGTERM, time allowed for requests in flight before exiting.
    #[arg(long, env = "MODEL_EXPORTER_SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// Runtime worker threads. One decodes over 400,000 spans a second, far beyond what one
    /// Spin sends; more threads only add memory (see docs/performance.md).
    #[arg(long, env = "MODEL_EXPORTER_WORKER_THREADS", default_value_t = 1)]
    pub worker_threads: usize,

    /// Log format.
    #[arg(long, env = "MODEL_EXPORTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Log filter (a level such as `info`, or `tracing` directives).
    #[arg(long, env = "MODEL_EXPORTER_LOG", default_value = "info")]
    pub log: String,
}

/// A setting that parsed but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A route template or model name is invalid.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// A count that must be positive is zero.
    #[error("--{0} must be at least 1")]
    Zero(&'static str),
    /// The body cap is too small for any real batch.
    #[error("--max-body-bytes must be at least 1024")]
    BodyCap,
    /// Both servers were given one address.
    #[error("--otlp-addr and --metrics-addr must differ")]
    SameAddress,
}

/// Parses `90s`, `15m`, `2h`, `500ms` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 30s, 15m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "ms" => return Ok(Duration::from_millis(n)),
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("{text:?} is not a duration such as 30s, 15m or 1h")),
    };
    Ok(Duration::from_secs(seconds))
}

impl Config {
    /// Checks what clap cannot, and builds the route table.
    pub fn routes(&self) -> Result<RouteTable, ConfigError> {
        if self.max_series == 0 {
            return Err(ConfigError::Zero("max-series"));
        }
        if self.max_concurrent_requests == 0 {
            return Err(ConfigError::Zero("max-concurrent-requests"));
        }
        if self.max_connections == 0 {
            return Err(ConfigError::Zero("max-connections"));
        }
        if self.worker_threads == 0 {
            return Err(ConfigError::Zero("worker-threads"));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::BodyCap);
        }
        if self.otlp_addr == self.metrics_addr {
            return Err(ConfigError::SameAddress);
        }
        Ok(RouteTable::new(&self.route_templates, &self.models)?)
    }

    /// The receiver's limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            max_concurrent_requests: self.max_concurrent_requests,
            body_timeout: self.request_timeout,
            max_connections: self.max_connections,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("model-exporter").chain(args.iter().copied()))
    }

    /// With no arguments the exporter listens where Spin and Prometheus expect it.
    #[test]
    fn defaults_fit_a_sidecar() {
        let c = parse(&[]).ok();
        let c = c.as_ref();
        assert_eq!(c.map(|c| c.otlp_addr.port()), Some(4318));
        assert_eq!(c.map(|c| c.metrics_addr.port()), Some(9464));
        // spin.toml's models, in its order (exporter/build.rs).
        let listed: Vec<String> = DEFAULT_MODELS.iter().map(|m| (*m).to_owned()).collect();
        assert_eq!(c.map(|c| c.models.clone()), Some(listed));
        assert_eq!(DEFAULT_MODELS.first(), Some(&"pce-2013"));
        assert_eq!(
            c.map(|c| c.route_templates.len()),
            Some(DEFAULT_TEMPLATES.len())
        );
        assert!(c.map(|c| c.routes().is_ok()).unwrap_or(false));
    }

    /// Flags set addresses, lists and durations.
    #[test]
    fn flags_override_defaults() {
        let c = parse(&[
            "--otlp-addr",
            "127.0.0.1:14318",
            "--metrics-addr=127.0.0.1:19464",
            "--models",
            "a,b,c",
            "--series-ttl",
            "90s",
            "--route-templates",
            "/hello/{name},/echo",
        ])
        .ok();
        let c = c.as_ref();
        assert_eq!(
            c.map(|c| c.otlp_addr.to_string()).as_deref(),
            Some("127.0.0.1:14318")
        );
        assert_eq!(c.map(|c| c.models.len()), Some(3));
        assert_eq!(c.map(|c| c.series_ttl), Some(Duration::from_secs(90)));
        assert_eq!(c.map(|c| c.route_templates.len()), Some(2));
    }

    /// Bad values are refused before anything is bound.
    #[test]
    fn bad_values_are_refused() {
        assert!(parse(&["--otlp-addr", "localhost"]).is_err());
        assert!(parse(&["--series-ttl", "soon"]).is_err());
        let zero = parse(&["--max-series", "0"]).ok();
        assert!(zero.map(|c| c.routes().is_err()).unwrap_or(false));
        let same = parse(&["--otlp-addr", "0.0.0.0:1", "--metrics-addr", "0.0.0.0:1"]).ok();
        assert!(same.map(|c| c.routes().is_err()).unwrap_or(false));
        let template = parse(&["--route-templates", "no-slash"]).ok();
        assert!(template.map(|c| c.routes().is_err()).unwrap_or(false));
    }

    /// Durations read as people write them.
    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("").is_err());
    }
}
