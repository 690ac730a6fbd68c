//! The HTTP request and response as this crate sees them: plain data, independent of Spin, so
//! every handler is tested natively. `spin_entry` converts to and from Spin's types.

/// Largest record accepted. A Synthea patient's whole history is 300-400 KB of JSON; a
/// record ten times that is still scored, anything larger is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// FHIR's JSON media type, with the version the resources are written in.
pub const FHIR_JSON: &str = "application/fhir+json; fhirVersion=4.0";

#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Upper-case method name.
    pub method: String,
    pub path: String,
    /// The query string, without its `?`; empty when there is none.
    pub query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than [`MAX_BODY_BYTES`] and was cut off.
    pub body_truncated: bool,
}

impl Request {
    /// A request for `path_with_query` (`/fhir/...?model=x`).
    pub fn new(method: &str, path_with_query: &str) -> Request {
        let (path, query) = path_with_query
            .split_once('?')
            .unwrap_or((path_with_query, ""));
        Request {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            ..Request::default()
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body's media type, lower case, without parameters.
    pub fn media_type(&self) -> Option<String> {
        let value = self.header("content-type")?;
        let media_type = value.split(';').next().unwrap_or_default();
        Some(media_type.trim().to_ascii_lowercase())
    }

    /// The first value of query parameter `name`, percent-decoded; None when absent or not
    /// valid UTF-8 once decoded.
    pub fn query_parameter(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| percent_decode(value))
    }
}

/// The first value of header `name` (any case).
fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `%XX` escapes and `+` (a space, in a query) decoded.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        rest = tail;
        match first {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = rest.get(..2)?;
                let hex = std::str::from_utf8(hex).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
                rest = &rest[2..];
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Lines for the component's stdout, which the metrics sidecar reads (CDS Hooks feedback);
    /// never patient data.
    pub log_lines: Vec<String>,
}

impl Response {
    /// A FHIR resource, as `application/fhir+json`.
    pub fn fhir(status: u16, resource: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![("content-type".to_owned(), FHIR_JSON.to_owned())],
            body: resource.to_string().into_bytes(),
            log_lines: Vec::new(),
        }
    }

    /// Open to browsers on any origin, as CDS Hooks asks of a service (its clients, the
    /// sandbox among them, run in browsers); the bearer token, not a cookie, authorises.
    pub fn with_cors(self) -> Response {
        self.with_header("access-control-allow-origin", "*")
            .with_header(
                "access-control-allow-headers",
                "authorization, content-type",
            )
            .with_header("access-control-allow-methods", "GET, POST, OPTIONS")
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_split_from_the_path_and_decoded() {
        let request = Request::new(
            "post",
            "/fhir/RiskAssessment/$predict?model=kfre-2016&date=2024-01-02&x=a%2Bb+c",
        );
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/fhir/RiskAssessment/$predict");
        assert_eq!(
            request.query_parameter("model").as_deref(),
            Some("kfre-2016")
        );
        assert_eq!(
            request.query_parameter("date").as_deref(),
            Some("2024-01-02")
        );
        assert_eq!(request.query_parameter("x").as_deref(), Some("a+b c"));
        assert_eq!(request.query_parameter("absent"), None);
        assert_eq!(
            Request::new("GET", "/a?bad=%zz").query_parameter("bad"),
            None
        );
        assert_eq!(
            Request::new("GET", "/a?bad=%f").query_parameter("bad"),
            None
        );
    }

    #[test]
    fn the_media_type_drops_parameters_and_case() {
        let request = Request::new("POST", "/")
            .with_header("Content-Type", "Application/FHIR+JSON; charset=utf-8");
        assert_eq!(
            request.media_type().as_deref(),
            Some("application/fhir+json")
        );
    }
}
