//! Method and path → one handler. The only place that knows the URL space.

use crate::catalog::{Catalog, ServedModel};
use crate::http::{Request, Response, MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES};
use crate::inference::{self, find_model};
use crate::model_cards::{model_card, model_cards};
use crate::openapi::openapi_document;
use crate::patient::Vocabulary;
use crate::predict::answer;
use crate::problem::{ApiError, JSON_ONLY, JSON_OR_TENSORS};

/// What a request asks for, decided from its method and path alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    OpenApi,
    Predict,
    ModelCards,
    ModelCard {
        model: &'a str,
    },
    ServerMetadata,
    ServerLive,
    ServerReady,
    ModelMetadata {
        model: &'a str,
        version: Option<&'a str>,
    },
    ModelReady {
        model: &'a str,
        version: Option<&'a str>,
    },
    Infer {
        model: &'a str,
        version: Option<&'a str>,
    },
    NotFound,
}

impl<'a> Route<'a> {
    pub fn parse(path: &'a str) -> Route<'a> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        match segments.as_slice() {
            ["healthz"] => Route::Health,
            ["openapi.json"] => Route::OpenApi,
            ["predict"] => Route::Predict,
            ["models"] => Route::ModelCards,
            ["models", model] => Route::ModelCard { model },
            ["v2"] => Route::ServerMetadata,
            ["v2", "health", "live"] => Route::ServerLive,
            ["v2", "health", "ready"] => Route::ServerReady,
            ["v2", "models", model, rest @ ..] => {
                let (version, rest) = match rest {
                    ["versions", version, rest @ ..] => (Some(*version), rest),
                    _ => (None, rest),
                };
                match rest {
                    [] => Route::ModelMetadata { model, version },
                    ["ready"] => Route::ModelReady { model, version },
                    ["infer"] => Route::Infer { model, version },
                    _ => Route::NotFound,
                }
            }
            _ => Route::NotFound,
        }
    }

    /// How much of a body to read before answering 413: routes that accept batches read up to
    /// the batch limit, and `/predict` applies the single-request limit itself once it knows
    /// whether the body is a batch.
    pub fn body_limit(&self) -> usize {
        match self {
            Route::Predict | Route::Infer { .. } => MAX_BATCH_BODY_BYTES,
            _ => MAX_BODY_BYTES,
        }
    }

    /// The methods this route answers, as an `Allow` header value.
    pub fn allowed_methods(&self) -> &'static str {
        match self {
            Route::Predict | Route::Infer { .. } => "POST",
            Route::NotFound => "",
            _ => "GET, HEAD",
        }
    }
}

/// Answers one request with the models this build is linked with.
pub fn route(request: &Request) -> Response {
    route_with(&Catalog::linked(), request)
}

/// Answers one request with the models of `catalog`. Never panics on any input: every failure
/// is a typed error response.
pub fn route_with(catalog: &Catalog, request: &Request) -> Response {
    let route = Route::parse(&request.path);
    if route == Route::NotFound {
        return ApiError::NotFound.into_response();
    }
    let allowed = route.allowed_methods();
    let method = request.method.as_str();
    let method_allowed = allowed.split(", ").any(|m| m == method);
    if !method_allowed {
        return ApiError::MethodNotAllowed { allow: allowed }.into_response();
    }
    match route {
        Route::Health => Response::json(200, &serde_json::json!({"status": "ok"})),
        Route::OpenApi => match openapi_document(catalog) {
            Ok(document) => Response::json(200, &document),
            Err(error) => error.into_response(),
        },
        Route::Predict => predict(catalog, request),
        Route::ModelCards => model_cards(catalog),
        Route::ModelCard { model } => respond(find_model(catalog, model, None).map(model_card)),
        Route::ServerMetadata => inference::server_metadata(),
        Route::ServerLive => inference::live(),
        Route::ServerReady => inference::ready(catalog),
        Route::ModelMetadata { model, version } => respond(
            find_model(catalog, model, version)
                .map(|model| inference::model_metadata(model, catalog.features())),
        ),
        Route::ModelReady { model, version } => {
            respond(find_model(catalog, model, version).map(inference::model_ready))
        }
        Route::Infer { model, version } => respond(
            find_model(catalog, model, version).and_then(|model| infer(catalog, model, request)),
        ),
        Route::NotFound => ApiError::NotFound.into_response(),
    }
}

/// An Open Inference Protocol answer, or its error in the protocol's shape.
fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(ApiError::into_inference_response)
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

fn predict(catalog: &Catalog, request: &Request) -> Response {
    match request.media_type() {
        Some(media_type) if is_json(&media_type) => {}
        _ => return ApiError::UnsupportedMediaType(JSON_ONLY).into_response(),
    }
    if request.body_truncated {
        return ApiError::PayloadTooLarge {
            limit: MAX_BATCH_BODY_BYTES,
        }
        .into_response();
    }
    let answer = answer(catalog, &request.body);
    let response = match answer.body {
        Ok(body) => Response::new(200, "application/json", body),
        Err(error) => error.into_response(),
    };
    response.served_by(answer.model.map(|model| model.name()))
}

fn infer(
    catalog: &Catalog,
    model: ServedModel<'_>,
    request: &Request,
) -> Result<Response, ApiError> {
    // tritonclient sends binary requests with no JSON content type, and the curl examples of
    // KServe's documentation (`curl -d @input.json`) label JSON as a form: accept those, and
    // refuse anything else that is not JSON or raw bytes.
    match request.media_type().as_deref() {
        None | Some("application/octet-stream" | "application/x-www-form-urlencoded") => {}
        Some(media_type) if is_json(media_type) => {}
        Some(_) => return Err(ApiError::UnsupportedMediaType(JSON_OR_TENSORS)),
    }
    if request.body_truncated {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BATCH_BODY_BYTES,
        });
    }
    inference::infer(model, &Vocabulary::new(model, catalog), request)
}

#[cfg(test)]
mod tests;
