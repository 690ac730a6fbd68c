//! A compact JWS (RFC 7515) carrying the EHR's claims (RFC 7519), verified.

use p384::ecdsa::signature::Verifier;
use serde::Deserialize;

use super::jwk::{decoded, PublicKey, TrustedIssuers};

/// Longest token read: an EHR's token is well under a kilobyte.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What the service keeps of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub jti: String,
    /// Unix seconds.
    pub exp: i64,
}

/// Why a call is refused. Each is the same 401 to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("no bearer token")]
    NoToken,
    #[error("the token is not a compact JWS with a JSON header and claims")]
    Malformed,
    #[error(
        "the token is signed with an algorithm this service does not accept (ES384 and RS384 only)"
    )]
    Algorithm,
    #[error("the token's issuer is not trusted")]
    UnknownIssuer,
    #[error("the issuer has no key with the token's kid")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token's audience is not the URL called")]
    Audience,
    #[error("the token has expired")]
    Expired,
    #[error("the token has no jti")]
    NoJti,
    #[error("the token's jti was used before")]
    Replayed,
    #[error("{0}")]
    Store(String),
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    jti: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, url: &str) -> bool {
        match self {
            Audience::One(one) => one == url,
            Audience::Many(many) => many.iter().any(|one| one == url),
        }
    }
}

/// The claims of the token in `authorization` (`Bearer <token>`), if it is signed by a trusted
/// issuer's key with ES384 or RS384, for `audience`, unexpired at `now` (Unix seconds), and has
/// a `jti`. The signature is checked before any claim is believed.
pub fn verify(
    authorization: Option<&str>,
    trusted: &TrustedIssuers,
    audience: &str,
    now: i64,
) -> Result<Claims, Rejected> {
    let token = authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty() && token.len() <= MAX_TOKEN_BYTES)
        .ok_or(Rejected::NoToken)?;
    let mut parts = token.split('.');
    let (Some(header64), Some(payload64), Some(signature64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejected::Malformed);
    };
    let header: Header = json_part(header64)?;
    if header
        .typ
        .as_deref()
        .is_some_and(|typ| !typ.eq_ignore_ascii_case("JWT"))
    {
        return Err(Rejected::Malformed);
    }
    let payload: Payload = json_part(payload64)?;
    let signature = decoded(signature64).ok_or(Rejected::Malformed)?;
    let issuer = payload.iss.as_deref().ok_or(Rejected::UnknownIssuer)?;
    if !matches!(header.alg.as_str(), "ES384" | "RS384") {
        return Err(Rejected::Algorithm);
    }
    if !trusted.is_trusted(issuer) {
        return Err(Rejected::UnknownIssuer);
    }
    let kid = header.kid.as_deref().ok_or(Rejected::UnknownKey)?;
    let key = trusted.key(issuer, kid).ok_or(Rejected::UnknownKey)?;
    let signed = &token.as_bytes()[..header64.len() + 1 + payload64.len()];
    let verified = match (header.alg.as_str(), key) {
        ("ES384", PublicKey::Ec384(key)) => p384::ecdsa::Signature::from_slice(&signature)
            .is_ok_and(|signature| key.verify(signed, &signature).is_ok()),
        ("RS384", PublicKey::Rsa(key)) => {
            let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key.clone());
            rsa::pkcs1v15::Signature::try_from(signature.as_slice())
                .is_ok_and(|signature| key.verify(signed, &signature).is_ok())
        }
        // The key is of the other type: an EC key cannot check an RSA signature.
        _ => return Err(Rejected::Algorithm),
    };
    if !verified {
        return Err(Rejected::Signature);
    }
    if !payload.aud.is_some_and(|aud| aud.contains(audience)) {
        return Err(Rejected::Audience);
    }
    let exp = payload
        .exp
        .filter(|exp| exp.is_finite())
        .ok_or(Rejected::Expired)?;
    // NumericDate may have a fraction; a token is valid until the second it names.
    let exp = exp.floor() as i64;
    if exp <= now {
        return Err(Rejected::Expired);
    }
    let jti = payload
        .jti
        .filter(|jti| !jti.is_empty())
        .ok_or(Rejected::NoJti)?;
    Ok(Claims {
        iss: issuer.to_owned(),
        jti,
        exp,
    })
}

fn json_part<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, Rejected> {
    let bytes = decoded(part).ok_or(Rejected::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| Rejected::Malformed)
}
