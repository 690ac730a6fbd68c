use super::*;

const NOT_FOUND: &str = r#"{"type":"about:blank","title":"Not Found","status":404,"detail":"no endpoint at this path"}"#;

fn body_text(reply: &Reply) -> &str {
    std::str::from_utf8(reply.body).expect("a UTF-8 body")
}

/// The values of `attribute="..."` in an HTML document.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            &rest[..rest.find('"').expect("a closing quote")]
        })
        .collect()
}

#[test]
fn docs_and_docs_slash_serve_the_page() {
    for path in ["/docs", "/docs/", "/docs?x=1"] {
        let reply = serve("GET", path);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(reply.header("cache-control"), Some("no-cache"));
        assert_eq!(
            reply.header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY)
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.body, assets::INDEX_HTML);
    }
}

#[test]
fn the_page_loads_swagger_ui_and_its_init_script_from_this_component() {
    let page = serve("GET", "/docs");
    let html = body_text(&page);
    let scripts = attribute_values(html, "src");
    assert_eq!(scripts, ["/docs/swagger-ui-bundle.js", "/docs/init.js"]);
    assert!(
        !html.contains("<script>"),
        "no inline script: the CSP forbids it"
    );
    let links = attribute_values(html, "href");
    assert!(links.contains(&"/docs/swagger-ui.css"));
    // Every script, stylesheet and icon the page names is served here, with 200.
    for url in scripts.iter().chain(links.iter()) {
        if *url == "/openapi.json" {
            continue; // served by the prediction component (the <noscript> link)
        }
        assert!(url.starts_with("/docs/"), "{url} is not one of ours");
        assert_eq!(serve("GET", url).status, 200, "{url}");
    }
}

#[test]
fn init_script_reads_our_openapi_document_and_disables_the_external_validator() {
    let reply = serve("GET", "/docs/init.js");
    let init = body_text(&reply);
    assert!(init.contains("SwaggerUIBundle({"));
    assert!(init.contains(r#"url: "/openapi.json""#));
    assert!(init.contains(r##"dom_id: "#swagger-ui""##));
    assert!(init.contains("validatorUrl: null"));
}

#[test]
fn content_security_policy_allows_only_this_origin() {
    let csp = CONTENT_SECURITY_POLICY;
    assert!(csp.contains("default-src 'none'"));
    assert!(csp.contains("script-src 'self';"));
    assert!(csp.contains("connect-src 'self'"));
    assert!(!csp.contains("http"), "no external source: {csp}");
    assert!(!csp.contains('*'), "no wildcard source: {csp}");
    // 'unsafe-inline' only for styles (React style attributes), never for scripts.
    for directive in csp.split(';') {
        if directive.contains("'unsafe-inline'") {
            assert!(directive.trim().starts_with("style-src"), "{directive}");
        }
        assert!(!directive.contains("'unsafe-eval'"), "{directive}");
    }
}

#[test]
fn assets_have_their_content_type_and_cache_control() {
    let expected = [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("init.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("index.css", "text/css; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
        ("favicon-16x16.png", "image/png"),
        (
            "swagger-ui-bundle.js.LICENSE.txt",
            "text/plain; charset=utf-8",
        ),
        ("LICENSE", "text/plain; charset=utf-8"),
        ("NOTICE", "text/plain; charset=utf-8"),
    ];
    assert_eq!(expected.len(), ASSETS.len(), "every asset is checked");
    for (name, content_type) in expected {
        let reply = serve("GET", &format!("/docs/{name}"));
        assert_eq!(reply.status, 200, "{name}");
        assert_eq!(reply.header("content-type"), Some(content_type), "{name}");
        assert_eq!(
            reply.header("cache-control"),
            Some("public, max-age=86400"),
            "{name}"
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert!(!reply.body.is_empty(), "{name}");
    }
}

#[test]
fn the_bundled_assets_are_swagger_ui() {
    let bundle = serve("GET", "/docs/swagger-ui-bundle.js");
    assert!(bundle.body.len() > 1_000_000, "the full bundle");
    assert!(body_text(&bundle).contains("SwaggerUIBundle"));
    assert!(body_text(&serve("GET", "/docs/swagger-ui.css")).contains(".swagger-ui"));
    assert!(body_text(&serve("GET", "/docs/LICENSE")).contains("Apache License"));
    let png = serve("GET", "/docs/favicon-32x32.png");
    assert_eq!(&png.body[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn head_has_the_get_headers_and_no_body() {
    for path in [
        "/docs",
        "/docs/",
        "/docs//",
        "/docs/swagger-ui-bundle.js",
        "/docs/init.js",
        "/docs/init.js/",
    ] {
        let get = serve("GET", path);
        let head = serve("HEAD", path);
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(head.headers, get.headers, "{path}");
        assert!(head.body.is_empty(), "{path}");
    }
}

#[test]
fn other_paths_are_a_json_404() {
    for path in [
        "/",
        "/docsx",
        "/docs/nope",
        "/docs/index.html",
        "/docs/swagger-ui-bundle.js.map",
        "/docs/../openapi.json",
        "/DOCS",
    ] {
        for method in ["GET", "POST", "DELETE"] {
            let reply = serve(method, path);
            assert_eq!(reply.status, 404, "{method} {path}");
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json")
            );
            assert_eq!(body_text(&reply), NOT_FOUND, "{method} {path}");
            assert_eq!(reply.header("allow"), None);
        }
    }
    let head = serve("HEAD", "/docs/nope");
    assert_eq!(head.status, 404);
    assert!(head.body.is_empty());
}

#[test]
fn other_methods_are_a_405_with_allow() {
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "get"] {
        for path in ["/docs", "/docs/", "/docs/swagger-ui.css"] {
            let reply = serve(method, path);
            assert_eq!(reply.status, 405, "{method} {path}");
            assert_eq!(reply.header("allow"), Some("GET, HEAD"));
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json")
            );
            assert_eq!(
                body_text(&reply),
                r#"{"type":"about:blank","title":"Method Not Allowed","status":405,"detail":"method not allowed; allowed: GET, HEAD"}"#
            );
        }
    }
}
