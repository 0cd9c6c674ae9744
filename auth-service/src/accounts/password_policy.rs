//! NIST SP 800-63B §5.1.1.2: length 8–128, not a commonly used password, not the account's own
//! email. No composition rules: they push users to predictable patterns.

use std::collections::HashSet;
use std::sync::LazyLock;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// The 19,640 passwords Django ships (from Royce Williams' list of the most common leaked
/// passwords), lower-cased; see `data/NOTICE`.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// `Ok` if `password` may be used by the account with `email` (normalised).
pub fn check(password: &str, email: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err("must be at least 8 characters");
    }
    if chars > MAX_CHARS {
        return Err("must be at most 128 characters");
    }
    let lowered = password.to_lowercase();
    if lowered == email || lowered.trim() == email {
        return Err("must not be your email address");
    }
    if COMMON.contains(lowered.as_str()) {
        return Err("is too common; choose one that is not on lists of leaked passwords");
    }
    Ok(())
}

/// How many passwords the list holds (the contract asks for at least 10,000).
pub fn common_list_len() -> usize {
    COMMON.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_at_least_ten_thousand_passwords() {
        assert!(common_list_len() >= 10_000, "{}", common_list_len());
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(check("ab¢defg", "x@example.com").is_err());
        assert!(check("ab¢defgh-unusual", "x@example.com").is_ok());
        assert!(check(&"é".repeat(128), "x@example.com").is_ok());
        assert!(check(&"é".repeat(129), "x@example.com").is_err());
    }

    #[test]
    fn common_passwords_and_the_email_are_refused() {
        assert!(check("password1", "x@example.com").is_err());
        assert!(check("PASSWORD1", "x@example.com").is_err());
        assert!(check("qwertyuiop", "x@example.com").is_err());
        assert!(check("alice@example.com", "alice@example.com").is_err());
        assert!(check("Alice@Example.com", "alice@example.com").is_err());
        assert!(check("correct horse battery staple", "alice@example.com").is_ok());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Length decides first, counted in characters, whatever the characters.
        #[test]
        fn length_bounds_hold_for_any_characters(password in prop::collection::vec(any::<char>(), 0..200)) {
            let password: String = password.into_iter().collect();
            let chars = password.chars().count();
            let result = check(&password, "someone@example.com");
            if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
                prop_assert!(result.is_err());
            }
        }

        /// The email itself is refused in any case mix.
        #[test]
        fn the_email_is_never_a_password(local in "[a-z]{8,20}", upper in any::<bool>()) {
            let email = format!("{local}@example.com");
            let password = if upper { email.to_uppercase() } else { email.clone() };
            prop_assert!(check(&password, &email).is_err());
        }
    }
}
