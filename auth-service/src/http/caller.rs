//! The [`Caller`] of a bearer route: a verified access token whose session is still live and
//! whose user is still active, with the user's current role. The token alone is not enough at
//! the issuer: it knows at once when a session ends, and says so with 401 `invalid_token`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use service_kit::timestamp::Timestamp;
use shared_claims::Principal;

use super::error::ApiError;
use super::state::AppState;
use crate::sessions::Caller;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let issued_at = Timestamp(principal.claims().issued_at_micros());
        Ok(state
            .sessions
            .caller(principal.user_id(), principal.session_id(), issued_at)
            .await?)
    }
}
