//! Token → claims: the pure checks of RFC 8725 and RFC 9068, with every rejection named.
//!
//! The order is cheap-and-structural first, then the signature, then the claims: nothing in the
//! payload is trusted, or even parsed, before the signature over it has been checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::claims::{
    ACCESS_TOKEN_TYPE, AccessClaims, Audience, REFRESH_TOKEN_TYPE, RefreshClaims, Role,
};
use crate::keys::KeySet;

/// Why a token was refused. `reason()` is a fixed label for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not three base64url parts of a JWS in compact form.
    #[error("the token is not a JWS in compact form")]
    Malformed,
    /// `alg` is not RS256 (`none` and HMAC included).
    #[error("the token's algorithm is not RS256")]
    UnsupportedAlgorithm,
    /// `typ` is not the one of the token expected here.
    #[error("the token's type is not the one expected here")]
    WrongType,
    /// A `crit` header, which RFC 7515 says must be understood to be accepted.
    #[error("the token has a critical header this verifier does not understand")]
    UnsupportedCriticalHeader,
    /// No `kid` header.
    #[error("the token names no key (kid)")]
    MissingKeyId,
    /// A `kid` the key set does not hold.
    #[error("the token names a key this verifier does not know")]
    UnknownKeyId,
    /// The named key is not published for RS256.
    #[error("the token's key is not published for RS256")]
    KeyAlgorithmMismatch,
    /// The signature does not verify with the named key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// The payload is not a JSON object of the expected shape.
    #[error("the token's claims are not a JSON object of the expected shape")]
    MalformedClaims,
    /// A required claim is absent.
    #[error("the token lacks the required claim `{0}`")]
    MissingClaim(&'static str),
    /// `iss` is not the configured issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("the token is not meant for this audience")]
    WrongAudience,
    /// `exp` has passed, beyond the leeway.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still ahead, beyond the leeway.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `role` names no role this crate knows.
    #[error("the token's role is unknown")]
    UnknownRole,
    /// No keys are held (none fetched yet, or stale past their limit).
    #[error("no signing keys are available to verify the token")]
    NoKeys,
    /// The issuer ended the token's session, or changed what its user may do, after it was
    /// issued.
    #[error("the token has been revoked: its session has ended or its rights have changed")]
    Revoked,
}

impl Rejection {
    /// A fixed label for logs and metrics (`token_rejections_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::UnsupportedAlgorithm => "unsupported_alg",
            Rejection::WrongType => "wrong_typ",
            Rejection::UnsupportedCriticalHeader => "unsupported_crit",
            Rejection::MissingKeyId => "missing_kid",
            Rejection::UnknownKeyId => "unknown_kid",
            Rejection::KeyAlgorithmMismatch => "key_alg_mismatch",
            Rejection::BadSignature => "bad_signature",
            Rejection::MalformedClaims => "malformed_claims",
            Rejection::MissingClaim(_) => "missing_claim",
            Rejection::WrongIssuer => "wrong_iss",
            Rejection::WrongAudience => "wrong_aud",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::UnknownRole => "unknown_role",
            Rejection::NoKeys => "no_keys",
            Rejection::Revoked => "revoked",
        }
    }
}

/// The `typ` headers an access token may carry (RFC 9068 §4: `at+jwt`, or the full media type,
/// compared case-insensitively).
fn is_access_typ(typ: &str) -> bool {
    typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || typ.eq_ignore_ascii_case("application/at+jwt")
}

fn is_refresh_typ(typ: &str) -> bool {
    typ.eq_ignore_ascii_case(REFRESH_TOKEN_TYPE)
}

/// What an API accepts: access tokens from `issuer` for `audience`, `exp` and `nbf` checked
/// within `leeway_secs`.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The `iss` every token must carry, exactly.
    pub issuer: String,
    /// The audience a token's `aud` must contain.
    pub audience: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: i64,
}

impl VerifierConfig {
    /// Access tokens from `issuer` for `audience`, with `leeway_secs` of clock skew.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, leeway_secs: u64) -> Self {
        VerifierConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_secs: i64::try_from(leeway_secs).unwrap_or(i64::MAX),
        }
    }
}

#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
    crit: Option<serde::de::IgnoredAny>,
}

/// The claims every token carries, before they are known to be present.
#[derive(Deserialize)]
struct WireClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
    sid: Option<String>,
    role: Option<String>,
    email: Option<String>,
    iat_us: Option<i64>,
}

/// The registered claims, present and checked.
struct Checked {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    jti: String,
    sid: String,
}

/// An access token that verified: its claims, and the `kid` of the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAccessToken {
    /// The token's claims, every one checked.
    pub claims: AccessClaims,
    /// The key it was signed with (a token cache forgets it when the key leaves the JWKS).
    pub kid: String,
}

/// Access token → claims: the pure checks of RFC 8725 and RFC 9068, no I/O.
#[derive(Debug, Clone)]
pub struct AccessTokenVerifier {
    config: VerifierConfig,
}

impl AccessTokenVerifier {
    /// A verifier of access tokens as `config` describes them.
    pub fn new(config: VerifierConfig) -> Self {
        AccessTokenVerifier { config }
    }

    /// What it accepts.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verifies an access token at time `now` (seconds since the epoch) against `keys`.
    pub fn verify(
        &self,
        token: &str,
        keys: &KeySet,
        now: i64,
    ) -> Result<VerifiedAccessToken, Rejection> {
        let (wire, kid) = verify_jws::<WireClaims>(token, keys, is_access_typ)?;
        let role = wire.role.clone();
        let email = wire.email.clone();
        let iat_us = wire.iat_us;
        let nbf = wire.nbf.ok_or(Rejection::MissingClaim("nbf"))?;
        let checked = check_claims(
            wire,
            &self.config.issuer,
            &self.config.audience,
            self.config.leeway_secs,
            now,
        )?;
        let role: Role = role
            .ok_or(Rejection::MissingClaim("role"))?
            .parse()
            .map_err(|_| Rejection::UnknownRole)?;
        let email = email.ok_or(Rejection::MissingClaim("email"))?;
        Ok(VerifiedAccessToken {
            claims: AccessClaims {
                iss: checked.iss,
                sub: checked.sub,
                aud: checked.aud,
                exp: checked.exp,
                iat: checked.iat,
                nbf,
                jti: checked.jti,
                role,
                email,
                sid: checked.sid,
                iat_us,
            },
            kid,
        })
    }
}

/// Refresh token → claims, as the issuer checks its own: `aud` is the issuer, no leeway.
#[derive(Debug, Clone)]
pub struct RefreshTokenVerifier {
    issuer: String,
}

impl RefreshTokenVerifier {
    /// A verifier of the refresh tokens `issuer` signed.
    pub fn new(issuer: impl Into<String>) -> Self {
        RefreshTokenVerifier {
            issuer: issuer.into(),
        }
    }

    /// Verifies a refresh token at time `now` (seconds since the epoch) against `keys`.
    pub fn verify(&self, token: &str, keys: &KeySet, now: i64) -> Result<RefreshClaims, Rejection> {
        let (wire, _kid) = verify_jws::<WireClaims>(token, keys, is_refresh_typ)?;
        let checked = check_claims(wire, &self.issuer, &self.issuer, 0, now)?;
        Ok(RefreshClaims {
            iss: checked.iss,
            sub: checked.sub,
            aud: checked.aud,
            exp: checked.exp,
            iat: checked.iat,
            jti: checked.jti,
            sid: checked.sid,
        })
    }
}

/// Header, key and signature; returns the payload parsed as `T` and the key's `kid`. Nothing
/// in the payload is parsed before the signature over it has been checked.
pub(crate) fn verify_jws<T: DeserializeOwned>(
    token: &str,
    keys: &KeySet,
    accepts_typ: fn(&str) -> bool,
) -> Result<(T, String), Rejection> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let header_json = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| Rejection::Malformed)?;
    let header: JoseHeader =
        serde_json::from_slice(&header_json).map_err(|_| Rejection::Malformed)?;

    if header.alg != "RS256" {
        return Err(Rejection::UnsupportedAlgorithm);
    }
    if !header.typ.as_deref().is_some_and(accepts_typ) {
        return Err(Rejection::WrongType);
    }
    if header.crit.is_some() {
        return Err(Rejection::UnsupportedCriticalHeader);
    }
    let kid = header
        .kid
        .filter(|k| !k.is_empty())
        .ok_or(Rejection::MissingKeyId)?;
    let key = keys.get(&kid).ok_or(Rejection::UnknownKeyId)?;
    if !key.rs256 {
        return Err(Rejection::KeyAlgorithmMismatch);
    }

    let signed_len = header_b64.len() + 1 + payload_b64.len();
    let message = token.get(..signed_len).ok_or(Rejection::Malformed)?;
    match jsonwebtoken::crypto::verify(
        signature_b64,
        message.as_bytes(),
        &key.decoding,
        Algorithm::RS256,
    ) {
        Ok(true) => {}
        Ok(false) => return Err(Rejection::BadSignature),
        Err(_) => return Err(Rejection::Malformed),
    }

    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| Rejection::MalformedClaims)?;
    let claims = serde_json::from_slice(&payload).map_err(|_| Rejection::MalformedClaims)?;
    Ok((claims, kid))
}

fn check_claims(
    wire: WireClaims,
    issuer: &str,
    audience: &str,
    leeway: i64,
    now: i64,
) -> Result<Checked, Rejection> {
    let iss = wire.iss.ok_or(Rejection::MissingClaim("iss"))?;
    if iss != issuer {
        return Err(Rejection::WrongIssuer);
    }
    let aud = wire.aud.ok_or(Rejection::MissingClaim("aud"))?;
    if !aud.contains(audience) {
        return Err(Rejection::WrongAudience);
    }
    let exp = wire.exp.ok_or(Rejection::MissingClaim("exp"))?;
    if now > exp.saturating_add(leeway) {
        return Err(Rejection::Expired);
    }
    if let Some(nbf) = wire.nbf
        && nbf > now.saturating_add(leeway)
    {
        return Err(Rejection::NotYetValid);
    }
    Ok(Checked {
        iss,
        sub: wire.sub.ok_or(Rejection::MissingClaim("sub"))?,
        aud,
        exp,
        iat: wire.iat.ok_or(Rejection::MissingClaim("iat"))?,
        jti: wire.jti.ok_or(Rejection::MissingClaim("jti"))?,
        sid: wire.sid.ok_or(Rejection::MissingClaim("sid"))?,
    })
}

/// Seconds since the epoch, as JWT times are counted.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The `kid` a token's header names, without verifying anything.
pub(crate) fn peek_kid(token: &str) -> Option<String> {
    let header_b64 = token.split('.').next()?;
    let header_json = URL_SAFE_NO_PAD.decode(header_b64).ok()?;
    serde_json::from_slice::<JoseHeader>(&header_json).ok()?.kid
}
