//! Each model's own request schemas, from its `info()`: what `/predict` and
//! `/v2/models/{name}/infer` accept for that model, so that a schema-driven client or fuzzer
//! generates exactly the requests the model answers.
//!
//! Every schema here is at most as wide as what the service accepts (never wider): a value
//! that satisfies it is answered 200. Where JSON Schema cannot follow the service, the schema
//! is narrower and says so: the inference request documents one patient per request with every
//! feature given in the model's order (the service also takes `[N]` tensors, in any order,
//! optional ones left out), and numbers in their canonical unit; `/predict` leaves out aliases
//! and the features only other models use (accepted, with a warning).
//!
//! The schemas' fixed parts are data (`model_schemas.json`), as the document's are: built with
//! `json!` they cost the component tens of kilobytes.

use serde_json::{json, Map, Value};

use crate::catalog::contract::NumberFeature;
use crate::catalog::{Feature, FeatureKind, ServedModel};
use crate::inference::{output_tensor_names, Datatype};
use crate::predict::MAX_INSTANCES;

const TEMPLATES: &str = include_str!("model_schemas.json");

/// The fixed parts of the schemas, parsed (a unit test checks that they parse).
pub struct Templates(Value);

impl Templates {
    pub fn parse() -> Option<Templates> {
        serde_json::from_str(TEMPLATES).ok().map(Templates)
    }

    fn get(&self, name: &str) -> Value {
        self.0[name].clone()
    }
}

/// The component name of a model's `/predict` request schema.
pub fn predict_request_name(model: &str) -> String {
    format!("PredictRequest_{model}")
}

/// The component name of a model's patient schema.
pub fn patient_name(model: &str) -> String {
    format!("PatientData_{model}")
}

/// The component name of a model's inference request schema.
pub fn infer_request_name(model: &str) -> String {
    format!("InferenceRequest_{model}")
}

pub fn schema_ref(name: &str) -> Value {
    let mut reference = Map::new();
    reference.insert("$ref".into(), format!("#/components/schemas/{name}").into());
    Value::Object(reference)
}

/// A `/predict` body for `model`: `model` names it (or, for the default model, may be left
/// out), with one patient or a batch of them.
pub fn predict_request(templates: &Templates, model: ServedModel<'_>, is_default: bool) -> Value {
    let name = model.name();
    let mut schema = templates.get("predict_request");
    schema["description"] = format!("A request to {name}: {}.", model.info().title).into();
    let patient = schema_ref(&patient_name(name));
    let properties = &mut schema["properties"];
    properties["patient_data"] = patient.clone();
    properties["instances"]["items"] = patient;
    properties["instances"]["maxItems"] = MAX_INSTANCES.into();
    if is_default {
        properties["model"] = json!({ "enum": [name, null] });
    } else {
        properties["model"] = json!({ "const": name });
        schema["required"] = json!(["model"]);
    }
    schema
}

/// One patient for `model`: its own features, their kinds, validated ranges (in the unit the
/// client chose) and which are required.
pub fn patient(templates: &Templates, model: ServedModel<'_>) -> Value {
    let features: &[Feature] = &model.info().features;
    let mut schema = templates.get("patient");
    schema["description"] = format!(
        "A patient for {}; null means absent. Ranges of numbers with a unit selector depend on \
         the unit chosen (allOf).",
        model.name()
    )
    .into();
    let mut unit_rules = Vec::new();
    for feature in features {
        let mut property = value_schema(feature, feature.required);
        property["description"] = feature.description.as_ref().into();
        if let FeatureKind::Number(number) = &feature.kind {
            match (&number.unit_selector, number.range) {
                (Some(selector), Some(range)) => {
                    unit_rules.extend(unit_rules_for(templates, feature, selector, number, range))
                }
                (None, Some((min, max))) => {
                    property["minimum"] = min.into();
                    property["maximum"] = max.into();
                }
                _ => {}
            }
        }
        schema["properties"][feature.name.as_ref()] = property;
    }
    schema["required"] = features
        .iter()
        .filter(|f| f.required)
        .map(|f| Value::from(f.name.as_ref()))
        .collect();
    if !unit_rules.is_empty() {
        schema["allOf"] = Value::Array(unit_rules);
    }
    schema
}

/// A feature's values: its JSON type, or its allowed values; `null` too when optional.
fn value_schema(feature: &Feature, required: bool) -> Value {
    let (kind, allowed) = match &feature.kind {
        FeatureKind::Number(_) => ("number", None),
        FeatureKind::Boolean { .. } => ("boolean", None),
        FeatureKind::Choice { allowed, .. } => ("", Some(allowed)),
    };
    let mut schema = Map::new();
    match allowed {
        Some(allowed) => {
            let mut values: Vec<Value> = allowed.iter().map(|v| v.as_ref().into()).collect();
            if !required {
                values.push(Value::Null);
            }
            schema.insert("enum".into(), values.into());
        }
        None if required => {
            schema.insert("type".into(), kind.into());
        }
        None => {
            schema.insert("type".into(), vec![kind, "null"].into());
        }
    }
    Value::Object(schema)
}

/// The range of a number whose unit another feature selects, one rule per unit: if the selector
/// names an alternative unit, the range converted to it (rounded inwards, as the service's
/// messages show it); otherwise the canonical range.
fn unit_rules_for(
    templates: &Templates,
    feature: &Feature,
    selector: &str,
    number: &NumberFeature,
    (min, max): (f64, f64),
) -> Vec<Value> {
    let rule = |condition: Value, min: f64, max: f64| {
        let mut rule = templates.get("unit_rule");
        rule["if"] = condition;
        rule["then"]["properties"][feature.name.as_ref()] =
            json!({ "minimum": min, "maximum": max });
        rule
    };
    let alternatives: Vec<Value> = number
        .alternative_units
        .iter()
        .map(|(unit, _)| unit.as_ref().into())
        .collect();
    let selects = |values: Value| {
        let mut condition = templates.get("unit_rule")["if"].clone();
        condition["properties"][selector] = values;
        condition["required"] = json!([selector]);
        condition
    };
    let canonical = json!({ "not": selects(json!({ "enum": alternatives })) });
    let mut rules = vec![rule(canonical, min, max)];
    for (unit, factor) in number.alternative_units.iter() {
        let condition = selects(json!({ "const": unit }));
        rules.push(rule(
            condition,
            round_up(min / factor),
            round_down(max / factor),
        ));
    }
    rules
}

fn round_up(value: f64) -> f64 {
    (value * 1000.0).ceil() / 1000.0
}

fn round_down(value: f64) -> f64 {
    (value * 1000.0).floor() / 1000.0
}

/// An inference request for `model`, one patient: every feature as a tensor of shape `[1]`, in
/// the model's order, numbers in their canonical unit.
pub fn infer_request(templates: &Templates, model: ServedModel<'_>) -> Value {
    let info = model.info();
    // A unit selector's alternative units: the tensors document the canonical unit only.
    let mut excluded: Vec<(&str, &str)> = Vec::new();
    for feature in info.features.iter() {
        if let FeatureKind::Number(number) = &feature.kind {
            if let Some(selector) = &number.unit_selector {
                excluded.extend(
                    number
                        .alternative_units
                        .iter()
                        .map(|(unit, _)| (selector.as_ref(), unit.as_ref())),
                );
            }
        }
    }
    let tensors: Vec<Value> = info
        .features
        .iter()
        .map(|feature| {
            let excluded: Vec<&str> = excluded
                .iter()
                .filter(|(selector, _)| *selector == feature.name)
                .map(|(_, unit)| *unit)
                .collect();
            tensor(templates, feature, &excluded)
        })
        .collect();
    let mut schema = templates.get("infer_request");
    schema["description"] = format!(
        "One patient for {}: one tensor of shape [1] per feature, in this order, numbers in their \
         canonical unit. The service also takes [N] tensors (N up to {MAX_INSTANCES}), in any \
         order, optional features left out, and the binary tensor extension.",
        model.name()
    )
    .into();
    let inputs = &mut schema["properties"]["inputs"];
    inputs["minItems"] = tensors.len().into();
    inputs["prefixItems"] = Value::Array(tensors);
    schema["properties"]["outputs"]["items"]["properties"]["name"]["enum"] =
        output_tensor_names(info).into();
    schema
}

/// One feature's tensor of one element (a choice without the values in `excluded`).
fn tensor(templates: &Templates, feature: &Feature, excluded: &[&str]) -> Value {
    let element = match &feature.kind {
        FeatureKind::Number(number) => match number.range {
            Some((min, max)) => json!({ "type": "number", "minimum": min, "maximum": max }),
            None => json!({ "type": "number" }),
        },
        FeatureKind::Boolean { .. } => json!({ "type": "boolean" }),
        FeatureKind::Choice { allowed, .. } => {
            // A unit selector is documented with its canonical unit only: the numbers' ranges
            // are in it.
            let values: Vec<Value> = allowed
                .iter()
                .filter(|value| !excluded.contains(&value.as_ref()))
                .map(|value| value.as_ref().into())
                .collect();
            json!({ "enum": values })
        }
    };
    let mut schema = templates.get("tensor");
    let properties = &mut schema["properties"];
    properties["name"]["const"] = feature.name.clone().into();
    properties["datatype"]["const"] = Datatype::of(&feature.kind).to_string().into();
    properties["data"]["items"] = element;
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_parse() {
        let templates = Templates::parse().expect("valid JSON");
        for name in [
            "predict_request",
            "patient",
            "unit_rule",
            "infer_request",
            "tensor",
        ] {
            assert!(templates.get(name).is_object(), "{name}");
        }
    }
}
