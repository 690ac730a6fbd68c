//! The Open Inference Protocol (KServe V2) over REST, for every model in the catalog.
//!
//! Each patient field is one named input tensor of shape `[N]` (FP64 numbers, BOOL flags,
//! BYTES strings), so one call scores N patients; outputs are `risk` (the primary outcome),
//! `<outcome>_risk` for every outcome, and `category`. JSON and the binary tensor extension are
//! both supported, so `tritonclient.http` works with its default (binary) settings.

mod binary;
mod datatype;
mod infer;
mod metadata;
mod request;
mod tensor;

use serde_json::json;

use crate::catalog::{Catalog, ServedModel};
use crate::http::{Request, Response};
use crate::problem::ApiError;

pub use datatype::Datatype;
pub use infer::infer;
pub use metadata::{model_metadata, server_metadata};
use request::InferenceRequest;
pub use tensor::output_tensor_names;

/// The model a `/v2/models/{name}[/versions/{version}]` path names.
pub fn find_model<'c>(
    catalog: &'c Catalog,
    name: &str,
    version: Option<&str>,
) -> Result<ServedModel<'c>, ApiError> {
    let model = catalog.find(name).ok_or_else(|| ApiError::UnknownModel {
        available: catalog.names().join(", "),
    })?;
    match version {
        // The protocol leaves the status to the server: a version that does not exist is a
        // resource that does not exist (404), not a server error.
        Some(requested) if requested != model.info().version => Err(ApiError::UnknownVersion {
            model: model.name().to_owned(),
            version: model.info().version.to_string(),
        }),
        _ => Ok(model),
    }
}

pub fn live() -> Response {
    Response::json(200, &json!({"live": true}))
}

/// Ready when every model answers under the name of the import it is wired to (a model
/// component wired into another model's slot still answers, but only under its own name).
pub fn ready(catalog: &Catalog) -> Response {
    let problems = catalog.wiring_problems();
    if problems.is_empty() {
        Response::json(200, &json!({"ready": true}))
    } else {
        Response::json(503, &json!({"ready": false, "error": problems.join("; ")}))
    }
}

pub fn model_ready(model: ServedModel<'_>) -> Response {
    Response::json(200, &json!({"name": model.name(), "ready": true}))
}

/// Reads the request's JSON part (all of the body, or its first
/// `Inference-Header-Content-Length` bytes) and the binary part after it.
fn split_body(request: &Request) -> Result<(InferenceRequest, &[u8]), ApiError> {
    let (json_part, binary_part) = match request.header(binary::HEADER_LENGTH) {
        None => (&request.body[..], &[][..]),
        Some(length) => {
            let length: usize = length.trim().parse().map_err(|_| {
                ApiError::InvalidInferenceRequest(format!(
                    "{} must be a byte count",
                    binary::HEADER_LENGTH
                ))
            })?;
            if length > request.body.len() {
                return Err(ApiError::InvalidInferenceRequest(format!(
                    "{} is larger than the body",
                    binary::HEADER_LENGTH
                )));
            }
            request.body.split_at(length)
        }
    };
    let header = InferenceRequest::from_slice(json_part)
        .map_err(|e| {
            let problem = if crate::json::is_duplicate_member(&e) {
                "has a member name twice in one object"
            } else {
                "is not valid JSON"
            };
            ApiError::InvalidInferenceRequest(format!(
                "the inference request {problem} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?
        .ok_or_else(|| {
            ApiError::InvalidInferenceRequest(
                "the inference request must be a JSON object with inputs, an array of tensors"
                    .into(),
            )
        })?;
    Ok((header, binary_part))
}
