//! Properties of the verifier: it never panics, and no change to a valid token passes.

use proptest::prelude::*;
use serde_json::json;

use crate::helpers::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_input_is_refused_without_panicking(input in ".{0,400}") {
        let keys = jwks(&[key().jwk()]);
        prop_assert!(verifier().verify(&input, &keys, now()).is_err());
    }

    #[test]
    fn three_dotted_base64_parts_are_refused(
        a in "[A-Za-z0-9_-]{0,120}", b in "[A-Za-z0-9_-]{0,200}", c in "[A-Za-z0-9_-]{0,400}"
    ) {
        let keys = jwks(&[key().jwk()]);
        let token = format!("{a}.{b}.{c}");
        prop_assert!(verifier().verify(&token, &keys, now()).is_err());
    }

    #[test]
    fn changing_any_one_character_of_a_valid_token_is_refused(
        position in any::<prop::sample::Index>(),
        replacement in prop::char::range('-', 'z'),
    ) {
        let keys = jwks(&[key().jwk()]);
        let token = valid_token();
        let index = position.index(token.len());
        let original = token.as_bytes()[index] as char;
        prop_assume!(original != replacement);
        let mut changed = token.clone();
        changed.replace_range(index..index + 1, &replacement.to_string());
        prop_assert!(verifier().verify(&changed, &keys, now()).is_err(), "{}", changed);
    }

    #[test]
    fn arbitrary_jwks_documents_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = shared_claims::KeySet::from_jwks_json(&body);
    }
}

fn valid_token() -> String {
    use std::sync::OnceLock;
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN
        .get_or_init(|| token(json!({"exp": now() + 3600})))
        .clone()
}
