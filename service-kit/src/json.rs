//! JSON in: a body extractor and a query extractor whose every rejection is the contract's
//! problem+json (400 malformed, 413 too large, 415 not JSON, 422 with the field at fault).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::Problem;
use crate::problem;

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

fn has_json_content_type(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_content_type)
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = InputRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = has_json_content_type(&req);
        if !json_type {
            return Err(InputRejection::unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// An optional JSON body: empty (or only whitespace) needs no content type and reads as
/// `T::default()`; otherwise it must be JSON, an object or `null` (which is the default too).
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalApiJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalApiJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = InputRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = has_json_content_type(&req);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalApiJson(T::default()));
        }
        if !json_type {
            return Err(InputRejection::unsupported_media_type());
        }
        Ok(OptionalApiJson(
            parse_json::<Option<T>>(&bytes)?.unwrap_or_default(),
        ))
    }
}

impl InputRejection {
    /// 415: the body is not JSON.
    pub fn unsupported_media_type() -> InputRejection {
        InputRejection(problem::unsupported_media_type())
    }
}

fn body_rejection(rejection: BytesRejection) -> InputRejection {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        InputRejection(problem::too_large())
    } else {
        InputRejection(problem::unreadable_body())
    }
}

/// Parses JSON: syntax errors are 400, shape errors 422 with the path of the field.
///
/// A body read into a struct must be a JSON object: serde alone would also read a struct from an
/// array of its field values in declaration order (`[null, true]`), which no client means.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, InputRejection> {
    if starts_array(bytes) && reads_object::<T>() {
        // Syntax first: a malformed document stays a 400 whatever its first byte.
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|_| malformed_json())?;
        return Err(InputRejection(problem::field(
            "",
            "invalid type: array, expected a JSON object",
        )));
    }
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
        InputRejection(problem::field(field, message))
    })?;
    // Trailing bytes after the document make it malformed, not partially accepted.
    deserializer.end().map_err(|_| malformed_json())?;
    Ok(value)
}

fn malformed_json() -> InputRejection {
    InputRejection(problem::malformed_json())
}

/// The field a "missing field `x`", "unknown field `x`" or "duplicate field `x`" message is
/// about.
fn named_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))
        .or_else(|| message.strip_prefix("duplicate field `"))?;
    rest.split('`').next().map(str::to_owned)
}

fn starts_array(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// Whether `T` reads a JSON object at the top level: a struct or a map, maybe inside `Option`.
fn reads_object<T: DeserializeOwned>() -> bool {
    matches!(T::deserialize(ShapeProbe), Err(Shape::Object))
}

/// A deserializer that holds no data: it only records the first thing a type asks of it.
struct ShapeProbe;

#[derive(Debug)]
enum Shape {
    Object,
    Other,
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("shape probe")
    }
}

impl std::error::Error for Shape {}

impl serde::de::Error for Shape {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Shape::Other
    }
}

impl<'de> serde::Deserializer<'de> for ShapeProbe {
    type Error = Shape;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Shape> {
        Err(Shape::Other)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Shape> {
        Err(Shape::Object)
    }

    fn deserialize_map<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Shape> {
        Err(Shape::Object)
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Shape> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct enum identifier ignored_any
    }
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
                let path = error.path().to_string();
                let message = error.inner().to_string();
                // A duplicate or missing parameter is reported at the top level: name it.
                let field = if path == "." {
                    named_field(&message).unwrap_or_default()
                } else {
                    path
                };
                InputRejection(problem::field(field, message))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields are only read through Debug")]
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

    #[test]
    fn a_struct_is_read_from_an_object_only() {
        let err = parse_json::<Todo>(b" [\"a\", true]").unwrap_err();
        assert_eq!(err.problem().status, 422);
        let err = parse_json::<Option<Todo>>(b"[\"a\", null]").unwrap_err();
        assert_eq!(err.problem().status, 422);
        let err = parse_json::<Todo>(b"[\"a\", ").unwrap_err();
        assert_eq!(err.problem().status, 400);
        assert!(parse_json::<Option<Todo>>(b"null").unwrap().is_none());
        assert_eq!(parse_json::<Vec<u8>>(b"[1, 2]").unwrap(), vec![1, 2]);
        assert_eq!(parse_json::<(u8, bool)>(b"[1, true]").unwrap(), (1, true));
    }

    #[derive(Debug, Deserialize)]
    struct PageQuery {
        page: Option<u32>,
    }

    async fn query<T: DeserializeOwned>(uri: &str) -> Result<T, InputRejection> {
        let (mut parts, ()) = axum::http::Request::get(uri).body(()).unwrap().into_parts();
        ApiQuery::<T>::from_request_parts(&mut parts, &())
            .await
            .map(|ApiQuery(q)| q)
    }

    #[tokio::test]
    async fn a_duplicate_query_parameter_is_a_422_naming_it() {
        let err = query::<PageQuery>("/x?page=1&page=2").await.unwrap_err();
        assert_eq!(err.problem().status, 422);
        assert_eq!(
            err.problem().errors.as_ref().map(|e| e[0].field.as_str()),
            Some("page")
        );
        let err = query::<PageQuery>("/x?page=one").await.unwrap_err();
        assert_eq!(
            err.problem().errors.as_ref().map(|e| e[0].field.as_str()),
            Some("page")
        );
        assert_eq!(query::<PageQuery>("/x?page=3").await.unwrap().page, Some(3));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any bytes are answered with a value, a 400 or a 422; never a panic.
        #[test]
        fn any_body_is_answered(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            match parse_json::<std::collections::HashMap<String, i64>>(&bytes) {
                Ok(_) => {}
                Err(rejection) => prop_assert!([400, 422].contains(&rejection.problem().status)),
            }
        }
    }
}

/// A JSON response for bodies of kilobytes (a page of a list): serialised into one buffer
/// allocated for [`PAGE_BODY_BYTES`] up front, where `axum::Json` starts at 128 bytes and
/// grows six times for a 5 KB page, through a writer that checks its capacity for every
/// fragment.
#[derive(Debug, Clone, Copy)]
pub struct PageJson<T>(pub T);

/// What a page of 20 todos takes, with room to spare.
pub const PAGE_BODY_BYTES: usize = 8 * 1024;

impl<T: serde::Serialize> axum::response::IntoResponse for PageJson<T> {
    fn into_response(self) -> axum::response::Response {
        let mut body = Vec::with_capacity(PAGE_BODY_BYTES);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "response body could not be serialised");
                crate::problem::internal_error()
            }
        }
    }
}
