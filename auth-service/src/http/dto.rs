//! Bodies in and out, with their OpenAPI schemas.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use service_kit::pagination::Pagination;
use service_kit::timestamp::Timestamp;
use shared_claims::Role;
use utoipa::{IntoResponses, ToSchema};

use crate::accounts::User;
use crate::sessions::Grant;

/// The contract's user: never a password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Email)]
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Role,
    pub is_active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        UserBody {
            id: user.id,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            role: user.role,
            is_active: user.is_active,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// Login and refresh: `{access_token, refresh_token, token_type, expires_in, user}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenBody {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: UserBody,
}

impl From<Grant> for TokenBody {
    fn from(grant: Grant) -> Self {
        TokenBody {
            access_token: grant.tokens.access_token,
            refresh_token: grant.tokens.refresh_token,
            token_type: "Bearer",
            expires_in: grant.tokens.expires_in,
            user: grant.user.into(),
        }
    }
}

/// What login and refresh answer: the tokens, which no cache may keep (RFC 6749 §5.1).
#[derive(Debug, IntoResponses)]
#[response(status = 200, description = "Tokens", headers(
    ("Cache-Control" = String, description = "`no-store`: a token is never cached"),
    ("Pragma" = String, description = "`no-cache`, for HTTP/1.0 caches"),
))]
pub struct Tokens(pub TokenBody);

impl IntoResponse for Tokens {
    fn into_response(self) -> Response {
        (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            axum::Json(self.0),
        )
            .into_response()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserBody>,
    pub pagination: Pagination,
}

/// A name's schema in a registration, from the rule the domain checks it with.
pub fn name_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::accounts::NAME.schema(
        true,
        "At most 100 characters once trimmed, no NUL; stored trimmed, blank means none. The \
         pattern says so: surrounding whitespace (Unicode's, and U+001C–U+001F) is free.",
    )
}

/// A name's schema in a profile change.
pub fn name_change_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::accounts::NAME.schema(
        true,
        "`null` or a blank string clears it; else at most 100 characters once trimmed, no NUL \
         (stored trimmed).",
    )
}
