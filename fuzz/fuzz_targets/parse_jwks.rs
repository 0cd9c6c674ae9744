//! Arbitrary bytes as a JWKS document: `KeySet::from_jwks_json` must return `Ok` or `Err`, never
//! panic, whatever the JSON, the key members or their base64url hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared_claims::KeySet;

fuzz_target!(|data: &[u8]| {
    if let Ok(keys) = KeySet::from_jwks_json(data) {
        // Everything that was kept is reachable by its kid.
        for kid in keys.kids() {
            assert!(keys.contains(kid));
        }
        assert_eq!(keys.kids().count(), keys.len());
    }
});
