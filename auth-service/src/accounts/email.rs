//! Email addresses as the contract has them: `local@domain`, a dot in the domain, at most 254
//! characters, stored trimmed and lower-cased.

pub const MAX_EMAIL_CHARS: usize = 254;

/// The normalised address, or why it is not one.
pub fn normalize(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("must not be empty");
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err("must be at most 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("must be of the form local@domain");
    };
    if local.is_empty() || local.contains('@') {
        return Err("must be of the form local@domain");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return Err("the domain must contain a dot, e.g. example.com");
    }
    Ok(email)
}

/// What stands for a login email that [`normalize`] refuses, where an address would: its
/// failures are counted per value sent (trimmed, lower-cased), under a key of bounded length
/// that any store holds whatever was sent (64 KiB of it, a NUL, ...). It has no `@`, so it is
/// never an account's address.
pub fn not_an_address_key(raw: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        raw.trim().to_lowercase().as_bytes(),
    );
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("not-an-address:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_an_address_has_a_short_key_of_its_own() {
        let long = format!("{}@example.com", "a".repeat(70_000));
        let key = not_an_address_key(&long);
        assert!(key.len() < 100 && !key.contains('@'), "{key}");
        assert_eq!(not_an_address_key(" A\0b "), not_an_address_key("a\0b"));
        assert_ne!(not_an_address_key("a\0b"), not_an_address_key("a\0c"));
        assert!(!not_an_address_key("a\0b").contains('\0'));
    }

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(
            normalize("  Alice@Example.COM ").unwrap(),
            "alice@example.com"
        );
    }

    #[test]
    fn refuses_what_is_not_local_at_domain_with_a_dot() {
        for bad in [
            "",
            "   ",
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "alice@example.",
            "alice@.com",
            "al ice@example.com",
            "a@b@example.com",
            "alice@exa..mple.com",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize(&long).is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any input is answered; an accepted address is trimmed, lower-case, at most 254
        /// characters, `local@domain` with a dot in the domain, and normalising it again
        /// changes nothing.
        #[test]
        fn accepted_addresses_are_normal_and_stable(raw in ".{0,300}") {
            if let Ok(email) = normalize(&raw) {
                prop_assert_eq!(&email, &email.trim().to_lowercase());
                prop_assert!(email.chars().count() <= MAX_EMAIL_CHARS);
                let (local, domain) = email.rsplit_once('@').unwrap();
                prop_assert!(!local.is_empty() && domain.contains('.'));
                prop_assert_eq!(normalize(&email), Ok(email.clone()));
            }
        }

        #[test]
        fn ordinary_addresses_are_accepted(local in "[a-zA-Z0-9._%+-]{1,40}", domain in "[a-z0-9-]{1,30}", tld in "[a-z]{2,10}") {
            let raw = format!("  {local}@{domain}.{tld} ");
            prop_assert_eq!(normalize(&raw), Ok(format!("{local}@{domain}.{tld}").to_lowercase()));
        }
    }
}
