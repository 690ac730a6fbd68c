//! The WebAssembly build: each model is an import of the world `api`, which `build.rs`
//! generates from `spin.toml`'s list of models (`target/generated/wit/api.wit`), answered by a
//! separate model component.

use super::wit_conversions::wit_conversions;
use super::Link;

wit_bindgen::generate!({
    path: ["wit/model.wit", "target/generated/wit"],
    world: "healthcare:service/api@5.0.0",
    generate_all,
});

wit_conversions!(healthcare::model::model);

/// What the listed models this repository builds declare in `info()`, generated at build time
/// as static data (`build.rs`): asking each model component for it on every request would make
/// every instance build and copy its whole description.
mod static_info {
    #[allow(unused_imports)]
    use std::borrow::Cow;

    #[allow(unused_imports)]
    use crate::catalog::contract::{
        Categories, Category, ExplanationInfo, Feature, FeatureKind, ModelInfo, NumberFeature,
        Output, OutputKind,
    };

    include!(concat!(env!("OUT_DIR"), "/model_info.rs"));
}

/// One imported model: `$module` is the bindings module wit-bindgen generates for the import
/// named `$import` in the world `api`; `$info`, for a built-in model, the generated description.
/// Otherwise the model is asked for its `info()`: only such an import has `info` in the world
/// (build.rs), so that the code reading a whole description is compiled in only for models
/// this build does not describe.
macro_rules! imported {
    ($module:ident, $import:expr, $info:ident) => {
        imported!($module, $import, static_info::$info,)
    };
    ($module:ident, $import:expr) => {
        imported!($module, $import, || model_info($module::info()),)
    };
    ($module:ident, $import:expr, $info:expr,) => {
        Link {
            import: $import,
            info: $info,
            declared: || identity($module::identity()),
            predict_batch: |inputs| predict_batch(inputs, $module::predict_batch),
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/model_links.rs"));

/// Every model `spin.toml` lists, the default first.
pub static LINKS: &[Link] = listed_imports!();
