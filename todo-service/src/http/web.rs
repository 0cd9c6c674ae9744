//! The web client (`web/` at the repository root), served under `/app`.
//!
//! The files are embedded at compile time, so the binary is the whole deployment. Served from
//! here, the page reaches the todo API on its own origin and the auth-service cross-origin (its
//! `AUTH_CORS_ORIGINS` must name this origin). `/app/config.json` tells the page where the
//! auth-service is: `TODO_WEB_AUTH_URL`, else the issuer.
//!
//! Every answer carries `Cache-Control: no-cache` (a new build is picked up at once) and a strict
//! Content-Security-Policy: scripts, styles and images from this origin only, network calls to
//! this origin and the auth-service's, no framing, no inline script. These routes are not API
//! operations and stay out of the OpenAPI document.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::config::Settings;

/// One embedded file and where it is served.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Every file of the client, by its path under `/app`.
const ASSETS: &[Asset] = &[
    Asset {
        path: "/app/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../../web/index.html"),
    },
    Asset {
        path: "/app/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../web/app.css"),
    },
    Asset {
        path: "/app/icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../../web/icon.svg"),
    },
    Asset {
        path: "/app/js/api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../web/js/api.js"),
    },
    Asset {
        path: "/app/js/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../web/js/app.js"),
    },
    Asset {
        path: "/app/js/dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../web/js/dom.js"),
    },
];

/// What the client's routes need: the auth-service's base URL and the policy that allows it.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The auth-service base URL given to the page; `None` when none is known (an issuer that
    /// is a logical name and no `TODO_WEB_AUTH_URL`): the page then says so.
    auth_url: Option<String>,
    csp: HeaderValue,
}

impl WebConfig {
    /// `TODO_WEB_AUTH_URL` (which must be an http(s) URL), else the issuer when it is one.
    pub fn from_settings(settings: &Settings) -> Result<WebConfig, String> {
        match settings.web_auth_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => WebConfig::new(Some(url))
                .map_err(|e| format!("TODO_WEB_AUTH_URL `{url}` is not usable: {e}")),
            _ => match WebConfig::new(Some(settings.issuer.trim())) {
                Ok(config) => Ok(config),
                Err(_) => {
                    tracing::warn!(
                        issuer = %settings.issuer,
                        "the issuer is not an http(s) URL and TODO_WEB_AUTH_URL is unset: \
                         the web client under /app cannot reach the auth-service"
                    );
                    WebConfig::new(None)
                }
            },
        }
    }

    /// The configuration for an auth-service at `auth_url` (an http(s) URL, possibly with a
    /// path prefix), or for none.
    pub fn new(auth_url: Option<&str>) -> Result<WebConfig, String> {
        let (auth_url, origin) = match auth_url {
            None => (None, None),
            Some(raw) => {
                let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err("not an http(s) URL".into());
                }
                if url.query().is_some() || url.fragment().is_some() {
                    return Err("a base URL has no query or fragment".into());
                }
                let base = url.as_str().trim_end_matches('/').to_owned();
                (Some(base), Some(url.origin().ascii_serialization()))
            }
        };
        let connect = match origin {
            Some(origin) => format!("'self' {origin}"),
            None => "'self'".to_owned(),
        };
        let csp = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        );
        let csp = HeaderValue::from_str(&csp).map_err(|e| e.to_string())?;
        Ok(WebConfig { auth_url, csp })
    }

    fn config_json(&self) -> String {
        serde_json::json!({ "auth_url": self.auth_url }).to_string()
    }
}

/// `/app` (redirected to `/app/`), the client's files, and `/app/config.json`.
pub fn router(config: &WebConfig) -> Router {
    let mut router = Router::new().route("/app", get(|| async { Redirect::permanent("/app/") }));
    for asset in ASSETS {
        let csp = config.csp.clone();
        router = router.route(
            asset.path,
            get(move || async move { respond(asset.content_type, asset.body.to_vec(), csp) }),
        );
    }
    let csp = config.csp.clone();
    let json = config.config_json();
    router.route(
        "/app/config.json",
        get(move || async move { respond("application/json", json.into_bytes(), csp) }),
    )
}

fn respond(content_type: &'static str, body: Vec<u8>, csp: HeaderValue) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, csp),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn settings(issuer: &str, web_auth_url: Option<&str>) -> Settings {
        let mut settings = Settings::defaults();
        settings.issuer = issuer.to_owned();
        settings.web_auth_url = web_auth_url.map(str::to_owned);
        settings
    }

    #[test]
    fn the_auth_url_defaults_to_the_issuer_and_is_in_the_policy() {
        let config = WebConfig::from_settings(&settings("http://127.0.0.1:8080/", None)).unwrap();
        assert_eq!(config.auth_url.as_deref(), Some("http://127.0.0.1:8080"));
        let csp = config.csp.to_str().unwrap();
        assert!(
            csp.contains("connect-src 'self' http://127.0.0.1:8080;"),
            "{csp}"
        );
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
    }

    #[test]
    fn the_setting_wins_and_only_its_origin_enters_the_policy() {
        let config = WebConfig::from_settings(&settings(
            "auth-service",
            Some(" https://example.com/auth/ "),
        ))
        .unwrap();
        assert_eq!(config.auth_url.as_deref(), Some("https://example.com/auth"));
        assert!(
            config
                .csp
                .to_str()
                .unwrap()
                .contains("connect-src 'self' https://example.com;")
        );
        assert_eq!(
            config.config_json(),
            r#"{"auth_url":"https://example.com/auth"}"#
        );
    }

    #[test]
    fn a_bad_setting_stops_the_start_a_logical_issuer_does_not() {
        for bad in ["ftp://x", "not a url", "https://x/?q=1", "http://x/#f"] {
            assert!(
                WebConfig::from_settings(&settings("http://a", Some(bad))).is_err(),
                "{bad}"
            );
        }
        let config = WebConfig::from_settings(&settings("auth-service", None)).unwrap();
        assert_eq!(config.auth_url, None);
        assert_eq!(config.config_json(), r#"{"auth_url":null}"#);
        assert!(config.csp.to_str().unwrap().contains("connect-src 'self';"));
    }

    #[test]
    fn every_file_of_the_client_is_served_and_nothing_else() {
        let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        let mut on_disk = BTreeSet::new();
        let mut stack = vec![web.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let rel = path
                    .strip_prefix(&web)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                if path.is_dir() {
                    if rel != "tests" {
                        stack.push(path);
                    }
                } else if !rel.ends_with(".md") {
                    on_disk.insert(format!("/app/{rel}").replace("/app/index.html", "/app/"));
                }
            }
        }
        let served: BTreeSet<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        assert_eq!(served, on_disk);
    }

    #[tokio::test]
    async fn files_are_served_with_their_type_no_cache_and_the_policy() {
        let config = WebConfig::new(Some("http://127.0.0.1:9")).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(&config)).await });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();

        let redirect = client.get(format!("{base}/app")).send().await.unwrap();
        assert_eq!(redirect.status(), 308);
        assert_eq!(redirect.headers()["location"], "/app/");

        for (path, content_type) in [
            ("/app/", "text/html; charset=utf-8"),
            ("/app/app.css", "text/css; charset=utf-8"),
            ("/app/js/app.js", "text/javascript; charset=utf-8"),
            ("/app/icon.svg", "image/svg+xml"),
            ("/app/config.json", "application/json"),
        ] {
            let response = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let headers = response.headers();
            assert_eq!(headers["content-type"], content_type, "{path}");
            assert_eq!(headers["cache-control"], "no-cache", "{path}");
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert!(
                headers["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("connect-src 'self' http://127.0.0.1:9;"),
                "{path}"
            );
        }
        let page = client
            .get(format!("{base}/app/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<script type=\"module\" src=\"js/app.js\">"));
        let config: serde_json::Value = client
            .get(format!("{base}/app/config.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(config["auth_url"], "http://127.0.0.1:9");
    }
}
