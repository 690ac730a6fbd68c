//! The OTLP/HTTP receiver: `POST /v1/traces`, `/v1/metrics` and `/v1/logs`.
//!
//! Follows the OTLP specification's HTTP rules: 200 with the `Export…ServiceResponse` in the
//! request's encoding (with `partial_success` when some items were refused), 400 with a
//! `google.rpc.Status` body for malformed data, 413 over the size cap, 415 for content types
//! and encodings it does not speak, 503 with `Retry-After` when it is already busy with as many
//! requests as it allows (OTLP senders retry 503). Nothing is queued: a request is decoded and
//! recorded before it is answered.
//!
//! Two budgets bound memory without letting slow senders starve the others. Bodies being
//! received share `max_concurrent_requests × max_body_bytes` bytes, taken as the bytes arrive
//! (a sender that trickles its body holds only what it sent, until the request timeout); and
//! at most `max_concurrent_requests` received bodies are decoded and recorded at once. Past
//! either, the request is answered 503.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::decode::{self, DecodeError, Format};
use crate::pipeline::Pipeline;
use crate::self_metrics::{OtlpRequestLabels, Signal};

/// `google.rpc.Status`, the body of an OTLP/HTTP error response.
#[derive(Clone, PartialEq, Message, Serialize)]
pub struct RpcStatus {
    /// A `google.rpc.Code`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// A developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
}

/// `google.rpc.Code.INVALID_ARGUMENT`.
const INVALID_ARGUMENT: i32 = 3;
/// `google.rpc.Code.UNAVAILABLE`.
const UNAVAILABLE: i32 = 14;

/// Limits that keep the receiver's memory bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body accepted, before and after decompression.
    pub max_body_bytes: usize,
    /// Requests decoded at once, and bodies of the largest size received at once; more are
    /// answered 503.
    pub max_concurrent_requests: usize,
    /// Time allowed to receive a request head, and then its body.
    pub body_timeout: Duration,
    /// Connections open at once, per listener.
    pub max_connections: usize,
}

/// The receiver's shared state.
#[derive(Debug, Clone)]
pub struct Receiver {
    pipeline: Arc<Pipeline>,
    limits: Limits,
    /// Received bodies being decoded and recorded.
    permits: Arc<Semaphore>,
    /// Bytes of bodies being received and decoded.
    body_bytes: Arc<Semaphore>,
}

impl Receiver {
    /// A receiver feeding `pipeline`.
    pub fn new(pipeline: Arc<Pipeline>, limits: Limits) -> Self {
        let concurrent = limits.max_concurrent_requests.max(1);
        let body_bytes = concurrent
            .saturating_mul(limits.max_body_bytes)
            .min(Semaphore::MAX_PERMITS);
        Receiver {
            pipeline,
            permits: Arc::new(Semaphore::new(concurrent)),
            body_bytes: Arc::new(Semaphore::new(body_bytes)),
            limits,
        }
    }

    /// The HTTP routes. Other paths are 404, other methods 405 (with `Allow: POST`).
    pub fn router(self) -> Router {
        Router::new()
            .route("/v1/traces", post(traces))
            .route("/v1/metrics", post(metrics))
            .route("/v1/logs", post(logs))
            .fallback(not_found)
            .with_state(self)
    }

    fn count(&self, signal: Signal, status: StatusCode) {
        self.pipeline
            .families()
            .own
            .otlp_requests
            .get_or_create(&OtlpRequestLabels {
                signal,
                code: status.as_u16(),
            })
            .inc();
    }

    /// Receives, decompresses and decodes a body; errors are already counted and logged. The
    /// permit returned is held until the message is recorded.
    async fn receive<M>(
        &self,
        signal: Signal,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<(M, Format, OwnedSemaphorePermit), Response>
    where
        M: Message + Default + serde::de::DeserializeOwned,
    {
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let format = decode::format(header(header::CONTENT_TYPE))
            .map_err(|e| self.refuse(signal, Format::Json, e))?;
        let gzip = decode::is_gzip(header(header::CONTENT_ENCODING))
            .map_err(|e| self.refuse(signal, format, e))?;
        let limit = self.limits.max_body_bytes;
        let declared = header(header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(self.refuse(signal, format, DecodeError::TooLarge { limit }));
        }
        let (body, _bytes) = read_body(body, limit, self.limits.body_timeout, &self.body_bytes)
            .await
            .map_err(|e| match e {
                BodyError::Busy => busy(self, signal),
                BodyError::Refused(e) => self.refuse(signal, format, e),
            })?;
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| busy(self, signal))?;
        let body = if gzip {
            decode::gunzip(&body, limit).map_err(|e| self.refuse(signal, format, e))?
        } else {
            body
        };
        let message =
            decode::message::<M>(&body, format).map_err(|e| self.refuse(signal, format, e))?;
        Ok((message, format, permit))
    }

    fn refuse(&self, signal: Signal, format: Format, error: DecodeError) -> Response {
        let status = error.status();
        tracing::warn!(
            signal = ?signal,
            status = status.as_u16(),
            reason = %error,
            "refused an OTLP request"
        );
        self.pipeline
            .families()
            .own
            .decode_failure(signal, error.reason());
        self.count(signal, status);
        let body = RpcStatus {
            code: INVALID_ARGUMENT,
            message: error.to_string(),
        };
        encoded(status, format, &body)
    }
}

/// Why a body was not received.
enum BodyError {
    /// The bytes budget of bodies in flight is spent: 503.
    Busy,
    /// Too large, too slow or unreadable.
    Refused(DecodeError),
}

/// Reads a body of at most `limit` bytes within `timeout`, taking each chunk's size from
/// `budget` as it arrives; the permit returned holds those bytes.
async fn read_body(
    body: Body,
    limit: usize,
    timeout: Duration,
    budget: &Arc<Semaphore>,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), BodyError> {
    let read = async {
        let mut body = Limited::new(body, limit);
        let mut data = Vec::new();
        let mut held: Option<OwnedSemaphorePermit> = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                BodyError::Refused(if e.downcast_ref::<LengthLimitError>().is_some() {
                    DecodeError::TooLarge { limit }
                } else {
                    DecodeError::Read
                })
            })?;
            let Ok(chunk) = frame.into_data() else {
                continue; // trailers
            };
            // A chunk is never larger than `limit`, which fits the budget on its own.
            let size = u32::try_from(chunk.len()).map_err(|_| BodyError::Busy)?;
            let permit = Arc::clone(budget)
                .try_acquire_many_owned(size)
                .map_err(|_| BodyError::Busy)?;
            match held.as_mut() {
                Some(held) => held.merge(permit),
                None => held = Some(permit),
            }
            data.extend_from_slice(&chunk);
        }
        Ok((Bytes::from(data), held))
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| BodyError::Refused(DecodeError::Timeout))?
}

/// A response body in the request's encoding.
fn encoded<M: Message + Serialize>(status: StatusCode, format: Format, message: &M) -> Response {
    let body = match format {
        Format::Protobuf => message.encode_to_vec(),
        // Serializing our own response types cannot fail; an empty object is still valid OTLP.
        // Unset fields are left out rather than written as null (`{}` for a full success).
        Format::Json => match serde_json::to_value(message) {
            Ok(serde_json::Value::Object(mut fields)) => {
                fields.retain(|_, v| !v.is_null());
                serde_json::to_vec(&fields).unwrap_or_else(|_| b"{}".to_vec())
            }
            _ => b"{}".to_vec(),
        },
    };
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        body,
    )
        .into_response()
}

fn busy(receiver: &Receiver, signal: Signal) -> Response {
    receiver.count(signal, StatusCode::SERVICE_UNAVAILABLE);
    let body = RpcStatus {
        code: UNAVAILABLE,
        message: "too many concurrent export requests; retry later".to_owned(),
    };
    let mut response = encoded(StatusCode::SERVICE_UNAVAILABLE, Format::Json, &body);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

async fn traces(State(r): State<Receiver>, headers: HeaderMap, body: Body) -> Response {
    let signal = Signal::Traces;
    let (request, format, _permit) = match r
        .receive::<ExportTraceServiceRequest>(signal, &headers, body)
        .await
    {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let report = r.pipeline.traces(&request);
    tracing::debug!(
        spans = report.spans,
        recorded = report.recorded,
        rejected = report.rejected,
        "traces"
    );
    r.count(signal, StatusCode::OK);
    let partial_success = (report.rejected > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: report.rejected as i64,
        error_message: format!(
            "{} HTTP server span(s) had no valid http.response.status_code",
            report.rejected
        ),
    });
    encoded(
        StatusCode::OK,
        format,
        &ExportTraceServiceResponse { partial_success },
    )
}

async fn metrics(State(r): State<Receiver>, headers: HeaderMap, body: Body) -> Response {
    let signal = Signal::Metrics;
    let (request, format, _permit) = match r
        .receive::<ExportMetricsServiceRequest>(signal, &headers, body)
        .await
    {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let report = r.pipeline.metrics(&request);
    let rejected = report.rejected_total();
    tracing::debug!(points = report.points, rejected, "metrics");
    r.count(signal, StatusCode::OK);
    let partial_success = (rejected > 0).then(|| ExportMetricsPartialSuccess {
        rejected_data_points: rejected as i64,
        error_message: report
            .rejected
            .iter()
            .map(|(reason, n)| format!("{n} data point(s): {}", reason.as_str()))
            .collect::<Vec<_>>()
            .join("; "),
    });
    encoded(
        StatusCode::OK,
        format,
        &ExportMetricsServiceResponse { partial_success },
    )
}

async fn logs(State(r): State<Receiver>, headers: HeaderMap, body: Body) -> Response {
    let signal = Signal::Logs;
    let (request, format, _permit) = match r
        .receive::<ExportLogsServiceRequest>(signal, &headers, body)
        .await
    {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let records = r.pipeline.logs(&request);
    tracing::debug!(records, "logs accepted and dropped");
    r.count(signal, StatusCode::OK);
    encoded(
        StatusCode::OK,
        format,
        &ExportLogsServiceResponse {
            partial_success: None,
        },
    )
}

async fn not_found() -> Response {
    let body = RpcStatus {
        code: 5, // NOT_FOUND
        message: "OTLP/HTTP paths are /v1/traces, /v1/metrics and /v1/logs".to_owned(),
    };
    encoded(StatusCode::NOT_FOUND, Format::Json, &body)
}
