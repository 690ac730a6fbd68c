//! Errors of the HTTP API: one typed model for every endpoint.
//!
//! Every error a client can cause is a variant here, so each has one status and one message.
//! The wire shape is the endpoint family's: RFC 9457 problem details
//! (`application/problem+json`, [`ApiError::into_response`]) everywhere except the Open
//! Inference Protocol, whose clients read `{"error": "..."}` ([`ApiError::into_inference_response`]).
//! Messages name fields and allowed values, never a value the client sent.

use crate::http::Response;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Problem type of field-level input errors; the others use `about:blank` (status says all).
pub const INVALID_INPUT_TYPE: &str = "urn:healthcare-model-service:problem:invalid-input";

/// Longest client-chosen name (an unknown field or input) echoed back in an error; longer
/// names are cut so a client cannot make the service repeat arbitrary data.
pub const MAX_ECHOED_NAME: usize = 64;

/// A client-chosen name as it may appear in an error message.
pub fn echoed_name(name: &str) -> String {
    name.chars().take(MAX_ECHOED_NAME).collect()
}

/// `parent` extended by one JSON Pointer reference token (RFC 6901 escaping).
pub fn child_pointer(parent: &str, token: &str) -> String {
    format!("{parent}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// An RFC 9457 problem details object.
#[derive(Debug, serde::Serialize)]
pub struct ProblemBody<'a> {
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// One entry per offending field, for invalid input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<&'a [FieldIssue]>,
}

/// One offending field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldIssue {
    /// JSON Pointer (RFC 6901) to the field in the request body, e.g. `/patient_data/<field>`.
    pub pointer: String,
    /// The field's public name.
    pub field: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("no endpoint at this path")]
    NotFound,
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed { allow: &'static str },
    /// The body's media type is not one the endpoint reads; the text says which it reads.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body is not valid JSON: {reason} at line {line}, column {column}")]
    MalformedJson {
        reason: &'static str,
        line: usize,
        column: usize,
    },
    #[error("the request has {} invalid field(s)", .0.len())]
    InvalidInput(Vec<FieldIssue>),
    /// Data built into the component is unusable: the build is broken, and says so rather than
    /// answer with a part of it.
    #[error("{0} built into this component is invalid; rebuild it")]
    BrokenBuild(&'static str),
    /// A `/v2/models/{name}` path names no served model.
    #[error("unknown model; available models: {available}")]
    UnknownModel { available: String },
    /// A `/v2/models/{name}/versions/{version}` path names a version the model does not have.
    #[error("{model} has no such version; its only version is {version}")]
    UnknownVersion { model: String, version: String },
    /// An inference request the protocol cannot read, or whose patients a model refused; the
    /// text names the tensor or field and, for ranges, the allowed range, never a value.
    #[error("{0}")]
    InvalidInferenceRequest(String),
}

/// What `/predict` and the other JSON endpoints read.
pub const JSON_ONLY: &str = "the request body must be JSON (Content-Type: application/json)";

/// What the inference endpoint reads: JSON, or JSON followed by binary tensors.
pub const JSON_OR_TENSORS: &str = "the body must be JSON, or JSON followed by binary tensors";

impl ApiError {
    pub fn malformed_json(error: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let reason = match error.classify() {
            Category::Eof => "unexpected end of input",
            Category::Syntax => "syntax error",
            Category::Data if crate::json::is_duplicate_member(error) => {
                crate::json::DUPLICATE_MEMBER
            }
            Category::Data => "invalid data",
            Category::Io => "read error",
        };
        ApiError::MalformedJson {
            reason,
            line: error.line(),
            column: error.column(),
        }
    }

    pub fn invalid(pointer: &str, field: &str, detail: impl Into<String>) -> Self {
        ApiError::InvalidInput(vec![FieldIssue {
            pointer: pointer.to_string(),
            field: field.to_string(),
            detail: detail.into(),
        }])
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::NotFound
            | ApiError::UnknownModel { .. }
            | ApiError::UnknownVersion { .. } => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::MalformedJson { .. } | ApiError::InvalidInferenceRequest(_) => 400,
            ApiError::InvalidInput(_) => 422,
            ApiError::BrokenBuild(_) => 500,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::NotFound
            | ApiError::UnknownModel { .. }
            | ApiError::UnknownVersion { .. } => "Not Found",
            ApiError::MethodNotAllowed { .. } => "Method Not Allowed",
            ApiError::UnsupportedMediaType(_) => "Unsupported Media Type",
            ApiError::PayloadTooLarge { .. } => "Content Too Large",
            ApiError::MalformedJson { .. } => "Malformed JSON",
            ApiError::InvalidInferenceRequest(_) => "Bad Request",
            ApiError::InvalidInput(_) => "Invalid input",
            ApiError::BrokenBuild(_) => "Internal Server Error",
        }
    }

    /// The problem details object, members in RFC 9457's order.
    pub fn to_body(&self) -> ProblemBody<'_> {
        ProblemBody {
            problem_type: match self {
                ApiError::InvalidInput(_) => INVALID_INPUT_TYPE,
                _ => "about:blank",
            },
            title: self.title(),
            status: self.status(),
            detail: self.to_string(),
            errors: match self {
                ApiError::InvalidInput(issues) => Some(issues),
                _ => None,
            },
        }
    }

    /// The Open Inference Protocol's shape: `{"error": "<message>"}` with the same status.
    pub fn into_inference_response(self) -> Response {
        Response::json(
            self.status(),
            &serde_json::json!({ "error": self.to_string() }),
        )
    }

    /// RFC 9457 problem details.
    pub fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.to_body()).unwrap_or_default();
        let mut response = Response::new(self.status(), PROBLEM_JSON, body);
        if let ApiError::MethodNotAllowed { allow } = self {
            response = response.with_header("allow", allow);
        }
        response
    }
}
