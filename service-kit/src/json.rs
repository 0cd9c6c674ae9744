//! JSON in: a body extractor and a query extractor whose every rejection is the contract's
//! problem+json (400 malformed, 413 too large, 415 not JSON, 422 with the field at fault).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::{FieldError, Problem};

/// A JSON body. `T`'s serde errors become 422 naming the field (`title`, `items[2].name`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// Why a body or query was refused.
#[derive(Debug)]
pub struct InputRejection(Problem);

impl InputRejection {
    pub fn problem(&self) -> &Problem {
        &self.0
    }
}

impl IntoResponse for InputRejection {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl From<InputRejection> for Problem {
    fn from(value: InputRejection) -> Self {
        value.0
    }
}

/// `application/json` or `application/<anything>+json`, with any parameters.
pub fn is_json_content_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = InputRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_content_type);
        if !json_type {
            return Err(unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// 415: the body is not JSON.
pub fn unsupported_media_type() -> InputRejection {
    InputRejection(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "send the body as JSON with `Content-Type: application/json`",
    ))
}

fn body_rejection(rejection: BytesRejection) -> InputRejection {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        InputRejection(too_large())
    } else {
        InputRejection(Problem::new(
            StatusCode::BAD_REQUEST,
            "unreadable-body",
            "the request body could not be read",
        ))
    }
}

pub fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!(
            "request bodies are limited to {} bytes",
            crate::settings::MAX_BODY_BYTES
        ),
    )
}

/// Parses JSON: syntax errors are 400, shape errors 422 with the path of the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, InputRejection> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return malformed_json();
        }
        let path = error.path().to_string();
        let message = describe(inner);
        let field = if path == "." {
            named_field(&message).unwrap_or_default()
        } else {
            path
        };
        InputRejection(field_problem(field, message))
    })?;
    // Trailing bytes after the document make it malformed, not partially accepted.
    deserializer.end().map_err(|_| malformed_json())?;
    Ok(value)
}

fn malformed_json() -> InputRejection {
    InputRejection(Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-json",
        "the request body is not valid JSON",
    ))
}

/// A 422 for one field.
pub fn field_problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    validation_problem(vec![FieldError::new(field, message)])
}

/// A 422 listing every invalid field.
pub fn validation_problem(errors: Vec<FieldError>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "one or more fields are invalid",
    )
    .with_errors(errors)
}

/// The field a "missing field `x`" or "unknown field `x`" message is about.
fn named_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split('`').next().map(str::to_owned)
}

/// serde's message without its " at line 1 column 12" suffix.
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Query parameters; a value of the wrong type is a 422 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = InputRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let field = error.path().to_string();
                let message = error.inner().to_string();
                InputRejection(field_problem(
                    if field == "." { String::new() } else { field },
                    message,
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Todo {
        title: String,
        done: Option<bool>,
    }

    #[test]
    fn content_types_that_are_json() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("application/json; charset=utf-8"));
        assert!(is_json_content_type("Application/JSON"));
        assert!(is_json_content_type("application/merge-patch+json"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/x-www-form-urlencoded"));
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_422_naming_the_field() {
        let err = parse_json::<Todo>(b"{\"title\": ").unwrap_err();
        assert_eq!(err.problem().status, 400);
        let err = parse_json::<Todo>(b"{\"title\": 5}").unwrap_err();
        assert_eq!(err.problem().status, 422);
        assert_eq!(
            err.problem().errors.as_ref().map(|e| e[0].field.as_str()),
            Some("title")
        );
        let err = parse_json::<Todo>(b"{}").unwrap_err();
        assert_eq!(err.problem().status, 422);
        assert_eq!(
            err.problem().errors.as_ref().map(|e| e[0].field.as_str()),
            Some("title")
        );
        let err = parse_json::<Todo>(b"{\"title\": \"a\"} trailing").unwrap_err();
        assert_eq!(err.problem().status, 400);
    }
}
