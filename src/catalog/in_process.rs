//! Natively, each model is called in-process through `model-component`, the code every model
//! component runs, with the same WIT types and conversions as the WebAssembly imports.

use super::wit_conversions::wit_conversions;
use super::{Link, DEFAULT_IMPORT};

wit_conversions!(model_component::wit);

/// One in-process model, under the import name the WebAssembly build gives it.
macro_rules! in_process {
    ($model:expr, $import:expr) => {
        Link {
            import: $import,
            info: || model_info(model_component::model_info($model)),
            predict: |input| predict_result(model_component::predict($model, &patient(input))),
            predict_batch: |inputs| {
                let patients: Vec<wit::Patient> = inputs.iter().map(patient).collect();
                model_component::predict_batch($model, &patients)
                    .into_iter()
                    .map(predict_result)
                    .collect()
            },
        }
    };
}

/// The same models, in the same order, as the world `api` imports (`wit/service/api.wit`).
pub static LINKS: &[Link] = &[
    in_process!(risk_models::Model::Pce2013, DEFAULT_IMPORT),
    in_process!(risk_models::Model::Prevent2023, "prevent"),
];
