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
