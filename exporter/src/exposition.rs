//! `GET /metrics`: the registry in the format the scraper asks for.
//!
//! Prometheus asks for OpenMetrics first (`Accept: application/openmetrics-text;version=1.0.0,
//! …,text/plain;version=0.0.4;q=0.5`); `curl` and older scrapers ask for nothing and get the
//! Prometheus text format 0.0.4, where counters' `# TYPE` names carry `_total` and there is no
//! `# UNIT` or `# EOF`. prometheus-client writes both from the same registry.

use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;

/// The exposition formats served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
    /// Prometheus text format 0.0.4.
    PrometheusText,
}

/// `Content-Type` of OpenMetrics 1.0.0 text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Exposition {
    /// Picks the format from an `Accept` header: OpenMetrics when it is acceptable and not
    /// ranked below plain text, else the 0.0.4 text format.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Exposition::PrometheusText;
        };
        let mut openmetrics: f32 = 0.0;
        let mut text: f32 = 0.0;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut q: f32 = 1.0;
            for param in parts {
                if let Some((k, v)) = param.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("q") {
                        q = v.trim().parse().unwrap_or(0.0);
                    }
                }
            }
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Exposition::OpenMetrics
        } else {
            Exposition::PrometheusText
        }
    }

    /// The response `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Exposition::PrometheusText => prometheus_text::CONTENT_TYPE,
        }
    }

    /// Encodes the registry.
    pub fn encode(self, registry: &Registry) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 << 10);
        match self {
            Exposition::OpenMetrics => text::encode(&mut out, registry)?,
            Exposition::PrometheusText => prometheus_text::encode(&mut out, registry)?,
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prometheus' own Accept header gets OpenMetrics; curl gets plain text.
    #[test]
    fn negotiation() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(
            Exposition::negotiate(Some(prometheus)),
            Exposition::OpenMetrics
        );
        assert_eq!(Exposition::negotiate(None), Exposition::PrometheusText);
        assert_eq!(
            Exposition::negotiate(Some("*/*")),
            Exposition::PrometheusText
        );
        assert_eq!(
            Exposition::negotiate(Some("text/plain;version=0.0.4")),
            Exposition::PrometheusText
        );
        assert_eq!(
            Exposition::negotiate(Some("text/plain, application/openmetrics-text;q=0.2")),
            Exposition::PrometheusText
        );
        assert_eq!(
            Exposition::negotiate(Some("application/openmetrics-text; version=1.0.0")),
            Exposition::OpenMetrics
        );
    }
}
