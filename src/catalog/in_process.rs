//! Natively, each model that `spin.toml` lists and this repository builds is called in-process
//! through `model-component`, the code every model component runs, with the same WIT types and
//! conversions as the WebAssembly imports: a built-in equation (`crates/models/<name>`) or a
//! user's ONNX model (`models/<name>/model.toml`, compiled in by `build.rs` exactly as its
//! component's build step writes it).

use super::wit_conversions::wit_conversions;
use super::Link;

wit_conversions!(model_component::wit);

/// The built-in model named `name` (a listed model with a crate under `crates/models/`, as
/// `build.rs` checked).
fn builtin(name: &str) -> &'static dyn risk_models::TabularModel {
    match risk_models::models::builtin(name) {
        Some(model) => model,
        // build.rs lists only models with a crate under crates/models/, whose crate is named
        // after the model it builds: a mismatch is a broken checkout, found by the first test.
        None => panic!("{name} has a crate under crates/models/ but is no built-in model"),
    }
}

/// One in-process model (`$model`: a `&'static dyn TabularModel` expression), under the import
/// name the WebAssembly build gives it. Its positions are worked out once.
macro_rules! in_process {
    ($model:expr, $import:expr) => {
        Link {
            import: $import,
            info: || model_info(model_component::model_info($model)),
            declared: || identity(model_component::identity($model)),
            predict_batch: |inputs| {
                static POSITIONS: std::sync::OnceLock<model_component::Positions> =
                    std::sync::OnceLock::new();
                let positions = POSITIONS.get_or_init(|| model_component::Positions::of($model));
                predict_batch(inputs, |batch| {
                    model_component::predict_batch($model, positions, batch)
                })
            },
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/model_links.rs"));

/// The same models, in the same order, as the world `api` imports.
pub static LINKS: &[Link] = listed_in_process!();
