//! A domain [`Prediction`] as the JSON object `/predict` returns. The meaning of every member is
//! documented in the OpenAPI document (`openapi.rs`) and the README.

use risk_models::Prediction;
use serde_json::{json, Map, Value};

pub fn prediction_json(prediction: &Prediction) -> Value {
    let spec = prediction.model.spec();
    let outcomes: Map<String, Value> = prediction
        .outcomes
        .iter()
        .map(|o| (o.outcome.name.to_string(), json!(o.risk)))
        .collect();
    let contributions: Map<String, Value> = prediction
        .contributions
        .iter()
        .map(|c| (c.factor.name().to_string(), json!(c.value)))
        .collect();
    let warnings: Vec<Value> = prediction
        .warnings
        .iter()
        .map(|w| json!({"code": w.code(), "message": w.to_string()}))
        .collect();
    json!({
        "prediction": prediction.category.label(),
        "confidence": prediction.confidence,
        "model_version": spec.version,
        "model": spec.name,
        "risk": prediction.risk(),
        "outcomes": outcomes,
        "category": prediction.category.name(),
        "horizon_years": spec.horizon_years,
        "contributions": contributions,
        "explanation": {
            "outcome": spec.primary_outcome().name,
            "scale": spec.linear_predictor_scale,
            "linear_predictor": prediction.linear_predictor,
            "reference_value": prediction.reference_value,
            "reference_patient": spec.reference_patient,
        },
        "warnings": warnings,
    })
}
