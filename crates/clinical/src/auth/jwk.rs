//! The trusted issuers and their public keys, as the operator configures them: a JSON object
//! from each issuer (`iss`) to its JWK Set (RFC 7517), e.g.
//! `{"https://ehr.example.org": {"keys": [{"kty": "EC", "crv": "P-384", "kid": "k1", "x": "…",
//! "y": "…"}]}}`. Keys of other types or curves, and RSA keys under 2048 bits, are refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p384::ecdsa::VerifyingKey as EcKey;
use rsa::{BigUint, RsaPublicKey};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The smallest RSA modulus accepted, in bits (NIST SP 800-131A).
const MIN_RSA_BITS: usize = 2048;

/// One issuer's key.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// ES384: ECDSA on P-384 with SHA-384.
    Ec384(EcKey),
    /// RS384: RSASSA-PKCS1-v1_5 with SHA-384.
    Rsa(RsaPublicKey),
}

#[derive(Debug, Clone, Default)]
pub struct TrustedIssuers {
    /// Issuer → (kid, key).
    issuers: BTreeMap<String, Vec<(String, PublicKey)>>,
}

/// Why the configuration cannot be used; it names the issuer and the key, never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuersError {
    #[error("the trusted issuers are not a JSON object of JWK Sets")]
    NotJson,
    #[error("issuer {issuer:?}: key {kid:?} is not an EC P-384 or RSA (2048 bits or more) public key with a kid")]
    BadKey { issuer: String, kid: String },
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

impl TrustedIssuers {
    /// No issuer at all: every call is refused (the default configuration).
    pub fn none() -> TrustedIssuers {
        TrustedIssuers::default()
    }

    pub fn from_json(text: &str) -> Result<TrustedIssuers, IssuersError> {
        let sets: BTreeMap<String, JwkSet> =
            serde_json::from_str(text).map_err(|_| IssuersError::NotJson)?;
        let mut issuers = BTreeMap::new();
        for (issuer, set) in sets {
            let mut keys = Vec::new();
            for jwk in set.keys {
                let bad = || IssuersError::BadKey {
                    issuer: issuer.clone(),
                    kid: jwk.kid.clone(),
                };
                let key = public_key(&jwk).ok_or_else(bad)?;
                if jwk.kid.is_empty() {
                    return Err(bad());
                }
                keys.push((jwk.kid.clone(), key));
            }
            issuers.insert(issuer, keys);
        }
        Ok(TrustedIssuers { issuers })
    }

    /// The key `kid` of `issuer`, if the issuer is trusted and has it.
    pub fn key(&self, issuer: &str, kid: &str) -> Option<&PublicKey> {
        self.issuers
            .get(issuer)?
            .iter()
            .find(|(id, _)| id == kid)
            .map(|(_, key)| key)
    }

    pub fn is_trusted(&self, issuer: &str) -> bool {
        self.issuers.contains_key(issuer)
    }

    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }
}

fn public_key(jwk: &Jwk) -> Option<PublicKey> {
    match jwk.kty.as_str() {
        "EC" if jwk.crv.as_deref() == Some("P-384") => {
            let x = decoded(jwk.x.as_deref()?)?;
            let y = decoded(jwk.y.as_deref()?)?;
            if x.len() != 48 || y.len() != 48 {
                return None;
            }
            let mut point = Vec::with_capacity(97);
            point.push(0x04); // uncompressed SEC1 point
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            EcKey::from_sec1_bytes(&point).ok().map(PublicKey::Ec384)
        }
        "RSA" => {
            let n = BigUint::from_bytes_be(&decoded(jwk.n.as_deref()?)?);
            let e = BigUint::from_bytes_be(&decoded(jwk.e.as_deref()?)?);
            if n.bits() < MIN_RSA_BITS {
                return None;
            }
            RsaPublicKey::new(n, e).ok().map(PublicKey::Rsa)
        }
        _ => None,
    }
}

/// base64url without padding (RFC 7515 §2), as JOSE writes every binary value.
pub fn decoded(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
