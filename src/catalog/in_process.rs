//! Natively, each built-in model that `spin.toml` lists is called in-process through
//! `model-component`, the code every built-in model component runs, with the same WIT types
//! and conversions as the WebAssembly imports.

use super::wit_conversions::wit_conversions;
use super::Link;

wit_conversions!(model_component::wit);

/// The built-in model named `name` (a listed model with a crate under `crates/models/`, as
/// `build.rs` checked).
fn model(name: &str) -> &'static dyn risk_models::TabularModel {
    match risk_models::models::builtin(name) {
        Some(model) => model,
        // build.rs lists only models with a crate under crates/models/, whose crate is named
        // after the model it builds: a mismatch is a broken checkout, found by the first test.
        None => panic!("{name} has a crate under crates/models/ but is no built-in model"),
    }
}

/// One in-process model, under the import name the WebAssembly build gives it.
macro_rules! in_process {
    ($name:expr, $import:expr) => {
        Link {
            import: $import,
            info: || model_info(model_component::model_info(model($name))),
            declared: || model_info(model_component::model_info(model($name))),
            predict: |input| {
                predict_result(model_component::predict(model($name), &patient(input)))
            },
            predict_batch: |inputs| {
                let patients: Vec<wit::Patient> = inputs.iter().map(patient).collect();
                model_component::predict_batch(model($name), &patients)
                    .into_iter()
                    .map(predict_result)
                    .collect()
            },
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/model_links.rs"));

/// The same models, in the same order, as the world `api` imports.
pub static LINKS: &[Link] = listed_in_process!();
