//! Settings both services share the shape of.

use clap::ValueEnum;

/// `LOG_FORMAT`: human-readable lines, or one JSON object per line for log shippers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
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

#[cfg(test)]
mod tests {
    use super::*;

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
