//! CDS Hooks' JWTs with real ES384 and RS384 keys (tests/data/test-signing-keys.json): the
//! issue's cases, each checked for its reason and, through the endpoint, as a bare 401.

mod common;

use clinical::auth::{authenticate, verify, Rejected, TrustedIssuers};
use clinical::http::Request;
use common::*;
use serde_json::json;

const PATH: &str = "/cds-services";

fn audience() -> String {
    format!("{PUBLIC_URL}{PATH}")
}

fn check(token: &str) -> Result<(), Rejected> {
    verify(
        Some(&format!("Bearer {token}")),
        &trusted_issuers(),
        &audience(),
        NOW,
    )
    .map(|_| ())
}

#[test]
fn valid_es384_and_rs384_tokens_are_trusted() {
    assert_eq!(check(&token(&es384_header(), &claims(PATH, "a"))), Ok(()));
    assert_eq!(check(&token(&rs384_header(), &claims(PATH, "b"))), Ok(()));
    // `aud` may be a list holding the URL; NumericDate may have a fraction.
    let mut listed = claims(PATH, "c");
    listed["aud"] = json!(["https://other.example.org", audience()]);
    listed["exp"] = json!(NOW as f64 + 0.5 + 60.0);
    assert_eq!(check(&token(&rs384_header(), &listed)), Ok(()));
}

#[test]
fn an_expired_token_is_refused() {
    let mut expired = claims(PATH, "a");
    expired["exp"] = json!(NOW);
    assert_eq!(
        check(&token(&es384_header(), &expired)),
        Err(Rejected::Expired)
    );
    expired.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        check(&token(&es384_header(), &expired)),
        Err(Rejected::Expired)
    );
}

#[test]
fn a_token_for_another_url_is_refused() {
    let mut other = claims(PATH, "a");
    other["aud"] = json!("https://cds.example.org/cds-services/another");
    assert_eq!(
        check(&token(&es384_header(), &other)),
        Err(Rejected::Audience)
    );
    other["aud"] = json!(["https://cds.example.org"]);
    assert_eq!(
        check(&token(&rs384_header(), &other)),
        Err(Rejected::Audience)
    );
}

#[test]
fn an_unknown_issuer_or_key_is_refused_and_no_jku_is_followed() {
    let mut stranger = claims(PATH, "a");
    stranger["iss"] = json!("https://attacker.example.org");
    assert_eq!(
        check(&token(&es384_header(), &stranger)),
        Err(Rejected::UnknownIssuer)
    );
    let mut header = es384_header();
    header["kid"] = json!("another-key");
    header["jku"] = json!("https://attacker.example.org/jwks.json");
    assert_eq!(
        check(&token(&header, &claims(PATH, "b"))),
        Err(Rejected::UnknownKey)
    );
    // With no issuer configured (the default), nothing is trusted.
    let token = token(&es384_header(), &claims(PATH, "c"));
    let none = verify(
        Some(&format!("Bearer {token}")),
        &TrustedIssuers::none(),
        &audience(),
        NOW,
    );
    assert_eq!(none, Err(Rejected::UnknownIssuer));
}

#[test]
fn alg_none_hmac_and_algorithm_confusion_are_refused() {
    for alg in ["none", "HS256", "HS384", "ES256", "RS256", "PS384"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": signing_keys()["es384"]["kid"]});
        assert_eq!(
            check(&token(&header, &claims(PATH, "a"))),
            Err(Rejected::Algorithm),
            "{alg}"
        );
    }
    // An RS384 header naming the EC key (and the reverse): the key decides, not the header.
    let mut confused = rs384_header();
    confused["kid"] = signing_keys()["es384"]["kid"].clone();
    assert_eq!(
        check(&token(&confused, &claims(PATH, "b"))),
        Err(Rejected::Algorithm)
    );
}

#[test]
fn a_tampered_payload_or_signature_is_refused() {
    let genuine = token(&es384_header(), &claims(PATH, "a"));
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let mut forged = claims(PATH, "a");
    forged["exp"] = json!(NOW + 86_400 * 365);
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    assert_eq!(check(&parts.join(".")), Err(Rejected::Signature));
    let rsa = token(&rs384_header(), &claims(PATH, "b"));
    let flipped = format!("{}A", &rsa[..rsa.len() - 1]);
    let flipped = if flipped == rsa {
        format!("{}B", &rsa[..rsa.len() - 1])
    } else {
        flipped
    };
    assert_eq!(check(&flipped), Err(Rejected::Signature));
    assert_eq!(check("not.a-token"), Err(Rejected::Malformed));
    assert_eq!(check(""), Err(Rejected::NoToken));
}

#[test]
fn a_replayed_jti_is_refused_until_the_token_expires() {
    let replays = MemoryReplays::default();
    let header = format!("Bearer {}", token(&es384_header(), &claims(PATH, "once")));
    let trusted = trusted_issuers();
    assert!(authenticate(Some(&header), &trusted, &audience(), NOW, &replays).is_ok());
    assert_eq!(
        authenticate(Some(&header), &trusted, &audience(), NOW + 1, &replays),
        Err(Rejected::Replayed)
    );
    // A token without a jti cannot be checked for replay: refused.
    let mut anonymous = claims(PATH, "");
    anonymous.as_object_mut().unwrap().remove("jti");
    assert_eq!(
        check(&token(&es384_header(), &anonymous)),
        Err(Rejected::NoJti)
    );
}

#[test]
fn through_the_endpoint_every_failure_is_a_bare_401() {
    let replays = MemoryReplays::default();
    let valid = token(&es384_header(), &claims(PATH, "endpoint"));
    let with = |authorization: Option<&str>| {
        let mut request = Request::new("GET", PATH);
        if let Some(value) = authorization {
            request = request.with_header("authorization", value);
        }
        call_with(&request, &replays)
    };
    let first = with(Some(&format!("Bearer {valid}")));
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    for authorization in [
        Some(format!("Bearer {valid}")),
        None,
        Some(format!("Basic {valid}")),
        Some(format!(
            "Bearer {}",
            token(&json!({"alg": "none"}), &claims(PATH, "x"))
        )),
    ] {
        let refused = with(authorization.as_deref());
        assert_eq!(refused.status, 401);
        assert!(refused.body.is_empty());
        assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    }
}

#[test]
fn the_configuration_refuses_keys_it_cannot_use_naming_no_key_material() {
    let weak =
        json!({ISSUER: {"keys": [{"kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB"}]}});
    let error = TrustedIssuers::from_json(&weak.to_string()).unwrap_err();
    assert_eq!(error.to_string(), "issuer \"https://ehr.example.org\": key \"short\" is not an EC P-384 or RSA (2048 bits or more) public key with a kid");
    let p256 =
        json!({ISSUER: {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": "", "y": ""}]}});
    assert!(TrustedIssuers::from_json(&p256.to_string()).is_err());
    assert!(TrustedIssuers::from_json("[]").is_err());
    assert!(TrustedIssuers::from_json(&trusted_issuers_json()).is_ok());
}
