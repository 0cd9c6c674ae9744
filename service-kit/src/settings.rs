//! Settings both services share the shape of.

use clap::ValueEnum;

/// `LOG_FORMAT`: human-readable lines, or one JSON object per line for log shippers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// A secret setting's value from the file its `*_FILE` variant names (a mounted secret): the
/// whole file, one trailing newline trimmed. The error names the file.
pub fn read_secret_file(path: &std::path::Path) -> Result<secrecy::SecretString, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value = text
        .strip_suffix('\n')
        .map(|v| v.strip_suffix('\r').unwrap_or(v))
        .unwrap_or(&text);
    if value.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(secrecy::SecretString::from(value.to_owned()))
}

/// The settings `T` declares with no flag and no environment variable given: every default,
/// declared once, in the `#[arg(default_value…)]` attributes. For tests and tools.
pub fn defaults<T: clap::Args + clap::FromArgMatches>() -> Result<T, clap::Error> {
    let command = T::augment_args(clap::Command::new("defaults").no_binary_name(true));
    let matches = command.try_get_matches_from(std::iter::empty::<String>())?;
    T::from_arg_matches(&matches)
}

/// The body limit of the contract: larger bodies get 413 before they are read.
pub const MAX_BODY_BYTES: usize = 65_536;

/// Parses a comma-separated list of CORS origins (`*CORS_ORIGINS`); empty means none.
pub fn parse_origins(value: &str) -> Result<Vec<String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let url = url::Url::parse(origin).map_err(|e| format!("{origin}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!("{origin}: not an http(s) origin"));
            }
            Ok(origin.trim_end_matches('/').to_owned())
        })
        .collect()
}

/// Whether traffic to `url` would cross a network in clear: neither https nor a loopback host.
pub fn is_plaintext_remote(url: &url::Url) -> bool {
    if url.scheme() == "https" {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(name)) => !name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        None => true,
    }
}

/// A start-up warning when `setting` sends what it carries (keys, reset tokens, revocations)
/// in clear over a network.
pub fn warn_if_plaintext_remote(setting: &str, url: &str) {
    if url::Url::parse(url).is_ok_and(|u| is_plaintext_remote(&u)) {
        tracing::warn!(
            setting,
            url,
            "{setting} is neither https nor loopback: what it carries can be read or changed on the way"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_file_is_read_whole_without_its_trailing_newline() {
        use secrecy::ExposeSecret;
        let dir = std::env::temp_dir().join(format!("secret-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("DB");
        std::fs::write(&file, "postgres://u:p@db/x\n").unwrap();
        let value = read_secret_file(&file).unwrap();
        assert_eq!(value.expose_secret(), "postgres://u:p@db/x");
        std::fs::write(&file, "").unwrap();
        assert!(read_secret_file(&file).is_err());
        let missing = read_secret_file(&dir.join("nope")).unwrap_err();
        assert!(missing.contains("nope"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_https_or_loopback_is_not_plaintext_remote() {
        let remote = |s: &str| is_plaintext_remote(&url::Url::parse(s).unwrap());
        assert!(!remote("https://auth.example/.well-known/jwks.json"));
        assert!(!remote("http://127.0.0.1:8080/x"));
        assert!(!remote("http://[::1]:8080/x"));
        assert!(!remote("http://localhost:8080/x"));
        assert!(remote("http://auth-service:8080/x"));
        assert!(remote("http://10.0.0.5/x"));
    }

    #[test]
    fn origins_are_split_trimmed_and_checked() {
        assert_eq!(
            parse_origins(" https://a.example , http://localhost:3000/ ").ok(),
            Some(vec![
                "https://a.example".to_owned(),
                "http://localhost:3000".to_owned()
            ])
        );
        assert_eq!(parse_origins("").ok(), Some(vec![]));
        assert!(parse_origins("ftp://x").is_err());
        assert!(parse_origins("not a url").is_err());
    }
}
