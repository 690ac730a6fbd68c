//! Request bodies to OTLP messages: content type, content encoding, size cap, protobuf or JSON.
//!
//! Follows the OTLP/HTTP specification: `application/x-protobuf` (binary protobuf) and
//! `application/json` (the OTLP JSON mapping: lowerCamelCase keys, hex trace ids), optionally
//! `Content-Encoding: gzip`. Every failure is a [`DecodeError`] that knows its HTTP status. No
//! error message repeats the sender's data: they go to logs, and spans may carry patient-facing
//! URLs.

use std::io::Read;

use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::self_metrics::Reason;

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

impl Format {
    /// The response content type for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => "application/x-protobuf",
            Format::Json => "application/json",
        }
    }
}

/// Why a request body could not be turned into an OTLP message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The content type is missing or not one OTLP/HTTP defines.
    #[error("unsupported content type: use application/x-protobuf or application/json")]
    UnsupportedContentType,
    /// The content encoding is not `gzip` or `identity`.
    #[error("unsupported content encoding: use gzip or none")]
    UnsupportedContentEncoding,
    /// The body (or its decompressed form) is larger than the cap.
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The body did not arrive within the request timeout.
    #[error("request body not received in time")]
    Timeout,
    /// The body could not be read from the connection.
    #[error("request body could not be read")]
    Read,
    /// `Content-Encoding: gzip` but the body is not valid gzip.
    #[error("malformed gzip body")]
    Gzip,
    /// The body is not a valid protobuf message of the expected type.
    #[error("malformed protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// The body is not valid OTLP JSON.
    #[error("malformed OTLP JSON ({category}) at line {line}, column {column}")]
    Json {
        /// syntax, data (wrong shape or type) or eof (truncated).
        category: &'static str,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
}

impl DecodeError {
    /// The HTTP status the OTLP specification asks for.
    pub fn status(&self) -> StatusCode {
        match self {
            DecodeError::UnsupportedContentType | DecodeError::UnsupportedContentEncoding => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            DecodeError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            DecodeError::Timeout => StatusCode::REQUEST_TIMEOUT,
            DecodeError::Read
            | DecodeError::Gzip
            | DecodeError::Protobuf(_)
            | DecodeError::Json { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// The self-metric reason.
    pub fn reason(&self) -> Reason {
        match self {
            DecodeError::UnsupportedContentType => Reason::UnsupportedContentType,
            DecodeError::UnsupportedContentEncoding => Reason::UnsupportedContentEncoding,
            DecodeError::TooLarge { .. } => Reason::BodyTooLarge,
            DecodeError::Timeout => Reason::BodyTimeout,
            DecodeError::Read => Reason::BodyUnreadable,
            DecodeError::Gzip => Reason::MalformedGzip,
            DecodeError::Protobuf(_) => Reason::MalformedProtobuf,
            DecodeError::Json { .. } => Reason::MalformedJson,
        }
    }
}

impl From<serde_json::Error> for DecodeError {
    fn from(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        DecodeError::Json {
            category: match e.classify() {
                Category::Io => "io",
                Category::Syntax => "syntax",
                Category::Data => "data",
                Category::Eof => "eof",
            },
            line: e.line(),
            column: e.column(),
        }
    }
}

/// Reads the format from a `Content-Type` header (parameters such as `charset` are ignored).
pub fn format(content_type: Option<&str>) -> Result<Format, DecodeError> {
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .ok_or(DecodeError::UnsupportedContentType)?;
    match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Format::Protobuf),
        "application/json" => Ok(Format::Json),
        _ => Err(DecodeError::UnsupportedContentType),
    }
}

/// Whether a `Content-Encoding` header says gzip (`true`), nothing (`false`), or something we
/// do not decode (error).
pub fn is_gzip(content_encoding: Option<&str>) -> Result<bool, DecodeError> {
    match content_encoding.map(|e| e.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(e) if e.is_empty() || e == "identity" => Ok(false),
        Some(e) if e == "gzip" || e == "x-gzip" => Ok(true),
        Some(_) => Err(DecodeError::UnsupportedContentEncoding),
    }
}

/// Decompresses a gzip body, refusing to produce more than `limit` bytes (a small body can
/// expand a thousandfold: the cap applies to what we hold in memory, not what was sent).
pub fn gunzip(body: &[u8], limit: usize) -> Result<Bytes, DecodeError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(limit as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::Gzip)?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(Bytes::from(out))
}

/// Decodes an OTLP message in the given format.
pub fn message<M>(body: &[u8], format: Format) -> Result<M, DecodeError>
where
    M: prost::Message + Default + DeserializeOwned,
{
    match format {
        Format::Protobuf => Ok(M::decode(body)?),
        Format::Json => {
            // serde would read a struct from a JSON array by position; an OTLP message is
            // always an object.
            let first = body.iter().find(|b| !b.is_ascii_whitespace());
            if first.is_some_and(|b| *b != b'{') {
                return Err(DecodeError::Json {
                    category: "data",
                    line: 1,
                    column: 1,
                });
            }
            Ok(serde_json::from_slice(body)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = e.write_all(data);
        e.finish().unwrap_or_default()
    }

    /// Content types are read as OTLP/HTTP defines them, parameters ignored.
    #[test]
    fn content_types() {
        assert_eq!(
            format(Some("application/x-protobuf")).ok(),
            Some(Format::Protobuf)
        );
        assert_eq!(
            format(Some("Application/JSON; charset=utf-8")).ok(),
            Some(Format::Json)
        );
        for bad in [None, Some("text/plain"), Some(""), Some("application/grpc")] {
            assert!(matches!(
                format(bad),
                Err(DecodeError::UnsupportedContentType)
            ));
        }
    }

    /// gzip and identity are accepted; other codings are 415.
    #[test]
    fn content_encodings() {
        assert!(matches!(is_gzip(None), Ok(false)));
        assert!(matches!(is_gzip(Some("identity")), Ok(false)));
        assert!(matches!(is_gzip(Some("GZIP")), Ok(true)));
        let err = is_gzip(Some("br")).err();
        assert_eq!(
            err.map(|e| e.status()),
            Some(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
    }

    /// A gzip bomb stops at the cap instead of filling memory.
    #[test]
    fn gzip_expansion_is_capped() {
        let bomb = gzip(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 64 << 10);
        assert!(matches!(
            gunzip(&bomb, 1 << 20),
            Err(DecodeError::TooLarge { limit }) if limit == 1 << 20
        ));
        assert_eq!(
            gunzip(&gzip(b"hello"), 100).ok().as_deref(),
            Some(&b"hello"[..])
        );
        assert!(matches!(gunzip(b"not gzip", 100), Err(DecodeError::Gzip)));
    }

    /// Malformed bodies are 400, and the message does not repeat the body.
    #[test]
    fn malformed_bodies_are_bad_requests() {
        let e = message::<ExportTraceServiceRequest>(b"\xff\xff\xff", Format::Protobuf).err();
        assert_eq!(e.map(|e| e.status()), Some(StatusCode::BAD_REQUEST));
        let e = message::<ExportTraceServiceRequest>(
            br#"{"resourceSpans": "patient-secret"}"#,
            Format::Json,
        )
        .err();
        let text = e.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(text.contains("data"), "{text}");
        assert!(!text.contains("patient-secret"), "{text}");
        assert_eq!(e.map(|e| e.status()), Some(StatusCode::BAD_REQUEST));
    }
}
