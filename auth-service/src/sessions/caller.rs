//! Who is calling a bearer route: the user of a live session, as the database says now, not as
//! the token said when it was signed.

use shared_claims::{Permission, Role};

use crate::accounts::User;
use crate::error::{Error, Result};

/// The bearer of an access token whose session is live and whose user is active, with the
/// user's current role.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub session_id: String,
}

impl Caller {
    pub fn user_id(&self) -> &str {
        &self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// `Ok` if the caller's current role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.user.role.can(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(permission))
        }
    }
}
