//! One endpoint as a path pattern (`/v2/models/{name}/infer`), the label it exports, and its
//! kind.

use std::fmt::Write as _;
use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};

use crate::labels::Handler;

/// Longest route or path considered; longer ones are not endpoints of this service.
pub const MAX_ROUTE_LEN: usize = 256;

/// Deepest template supported; deeper paths cannot match any.
pub const MAX_SEGMENTS: usize = 16;

/// A template or allowlist entry that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    /// The pattern does not start with `/`, has an empty segment or a character that is not
    /// printable ASCII.
    #[error("route template {0:?} must start with '/' and use printable ASCII segments")]
    InvalidTemplate(String),
    /// The pattern has more segments than supported.
    #[error("route template {0:?} has more than {MAX_SEGMENTS} segments")]
    TooDeep(String),
    /// No template at all: every request would be labelled `none`.
    #[error("no route template: every request would be labelled \"none\"")]
    NoTemplates,
    /// A model name is empty or not printable ASCII.
    #[error("model name {0:?} must be non-empty printable ASCII")]
    InvalidModel(String),
}

/// What kind of endpoint a handler is, so dashboards can leave probes and scrapes out of
/// traffic panels (`model_exporter_handler_info{kind="health"}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HandlerKind {
    /// Liveness and readiness probes (`/healthz`, `/v2/health/*`, `…/ready`).
    Health,
    /// A metrics endpoint (`/metrics`).
    Metrics,
    /// Model inference (`…/infer`).
    Inference,
    /// API documentation (`/docs`, `/openapi.json`).
    Docs,
    /// Everything else: predictions and metadata.
    Api,
    /// No endpoint: the `none` handler.
    Unmatched,
}

impl HandlerKind {
    /// Classifies a handler label by the conventions of this service's routes.
    pub fn of(label: &str) -> Self {
        if label == "/metrics" {
            HandlerKind::Metrics
        } else if label == "/healthz"
            || label == "/livez"
            || label == "/readyz"
            || label.starts_with("/v2/health/")
            || label.ends_with("/ready")
        {
            HandlerKind::Health
        } else if label.ends_with("/infer") {
            HandlerKind::Inference
        } else if label == "/docs" || label.starts_with("/docs/") || label == "/openapi.json" {
            HandlerKind::Docs
        } else {
            HandlerKind::Api
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            HandlerKind::Health => "health",
            HandlerKind::Metrics => "metrics",
            HandlerKind::Inference => "inference",
            HandlerKind::Docs => "docs",
            HandlerKind::Api => "api",
            HandlerKind::Unmatched => "unmatched",
        }
    }
}

impl EncodeLabelValue for HandlerKind {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(Box<str>),
    Param,
}

/// One known endpoint: its path pattern, the label it exports, and where its model name is.
#[derive(Debug, Clone)]
pub struct Template {
    segments: Vec<Segment>,
    label: Handler,
    kind: HandlerKind,
    /// Index of the `{name}` segment that follows `models`, when the endpoint is an inference.
    inference_model_segment: Option<usize>,
}

impl Template {
    /// Parses `PATTERN` or `PATTERN=LABEL`; `{param}` segments match any one non-empty segment.
    pub fn parse(spec: &str) -> Result<Self, RouteError> {
        let (pattern, label) = match spec.split_once('=') {
            Some((pattern, label)) => (pattern.trim(), label.trim()),
            None => (spec.trim(), spec.trim()),
        };
        for text in [pattern, label] {
            if !is_route_text(text) {
                return Err(RouteError::InvalidTemplate(spec.to_owned()));
            }
        }
        let segments: Vec<Segment> = if pattern == "/" {
            Vec::new()
        } else {
            pattern[1..]
                .split('/')
                .map(|s| {
                    if s.is_empty() {
                        Err(RouteError::InvalidTemplate(spec.to_owned()))
                    } else if s.starts_with('{') && s.ends_with('}') && s.len() > 2 {
                        Ok(Segment::Param)
                    } else {
                        Ok(Segment::Literal(s.into()))
                    }
                })
                .collect::<Result<_, _>>()?
        };
        if segments.len() > MAX_SEGMENTS {
            return Err(RouteError::TooDeep(spec.to_owned()));
        }
        let raw: Vec<&str> = if pattern == "/" {
            Vec::new()
        } else {
            pattern[1..].split('/').collect()
        };
        let is_inference = raw.last() == Some(&"infer");
        let inference_model_segment = if is_inference {
            raw.windows(2)
                .position(|w| w[0] == "models" && w[1] == "{name}")
                .map(|i| i + 1)
        } else {
            None
        };
        Ok(Template {
            segments,
            kind: HandlerKind::of(label),
            label: Handler(Arc::from(label)),
            inference_model_segment,
        })
    }

    /// The exported label.
    pub fn label(&self) -> &Handler {
        &self.label
    }

    /// For an inference endpoint, the index of the path segment that names the model.
    pub fn model_segment(&self) -> Option<usize> {
        self.inference_model_segment
    }

    /// The endpoint's kind.
    pub fn kind(&self) -> HandlerKind {
        self.kind
    }

    /// Whether the path's segments match, `{param}` segments matching any non-empty one.
    pub fn matches(&self, path: &[&str]) -> bool {
        self.segments.len() == path.len()
            && self.segments.iter().zip(path).all(|(s, p)| match s {
                Segment::Literal(l) => **l == **p,
                Segment::Param => !p.is_empty(),
            })
    }
}

/// A route or path worth looking at: rooted, bounded, printable ASCII with no spaces.
pub fn is_route_text(text: &str) -> bool {
    text.starts_with('/')
        && text.len() <= MAX_ROUTE_LEN
        && text.bytes().all(|b| (0x21..=0x7e).contains(&b))
}
