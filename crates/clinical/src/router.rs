//! Which endpoint a request is for. Spin routes `/fhir/...` and `/cds-services/...` here
//! (spin.toml); every other path under them is a 404.

use fhir_record::Date;

use crate::auth::{authenticate, ReplayStore, TrustedIssuers};
use crate::cds_hooks::{call_service, discovery, feedback, json_response, EhrServer};
use crate::fhir_predict::{outcome, predict};
use crate::fhir_server::FhirServer;
use crate::http::{Request, Response};
use crate::model_card::ModelCards;
use crate::prediction_api::PredictionApi;

/// The FHIR operation's path.
pub const FHIR_PREDICT: &str = "/fhir/RiskAssessment/$predict";

/// The CDS Hooks discovery endpoint; a service is `{CDS_SERVICES}/{id}`.
pub const CDS_SERVICES: &str = "/cds-services";

/// What a request is answered with besides itself: the time, and the CDS Hooks security
/// configuration and replay store.
pub struct Context<'a, S, F> {
    /// Unix seconds, UTC.
    pub now: i64,
    /// The trusted issuers' keys, loaded only when a CDS Hooks call is authenticated: parsing
    /// them (EC points checked, RSA moduli read) is work the FHIR operation does not need.
    pub trusted: &'a dyn Fn() -> TrustedIssuers,
    /// The service's public base URL (`https://cds.example.org`), which a token's `aud` must be
    /// followed by the path called; None: the URL as Spin received it (`spin-full-url`).
    pub public_url: Option<&'a str>,
    pub replays: &'a S,
    /// The EHR FHIR server origin the operator allowed (`https://ehr.example.org`), read for
    /// what a prefetch lacks; None: none, so an incomplete prefetch is a 412.
    pub fhir_server: Option<&'a str>,
    pub fhir: &'a F,
}

/// Answers one request.
pub async fn handle<S: ReplayStore, F: FhirServer>(
    request: &Request,
    api: &impl PredictionApi,
    context: &Context<'_, S, F>,
) -> Response {
    // `$` may come percent-encoded; a trailing slash is ignored, as the API ignores it.
    let path = request.path.replace("%24", "$");
    let path = path.strip_suffix('/').unwrap_or(&path);
    if path == FHIR_PREDICT {
        let Some(today) = Date::from_unix_seconds(context.now) else {
            return outcome(500, "exception", "the clock gives no date");
        };
        return match request.method.as_str() {
            "POST" => predict(request, api, today).await,
            _ => not_allowed("POST"),
        };
    }
    match path.strip_prefix(CDS_SERVICES) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            cds_hooks(request, path, rest, api, context)
                .await
                .with_cors()
        }
        _ => outcome(404, "not-found", "no endpoint at this path"),
    }
}

/// The CDS Hooks endpoints: every call authenticated, discovery included, as the
/// specification requires; a browser's CORS preflight is answered without.
async fn cds_hooks<S: ReplayStore, F: FhirServer>(
    request: &Request,
    path: &str,
    rest: &str,
    api: &impl PredictionApi,
    context: &Context<'_, S, F>,
) -> Response {
    let segments: Vec<&str> = rest.split('/').skip(1).collect();
    let (id, is_feedback, allowed) = match segments.as_slice() {
        [] => (None, false, "GET"),
        [id] if !id.is_empty() => (Some(*id), false, "POST"),
        [id, "feedback"] if !id.is_empty() => (Some(*id), true, "POST"),
        _ => return outcome(404, "not-found", "no endpoint at this path"),
    };
    if request.method == "OPTIONS" {
        return Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
            log_lines: Vec::new(),
        }
        .with_header("allow", &format!("{allowed}, OPTIONS"));
    }
    // The method first: a 405 tells nothing a caller could not read in the specification.
    if request.method != allowed {
        return not_allowed(allowed);
    }
    let Some(audience) = audience(request, path, context.public_url) else {
        return unauthorized();
    };
    let authorization = request.header("authorization");
    if authenticate(
        authorization,
        &(context.trusted)(),
        &audience,
        context.now,
        context.replays,
    )
    .is_err()
    {
        return unauthorized();
    }
    let today = Date::from_unix_seconds(context.now);
    match (id, today) {
        (None, _) => services(api).await,
        (Some(id), _) if is_feedback => match feedback(request, id, api).await {
            Ok(lines) => {
                let mut response = json_response(&serde_json::json!({}));
                response.log_lines = lines;
                response
            }
            Err(response) => response,
        },
        (Some(id), Some(today)) => {
            let ehr = EhrServer {
                allowed: context.fhir_server,
                server: context.fhir,
            };
            call_service(request, id, api, &ehr, today).await
        }
        (Some(_), None) => outcome(500, "exception", "the clock gives no date"),
    }
}

/// The discovery document, from every model's card.
async fn services(api: &impl PredictionApi) -> Response {
    let cards = match api.get("/models").await {
        Ok(answer) if answer.status == 200 => {
            serde_json::from_slice::<ModelCards>(&answer.body).ok()
        }
        _ => None,
    };
    match cards {
        Some(cards) => json_response(&discovery(&cards.models)),
        None => outcome(
            502,
            "exception",
            "the prediction API did not list its models",
        ),
    }
}

/// The URL the EHR called, which the token's `aud` must be: the configured public base URL
/// and the path, else the URL Spin received (without its query).
fn audience(request: &Request, path: &str, public_url: Option<&str>) -> Option<String> {
    match public_url {
        Some(base) => Some(format!("{}{path}", base.trim_end_matches('/'))),
        None => {
            let full = request.header("spin-full-url")?;
            Some(full.split_once('?').map_or(full, |(url, _)| url).to_owned())
        }
    }
}

/// 401 without detail: a caller learns nothing about why its token failed.
fn unauthorized() -> Response {
    Response {
        status: 401,
        headers: Vec::new(),
        body: Vec::new(),
        log_lines: Vec::new(),
    }
    .with_header("www-authenticate", "Bearer")
}

fn not_allowed(allowed: &str) -> Response {
    outcome(
        405,
        "not-supported",
        &format!("method not allowed; allowed: {allowed}"),
    )
    .with_header("allow", allowed)
}
