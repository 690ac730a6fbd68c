//! The one reader of `spin.toml`'s list of models: `[component.api.tool.model-api] models`,
//! the paths of the model components, the default first (Spin ignores `tool` tables). The
//! build scripts that need the list (the API's, for its world, link table and compiled-in
//! descriptions; the exporter's, for its model names) read it here, so they cannot disagree.

use std::path::Path;

/// One listed model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedModel {
    /// The component's path, as written in `spin.toml`.
    pub path: String,
    /// The model's name: its component file's name without `.wasm` (a model component is
    /// named after the model its `info()` declares).
    pub name: String,
}

/// The models `manifest` lists, the default first.
pub fn listed_models(manifest: &Path) -> Result<Vec<ListedModel>, String> {
    let text = std::fs::read_to_string(manifest).map_err(|e| format!("cannot read it: {e}"))?;
    listed_models_in(&text)
}

/// The models a manifest's text lists, the default first: at least one, each name once.
pub fn listed_models_in(text: &str) -> Result<Vec<ListedModel>, String> {
    let doc: toml::Table = text.parse().map_err(|e| format!("not TOML: {e}"))?;
    let list = doc
        .get("component")
        .and_then(|c| c.get("api"))
        .and_then(|a| a.get("tool"))
        .and_then(|t| t.get("model-api"))
        .and_then(|m| m.get("models"))
        .and_then(|m| m.as_array())
        .ok_or("no [component.api.tool.model-api] models list")?;
    let mut models: Vec<ListedModel> = Vec::new();
    for entry in list {
        let path = entry.as_str().ok_or("every entry of models is a path")?;
        let name = Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{path:?} names no component file"))?;
        if models.iter().any(|m| m.name == name) {
            return Err(format!("the model {name} is listed twice"));
        }
        models.push(ListedModel {
            path: path.to_owned(),
            name: name.to_owned(),
        });
    }
    if models.is_empty() {
        return Err("the models list is empty: the API needs at least one model".to_owned());
    }
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(models: &str) -> String {
        format!(
            "[component.api]\nsource = \"x\"\n[component.api.tool.model-api]\nmodels = {models}\n"
        )
    }

    #[test]
    fn the_models_are_read_in_order_named_by_their_files() {
        let models = listed_models_in(&manifest(r#"["target/components/a-1.wasm", "/x/b.wasm"]"#));
        let names: Vec<String> = models.unwrap().into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["a-1", "b"]);
    }

    #[test]
    fn a_list_that_cannot_be_served_is_refused() {
        assert!(listed_models_in(&manifest("[]")).is_err());
        assert!(listed_models_in(&manifest(r#"["a.wasm", "x/a.wasm"]"#)).is_err());
        assert!(listed_models_in(&manifest("[1]")).is_err());
        assert!(listed_models_in("[component.api]\nsource = \"x\"\n").is_err());
    }

    /// The repository's own manifest lists the built-in models, the default first.
    #[test]
    fn the_committed_manifest_lists_its_models() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spin.toml");
        let models = listed_models(&manifest).unwrap();
        assert_eq!(models.first().map(|m| m.name.as_str()), Some("pce-2013"));
    }
}
