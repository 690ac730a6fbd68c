//! CDS Hooks' security (2.0, "Trusting CDS Clients"): every call carries the EHR's JWT as
//! `Authorization: Bearer <token>`, and the service trusts it only when
//!
//! - it is signed with ES384 or RS384 (never `none`, never an HMAC, nothing else) by a key of
//!   an issuer the operator configured, found by the token's `kid`;
//! - `iss` is that issuer, `aud` the URL called, `exp` in the future, and its `jti` was never
//!   seen before (the caller's [`ReplayStore`] remembers each until its `exp`).
//!
//! Keys come from configuration only: a `jku` in the token is never fetched. Every failure is
//! the same 401 for the caller; the reason is for the tests and the component's log.

mod jwk;
mod token;

pub use jwk::{IssuersError, TrustedIssuers};
pub use token::{verify, Claims, Rejected, MAX_TOKEN_BYTES};

/// Remembers the `jti`s already used.
pub trait ReplayStore {
    /// Records `key` as used until `expires` (Unix seconds), and says whether it was unused:
    /// false when the key was recorded before and that record has not expired.
    fn first_use(&self, key: &str, expires: i64, now: i64) -> Result<bool, ReplayStoreError>;
}

/// The store could not be read or written: the call is refused, never waved through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the replay store failed: {0}")]
pub struct ReplayStoreError(pub String);

/// Checks a call's `Authorization` header: the token verified against `trusted` for
/// `audience` at `now`, then its `jti` recorded in `replays`.
pub fn authenticate(
    authorization: Option<&str>,
    trusted: &TrustedIssuers,
    audience: &str,
    now: i64,
    replays: &impl ReplayStore,
) -> Result<Claims, Rejected> {
    let claims = verify(authorization, trusted, audience, now)?;
    let key = format!("jti:{}:{}", claims.iss, claims.jti);
    match replays.first_use(&key, claims.exp, now) {
        Ok(true) => Ok(claims),
        Ok(false) => Err(Rejected::Replayed),
        Err(error) => Err(Rejected::Store(error.0)),
    }
}
