//! The HTTP request and response as this crate sees them: plain data, independent of Spin, so
//! every handler can be tested natively. `spin_entry` converts to and from Spin's types.

/// Largest body of a single-patient `/predict` request, and of anything but a batch: patient
/// data is a few hundred bytes, so more is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest body of a batch: a `/predict` request with `instances`, or an inference request.
/// 1000 patients with every field are about 250 KiB of JSON.
pub const MAX_BATCH_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Upper-case method name.
    pub method: String,
    /// Path without query string.
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the limit for its route and was cut off.
    pub body_truncated: bool,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Self {
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        Request {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            body_truncated: false,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The media type of the body, lower case, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The model that answered, when the path does not name it (`/predict`): reported to the
    /// monitoring by `spin_entry` (see [`crate::telemetry`]), not sent to the client.
    pub served_model: Option<String>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("content-type".to_string(), content_type.to_string())],
            body: body.into(),
            served_model: None,
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::new(status, "application/json", value.to_string())
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The same response, reporting which model answered.
    pub fn served_by(mut self, model: Option<&str>) -> Self {
        self.served_model = model.map(str::to_owned);
        self
    }
}

/// The first value of a header, by case-insensitive name.
fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}
