//! Route templates: how a request becomes a `handler` label (and, for inference, a model).
//!
//! Spin names each request by the `spin.toml` route it matched (`http.route`). An exact route
//! (`/predict`) names one endpoint; a wildcard (`/v2/models/...`) does not, so the raw path
//! (`url.path`) is matched against the service's known templates (`/v2/models/{name}/infer`).
//! Whatever matches no template is `"none"`, as in the original service; so are Spin's router
//! 404s, whose spans carry no route at all. The raw path itself never becomes a label.
//!
//! The service's templates are not written here: they are generated from `spin.toml` when the
//! exporter is built ([`DEFAULT_TEMPLATES`]), the file Spin routes by. Trailing slashes are
//! ignored, as the components' own routers ignore them (`/predict/` is `/predict`).

use std::sync::Arc;

use crate::labels::{Handler, ModelName};

mod service;
mod template;

pub use service::{DEFAULT_MODELS, DEFAULT_TEMPLATES};
use template::{is_route_text, MAX_SEGMENTS};
pub use template::{HandlerKind, RouteError, Template};

/// The model label of every name not on the allowlist (unknown models, typos, probes).
pub const OTHER_MODEL: &str = "other";

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
        if templates.is_empty() {
            return Err(RouteError::NoTemplates);
        }
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

    /// The service's own templates (from `spin.toml`) and models. An error means the build
    /// generated an unusable table; the exporter refuses to start rather than label every
    /// request `none`.
    pub fn service_default() -> Result<Self, RouteError> {
        Self::new(DEFAULT_TEMPLATES, DEFAULT_MODELS)
    }

    /// The known templates, in configuration order.
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// Every handler label the table can give a template, once each with its kind, and `none`.
    pub fn handler_labels(&self) -> Vec<(Handler, HandlerKind)> {
        let mut labels: Vec<(Handler, HandlerKind)> = Vec::new();
        for template in &self.templates {
            if !labels.iter().any(|(label, _)| label == template.label()) {
                labels.push((template.label().clone(), template.kind()));
            }
        }
        labels.push((self.none.clone(), HandlerKind::Unmatched));
        labels
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
        // The components ignore trailing slashes; so does the label.
        let trimmed = path.trim_end_matches('/');
        let path = if trimmed.is_empty() { "/" } else { trimmed };
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
            .model_segment()
            .map(|i| self.model_ref(segments[i]));
        Some(Resolved {
            handler: HandlerRef::Template(index),
            model,
        })
    }

    /// A model name as a label: its place on the allowlist, or "other".
    pub fn model_ref(&self, name: &str) -> ModelRef {
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
                .map_or_else(|| self.none.clone(), |t| t.label().clone()),
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

    fn service() -> RouteTable {
        RouteTable::service_default().expect("the table generated from spin.toml is usable")
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

    /// A table that would label every request `none` is an error, not a table.
    #[test]
    fn an_empty_table_is_refused() {
        let none: &[&str] = &[];
        assert_eq!(
            RouteTable::new(none, DEFAULT_MODELS).err(),
            Some(RouteError::NoTemplates)
        );
    }

    /// A trailing slash names the same endpoint, as the components' routers answer it.
    #[test]
    fn trailing_slashes_are_ignored() {
        let t = service();
        assert_eq!(label(&t, Some("/..."), Some("/predict/")), "/predict");
        assert_eq!(label(&t, Some("/predict"), Some("/predict/")), "/predict");
        assert_eq!(label(&t, Some("/docs/..."), Some("/docs/")), "/docs");
        assert_eq!(
            label(&t, Some("/v2/models/..."), Some("/v2/models/x/infer/")),
            "/v2/models/{name}/infer"
        );
        assert_eq!(label(&t, Some("/..."), Some("/")), "none");
    }

    /// Every handler label, once, with its kind; `none` is unmatched.
    #[test]
    fn handler_labels_are_listed_once() {
        let labels = service().handler_labels();
        let docs = labels.iter().filter(|(h, _)| h.as_str() == "/docs").count();
        assert_eq!(docs, 1);
        assert_eq!(
            labels.last().map(|(h, k)| (h.as_str(), *k)),
            Some(("none", HandlerKind::Unmatched))
        );
    }

    /// Exact routes name their endpoint.
    #[test]
    fn exact_routes_are_their_own_handler() {
        let t = service();
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
        let t = service();
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
        let t = service();
        assert_eq!(label(&t, Some("/..."), Some("/wp-login.php")), "none");
        assert_eq!(
            label(&t, Some("/v2/models/..."), Some("/v2/models/a/b/c/d")),
            "none"
        );
        assert_eq!(
            label(&t, Some("/v2/models/..."), Some("/v2/models/x//y")),
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
        let t = service();
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
