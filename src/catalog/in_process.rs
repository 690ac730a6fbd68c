//! Natively, each built-in model that `spin.toml` lists is called in-process through
//! `model-component`, the code every built-in model component runs, with the same WIT types
//! and conversions as the WebAssembly imports.

use std::sync::OnceLock;

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

/// The positions of the built-in model named `name`, worked out once.
fn positions(name: &str) -> &'static model_component::Positions {
    static POSITIONS: OnceLock<Vec<(&'static str, model_component::Positions)>> = OnceLock::new();
    let all = POSITIONS.get_or_init(|| {
        risk_models::models::BUILTIN
            .iter()
            .map(|model| (model.name(), model_component::Positions::of(*model)))
            .collect()
    });
    match all.iter().find(|(model, _)| *model == name) {
        Some((_, positions)) => positions,
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
                predict_result(model_component::predict(
                    model($name),
                    positions($name),
                    &patient(input),
                ))
            },
            predict_batch: |inputs| {
                model_component::predict_batch(model($name), positions($name), &patients(inputs))
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
