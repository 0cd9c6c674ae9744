//! `/openapi.json` (OpenAPI 3.1, generated from the handlers' annotations) and a browsable UI at
//! `/docs`.

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

/// Adds the bearer scheme every protected operation refers to as `bearer`.
pub fn with_bearer_scheme(mut spec: OpenApi) -> OpenApi {
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    spec
}

/// Serves `spec` at `/openapi.json` and Swagger UI at `/docs`.
pub fn router<S>(spec: OpenApi) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", spec))
}

/// The problem responses operations share, declared once for their OpenAPI documents.
pub mod responses {
    use utoipa::IntoResponses;

    use crate::Problem;

    /// What reading a JSON body can answer: 400, 413, 415, 422.
    #[derive(IntoResponses)]
    pub enum JsonBodyErrors {
        #[response(
            status = 400,
            description = "The body is not valid JSON",
            content_type = "application/problem+json"
        )]
        Malformed(Problem),
        #[response(
            status = 413,
            description = "The body exceeds 65,536 bytes",
            content_type = "application/problem+json"
        )]
        TooLarge(Problem),
        #[response(
            status = 415,
            description = "The body is not `application/json`",
            content_type = "application/problem+json"
        )]
        NotJson(Problem),
        #[response(
            status = 422,
            description = "Invalid fields, named in `errors`",
            content_type = "application/problem+json"
        )]
        Invalid(Problem),
    }

    /// What a bearer-protected operation can answer before it starts: 401 and 403 with their
    /// RFC 6750 challenges.
    #[derive(IntoResponses)]
    pub enum BearerErrors {
        #[response(status = 401, description = "No token, or one that does not verify", content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`, or `Bearer error=\"invalid_token\"`")))]
        Unauthenticated(Problem),
        #[response(status = 403, description = "The token does not grant this operation", content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer error=\"insufficient_scope\"`")))]
        Forbidden(Problem),
    }

    /// [`BearerErrors`] for an operation every role may use (one's own todos, profile or
    /// sessions): only 401, since no token that verifies lacks the permission.
    #[derive(IntoResponses)]
    pub enum SignedInErrors {
        #[response(status = 401, description = "No token, or one that does not verify", content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`, or `Bearer error=\"invalid_token\"`")))]
        Unauthenticated(Problem),
    }

    /// What reading query parameters can answer: 422.
    #[derive(IntoResponses)]
    pub enum QueryErrors {
        #[response(
            status = 422,
            description = "An invalid query parameter, named in `errors`",
            content_type = "application/problem+json"
        )]
        Invalid(Problem),
    }

    /// What any operation can answer when the server cannot: 500 and 503.
    #[derive(IntoResponses)]
    pub enum ServerErrors {
        #[response(
            status = 500,
            description = "Internal error",
            content_type = "application/problem+json"
        )]
        Internal(Problem),
        #[response(
            status = 503,
            description = "A dependency is unreachable, or the request timed out; retry",
            content_type = "application/problem+json"
        )]
        Unavailable(Problem),
    }
}
