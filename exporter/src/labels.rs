//! Label sets and label values of the exported families.
//!
//! Every label value is a closed enum or a string that came out of the route table or the model
//! allowlist, never a raw path, a query or anything a patient typed. Values whose spelling is not
//! a Rust identifier (`2xx`, `POST`, `_OTHER`) are encoded by hand.

use std::fmt::Write as _;
use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};

/// The value every label takes in a family's overflow series (see [`crate::cardinality`]).
pub const OVERFLOW: &str = "overflow";

/// A label set that has a designated overflow value, used once a family reaches its series cap.
pub trait OverflowLabels {
    /// The label set all observations past the cap are folded into.
    fn overflow() -> Self;
}

/// A route template (`/v2/models/{name}/infer`), a route Spin named (`/predict`), `"none"` or
/// `"overflow"`. Shared, because the same few values label many series.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handler(pub Arc<str>);

impl Handler {
    /// The handler of requests that matched no known endpoint (the original service's word).
    pub fn none() -> Self {
        Handler(Arc::from("none"))
    }

    /// The text of the label value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EncodeLabelValue for Handler {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(&self.0)
    }
}

/// A model name from the configured allowlist, or the one value that stands for all others.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelName(pub Arc<str>);

impl EncodeLabelValue for ModelName {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(&self.0)
    }
}

/// The request method. A closed set, so a sender cannot grow it: anything not in RFC 9110's list
/// (or PATCH) is `_OTHER`, the OpenTelemetry semantic conventions' spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other,
    Overflow,
}

impl Method {
    /// Parses a method as it appears on the wire (case-sensitive, as HTTP methods are).
    pub fn parse(method: &str) -> Self {
        match method {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "CONNECT" => Method::Connect,
            "OPTIONS" => Method::Options,
            "TRACE" => Method::Trace,
            "PATCH" => Method::Patch,
            _ => Method::Other,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other => "_OTHER",
            Method::Overflow => OVERFLOW,
        }
    }
}

impl EncodeLabelValue for Method {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// The response status grouped by its first digit, as the original service's instrumentator did
/// (`should_group_status_codes`): dashboards select `status="5xx"`, never single codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum StatusClass {
    Informational,
    Success,
    Redirection,
    ClientError,
    ServerError,
    Overflow,
}

impl StatusClass {
    /// The class of a status code; `None` outside 100..=599, which no HTTP response has.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            100..=199 => Some(StatusClass::Informational),
            200..=299 => Some(StatusClass::Success),
            300..=399 => Some(StatusClass::Redirection),
            400..=499 => Some(StatusClass::ClientError),
            500..=599 => Some(StatusClass::ServerError),
            _ => None,
        }
    }

    /// Parses a status code sent as text (Spin sends `"200"`, not `200`).
    pub fn from_text(code: &str) -> Option<Self> {
        code.trim().parse::<i64>().ok().and_then(Self::from_code)
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::Informational => "1xx",
            StatusClass::Success => "2xx",
            StatusClass::Redirection => "3xx",
            StatusClass::ClientError => "4xx",
            StatusClass::ServerError => "5xx",
            StatusClass::Overflow => OVERFLOW,
        }
    }

    /// How an inference request with this status ended.
    pub fn outcome(self) -> Outcome {
        match self {
            StatusClass::ClientError => Outcome::ClientError,
            StatusClass::ServerError => Outcome::ServerError,
            StatusClass::Overflow => Outcome::Overflow,
            StatusClass::Informational | StatusClass::Success | StatusClass::Redirection => {
                Outcome::Success
            }
        }
    }
}

impl EncodeLabelValue for StatusClass {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// How an inference request ended, in the model servers' terms (MLServer's success/failure,
/// Triton's failure reasons): a 4xx is the client's input, a 5xx is ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Outcome {
    Success,
    ClientError,
    ServerError,
    Overflow,
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(match self {
            Outcome::Success => "success",
            Outcome::ClientError => "client_error",
            Outcome::ServerError => "server_error",
            Outcome::Overflow => OVERFLOW,
        })
    }
}

/// `http_requests_total{handler, method, status}`: the original service's label set, exactly.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template.
    pub handler: Handler,
    /// Request method.
    pub method: Method,
    /// Status class.
    pub status: StatusClass,
}

impl OverflowLabels for RequestLabels {
    fn overflow() -> Self {
        RequestLabels {
            handler: Handler(Arc::from(OVERFLOW)),
            method: Method::Overflow,
            status: StatusClass::Overflow,
        }
    }
}

/// `http_request_duration_seconds{handler, method}`: the original service's label set, exactly.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EncodeLabelSet)]
pub struct DurationLabels {
    /// Route template.
    pub handler: Handler,
    /// Request method.
    pub method: Method,
}

impl OverflowLabels for DurationLabels {
    fn overflow() -> Self {
        DurationLabels {
            handler: Handler(Arc::from(OVERFLOW)),
            method: Method::Overflow,
        }
    }
}

/// `http_request_duration_highr_seconds` has no labels, as in the original.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EncodeLabelSet)]
pub struct NoLabels {}

impl OverflowLabels for NoLabels {
    fn overflow() -> Self {
        NoLabels {}
    }
}

/// `model_inference_requests_total{model, outcome}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EncodeLabelSet)]
pub struct ModelRequestLabels {
    /// Model name (allowlisted).
    pub model: ModelName,
    /// How the request ended.
    pub outcome: Outcome,
}

impl OverflowLabels for ModelRequestLabels {
    fn overflow() -> Self {
        ModelRequestLabels {
            model: ModelName(Arc::from(OVERFLOW)),
            outcome: Outcome::Overflow,
        }
    }
}

/// What the clinician did with a card (CDS Hooks 2.0 feedback `outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeedbackOutcome {
    /// The clinician took the card's advice (or one of its suggestions).
    Accepted,
    /// The clinician dismissed it.
    Overridden,
    /// The series that stands for every label set over the family's cap.
    Overflow,
}

impl EncodeLabelValue for FeedbackOutcome {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(match self {
            FeedbackOutcome::Accepted => "accepted",
            FeedbackOutcome::Overridden => "overridden",
            FeedbackOutcome::Overflow => OVERFLOW,
        })
    }
}

/// `cds_feedback_total{service, outcome}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EncodeLabelSet)]
pub struct FeedbackLabels {
    /// The CDS Hooks service: a model's name (allowlisted).
    pub service: ModelName,
    /// What the clinician did with the card.
    pub outcome: FeedbackOutcome,
}

impl OverflowLabels for FeedbackLabels {
    fn overflow() -> Self {
        FeedbackLabels {
            service: ModelName(Arc::from(OVERFLOW)),
            outcome: FeedbackOutcome::Overflow,
        }
    }
}

/// `model_inference_duration_seconds{model}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EncodeLabelSet)]
pub struct ModelDurationLabels {
    /// Model name (allowlisted).
    pub model: ModelName,
}

impl OverflowLabels for ModelDurationLabels {
    fn overflow() -> Self {
        ModelDurationLabels {
            model: ModelName(Arc::from(OVERFLOW)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spin sends the status as text; both spellings and the class boundaries are read.
    #[test]
    fn status_codes_group_by_first_digit() {
        assert_eq!(StatusClass::from_text("200"), Some(StatusClass::Success));
        assert_eq!(
            StatusClass::from_text("404"),
            Some(StatusClass::ClientError)
        );
        assert_eq!(StatusClass::from_code(599), Some(StatusClass::ServerError));
        assert_eq!(
            StatusClass::from_code(100),
            Some(StatusClass::Informational)
        );
        assert_eq!(StatusClass::from_code(302), Some(StatusClass::Redirection));
        assert_eq!(StatusClass::from_code(600), None);
        assert_eq!(StatusClass::from_code(99), None);
        assert_eq!(StatusClass::from_text("2OO"), None);
        assert_eq!(StatusClass::from_text(""), None);
    }

    /// A sender cannot invent methods: unknown ones share one value.
    #[test]
    fn unknown_methods_fold_into_other() {
        assert_eq!(Method::parse("POST"), Method::Post);
        assert_eq!(Method::parse("post"), Method::Other);
        assert_eq!(Method::parse("BREW"), Method::Other);
        assert_eq!(Method::Other.as_str(), "_OTHER");
    }

    /// Inference outcomes follow the status class.
    #[test]
    fn outcomes_follow_the_status_class() {
        assert_eq!(StatusClass::Success.outcome(), Outcome::Success);
        assert_eq!(StatusClass::ClientError.outcome(), Outcome::ClientError);
        assert_eq!(StatusClass::ServerError.outcome(), Outcome::ServerError);
    }
}
