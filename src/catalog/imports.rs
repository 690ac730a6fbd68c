//! The WebAssembly build: each model is an import of the world `api` (`wit/service/api.wit`),
//! answered by a separate model component.

use super::wit_conversions::wit_conversions;
use super::{Link, DEFAULT_IMPORT};

wit_bindgen::generate!({
    path: ["wit/model.wit", "wit/service"],
    world: "healthcare:service/api@2.0.0",
    generate_all,
});

wit_conversions!(healthcare::model::model);

/// One imported model: `$module` is the bindings module wit-bindgen generates for the import
/// named `$import` in the world `api`.
macro_rules! imported {
    ($module:path, $import:expr) => {
        Link {
            import: $import,
            info: || {
                use $module as import;
                model_info(import::info())
            },
            predict: |input| {
                use $module as import;
                predict_result(import::predict(&patient(input)))
            },
            predict_batch: |inputs| {
                use $module as import;
                let patients: Vec<wit::Patient> = inputs.iter().map(patient).collect();
                import::predict_batch(&patients)
                    .into_iter()
                    .map(predict_result)
                    .collect()
            },
        }
    };
}

/// The default model first, then one line per named import of the world `api`.
pub static LINKS: &[Link] = &[
    imported!(healthcare::model::model, DEFAULT_IMPORT),
    imported!(prevent, "prevent"),
];
