//! The service's endpoints as route templates, generated from `spin.toml` by `build.rs`.
//!
//! Each exact trigger route is its own template; each wildcard route (`/docs/...`, the catch-all
//! `/...`) brings the endpoints its component declares under it in
//! `[component.<id>.tool.model-exporter]` (`endpoints`, Spin ignores `tool` tables): a
//! wildcard covers its prefix itself and what is below it, the catch-all everything. The build
//! fails if `spin.toml` has no route, or a wildcard route other than the catch-all has no
//! endpoint (every request under it would be labelled `none`), or an endpoint lies under no
//! wildcard route of its component.
//!
//! The model names (`DEFAULT_MODELS`) come from the same file: `[component.api.tool.model-api]
//! models`, each named by its component's file; any other name in a path is folded into
//! [`super::OTHER_MODEL`].

include!(concat!(env!("OUT_DIR"), "/service_routes.rs"));
