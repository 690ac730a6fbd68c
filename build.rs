//! Generates the HTTP component's view of its models from `spin.toml`, the only list of
//! models: `[component.api.tool.model-api] models`, the default first.
//!
//! - `target/generated/wit/api.wit`: the world `api`, importing one instance of the model
//!   contract per listed model (`model0`, `model1`, …: names nobody reads; a model is known by
//!   the name its own `info()` declares). `src/catalog/imports.rs` generates its bindings
//!   from it.
//! - `$OUT_DIR/model_links.rs`: the link table pairing each import with its functions
//!   (WebAssembly), and, natively, the built-in models (`crates/models/<name>`) in the same
//!   order, called in-process.
//! - `$OUT_DIR/model_info.rs`: what each built-in listed model's `info()` answers, generated
//!   from the same description its component answers from (`risk_models`), so that a request
//!   never calls `info()` across components: every model instance a request creates would
//!   otherwise build and copy its whole description (docs/design/model-wiring.md, decision 4).
//!   A model built elsewhere is asked for its `info()` at run time.
//!
//! `scripts/build.sh` reads the same list to build and compose the model components.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    // The HTTP component's stack: 128 KiB instead of Rust's 1 MiB (its deepest request, a
    // 127-deep JSON body, is tested), so that an instance's memory stays small: every request
    // creates one (docs/design/model-wiring.md, decision 3).
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=131072");
    }
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let manifest = root.join("spin.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let models = match read_models(&manifest) {
        Ok(models) => models,
        Err(message) => fail(&format!("{}: {message}", manifest.display())),
    };
    let contract = root.join("wit/model.wit");
    println!("cargo:rerun-if-changed={}", contract.display());
    let version = match contract_version(&contract) {
        Ok(version) => version,
        Err(message) => fail(&format!("{}: {message}", contract.display())),
    };
    // Each listed model read once: an ONNX model's files are read and checked here only.
    let built: Vec<Built> = models.iter().map(|model| built(&root, model)).collect();
    let wit_dir = root.join("target/generated/wit");
    write(&wit_dir.join("api.wit"), &world(&models, &built, &version));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    write(
        &out_dir.join("model_links.rs"),
        &links(&out_dir, &models, &built),
    );
    write(
        &out_dir.join("model_info.rs"),
        &static_infos(&models, &built),
    );
    let document = root.join("src/openapi/document.json");
    println!("cargo:rerun-if-changed={}", document.display());
    write(&out_dir.join("openapi-document.json"), &minified(&document));
}

/// The OpenAPI document's fixed part without its indentation: it is compiled into the
/// component, where whitespace would be 15 KB of the HTTP component's budget.
fn minified(path: &Path) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| fail(&format!("{}: {error}", path.display())));
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(document) => document.to_string(),
        Err(error) => fail(&format!("{}: {error}", path.display())),
    }
}

/// What this repository knows of a listed model.
enum Built {
    /// An equation with a crate under `crates/models/` (`risk_models` describes it).
    Equation(&'static dyn risk_models::TabularModel),
    /// A user's ONNX model (`models/<name>/model.toml`), read and checked.
    Onnx(Box<onnx_model::build::CheckedModel>),
    /// A component built elsewhere: asked for its `info()` at run time.
    Elsewhere,
}

impl Built {
    /// What the model declares, when this repository builds it.
    fn description(&self) -> Option<risk_models::ModelDescription> {
        match self {
            Built::Equation(model) => Some(model.describe()),
            Built::Onnx(checked) => {
                Some(onnx_model::build::model_description(&checked.description))
            }
            Built::Elsewhere => None,
        }
    }
}

fn built(root: &Path, model: &Listed) -> Built {
    if is_builtin(root, model) {
        return match risk_models::models::builtin(&model.name) {
            Some(equation) => Built::Equation(equation),
            None => fail(&format!(
                "crates/models/{} exists but risk_models has no model of that name",
                model.name
            )),
        };
    }
    onnx_model(root, model).map_or(Built::Elsewhere, |checked| Built::Onnx(Box::new(checked)))
}

/// Whether `crates/models/<stem>` builds the listed model (then `risk_models` describes it).
fn is_builtin(root: &Path, model: &Listed) -> bool {
    root.join("crates/models").join(&model.name).is_dir()
}

/// The description of a listed user's ONNX model (`models/<stem>/model.toml`), read and checked
/// against its ONNX file by the same build step its component runs; `None` for other models.
fn onnx_model(root: &Path, model: &Listed) -> Option<onnx_model::build::CheckedModel> {
    let path = root.join("models").join(&model.name).join("model.toml");
    if !path.is_file() {
        return None;
    }
    println!("cargo:rerun-if-changed={}", path.display());
    let checked = match onnx_model::build::read_model(&path) {
        Ok(checked) => checked,
        Err(error) => fail(&error.to_string()),
    };
    if checked.description.name != model.name {
        fail(&format!(
            "{}: the model is named {}, but spin.toml lists it as {} (name the component file after the model)",
            path.display(),
            checked.description.name,
            model.name
        ));
    }
    println!(
        "cargo:rerun-if-changed={}",
        path.with_file_name(&checked.description.onnx).display()
    );
    Some(checked)
}

/// One static description per listed model this repository builds, `info_<index>() -> ModelInfo`:
/// exactly what its component's `info()` answers (`model_component::model_info`).
fn static_infos(models: &[Listed], built: &[Built]) -> String {
    let mut rust = String::from(
        "// Generated by build.rs from spin.toml and the built-in models' descriptions: do not edit.\n\n",
    );
    let descriptions: Vec<Option<risk_models::ModelDescription>> =
        built.iter().map(Built::description).collect();
    let generated: Vec<usize> = (0..models.len())
        .filter(|&index| descriptions[index].is_some())
        .collect();
    let _ = writeln!(
        rust,
        "/// Every generated description.\n#[allow(dead_code)]\npub const GENERATED: &[fn() -> ModelInfo] = &[{}];\n",
        generated
            .iter()
            .map(|index| format!("info_{index}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (index, model) in models.iter().enumerate() {
        let Some(description) = &descriptions[index] else {
            continue;
        };
        let _ = writeln!(
            rust,
            "/// What {} declares (`info()`), as static data.\n#[allow(dead_code)]\nstatic INFO_{index}: ModelInfo = {};\n\n\
             /// {0}'s description (a copy of references: nothing is built).\n#[allow(dead_code)]\npub fn info_{index}() -> ModelInfo {{\n    INFO_{index}.clone()\n}}\n",
            model.name,
            info_expression(description)
        );
    }
    rust
}

/// `s` as a constant Rust expression of the contract's `Text`.
fn string(s: &str) -> String {
    format!("Cow::Borrowed({s:?})")
}

fn option_string(s: Option<&str>) -> String {
    s.map_or("None".to_owned(), |s| format!("Some({})", string(s)))
}

/// Items as a constant Rust expression of the contract's `List`.
fn list(items: &[String]) -> String {
    format!("Cow::Borrowed(&[{}])", items.join(", "))
}

fn float(value: f64) -> String {
    // `{:?}` is the shortest text that reads back as the same f64.
    format!("{value:?}_f64")
}

fn info_expression(d: &risk_models::ModelDescription) -> String {
    use risk_models::description::{FeatureKind, OutputKind};
    let mut features = String::new();
    for f in &d.features {
        let kind = match &f.kind {
            FeatureKind::Number(n) => format!(
                "FeatureKind::Number(NumberFeature {{ unit: {}, range: {}, alternative_units: {}, unit_selector: {} }})",
                string(n.unit),
                n.range.map_or("None".to_owned(), |r| format!("Some(({}, {}))", float(r.min), float(r.max))),
                list(
                    &n.alternative_units
                        .iter()
                        .map(|u| format!("({}, {})", string(u.unit), float(u.factor)))
                        .collect::<Vec<_>>()
                ),
                option_string(n.unit_selector),
            ),
            FeatureKind::Boolean { when_absent } => {
                format!("FeatureKind::Boolean {{ when_absent: {} }}", string(when_absent))
            }
            FeatureKind::Choice { allowed, when_absent } => format!(
                "FeatureKind::Choice {{ allowed: {}, when_absent: {} }}",
                list(&allowed.iter().map(|a| string(a)).collect::<Vec<_>>()),
                option_string(*when_absent),
            ),
        };
        let _ = write!(
            features,
            "Feature {{ name: {}, aliases: {}, description: {}, kind: {kind}, required: {}, fhir: {} }}, ",
            string(f.name),
            list(&f.aliases.iter().map(|a| string(a)).collect::<Vec<_>>()),
            string(f.description),
            f.required,
            f.fhir.as_ref().map_or("None".to_owned(), |source| format!("Some({})", fhir_record::rust_expression(source))),
        );
    }
    let outputs: Vec<String> = d
        .outputs
        .iter()
        .map(|o| {
            let kind = match o.kind {
                OutputKind::Probability => "OutputKind::Probability",
                OutputKind::Score => "OutputKind::Score",
            };
            format!(
                "Output {{ name: {}, description: {}, kind: {kind}, horizon_years: {:?} }}",
                string(o.name),
                string(o.description),
                o.horizon_years
            )
        })
        .collect();
    let categories = d.categories.as_ref().map_or("None".to_owned(), |c| {
        let bands: Vec<String> = c
            .bands
            .iter()
            .map(|b| {
                format!(
                    "Category {{ name: {}, label: {}, lower_bound: {} }}",
                    string(b.name),
                    string(b.label),
                    float(b.from)
                )
            })
            .collect();
        format!(
            "Some(Categories {{ bands: {}, source: {} }})",
            list(&bands),
            string(c.source)
        )
    });
    let explanation = d.explanation.as_ref().map_or("None".to_owned(), |e| {
        format!(
            "Some(ExplanationInfo {{ scale: {}, reference_patient: {}, factors: {} }})",
            string(e.scale),
            string(e.reference_patient),
            list(&e.factors.iter().map(|f| string(f)).collect::<Vec<_>>()),
        )
    });
    format!(
        "ModelInfo {{ name: {}, version: {}, title: {}, citation: {}, population: {}, horizon_years: {:?}, features: Cow::Borrowed(&[{features}]), outputs: {}, categories: {categories}, explanation: {explanation}, confidence: {} }}",
        string(d.name),
        string(d.version),
        string(d.title),
        string(d.citation),
        string(d.population),
        d.horizon_years,
        list(&outputs),
        option_string(d.confidence),
    )
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        if let Err(error) = std::fs::create_dir_all(parent) {
            fail(&format!("cannot create {}: {error}", parent.display()));
        }
    }
    // Rewritten only when it changes, so that an unchanged list rebuilds nothing.
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    if let Err(error) = std::fs::write(path, text) {
        fail(&format!("cannot write {}: {error}", path.display()));
    }
}

use spin_manifest::ListedModel as Listed;

fn read_models(manifest: &Path) -> Result<Vec<Listed>, String> {
    spin_manifest::listed_models(manifest)
}

/// The import of the model at `index`.
fn import(index: usize) -> String {
    format!("model{index}")
}

/// The version of the model contract, from `wit/model.wit`'s `package healthcare:model@<v>;`.
fn contract_version(contract: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(contract).map_err(|error| error.to_string())?;
    text.lines()
        .find_map(|line| line.trim().strip_prefix("package healthcare:model@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .map(str::to_owned)
        .ok_or_else(|| "no `package healthcare:model@<version>;` line".to_owned())
}

/// The world `api` (its package shares the contract's version). An import asks for `info()`
/// only when this build does not describe the model itself: lifting a whole description is
/// code, one copy per import, that the other imports would carry for nothing. For the same
/// reason the API imports `predict-batch` alone and sends one patient as a batch of one.
fn world(models: &[Listed], built: &[Built], version: &str) -> String {
    let mut wit = format!(
        "// Generated by build.rs from spin.toml's [component.api.tool.model-api] models: do not\n\
         // edit. The HTTP component's world: WASI from the runtime, one model per import.\n\
         package healthcare:service@{version};\n\n\
         world api {{\n",
    );
    for (index, (model, built)) in models.iter().zip(built).enumerate() {
        let role = if index == 0 { ", the default" } else { "" };
        let info = if matches!(built, Built::Elsewhere) {
            "info: func() -> model-info;\n    "
        } else {
            ""
        };
        let _ = write!(
            wit,
            "  /// {} ({}{role}).\n  import {}: interface {{\n    \
             use healthcare:model/model@{version}.{{model-info, model-identity, patient-batch, batch-predictions}};\n\n    \
             {info}identity: func() -> model-identity;\n    \
             predict-batch: func(patients: patient-batch) -> batch-predictions;\n  \
             }}\n",
            model.name,
            model.path,
            import(index)
        );
    }
    wit.push_str("}\n");
    wit
}

fn links(out_dir: &Path, models: &[Listed], built: &[Built]) -> String {
    let mut rust = String::from("// Generated by build.rs from spin.toml: do not edit.\n\n");
    rust.push_str(
        "/// The listed models, named by their component files, the default first (for tests:\n\
         /// the service knows a model by the name its own `info()` declares).\n\
         #[allow(dead_code)]\n\
         pub const LISTED_MODELS: &[&str] = &[\n",
    );
    for model in models {
        let _ = writeln!(rust, "    {:?},", model.name);
    }
    rust.push_str("];\n\n");
    rust.push_str(
        "/// Every listed model, the default first: its import (WebAssembly).\n\
         #[cfg(target_arch = \"wasm32\")]\n\
         macro_rules! listed_imports {\n    () => {\n        &[\n",
    );
    for (index, built) in built.iter().enumerate() {
        if !matches!(built, Built::Elsewhere) {
            let _ = writeln!(
                rust,
                "            imported!({0}, {0:?}, info_{index}),",
                import(index)
            );
        } else {
            let _ = writeln!(rust, "            imported!({0}, {0:?}),", import(index));
        }
    }
    rust.push_str("        ]\n    };\n}\n\n");
    rust.push_str(
        "/// The listed models this repository builds (equations and users' ONNX models), in the\n\
         /// same order, under the same imports: called in-process natively.\n\
         #[cfg(not(target_arch = \"wasm32\"))]\n\
         macro_rules! listed_in_process {\n    () => {\n        &[\n",
    );
    let mut onnx_modules = String::new();
    for (index, model) in models.iter().enumerate() {
        match &built[index] {
            Built::Equation(_) => {
                let _ = writeln!(
                    rust,
                    "            in_process!(builtin({:?}), {:?}),",
                    model.name,
                    import(index)
                );
            }
            Built::Onnx(checked) => {
                let _ = writeln!(
                    rust,
                    "            in_process!(&onnx_{index}::MODEL, {:?}),",
                    import(index)
                );
                let source = format!("onnx_{index}.rs");
                write(
                    &out_dir.join(&source),
                    &onnx_model::build::rust_source(checked),
                );
                let _ = writeln!(
                onnx_modules,
                "/// {} (models/{}/model.toml), as its component's build step writes it.\n\
                 #[cfg(not(target_arch = \"wasm32\"))]\n\
                 #[allow(unused_imports, clippy::all)]\n\
                 mod onnx_{index} {{\n    \
                 use onnx_model::plan::{{Aggregate, BinaryOp, Linear, NodeMode, Operand, Plan, PostTransform, Step, Trees, TreesKind, UnaryOp}};\n    \
                 use onnx_model::served::{{Encoding, Input, OnnxModel}};\n    \
                 use risk_models::description::{{Categories, Category, Feature, FeatureKind, ModelDescription, NumberFeature, Output, OutputKind}};\n    \
                 include!(concat!(env!(\"OUT_DIR\"), \"/{source}\"));\n}}\n",
                model.name, model.name
            );
            }
            Built::Elsewhere => {}
        }
    }
    rust.push_str("        ]\n    };\n}\n\n");
    rust.push_str(&onnx_modules);
    rust
}
