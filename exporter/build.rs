//! Generates the service's route templates from `spin.toml` (see `src/routes/service.rs`), so
//! the exporter labels requests by the routes Spin actually serves, with no copy to keep in
//! step by hand.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The tool table, in a component, that lists its endpoints under wildcard routes.
const TOOL: &str = "model-exporter";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let manifest = manifest_dir.join("../spin.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let templates = match read_templates(&manifest) {
        Ok(templates) => templates,
        Err(message) => {
            // A build error, not a table that labels every request `none`.
            eprintln!("error: {}: {message}", manifest.display());
            std::process::exit(1);
        }
    };
    let mut out = String::from(
        "/// The service's route templates (`PATTERN[=LABEL]`), in `spin.toml` order.\n\
         pub const DEFAULT_TEMPLATES: &[&str] = &[\n",
    );
    for template in &templates {
        let _ = writeln!(out, "    {template:?},");
    }
    out.push_str("];\n");
    let models = match read_models(&manifest) {
        Ok(models) => models,
        Err(message) => {
            eprintln!("error: {}: {message}", manifest.display());
            std::process::exit(1);
        }
    };
    out.push_str(
        "\n/// The models the service serves (`[component.api.tool.model-api] models`, each named\n\
         /// by its component's file), in `spin.toml` order.\n\
         pub const DEFAULT_MODELS: &[&str] = &[\n",
    );
    for model in &models {
        let _ = writeln!(out, "    {model:?},");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(error) = std::fs::write(out_dir.join("service_routes.rs"), out) {
        eprintln!("error: cannot write the generated routes: {error}");
        std::process::exit(1);
    }
}

/// The model names: the file stems of the components the API's `model-api` tool table lists
/// (read as the API's build reads them).
fn read_models(manifest: &Path) -> Result<Vec<String>, String> {
    let models = spin_manifest::listed_models(manifest)?;
    Ok(models.into_iter().map(|model| model.name).collect())
}

/// One `[[trigger.http]]` entry.
struct Trigger {
    route: String,
    component: String,
}

fn read_templates(manifest: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(manifest).map_err(|e| format!("cannot read it: {e}"))?;
    let doc: toml::Table = text.parse().map_err(|e| format!("not TOML: {e}"))?;
    let triggers = doc
        .get("trigger")
        .and_then(|t| t.get("http"))
        .and_then(|h| h.as_array())
        .ok_or("no [[trigger.http]] route")?
        .iter()
        .map(|t| {
            let field = |name: &str| t.get(name).and_then(|v| v.as_str()).map(str::to_owned);
            match (field("route"), field("component")) {
                (Some(route), Some(component)) => Ok(Trigger { route, component }),
                _ => Err("a [[trigger.http]] entry needs a route and a component".to_owned()),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if triggers.is_empty() {
        return Err("no [[trigger.http]] route".into());
    }

    let mut templates = Vec::new();
    let mut used = Vec::new();
    for trigger in &triggers {
        let Some(prefix) = trigger.route.strip_suffix("/...") else {
            templates.push(trigger.route.clone());
            continue;
        };
        let endpoints = endpoints(&doc, &trigger.component)?;
        // A wildcard matches its prefix itself (`/docs/...` serves `/docs`) and what is below
        // it; the catch-all (empty prefix) everything.
        let under: Vec<&String> = endpoints
            .iter()
            .filter(|e| {
                let pattern = pattern(e);
                prefix.is_empty() || pattern == prefix || pattern.starts_with(&format!("{prefix}/"))
            })
            .filter(|e| !used.contains(&(trigger.component.clone(), (*e).clone())))
            .collect();
        if prefix.is_empty() && under.is_empty() {
            continue; // a catch-all with no endpoint: whatever it serves is `none`
        }
        if under.is_empty() {
            return Err(format!(
                "route {:?} has no endpoint in [component.{}.tool.{TOOL}] endpoints: every \
                 request under it would be labelled \"none\"",
                trigger.route, trigger.component
            ));
        }
        for endpoint in under {
            templates.push(endpoint.clone());
            used.push((trigger.component.clone(), endpoint.clone()));
        }
    }
    for trigger in &triggers {
        for endpoint in endpoints(&doc, &trigger.component)? {
            if !used.contains(&(trigger.component.clone(), endpoint.clone())) {
                return Err(format!(
                    "endpoint {endpoint:?} of [component.{}.tool.{TOOL}] is under none of the \
                     component's wildcard routes",
                    trigger.component
                ));
            }
        }
    }
    Ok(templates)
}

/// The pattern of `PATTERN[=LABEL]`.
fn pattern(template: &str) -> &str {
    template.split_once('=').map_or(template, |(p, _)| p).trim()
}

/// A component's declared endpoints (none when it declares no tool table).
fn endpoints(doc: &toml::Table, component: &str) -> Result<Vec<String>, String> {
    let Some(list) = doc
        .get("component")
        .and_then(|c| c.get(component))
        .and_then(|c| c.get("tool"))
        .and_then(|t| t.get(TOOL))
        .and_then(|t| t.get("endpoints"))
    else {
        return Ok(Vec::new());
    };
    list.as_array()
        .ok_or(format!(
            "[component.{component}.tool.{TOOL}] endpoints must be a list"
        ))?
        .iter()
        .map(|e| {
            e.as_str().map(str::to_owned).ok_or(format!(
                "[component.{component}.tool.{TOOL}] endpoints must be strings"
            ))
        })
        .collect()
}
