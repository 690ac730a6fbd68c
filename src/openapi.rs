//! The OpenAPI 3.1 document: the endpoints' fixed description (`openapi/document.json`) with
//! what depends on the linked models filled in from each model's `info()` (names, versions,
//! which fields each model requires and their validated ranges, outcomes) and from the
//! handlers' own limits, so it cannot drift from the real behaviour.
//!
//! The fixed part is data, not code: built with `json!` it compiled to about 120 KB of the
//! component, as a JSON text it is 25 KB.

use serde_json::{json, Map, Value};

use crate::catalog::{Catalog, Feature, FeatureKind, ServedModel};
use crate::predict::MAX_INSTANCES;
use crate::problem::ApiError;

mod model_schemas;

/// The inference paths whose request depends on the model: each becomes one path per model,
/// with that model's request schema.
const INFER_TEMPLATES: [&str; 2] = [
    "/v2/models/{model_name}/infer",
    "/v2/models/{model_name}/versions/{model_version}/infer",
];

/// `openapi/document.json`, minified by `build.rs`. Every member that depends on the models is
/// `null` there; a unit test checks that none names a model.
const DOCUMENT: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi-document.json"));

/// The models the document describes, the default first.
type Models<'c> = [ServedModel<'c>];

/// The document, or [`ApiError::BrokenBuild`] if the fixed part built in is not a JSON object
/// (a unit test parses it, so only a broken build gets there): never a document with parts
/// missing.
pub fn openapi_document(catalog: &Catalog) -> Result<Value, ApiError> {
    let models = &catalog.models()[..];
    const BROKEN: ApiError = ApiError::BrokenBuild("the OpenAPI document");
    let mut document: Value = serde_json::from_str(DOCUMENT).map_err(|_| BROKEN)?;
    if !document.is_object() {
        return Err(BROKEN);
    }
    let names: Vec<&str> = models.iter().map(|m| m.name()).collect();
    let default_model = names.first().copied().unwrap_or_default();

    let titles: Vec<String> = models
        .iter()
        .map(|m| format!("{} ({})", m.info().title, m.name()))
        .collect();
    document["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    document["info"]["description"] = json!(format!(
        "Validated clinical risk models ({}) served by WebAssembly components: each \
         model is a component of its own that imports nothing. `POST /predict` keeps the \
         original service's contract; the Open Inference Protocol (KServe V2) endpoints serve \
         the same models to standard clients. Inputs outside a model's validated ranges are \
         refused, never extrapolated.",
        titles.join("; ")
    ));

    let predict = &mut document["paths"]["/predict"]["post"];
    predict["description"] = json!(format!(
        "Send `patient_data` for one patient, or `instances` (1 to {MAX_INSTANCES} patients) \
         for a batch. `model` defaults to {default_model}. Numbers are in each feature's \
         canonical unit unless its unit selector names another (see each field). Every error \
         names each offending field and, for ranges, the model's validated range."
    ));
    let example = &mut predict["requestBody"]["content"]["application/json"]["example"];
    example["model"] = json!(default_model);
    if let Some(model) = models.first() {
        example["patient_data"] = example_patient(model);
    }

    let versions = model_versions(models);
    for parameter in path_parameters(&mut document) {
        match parameter["name"].as_str() {
            Some("model_name") => {
                parameter["schema"]["enum"] = json!(names);
                parameter["description"] = json!(format!("The model: {}.", names.join(" or ")));
            }
            Some("model_version") => parameter["schema"]["enum"] = json!(versions),
            Some("service_id") => parameter["schema"]["enum"] = json!(cds_services(models)),
            _ => {}
        }
    }

    let schemas = &mut document["components"]["schemas"];
    schemas["PatientData"] = patient_schema(models, catalog.features());
    let mut nullable_names: Vec<Value> = names.iter().map(|&n| json!(n)).collect();
    nullable_names.push(Value::Null);
    let request = &mut schemas["PredictRequest"]["properties"];
    request["model"]["enum"] = Value::Array(nullable_names);
    request["model"]["description"] = json!(format!("The model; {default_model} when absent."));
    request["instances"]["maxItems"] = json!(MAX_INSTANCES);
    let prediction = &mut schemas["Prediction"]["properties"];
    prediction["model"]["enum"] = json!(names);
    prediction["category"]["enum"] = json!(category_names(models));
    prediction["confidence"]["description"] = json!(confidence_meanings(models));
    prediction["outcomes"]["description"] = json!(format!(
        "Every outcome's risk as a fraction, by outcome name: {}.",
        outcomes_by_model(models)
    ));
    per_model_requests(&mut document, models).ok_or(BROKEN)?;
    Ok(document)
}

/// Each model's own request schemas: `/predict` takes one of them, and each model gets its
/// own inference paths instead of the `{model_name}` templates.
fn per_model_requests(document: &mut Value, models: &Models<'_>) -> Option<()> {
    let templates = model_schemas::Templates::parse()?;
    let schemas = document["components"]["schemas"].as_object_mut()?;
    for (index, model) in models.iter().enumerate() {
        let name = model.name();
        schemas.insert(
            model_schemas::predict_request_name(name),
            model_schemas::predict_request(&templates, *model, index == 0),
        );
        schemas.insert(
            model_schemas::patient_name(name),
            model_schemas::patient(&templates, *model),
        );
        schemas.insert(
            model_schemas::infer_request_name(name),
            model_schemas::infer_request(&templates, *model),
        );
    }
    let one_of: Vec<Value> = models
        .iter()
        .map(|m| model_schemas::schema_ref(&model_schemas::predict_request_name(m.name())))
        .collect();
    document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"] =
        json!({ "oneOf": one_of });

    let paths = document["paths"].as_object_mut()?;
    for template in INFER_TEMPLATES {
        let item = paths.remove(template)?;
        for model in models {
            let mut item = item.clone();
            let operation = &mut item["post"];
            let version = &model.info().version;
            if let Some(parameters) = operation["parameters"].as_array_mut() {
                // The model is in the path now; a version parameter keeps only its version.
                parameters.retain(|p| p["name"] != "model_name");
                for parameter in parameters.iter_mut() {
                    parameter["schema"]["enum"] = json!([version]);
                    parameter["description"] = json!(format!("The model's version: {version}."));
                }
            }
            operation["requestBody"]["content"]["application/json"]["schema"] =
                model_schemas::schema_ref(&model_schemas::infer_request_name(model.name()));
            operation["summary"] = json!(format!("Score patients with {}.", model.name()));
            paths.insert(template.replace("{model_name}", model.name()), item);
        }
    }
    Some(())
}

fn model_versions<'a>(models: &'a Models<'_>) -> Vec<&'a str> {
    let mut versions: Vec<&str> = models.iter().map(|m| m.info().version.as_ref()).collect();
    versions.sort_unstable();
    versions.dedup();
    versions
}

/// A patient the model accepts: each required feature at the middle of its validated range,
/// the first allowed value of a choice, `false` for a boolean.
fn example_patient(model: &ServedModel<'_>) -> Value {
    let mut patient = Map::new();
    for feature in model.info().features.iter().filter(|f| f.required) {
        let value = match &feature.kind {
            FeatureKind::Number(number) => match number.range {
                Some((min, max)) => json!(((min + max) / 2.0).round()),
                None => json!(0),
            },
            FeatureKind::Boolean { .. } => json!(false),
            FeatureKind::Choice { allowed, .. } => json!(allowed.first()),
        };
        patient.insert(feature.name.to_string(), value);
    }
    Value::Object(patient)
}

/// Every category any model declares, each once, in the models' order.
fn category_names(models: &Models<'_>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for model in models {
        for band in model.info().categories.iter().flat_map(|c| c.bands.iter()) {
            if !names.iter().any(|name| *name == band.name) {
                names.push(band.name.to_string());
            }
        }
    }
    names
}

/// What `confidence` means, as each model defines it (`null` for a model that gives none).
fn confidence_meanings(models: &Models<'_>) -> String {
    let mut meanings: Vec<(String, Vec<&str>)> = Vec::new();
    for model in models {
        let meaning = model
            .info()
            .confidence
            .as_deref()
            .unwrap_or("null: the model gives no confidence.")
            .to_string();
        match meanings.iter_mut().find(|(m, _)| *m == meaning) {
            Some((_, names)) => names.push(model.name()),
            None => meanings.push((meaning, vec![model.name()])),
        }
    }
    let parts: Vec<String> = meanings
        .into_iter()
        .map(|(meaning, names)| format!("{}: {meaning}", names.join(", ")))
        .collect();
    parts.join(" ")
}

/// Every parameter of every operation.
fn path_parameters(document: &mut Value) -> impl Iterator<Item = &mut Value> {
    document["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
        .filter_map(|operation| operation.get_mut("parameters")?.as_array_mut())
        .flatten()
}

/// The CDS Hooks services the clinical component offers: the models whose every required
/// feature declares a FHIR source (crates/clinical, `ModelCard::reads_fhir`).
fn cds_services<'m>(models: &Models<'m>) -> Vec<&'m str> {
    models
        .iter()
        .filter(|model| {
            let features = &model.info().features;
            features.iter().any(|f| f.fhir.is_some())
                && features.iter().all(|f| f.fhir.is_some() || !f.required)
        })
        .map(|model| model.name())
        .collect()
}

/// `{"<output>", ...} for <model>`, for every model.
fn outcomes_by_model(models: &Models<'_>) -> String {
    let parts: Vec<String> = models
        .iter()
        .map(|m| {
            let names: Vec<String> = m
                .info()
                .outputs
                .iter()
                .map(|o| format!("{:?}", o.name))
                .collect();
            format!("{{{}}} for {}", names.join(", "), m.name())
        })
        .collect();
    parts.join(", ")
}

/// One property per feature any model declares (and per alias), with each model's use of it
/// in its description.
fn patient_schema(models: &Models<'_>, features: &[Feature]) -> Value {
    let mut properties = Map::new();
    for feature in features {
        let mut schema = match &feature.kind {
            FeatureKind::Number(_) => json!({"type": ["number", "null"]}),
            FeatureKind::Boolean { .. } => json!({"type": ["boolean", "null"]}),
            FeatureKind::Choice { allowed, .. } => {
                let mut values: Vec<Value> = allowed.iter().map(|v| json!(v)).collect();
                values.push(Value::Null);
                json!({"enum": values})
            }
        };
        schema["description"] = json!(format!(
            "{} {}",
            feature.description,
            usage(models, &feature.name)
        ));
        properties.insert(feature.name.to_string(), schema.clone());
        for alias in feature.aliases.iter() {
            schema["description"] = json!(format!("Alias of {}.", feature.name));
            properties.insert(alias.to_string(), schema.clone());
        }
    }
    json!({
        "type": "object",
        "description": "Patient fields; null means absent. Which are required depends on the \
                        model (see each field).",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// What each model makes of a feature: required or optional, and its validated range.
fn usage(models: &Models<'_>, name: &str) -> String {
    let parts: Vec<String> = models
        .iter()
        .filter_map(|model| {
            let feature = model.info().feature(name)?;
            let when_absent = match &feature.kind {
                FeatureKind::Number(_) => None,
                FeatureKind::Boolean { when_absent } => Some(when_absent.as_ref()),
                FeatureKind::Choice { when_absent, .. } => when_absent.as_deref(),
            };
            let requirement = match (when_absent, feature.required) {
                (_, true) => "required".to_string(),
                (Some(when_absent), false) => format!("optional, absent: {when_absent}"),
                (None, false) => "optional".to_string(),
            };
            let range = match &feature.kind {
                FeatureKind::Number(number) => number.range.map_or(String::new(), |(min, max)| {
                    format!(", validated range {min}-{max} {}", number.unit)
                }),
                _ => String::new(),
            };
            Some(format!("{}: {requirement}{range}", model.name()))
        })
        .collect();
    if parts.is_empty() {
        "Applies to every model.".to_string()
    } else {
        format!("{}.", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_part_parses_and_names_no_model() {
        let document: Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        assert_eq!(document["openapi"], "3.1.0");
        for model in risk_models::Model::ALL {
            assert!(!DOCUMENT.contains(model.name()), "{}", model.name());
        }
    }

    #[test]
    fn every_member_left_null_is_filled_in() {
        fn nulls(value: &Value, pointer: String, found: &mut Vec<String>) {
            match value {
                Value::Null => found.push(pointer),
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        nulls(item, format!("{pointer}/{index}"), found);
                    }
                }
                Value::Object(members) => {
                    for (name, member) in members {
                        nulls(member, format!("{pointer}/{name}"), found);
                    }
                }
                _ => {}
            }
        }
        let mut found = Vec::new();
        nulls(
            &openapi_document(&Catalog::linked()).expect("the built-in document is valid"),
            String::new(),
            &mut found,
        );
        // The only nulls left are the JSON Schema values that allow null.
        assert!(found.iter().all(|p| p.contains("/enum/")), "{found:?}");
    }
}
