//! The Spin component that serves the interactive API documentation at `/docs`.
//!
//! The page is Swagger UI (as FastAPI's `/docs`), reading the prediction component's
//! `/openapi.json`. It works with no internet access: Swagger UI's JavaScript and CSS are
//! vendored from the npm package `swagger-ui-dist` (see `assets/README.md`), bundled into the
//! component with `include_bytes!`, and served from `/docs/<asset>`; the HTML's
//! Content-Security-Policy allows nothing but this origin, so the browser itself refuses any
//! external load.
//!
//! Why a component of its own: Swagger UI weighs about 1.9 MB, while the prediction component
//! is kept under 512 KiB (fast cold starts, small image). Spin routes `/docs` and `/docs/...`
//! here (spin.toml), so the prediction component never carries these bytes.
//!
//! Everything except the thin Spin entry point is plain Rust over [`serve`], tested natively
//! (`cargo test -p docs-site`).

/// Swagger UI's files (Apache-2.0, vendored by `scripts/vendor-swagger-ui.sh`) and our own page.
mod assets {
    pub const INDEX_HTML: &[u8] = include_bytes!("../assets/index.html");
    pub const INIT_JS: &[u8] = include_bytes!("../assets/init.js");
    pub const BUNDLE_JS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
    pub const BUNDLE_LICENSES: &[u8] =
        include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js.LICENSE.txt");
    pub const SWAGGER_CSS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");
    pub const INDEX_CSS: &[u8] = include_bytes!("../assets/swagger-ui/index.css");
    pub const FAVICON_16: &[u8] = include_bytes!("../assets/swagger-ui/favicon-16x16.png");
    pub const FAVICON_32: &[u8] = include_bytes!("../assets/swagger-ui/favicon-32x32.png");
    pub const LICENSE: &[u8] = include_bytes!("../assets/swagger-ui/LICENSE");
    pub const NOTICE: &[u8] = include_bytes!("../assets/swagger-ui/NOTICE");
}

/// The page's Content-Security-Policy: scripts, styles, images, fonts and fetches from this
/// origin only. Swagger UI (React) sets `style` attributes, hence `'unsafe-inline'` for styles
/// only; its CSS uses `data:` SVG icons, hence `data:` for images. No inline script is needed:
/// the start-up code is `/docs/init.js`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The methods every path here answers, as an `Allow` header value.
pub const ALLOW: &str = "GET, HEAD";

/// The page is small and must follow deployments at once: revalidate every time.
const HTML_CACHE: &str = "no-cache";
/// Assets change only with a new deployment; their URLs carry no hash, so cache for a day.
const ASSET_CACHE: &str = "public, max-age=86400";

const PROBLEM_JSON: &str = "application/problem+json";
const NOT_FOUND_BODY: &[u8] =
    br#"{"type":"about:blank","title":"Not Found","status":404,"detail":"no endpoint at this path"}"#;
const METHOD_NOT_ALLOWED_BODY: &[u8] = br#"{"type":"about:blank","title":"Method Not Allowed","status":405,"detail":"method not allowed; allowed: GET, HEAD"}"#;

/// One file served under `/docs/`.
struct Asset {
    /// The file name after `/docs/`.
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const PNG: &str = "image/png";
const TEXT: &str = "text/plain; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: JS,
        body: assets::BUNDLE_JS,
    },
    Asset {
        name: "swagger-ui.css",
        content_type: CSS,
        body: assets::SWAGGER_CSS,
    },
    Asset {
        name: "index.css",
        content_type: CSS,
        body: assets::INDEX_CSS,
    },
    Asset {
        name: "init.js",
        content_type: JS,
        body: assets::INIT_JS,
    },
    Asset {
        name: "favicon-32x32.png",
        content_type: PNG,
        body: assets::FAVICON_32,
    },
    Asset {
        name: "favicon-16x16.png",
        content_type: PNG,
        body: assets::FAVICON_16,
    },
    // The licence texts that must accompany the bundled Swagger UI.
    Asset {
        name: "swagger-ui-bundle.js.LICENSE.txt",
        content_type: TEXT,
        body: assets::BUNDLE_LICENSES,
    },
    Asset {
        name: "LICENSE",
        content_type: TEXT,
        body: assets::LICENSE,
    },
    Asset {
        name: "NOTICE",
        content_type: TEXT,
        body: assets::NOTICE,
    },
];

/// A response: status, headers (lower-case names) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: &'static [u8],
}

impl Reply {
    /// The value of the first header named `name` (lower case), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a path refers to.
enum Target {
    Page,
    Asset(&'static Asset),
    NotFound,
}

fn target(path: &str) -> Target {
    // Spin passes the path alone; tolerate a query string anyway (`/docs?x=1` is the page).
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    // Trailing slashes are ignored, as the prediction API's router and the metrics exporter's
    // handler labels ignore them: `/docs/` is the page, `/docs/init.js/` the script.
    let path = path.trim_end_matches('/');
    match path {
        "/docs" => Target::Page,
        _ => path
            .strip_prefix("/docs/")
            .and_then(|name| ASSETS.iter().find(|asset| asset.name == name))
            .map_or(Target::NotFound, Target::Asset),
    }
}

/// Answers one request. An unknown path is a 404 whatever the method (as in the prediction
/// component); a known path answers GET and HEAD, anything else is a 405 with `Allow`. HEAD
/// gets GET's headers with an empty body.
pub fn serve(method: &str, path: &str) -> Reply {
    let target = target(path);
    let (status, mut headers, body): (u16, Vec<(&'static str, String)>, &'static [u8]) =
        match target {
            Target::NotFound => (404, problem_headers(), NOT_FOUND_BODY),
            _ if method != "GET" && method != "HEAD" => {
                let mut headers = problem_headers();
                headers.push(("allow", ALLOW.to_string()));
                (405, headers, METHOD_NOT_ALLOWED_BODY)
            }
            Target::Page => (
                200,
                vec![
                    ("content-type", "text/html; charset=utf-8".to_string()),
                    ("cache-control", HTML_CACHE.to_string()),
                    (
                        "content-security-policy",
                        CONTENT_SECURITY_POLICY.to_string(),
                    ),
                    ("referrer-policy", "no-referrer".to_string()),
                ],
                assets::INDEX_HTML,
            ),
            Target::Asset(asset) => (
                200,
                vec![
                    ("content-type", asset.content_type.to_string()),
                    ("cache-control", ASSET_CACHE.to_string()),
                ],
                asset.body,
            ),
        };
    headers.push(("x-content-type-options", "nosniff".to_string()));
    Reply {
        status,
        headers,
        body: if method == "HEAD" { &[] } else { body },
    }
}

fn problem_headers() -> Vec<(&'static str, String)> {
    vec![
        ("content-type", PROBLEM_JSON.to_string()),
        ("cache-control", "no-store".to_string()),
    ]
}

/// The Spin entry point, only in the WebAssembly build (natively, tests call [`serve`]).
///
/// It takes the `IncomingRequest` rather than spin-sdk's buffered `Request`: no route here
/// reads a body, and `Request` would read any body, of any size, into memory first.
#[cfg(target_arch = "wasm32")]
mod spin_entry {
    use spin_sdk::http::{IncomingRequest, Response};
    use spin_sdk::http_component;

    #[http_component]
    fn handle(request: IncomingRequest) -> Response {
        let method = request.method().to_string();
        let path = request.path_with_query().unwrap_or_default();
        let reply = super::serve(&method, &path);
        let mut response = Response::builder();
        response.status(reply.status);
        for (name, value) in reply.headers {
            response.header(name, value);
        }
        response.body(reply.body.to_vec()).build()
    }
}

#[cfg(test)]
mod tests;
