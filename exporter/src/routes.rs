//! Route templates: how a request becomes a `handler` label (and, for inference, a model).
//!
//! Spin names each request by the `spin.toml` route it matched (`http.route`). An exact route
//! (`/predict`) names one endpoint; a wildcard (`/v2/models/...`) does not, so the raw path
//! (`url.path`) is matched against the service's known templates (`/v2/models/{name}/infer`).
//! Whatever matches no template is `"none"`, as in the original service; so are Spin's router
//! 404s, whose spans carry no route at all. The raw path itself never becomes a label.

use std::sync::Arc;

use crate::labels::{Handler, ModelName};

/// The service's endpoints as templates (its `spin.toml` routes, with the wildcards spelled
/// out). `PATTERN=LABEL` exports a different label: `/docs/{asset}` folds the documentation
/// page's assets into `/docs`, the page the original service had.
pub const DEFAULT_TEMPLATES: &[&str] = &[
    "/predict",
    "/v2",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/{name}",
    "/v2/models/{name}/ready",
    "/v2/models/{name}/infer",
    "/v2/models/{name}/versions/{version}",
    "/v2/models/{name}/versions/{version}/ready",
    "/v2/models/{name}/versions/{version}/infer",
    "/healthz",
    "/openapi.json",
    "/docs",
    "/docs/{asset}=/docs",
];

/// The models the service serves; any other name in a path is folded into [`OTHER_MODEL`].
pub const DEFAULT_MODELS: &[&str] = &["pce-2013", "prevent-2023"];

/// The model label of every name not on the allowlist (unknown models, typos, probes).
pub const OTHER_MODEL: &str = "other";

/// Longest route or path considered; longer ones are not endpoints of this service.
const MAX_ROUTE_LEN: usize = 256;

/// Deepest template supported; deeper paths cannot match any.
const MAX_SEGMENTS: usize = 16;

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
        }
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

    /// The endpoint's kind.
    pub fn kind(&self) -> HandlerKind {
        self.kind
    }

    fn matches(&self, path: &[&str]) -> bool {
        self.segments.len() == path.len()
            && self.segments.iter().zip(path).all(|(s, p)| match s {
                Segment::Literal(l) => **l == **p,
                Segment::Param => !p.is_empty(),
            })
    }
}

/// A route or path worth looking at: rooted, bounded, printable ASCII with no spaces.
fn is_route_text(text: &str) -> bool {
    text.starts_with('/')
        && text.len() <= MAX_ROUTE_LEN
        && text.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Spin's spelling of a wildcard route: `/prefix/...`, or `/...` for the catch-all.
fn is_wildcard(route: &str) -> bool {
    route == "/..." || route.ends_with("/...")
}

/// Where a request went, as labels: the handler, and the model when it was an inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandlerRef<'a> {
    /// A known template, by index in the table.
    Template(usize),
    /// An exact route Spin named that is not among the templates.
    Route(&'a str),
    /// No endpoint: a router 404, a catch-all, an unknown path.
    None,
}

/// The result of resolving one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The handler label to use.
    pub handler: HandlerRef<'a>,
    /// For inference endpoints: the index of the allowlisted model, or `None` for "other".
    pub model: Option<ModelRef>,
}

/// The model of an inference request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelRef {
    /// An allowlisted model, by index.
    Known(usize),
    /// Any other name.
    Other,
}

/// The known templates and model allowlist, built once from configuration.
#[derive(Debug, Clone)]
pub struct RouteTable {
    templates: Vec<Template>,
    models: Vec<ModelName>,
    other_model: ModelName,
    none: Handler,
}

impl RouteTable {
    /// Builds a table from template specs (`PATTERN[=LABEL]`) and model names.
    pub fn new<T: AsRef<str>, M: AsRef<str>>(
        templates: &[T],
        models: &[M],
    ) -> Result<Self, RouteError> {
        let templates = templates
            .iter()
            .map(|t| Template::parse(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let models = models
            .iter()
            .map(|m| {
                let m = m.as_ref().trim();
                if m.is_empty() || !m.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
                    Err(RouteError::InvalidModel(m.to_owned()))
                } else {
                    Ok(ModelName(Arc::from(m)))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RouteTable {
            templates,
            models,
            other_model: ModelName(Arc::from(OTHER_MODEL)),
            none: Handler::none(),
        })
    }

    /// The service's own templates and models.
    pub fn service_default() -> Self {
        // The defaults are constants checked by the tests below, so this cannot fail; fall back
        // to an empty table rather than panic if someone breaks them.
        Self::new(DEFAULT_TEMPLATES, DEFAULT_MODELS).unwrap_or_else(|_| RouteTable {
            templates: Vec::new(),
            models: Vec::new(),
            other_model: ModelName(Arc::from(OTHER_MODEL)),
            none: Handler::none(),
        })
    }

    /// The known templates, in configuration order.
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// Resolves a request from Spin's `http.route` and `url.path`.
    ///
    /// - no route: Spin's router answered 404 without running a component: `none`;
    /// - the path matches a known template: that template (and its model, for inference);
    /// - otherwise an exact route names its endpoint itself; a wildcard route does not: `none`.
    pub fn resolve<'a>(&self, route: Option<&'a str>, path: Option<&'a str>) -> Resolved<'a> {
        let none = Resolved {
            handler: HandlerRef::None,
            model: None,
        };
        let Some(route) = route else {
            return none;
        };
        if let Some(path) = path {
            if let Some(resolved) = self.match_path(path) {
                return resolved;
            }
        }
        if !is_wildcard(route) && is_route_text(route) {
            return Resolved {
                handler: HandlerRef::Route(route),
                model: None,
            };
        }
        none
    }

    fn match_path<'a>(&self, path: &str) -> Option<Resolved<'a>> {
        if !is_route_text(path) {
            return None;
        }
        let mut segments = [""; MAX_SEGMENTS];
        let mut depth = 0;
        if path != "/" {
            for segment in path[1..].split('/') {
                if depth == MAX_SEGMENTS {
                    return None;
                }
                segments[depth] = segment;
                depth += 1;
            }
        }
        let segments = &segments[..depth];
        let index = self.templates.iter().position(|t| t.matches(segments))?;
        let model = self.templates[index]
            .inference_model_segment
            .map(|i| self.model_index(segments[i]));
        Some(Resolved {
            handler: HandlerRef::Template(index),
            model,
        })
    }

    fn model_index(&self, name: &str) -> ModelRef {
        self.models
            .iter()
            .position(|m| &*m.0 == name)
            .map_or(ModelRef::Other, ModelRef::Known)
    }

    /// The label of a resolved handler.
    pub fn handler_label(&self, handler: HandlerRef<'_>) -> Handler {
        match handler {
            HandlerRef::Template(i) => self
                .templates
                .get(i)
                .map_or_else(|| self.none.clone(), |t| t.label.clone()),
            HandlerRef::Route(route) => Handler(Arc::from(route)),
            HandlerRef::None => self.none.clone(),
        }
    }

    /// The label of a resolved model.
    pub fn model_label(&self, model: ModelRef) -> ModelName {
        match model {
            ModelRef::Known(i) => self
                .models
                .get(i)
                .map_or_else(|| self.other_model.clone(), Clone::clone),
            ModelRef::Other => self.other_model.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(table: &RouteTable, route: Option<&str>, path: Option<&str>) -> String {
        table
            .handler_label(table.resolve(route, path).handler)
            .as_str()
            .to_owned()
    }

    fn model(table: &RouteTable, route: &str, path: &str) -> Option<String> {
        table
            .resolve(Some(route), Some(path))
            .model
            .map(|m| table.model_label(m).0.to_string())
    }

    /// The defaults parse, and cover every spin.toml route family.
    #[test]
    fn default_templates_parse() {
        let table = RouteTable::new(DEFAULT_TEMPLATES, DEFAULT_MODELS);
        assert_eq!(
            table.map(|t| t.templates().len()),
            Ok(DEFAULT_TEMPLATES.len())
        );
    }

    /// Exact routes name their endpoint.
    #[test]
    fn exact_routes_are_their_own_handler() {
        let t = RouteTable::service_default();
        assert_eq!(label(&t, Some("/predict"), Some("/predict")), "/predict");
        assert_eq!(label(&t, Some("/healthz"), Some("/healthz")), "/healthz");
        assert_eq!(label(&t, Some("/v2"), Some("/v2")), "/v2");
        assert_eq!(label(&t, Some("/echo"), Some("/echo")), "/echo");
        assert_eq!(
            label(&t, Some("/users/:id"), Some("/users/7")),
            "/users/:id"
        );
    }

    /// Wildcard routes are resolved by the path, against the templates.
    #[test]
    fn wildcard_routes_use_the_path_template() {
        let t = RouteTable::service_default();
        let r = Some("/v2/models/...");
        assert_eq!(
            label(&t, r, Some("/v2/models/pce-2013/infer")),
            "/v2/models/{name}/infer"
        );
        assert_eq!(
            label(&t, r, Some("/v2/models/x/versions/1/ready")),
            "/v2/models/{name}/versions/{version}/ready"
        );
        assert_eq!(label(&t, r, Some("/v2/models/x")), "/v2/models/{name}");
        assert_eq!(
            label(&t, Some("/v2/health/..."), Some("/v2/health/live")),
            "/v2/health/live"
        );
        assert_eq!(
            label(&t, Some("/docs/..."), Some("/docs/swagger-ui.css")),
            "/docs"
        );
    }

    /// The raw path never leaks into a label: unknown paths, the catch-all and router 404s.
    #[test]
    fn unknown_paths_are_none() {
        let t = RouteTable::service_default();
        assert_eq!(label(&t, Some("/..."), Some("/wp-login.php")), "none");
        assert_eq!(
            label(&t, Some("/v2/models/..."), Some("/v2/models/a/b/c/d")),
            "none"
        );
        assert_eq!(
            label(&t, Some("/v2/models/..."), Some("/v2/models/x/infer/")),
            "none"
        );
        assert_eq!(label(&t, Some("/hello/..."), Some("/hello/world")), "none");
        assert_eq!(label(&t, None, Some("/predict")), "none");
        assert_eq!(label(&t, None, None), "none");
        assert_eq!(label(&t, Some("/..."), None), "none");
        assert_eq!(label(&t, Some("no-slash"), None), "none");
        assert_eq!(label(&t, Some("/with space"), None), "none");
        let long = format!("/{}", "a".repeat(300));
        assert_eq!(label(&t, Some(&long), Some(&long)), "none");
        let deep = "/a".repeat(40);
        assert_eq!(label(&t, Some("/..."), Some(&deep)), "none");
    }

    /// Inference requests carry their model, allowlisted.
    #[test]
    fn inference_paths_name_the_model() {
        let t = RouteTable::service_default();
        let r = "/v2/models/...";
        assert_eq!(
            model(&t, r, "/v2/models/pce-2013/infer").as_deref(),
            Some("pce-2013")
        );
        assert_eq!(
            model(&t, r, "/v2/models/prevent-2023/versions/1/infer").as_deref(),
            Some("prevent-2023")
        );
        assert_eq!(
            model(&t, r, "/v2/models/gpt-5/infer").as_deref(),
            Some("other")
        );
        assert_eq!(model(&t, r, "/v2/models/pce-2013/ready"), None);
        assert_eq!(model(&t, r, "/v2/models/pce-2013"), None);
    }

    /// Kinds let dashboards filter probes and scrapes.
    #[test]
    fn handlers_have_kinds() {
        assert_eq!(HandlerKind::of("/healthz"), HandlerKind::Health);
        assert_eq!(HandlerKind::of("/v2/health/live"), HandlerKind::Health);
        assert_eq!(
            HandlerKind::of("/v2/models/{name}/ready"),
            HandlerKind::Health
        );
        assert_eq!(HandlerKind::of("/metrics"), HandlerKind::Metrics);
        assert_eq!(
            HandlerKind::of("/v2/models/{name}/infer"),
            HandlerKind::Inference
        );
        assert_eq!(HandlerKind::of("/docs"), HandlerKind::Docs);
        assert_eq!(HandlerKind::of("/openapi.json"), HandlerKind::Docs);
        assert_eq!(HandlerKind::of("/predict"), HandlerKind::Api);
    }

    /// Bad templates are refused when configuration is read, not at the first request.
    #[test]
    fn bad_templates_are_refused() {
        for bad in ["predict", "/a//b", "/a b", "", "/x=bad label"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        assert!(RouteTable::new(&["/a"], &[""]).is_err());
        assert!(Template::parse(&"/a".repeat(20)).is_err());
    }
}
