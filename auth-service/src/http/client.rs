//! The client's address, as configured: the peer, or the right-most `X-Forwarded-For` entry.

use std::convert::Infallible;
use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::state::AppState;

#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = service_kit::client_addr::peer(parts);
        Ok(ClientIp(service_kit::client_addr::client_addr(
            &parts.headers,
            peer,
            state.settings.trust_forwarded_for,
        )))
    }
}
