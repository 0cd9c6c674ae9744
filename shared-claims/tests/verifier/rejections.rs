//! One test per way a token must be refused, and the shapes that must pass.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use serde_json::json;
use shared_claims::Rejection;
use shared_claims::test_util::{TestKey, access_claims, access_header, hmac_token, unsigned_token};

use crate::helpers::*;

fn verify(token: &str) -> Result<shared_claims::AccessClaims, Rejection> {
    verifier()
        .verify(token, &jwks(&[key().jwk()]), now())
        .map(|verified| verified.claims)
}

#[test]
fn a_valid_access_token_is_accepted_with_its_claims() {
    let claims = verify(&token(json!({"sub": "u-1", "role": "admin", "sid": "s-1"}))).unwrap();
    assert_eq!(claims.sub, "u-1");
    assert_eq!(claims.role, shared_claims::Role::Admin);
    assert_eq!(claims.sid, "s-1");
}

#[test]
fn the_full_media_type_and_any_case_are_accepted_as_typ() {
    for typ in ["application/at+jwt", "AT+JWT", "Application/At+Jwt"] {
        let mut header = access_header(&key().kid);
        header.typ = Some(typ.into());
        let token = key().sign(header, &access_claims(ISSUER, AUDIENCE, json!({})));
        assert!(verify(&token).is_ok(), "{typ}");
    }
}

#[test]
fn an_audience_array_containing_ours_is_accepted() {
    let token = token(json!({"aud": ["other-api", AUDIENCE]}));
    assert!(verify(&token).is_ok());
}

#[test]
fn alg_none_is_refused() {
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": key().kid});
    let token = unsigned_token(&header, &access_claims(ISSUER, AUDIENCE, json!({})));
    assert_eq!(verify(&token), Err(Rejection::UnsupportedAlgorithm));
}

#[test]
fn hs256_signed_with_the_public_key_pem_is_refused() {
    let claims = access_claims(ISSUER, AUDIENCE, json!({}));
    let token = hmac_token(&key().kid, key().public_pem.as_bytes(), &claims);
    assert_eq!(verify(&token), Err(Rejection::UnsupportedAlgorithm));
}

#[test]
fn a_refresh_token_is_refused_as_an_access_token() {
    let mut header = access_header(&key().kid);
    header.typ = Some("rt+jwt".into());
    let claims = access_claims(
        ISSUER,
        ISSUER,
        json!({"role": null, "email": null, "nbf": null}),
    );
    let token = key().sign(header, &claims);
    assert_eq!(verify(&token), Err(Rejection::WrongType));
}

#[test]
fn a_token_without_typ_or_with_plain_jwt_is_refused() {
    for typ in [None, Some("JWT")] {
        let mut header = access_header(&key().kid);
        header.typ = typ.map(Into::into);
        let token = key().sign(header, &access_claims(ISSUER, AUDIENCE, json!({})));
        assert_eq!(verify(&token), Err(Rejection::WrongType), "{typ:?}");
    }
}

#[test]
fn a_wrong_issuer_is_refused() {
    let token = token(json!({"iss": "https://evil.test"}));
    assert_eq!(verify(&token), Err(Rejection::WrongIssuer));
}

#[test]
fn a_wrong_audience_is_refused() {
    for aud in [json!("other-api"), json!(["a", "b"]), json!([])] {
        let token = token(json!({ "aud": aud }));
        assert_eq!(verify(&token), Err(Rejection::WrongAudience), "{aud}");
    }
}

#[test]
fn expired_beyond_the_leeway_is_refused_and_within_it_accepted() {
    let leeway = LEEWAY as i64;
    let beyond = token(json!({"exp": now() - leeway - 5}));
    assert_eq!(verify(&beyond), Err(Rejection::Expired));
    let within = token(json!({"exp": now() - leeway + 5}));
    assert!(verify(&within).is_ok());
}

#[test]
fn nbf_in_the_future_beyond_the_leeway_is_refused() {
    let leeway = LEEWAY as i64;
    let future = token(json!({"nbf": now() + leeway + 60}));
    assert_eq!(verify(&future), Err(Rejection::NotYetValid));
    let skewed = token(json!({"nbf": now() + leeway - 5}));
    assert!(verify(&skewed).is_ok());
}

#[test]
fn a_token_without_kid_is_refused() {
    let mut header = access_header(&key().kid);
    header.kid = None;
    let token = key().sign(header, &access_claims(ISSUER, AUDIENCE, json!({})));
    assert_eq!(verify(&token), Err(Rejection::MissingKeyId));
}

#[test]
fn a_token_naming_an_unknown_kid_is_refused() {
    let token = other_key().access_token(ISSUER, AUDIENCE, json!({}));
    assert_eq!(verify(&token), Err(Rejection::UnknownKeyId));
}

#[test]
fn a_token_signed_by_another_key_under_our_kid_is_refused() {
    let forged = other_key().sign(
        access_header(&key().kid),
        &access_claims(ISSUER, AUDIENCE, json!({})),
    );
    assert_eq!(verify(&forged), Err(Rejection::BadSignature));
}

#[test]
fn a_tampered_payload_is_refused() {
    let token = token(json!({"role": "user"}));
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("admin");
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
    assert_eq!(verify(&tampered), Err(Rejection::BadSignature));
}

#[test]
fn truncated_or_non_base64_tokens_are_refused_as_malformed() {
    let token = token(json!({}));
    let (without_signature, _) = token.rsplit_once('.').unwrap();
    for bad in [
        "",
        "abc",
        "a.b",
        without_signature,
        &token[..token.len() - 10],
        "!!!.###.$$$",
        "eyJhbGciOiJSUzI1NiJ9.e30.e30.e30",
        &format!("{token}.extra"),
    ] {
        let result = verify(bad);
        assert!(
            matches!(result, Err(Rejection::Malformed | Rejection::BadSignature)),
            "{bad:?}: {result:?}"
        );
    }
    assert_eq!(verify("!!!.###.$$$"), Err(Rejection::Malformed));
    assert_eq!(verify("a.b"), Err(Rejection::Malformed));
}

#[test]
fn a_key_whose_jwk_names_another_alg_is_refused() {
    let keys = jwks(&[key().jwk_with_alg("PS256")]);
    let result = verifier().verify(&token(json!({})), &keys, now());
    assert_eq!(result.map(|_| ()), Err(Rejection::KeyAlgorithmMismatch));
}

#[test]
fn a_key_published_without_alg_is_refused() {
    let mut jwk = key().jwk();
    jwk.as_object_mut().unwrap().remove("alg");
    let result = verifier().verify(&token(json!({})), &jwks(&[jwk]), now());
    assert_eq!(result.map(|_| ()), Err(Rejection::KeyAlgorithmMismatch));
}

#[test]
fn a_key_under_2048_bits_is_never_trusted() {
    let weak = TestKey::generate_bits(1024);
    let keys = jwks(&[weak.jwk()]);
    assert!(keys.is_empty());
    // aws-lc will not even sign with it; a token naming it finds no key.
    let token = key().sign(
        access_header(&weak.kid),
        &access_claims(ISSUER, AUDIENCE, json!({})),
    );
    let result = verifier().verify(&token, &keys, now());
    assert_eq!(result.map(|_| ()), Err(Rejection::UnknownKeyId));
}

#[test]
fn each_required_claim_must_be_present() {
    for claim in [
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "role", "email", "sid",
    ] {
        let token = token(json!({ claim: null }));
        let result = verify(&token);
        assert!(
            matches!(result, Err(Rejection::MissingClaim(c)) if c == claim),
            "{claim}: {result:?}"
        );
    }
}

#[test]
fn an_unknown_role_is_refused() {
    for role in [json!("superuser"), json!("Admin"), json!(1)] {
        let result = verify(&token(json!({ "role": role })));
        assert!(
            matches!(
                result,
                Err(Rejection::UnknownRole | Rejection::MalformedClaims)
            ),
            "{role}: {result:?}"
        );
    }
    assert_eq!(
        verify(&token(json!({"role": "superuser"}))),
        Err(Rejection::UnknownRole)
    );
}

#[test]
fn a_critical_header_is_refused() {
    let mut header: Header = access_header(&key().kid);
    header.crit = Some(vec!["exp".into()]);
    let token = key().sign(header, &access_claims(ISSUER, AUDIENCE, json!({})));
    assert_eq!(verify(&token), Err(Rejection::UnsupportedCriticalHeader));
}

#[test]
fn every_rejection_has_a_distinct_reason_label() {
    let all = [
        Rejection::Malformed,
        Rejection::UnsupportedAlgorithm,
        Rejection::WrongType,
        Rejection::UnsupportedCriticalHeader,
        Rejection::MissingKeyId,
        Rejection::UnknownKeyId,
        Rejection::KeyAlgorithmMismatch,
        Rejection::BadSignature,
        Rejection::MalformedClaims,
        Rejection::MissingClaim("sub"),
        Rejection::WrongIssuer,
        Rejection::WrongAudience,
        Rejection::Expired,
        Rejection::NotYetValid,
        Rejection::UnknownRole,
        Rejection::NoKeys,
    ];
    let labels: std::collections::HashSet<_> = all.iter().map(|r| r.reason()).collect();
    assert_eq!(labels.len(), all.len());
}

#[test]
fn a_key_published_under_a_kid_that_is_not_its_thumbprint_is_never_trusted() {
    // The other key, published under our key's kid: a token signed by it, naming that kid, must
    // not find it (RFC 7638: the kid is the thumbprint, recomputed here).
    let mut impostor = other_key().jwk();
    impostor["kid"] = json!(key().kid);
    let keys = jwks(&[impostor]);
    assert!(keys.is_empty());
    let forged = other_key().sign(
        access_header(&key().kid),
        &access_claims(ISSUER, AUDIENCE, json!({})),
    );
    let result = verifier().verify(&forged, &keys, now());
    assert_eq!(result.map(|_| ()), Err(Rejection::UnknownKeyId));
    // Any other name is refused as well; the thumbprint itself is accepted.
    let mut renamed = key().jwk();
    renamed["kid"] = json!("key-2026-12");
    assert!(jwks(&[renamed]).is_empty());
    assert_eq!(jwks(&[key().jwk()]).len(), 1);
}
