/// The floor, a measurement only: `scripts/bench-models.sh build-floor` appends this function
/// to a copy of `src/spin_entry.rs` and routes `POST /predict` to it. It does none of the HTTP
/// code's work (no JSON read, nothing validated, no prediction written): the default model
/// scores one fixed patient (the middle of each numeric range, the first allowed choice,
/// `false`) and the answer is a fixed body, still naming the model for the served-model line.
fn floor() -> Response {
    use crate::catalog::{Catalog, FeatureKind, Patient, Value};
    let catalog = Catalog::linked();
    let model = catalog.default_model();
    let values = model
        .info()
        .features
        .iter()
        .map(|feature| {
            Some(match &feature.kind {
                FeatureKind::Number(number) => {
                    Value::Number(number.range.map_or(1.0, |(low, high)| (low + high) / 2.0))
                }
                FeatureKind::Boolean { .. } => Value::Boolean(false),
                FeatureKind::Choice { allowed, .. } => {
                    Value::Choice(allowed.first().map(|c| c.to_string()).unwrap_or_default())
                }
            })
        })
        .collect();
    let answered = model
        .predict(Patient {
            values,
            not_declared: Vec::new(),
        })
        .is_some();
    let body: &[u8] = if answered {
        br#"{"floor":true}"#
    } else {
        br#"{"floor":false}"#
    };
    Response::new(200, "application/json", body).served_by(Some(model.name()))
}
