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

#[cfg(test)]
mod tests {
    use super::*;

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
