//! Between the WIT types of `healthcare:risk/predictor` and the catalog's plain types.
//!
//! wit-bindgen gives each set of bindings its own Rust types: the imports' in the WebAssembly
//! build, `model-component`'s natively. [`wit_conversions!`] writes the same conversions for
//! either, so the native tests exercise exactly the code the component runs.

/// Defines, in the calling module, the conversions for the WIT bindings module `$wit`.
macro_rules! wit_conversions {
    ($wit:path) => {
        use risk_models::{CholesterolUnit, Field, PatientInput, Race, RiskCategory, Sex};
        use $wit as wit;

        use $crate::catalog::{
            InputInfo, ModelFieldError, ModelInfo, ModelPrediction, ModelWarning, OutcomeInfo,
        };

        pub fn patient_input(input: &PatientInput) -> wit::PatientInput {
            wit::PatientInput {
                age: input.age,
                sex: input.sex.map(|sex| match sex {
                    Sex::Female => wit::Sex::Female,
                    Sex::Male => wit::Sex::Male,
                }),
                race: input.race.map(|race| match race {
                    Race::White => wit::Race::White,
                    Race::AfricanAmerican => wit::Race::AfricanAmerican,
                    Race::Other => wit::Race::Other,
                }),
                total_cholesterol: input.total_cholesterol,
                hdl_cholesterol: input.hdl_cholesterol,
                cholesterol_unit: input.cholesterol_unit.map(|unit| match unit {
                    CholesterolUnit::MgPerDl => wit::CholesterolUnit::MgPerDl,
                    CholesterolUnit::MmolPerL => wit::CholesterolUnit::MmolPerL,
                }),
                systolic_bp: input.systolic_bp,
                on_bp_treatment: input.on_bp_treatment,
                smoker: input.smoker,
                diabetic: input.diabetic,
                egfr: input.egfr,
                on_statin: input.on_statin,
            }
        }

        pub fn model_info(info: wit::ModelInfo) -> ModelInfo {
            ModelInfo {
                name: info.name,
                version: info.version,
                title: info.title,
                citation: info.citation,
                population: info.population,
                horizon_years: info.horizon_years,
                inputs: info
                    .inputs
                    .into_iter()
                    .filter_map(|input| {
                        Some(InputInfo {
                            field: Field::from_name(&input.field)?,
                            unit: input.unit,
                            required: input.required,
                            when_absent: input.when_absent,
                            range: input.range.map(|range| (range.min, range.max)),
                        })
                    })
                    .collect(),
                outcomes: info
                    .outcomes
                    .into_iter()
                    .map(|outcome| OutcomeInfo {
                        name: outcome.name,
                        description: outcome.description,
                    })
                    .collect(),
                linear_predictor_scale: info.linear_predictor_scale,
                reference_patient: info.reference_patient,
                category_basis: info.category_basis,
            }
        }

        pub fn prediction(prediction: wit::Prediction) -> ModelPrediction {
            ModelPrediction {
                outcomes: prediction
                    .outcomes
                    .into_iter()
                    .map(|outcome| (outcome.outcome, outcome.risk))
                    .collect(),
                category: match prediction.category {
                    wit::RiskCategory::Low => RiskCategory::Low,
                    wit::RiskCategory::Borderline => RiskCategory::Borderline,
                    wit::RiskCategory::Intermediate => RiskCategory::Intermediate,
                    wit::RiskCategory::High => RiskCategory::High,
                },
                confidence: prediction.confidence,
                contributions: prediction
                    .contributions
                    .into_iter()
                    .map(|contribution| (contribution.factor, contribution.value))
                    .collect(),
                linear_predictor: prediction.linear_predictor,
                reference_value: prediction.reference_value,
                warnings: prediction
                    .warnings
                    .into_iter()
                    .map(|warning| ModelWarning {
                        code: warning.code,
                        message: warning.message,
                    })
                    .collect(),
            }
        }

        pub fn field_errors(errors: Vec<wit::FieldError>) -> Vec<ModelFieldError> {
            errors
                .into_iter()
                .map(|error| ModelFieldError {
                    field: error.field,
                    message: error.message,
                })
                .collect()
        }

        pub fn predict_result(
            result: Result<wit::Prediction, Vec<wit::FieldError>>,
        ) -> $crate::catalog::PredictResult {
            result.map(prediction).map_err(field_errors)
        }
    };
}

pub(crate) use wit_conversions;
