//! The OpenAPI 3.1 document, built from the same field and model definitions the handlers use,
//! so it cannot drift from the real behaviour.

use risk_models::{Field, FieldKind, Model, Requirement};
use serde_json::{json, Map, Value};

use crate::predict::MAX_INSTANCES;

pub fn openapi_document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "healthcare-model-service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Validated cardiovascular risk models (2013 ACC/AHA Pooled Cohort \
                Equations, 2023 AHA PREVENT) served by a WebAssembly component. `POST /predict` \
                keeps the original service's contract; the Open Inference Protocol (KServe V2) \
                endpoints serve the same models to standard clients. Inputs outside a model's \
                validated ranges are refused, never extrapolated.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": {
            "/predict": predict_path(),
            "/healthz": simple_get("Liveness and readiness probe for SpinKube.", json!({
                "type": "object", "required": ["status"],
                "properties": {"status": {"const": "ok"}}
            })),
            "/v2": simple_get("Open Inference Protocol: server metadata.", json!({
                "type": "object", "required": ["name", "version", "extensions"],
                "properties": {
                    "name": {"type": "string"}, "version": {"type": "string"},
                    "extensions": {"type": "array", "items": {"type": "string"}}
                }
            })),
            "/v2/health/live": simple_get("Open Inference Protocol: server live.", json!({
                "type": "object", "required": ["live"], "properties": {"live": {"type": "boolean"}}
            })),
            "/v2/health/ready": simple_get("Open Inference Protocol: server ready.", json!({
                "type": "object", "required": ["ready"], "properties": {"ready": {"type": "boolean"}}
            })),
            "/v2/models/{model_name}": model_get("Open Inference Protocol: model metadata.",
                json!({"$ref": "#/components/schemas/ModelMetadata"})),
            "/v2/models/{model_name}/ready": model_get("Open Inference Protocol: model ready.",
                json!({
                    "type": "object", "required": ["name", "ready"],
                    "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}}
                })),
            "/v2/models/{model_name}/infer": infer_path(),
            "/v2/models/{model_name}/versions/{model_version}": versioned(model_get(
                "Open Inference Protocol: metadata of one model version.",
                json!({"$ref": "#/components/schemas/ModelMetadata"}))),
            "/v2/models/{model_name}/versions/{model_version}/ready": versioned(model_get(
                "Open Inference Protocol: readiness of one model version.",
                json!({
                    "type": "object", "required": ["name", "ready"],
                    "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}}
                }))),
            "/v2/models/{model_name}/versions/{model_version}/infer": versioned(infer_path()),
        },
        "components": {
            "schemas": schemas(),
            "responses": {
                "Problem": problem_response("An error (RFC 9457 problem details)."),
            },
        },
    })
}

fn model_names() -> Vec<&'static str> {
    Model::ALL.iter().map(|m| m.name()).collect()
}

fn model_versions() -> Vec<&'static str> {
    let mut versions: Vec<&str> = Model::ALL.iter().map(|m| m.spec().version).collect();
    versions.dedup();
    versions
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn protocol_error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InferenceError"}}}
    })
}

fn simple_get(summary: &str, schema: Value) -> Value {
    json!({
        "get": {
            "summary": summary,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
                "405": problem_response("Method not allowed (the Allow header lists the methods)."),
            }
        }
    })
}

fn model_name_parameter() -> Value {
    json!({
        "name": "model_name", "in": "path", "required": true,
        "schema": {"type": "string", "enum": model_names()},
        "description": "The model: pce-2013 or prevent-2023."
    })
}

/// The same operation under `/versions/{model_version}`: each model has one version, and any
/// other answers 501 as the protocol specifies.
fn versioned(mut path_item: Value) -> Value {
    if let Some(operations) = path_item.as_object_mut() {
        for operation in operations.values_mut() {
            if let Some(parameters) = operation["parameters"].as_array_mut() {
                parameters.push(json!({
                    "name": "model_version", "in": "path", "required": true,
                    "schema": {"type": "string", "enum": model_versions()},
                    "description": "The model version; another version answers 501."
                }));
            }
            operation["responses"]["501"] = protocol_error("The model has no such version.");
        }
    }
    path_item
}

fn model_get(summary: &str, schema: Value) -> Value {
    json!({
        "get": {
            "summary": summary,
            "parameters": [model_name_parameter()],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
                "404": protocol_error("Unknown model."),
                "405": problem_response("Method not allowed (the Allow header lists the methods)."),
            }
        }
    })
}

fn predict_path() -> Value {
    let example = json!({
        "patient_data": {
            "age": 55, "sex": "female", "race": "white", "total_cholesterol": 213,
            "hdl_cholesterol": 50, "systolic_bp": 120, "on_bp_treatment": false,
            "smoker": false, "diabetic": false
        },
        "model": "pce-2013"
    });
    json!({
        "post": {
            "summary": "Predict 10-year cardiovascular risk for one patient or a batch.",
            "description": format!(
                "Send `patient_data` for one patient, or `instances` (1 to {MAX_INSTANCES} \
                 patients) for a batch. `model` defaults to pce-2013. Cholesterol is in mg/dL \
                 unless `cholesterol_unit` is \"mmol/L\". Flags absent mean false. Every error \
                 names each offending field and, for ranges, the model's validated range."),
            "requestBody": {
                "required": true,
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/PredictRequest"},
                    "example": example
                }}
            },
            "responses": {
                "200": {
                    "description": "A prediction (single), or one result per patient (batch).",
                    "content": {"application/json": {"schema": {"oneOf": [
                        {"$ref": "#/components/schemas/Prediction"},
                        {"$ref": "#/components/schemas/BatchPrediction"}
                    ]}}}
                },
                "400": problem_response("The body is not valid JSON."),
                "405": problem_response("Method not allowed (the Allow header lists the methods)."),
                "413": problem_response("The body is larger than 64 KiB (1 MiB for a batch)."),
                "415": problem_response("The body is not declared as JSON."),
                "422": problem_response("Invalid input: one entry per offending field."),
            }
        }
    })
}

fn infer_path() -> Value {
    json!({
        "post": {
            "summary": "Open Inference Protocol: score N patients.",
            "description": "One input tensor per patient field, named as in patient_data, of \
                shape [N]: FP64 for numbers, BOOL for flags, BYTES for sex, race and \
                cholesterol_unit. Outputs: risk (FP64, the primary outcome), <outcome>_risk \
                (FP64) per outcome, category (BYTES). The binary tensor extension is supported: \
                the Inference-Header-Content-Length header gives the JSON part's length.",
            "parameters": [model_name_parameter()],
            "requestBody": {
                "required": true,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/InferenceRequest"}},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                }
            },
            "responses": {
                "200": {
                    "description": "The outputs, as JSON or JSON followed by binary tensors.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/InferenceResponse"}},
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                    }
                },
                "400": protocol_error("Invalid inputs."),
                "404": protocol_error("Unknown model."),
                "405": problem_response("Method not allowed (the Allow header lists the methods)."),
                "413": protocol_error("The body is larger than 1 MiB."),
                "415": protocol_error("The body is neither JSON nor binary tensors."),
            }
        }
    })
}

/// One property per patient field, with each model's validated range in its description.
fn patient_schema() -> Value {
    let mut properties = Map::new();
    for field in Field::ALL {
        let mut schema = match field.kind() {
            FieldKind::Number { .. } => json!({"type": ["number", "null"]}),
            FieldKind::Flag => json!({"type": ["boolean", "null"]}),
            FieldKind::Choice { allowed } => {
                let mut values: Vec<Value> = allowed.iter().map(|v| json!(v)).collect();
                values.push(Value::Null);
                json!({"enum": values})
            }
        };
        schema["description"] = json!(format!("{} {}", field.description(), usage(field)));
        properties.insert(field.name().to_string(), schema.clone());
        if let Some(alias) = field.alias() {
            schema["description"] = json!(format!("Alias of {}.", field.name()));
            properties.insert(alias.to_string(), schema);
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

/// What each model makes of a field: required or optional, and its validated range.
fn usage(field: Field) -> String {
    let parts: Vec<String> = Model::ALL
        .iter()
        .filter_map(|model| {
            let input = model.spec().input(field)?;
            let requirement = match input.requirement {
                Requirement::Required => "required".to_string(),
                Requirement::Optional { when_absent } => format!("optional, absent: {when_absent}"),
            };
            let range = input.range.map_or(String::new(), |r| {
                let unit = match field.kind() {
                    FieldKind::Number { unit } => unit.symbol(),
                    _ => "",
                };
                format!(", validated range {}-{} {unit}", r.min, r.max)
            });
            Some(format!("{}: {requirement}{range}", model.name()))
        })
        .collect();
    if parts.is_empty() {
        "Applies to every model.".to_string()
    } else {
        format!("{}.", parts.join("; "))
    }
}

fn schemas() -> Value {
    let number = json!({"type": "number"});
    json!({
        "PatientData": patient_schema(),
        "PredictRequest": {
            "type": "object",
            "properties": {
                "patient_data": {"$ref": "#/components/schemas/PatientData"},
                "instances": {
                    "type": "array", "minItems": 1, "maxItems": MAX_INSTANCES,
                    "items": {"$ref": "#/components/schemas/PatientData"}
                },
                "model": {"enum": [model_names()[0], model_names()[1], null],
                          "description": "The model; pce-2013 when absent."}
            },
            "additionalProperties": false
        },
        "Prediction": {
            "type": "object",
            "required": ["prediction", "confidence", "model_version", "model", "risk", "outcomes",
                         "category", "horizon_years", "contributions", "explanation", "warnings"],
            "properties": {
                "prediction": {"type": "string", "description": "Human label of the category, e.g. \"High Risk\"."},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1, "description":
                    "Probability that the category would stay the same if the measured inputs \
                     (cholesterol, HDL, systolic pressure, eGFR) were measured again, given their \
                     usual within-person variability (cholesterol CV 6.1 %, HDL CV 7.4 %, systolic \
                     SD 10 mmHg, eGFR CV 6 %). About 0.5 next to a category threshold, near 1 far \
                     from every threshold. It is not the accuracy of the equations."},
                "model_version": {"type": "string", "description": "Version of this implementation of the model."},
                "model": {"type": "string", "enum": model_names()},
                "risk": {"type": "number", "minimum": 0, "maximum": 1, "description":
                    "Risk of the model's primary outcome over horizon_years, as a fraction."},
                "outcomes": {"type": "object", "additionalProperties": number.clone(), "description":
                    "Every outcome's risk as a fraction: {\"ascvd\"} for pce-2013, {\"total_cvd\", \"ascvd\"} for prevent-2023."},
                "category": {"enum": ["low", "borderline", "intermediate", "high"], "description":
                    "Guideline category of risk: low < 5 %, borderline 5 to < 7.5 %, intermediate 7.5 to < 20 %, high >= 20 %."},
                "horizon_years": {"type": "integer"},
                "contributions": {"type": "object", "additionalProperties": number.clone(), "description":
                    "Each risk factor's share of explanation.linear_predictor minus explanation.reference_value \
                     (exact Shapley values; they add up to that difference). Positive raises risk."},
                "explanation": {
                    "type": "object",
                    "required": ["outcome", "scale", "linear_predictor", "reference_value", "reference_patient"],
                    "properties": {
                        "outcome": {"type": "string"},
                        "scale": {"type": "string"},
                        "linear_predictor": number.clone(),
                        "reference_value": number.clone(),
                        "reference_patient": {"type": "string"}
                    }
                },
                "warnings": {"type": "array", "items": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}
                }},
                "status": {"const": 200, "description": "Present in batch results only."}
            }
        },
        "BatchPrediction": {
            "type": "object",
            "required": ["model", "model_version", "count", "succeeded", "failed", "results"],
            "properties": {
                "model": {"type": "string"}, "model_version": {"type": "string"},
                "count": {"type": "integer"}, "succeeded": {"type": "integer"}, "failed": {"type": "integer"},
                "results": {"type": "array", "items": {"oneOf": [
                    {"$ref": "#/components/schemas/Prediction"},
                    {"type": "object", "required": ["status", "errors"], "properties": {
                        "status": {"const": 422},
                        "errors": {"$ref": "#/components/schemas/FieldErrors"}
                    }}
                ]}}
            }
        },
        "FieldErrors": {"type": "array", "items": {
            "type": "object", "required": ["pointer", "field", "detail"],
            "properties": {
                "pointer": {"type": "string", "description": "JSON Pointer to the field in the request body."},
                "field": {"type": "string"},
                "detail": {"type": "string"}
            }
        }},
        "Problem": {
            "type": "object", "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"},
                "status": {"type": "integer"}, "detail": {"type": "string"},
                "errors": {"$ref": "#/components/schemas/FieldErrors"}
            }
        },
        "InferenceError": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "Tensor": {
            "type": "object", "required": ["name", "shape", "datatype"],
            "properties": {
                "name": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}},
                "datatype": {"type": "string"},
                "parameters": {"type": "object"},
                "data": {}
            }
        },
        "InferenceRequest": {
            "type": "object", "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": {"type": "object"},
                "inputs": {"type": "array", "items": {"$ref": "#/components/schemas/Tensor"}},
                "outputs": {"type": "array", "items": {"type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}}}}
            }
        },
        "InferenceResponse": {
            "type": "object", "required": ["model_name", "id", "outputs"],
            "properties": {
                "model_name": {"type": "string"}, "model_version": {"type": "string"},
                "id": {"type": "string"}, "parameters": {"type": "object"},
                "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/Tensor"}}
            }
        },
        "ModelMetadata": {
            "type": "object", "required": ["name", "platform", "inputs", "outputs"],
            "properties": {
                "name": {"type": "string"},
                "versions": {"type": "array", "items": {"type": "string"}},
                "platform": {"type": "string"},
                "inputs": {"type": "array", "items": {"$ref": "#/components/schemas/TensorMetadata"}},
                "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/TensorMetadata"}}
            }
        },
        "TensorMetadata": {
            "type": "object", "required": ["name", "datatype", "shape"],
            "properties": {
                "name": {"type": "string"}, "datatype": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}}
            }
        }
    })
}
