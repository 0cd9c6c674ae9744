//! The revocation feed as a verifier follows it: signed events applied, forged or altered ones
//! refused and counted, tokens of what ended refused — on a token seen before too.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Header;
use serde_json::{Value, json};
use shared_claims::test_util::JwksServer;
use shared_claims::{Authenticator, JwksConfig, Rejection, VerifierConfig};

use crate::helpers::*;

const SID_ENDED: &str = "0192d1f0-0000-7000-8000-0000000000a1";
const SID_FORGED: &str = "0192d1f0-0000-7000-8000-0000000000a2";
const SID_TAMPERED: &str = "0192d1f0-0000-7000-8000-0000000000a3";
const SID_ALTERED_TO: &str = "0192d1f0-0000-7000-8000-0000000000a4";
const USER: &str = "0192d1f0-0000-7000-8000-000000000001";

fn session_revoked(seq: i64, sid: &str) -> Value {
    let now_us = now() * 1_000_000;
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now(),
        "jti": format!("revocation-{seq}"),
        "sub_id": {
            "format": "complex",
            "user": {"format": "iss_sub", "iss": ISSUER, "sub": USER},
            "session": {"format": "opaque", "id": sid},
        },
        "events": {
            "https://schemas.openid.net/secevent/caep/event-type/session-revoked": {
                "event_timestamp": now(),
                "initiating_entity": "user",
                "reason_admin": {"en": "logout"},
            }
        },
        "seq": seq,
        "not_before_us": now_us,
        "until_us": now_us + 3_600_000_000i64,
    })
}

fn set_header(kid: &str) -> Header {
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.typ = Some("secevent+jwt".into());
    header.kid = Some(kid.into());
    header
}

fn frame(id: i64, data: &str) -> String {
    format!("id: {id}\nevent: revocation\ndata: {data}\n\n")
}

fn token_of(sid: &str) -> String {
    token(json!({"sub": USER, "sid": sid}))
}

#[tokio::test]
async fn signed_events_apply_and_forged_or_altered_ones_are_refused_and_counted() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    let ended = key().sign(set_header(&key().kid), &session_revoked(1, SID_ENDED));
    // Signed by another key, under ours: a forgery.
    let forged = other_key().sign(set_header(&key().kid), &session_revoked(2, SID_FORGED));
    // Signed by us, then its subject changed: tampered with.
    let genuine = key().sign(set_header(&key().kid), &session_revoked(3, SID_TAMPERED));
    let parts: Vec<&str> = genuine.split('.').collect();
    let altered_payload = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
        claims["sub_id"]["session"]["id"] = json!(SID_ALTERED_TO);
        engine.encode(serde_json::to_vec(&claims).unwrap())
    };
    let tampered = format!("{}.{}.{}", parts[0], altered_payload, parts[2]);
    server.set_feed(format!(
        "retry: 1000\n\n{}{}{}event: synced\ndata: 3\n\n",
        frame(1, &ended),
        frame(2, &forged),
        frame(3, &tampered)
    ));

    // A token of the session about to end, verified (and cached) before the feed is followed.
    let auth = Arc::new(
        Authenticator::new(
            VerifierConfig::new(ISSUER, AUDIENCE, LEEWAY),
            JwksConfig::new(server.url()),
        )
        .unwrap(),
    );
    let feed = auth.feed().expect("a feed beside the JWKS").clone();
    assert!(feed.url().ends_with("/.well-known/revocations"));
    auth.start();
    for _ in 0..200 {
        let stats = feed.stats();
        if stats.applied >= 1 && stats.rejected >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let stats = feed.stats();
    assert!(stats.applied >= 1, "{stats:?}");
    assert!(stats.rejected >= 2, "{stats:?}");
    assert_eq!(
        auth.authenticate(&token_of(SID_ENDED)).await.map(|_| ()),
        Err(Rejection::Revoked)
    );
    for sid in [SID_FORGED, SID_TAMPERED, SID_ALTERED_TO] {
        assert!(auth.authenticate(&token_of(sid)).await.is_ok(), "{sid}");
    }
}

#[tokio::test]
async fn a_revoked_token_seen_before_is_refused_from_the_cache_too() {
    let server = JwksServer::start(vec![key().jwk()]).await;
    let auth = Arc::new(
        Authenticator::new(
            VerifierConfig::new(ISSUER, AUDIENCE, LEEWAY),
            JwksConfig::new(server.url()),
        )
        .unwrap(),
    );
    auth.start();
    let token = token_of(SID_ENDED);
    for _ in 0..200 {
        if auth.authenticate(&token).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        auth.authenticate(&token).await.is_ok(),
        "verified and cached"
    );
    auth.revocations()
        .apply(&shared_claims::Revocation::Session {
            sid: SID_ENDED.into(),
            until_us: (now() + 3_600) * 1_000_000,
        });
    assert_eq!(
        auth.authenticate(&token).await.map(|_| ()),
        Err(Rejection::Revoked)
    );
}
