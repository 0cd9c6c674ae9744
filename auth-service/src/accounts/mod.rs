//! Accounts: registration, profiles, passwords. Rules here; SQL in `store::users`.

pub mod admin;
pub mod email;
pub mod hasher;
pub mod password_policy;

use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use service_kit::FieldError;
use service_kit::db::{DbFailure, classify};
use service_kit::text::TrimmedText;
use service_kit::timestamp::Timestamp;
use shared_claims::Role;

use crate::error::{Error, Result};
use crate::store::entities::user::Model;
use crate::store::users as store;
use hasher::PasswordHasher;

pub const MAX_NAME_CHARS: usize = 100;
/// The name rule: trimmed, at most 100 characters, no NUL; blank means none.
pub const NAME: TrimmedText = TrimmedText {
    max_chars: MAX_NAME_CHARS,
    required: false,
};

/// A user as the API shows it: never the password hash.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Role,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Model> for User {
    fn from(row: &Model) -> Self {
        User {
            id: row.id.clone(),
            email: row.email.clone(),
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            role: row.role.into(),
            is_active: row.is_active,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
        }
    }
}

#[derive(Debug)]
pub struct Registration {
    pub email: String,
    pub password: SecretString,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A name as stored ([`NAME`]): trimmed, empty means none.
pub fn clean_name(
    field: &str,
    name: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match NAME.check(field, &name?) {
        Ok(trimmed) => (!trimmed.is_empty()).then(|| trimmed.to_owned()),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

/// Checks a new password for an account; the error names `field`.
pub fn check_new_password(field: &str, password: &SecretString, email: &str) -> Result<()> {
    password_policy::check(password.expose_secret(), email).map_err(|m| Error::field(field, m))
}

#[derive(Debug, Clone)]
pub struct Accounts {
    db: DatabaseConnection,
    hasher: PasswordHasher,
}

impl Accounts {
    pub fn new(db: DatabaseConnection, hasher: PasswordHasher) -> Self {
        Accounts { db, hasher }
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Validates every field (all errors at once), hashes, inserts. A taken email is 409.
    pub async fn register(&self, input: Registration, role: Role) -> Result<User> {
        let mut errors = Vec::new();
        let email = match email::normalize(&input.email) {
            Ok(email) => Some(email),
            Err(message) => {
                errors.push(FieldError::new("email", message));
                None
            }
        };
        if let Err(message) = password_policy::check(
            input.password.expose_secret(),
            email.as_deref().unwrap_or(""),
        ) {
            errors.push(FieldError::new("password", message));
        }
        let first_name = clean_name("first_name", input.first_name, &mut errors);
        let last_name = clean_name("last_name", input.last_name, &mut errors);
        let (Some(email), true) = (email, errors.is_empty()) else {
            return Err(Error::Validation(errors));
        };
        if store::by_email(&self.db, &email).await?.is_some() {
            return Err(Error::EmailTaken);
        }
        let password_hash = self.hasher.hash(input.password).await?;
        let now = Timestamp::now().micros();
        let row = Model {
            id: uuid::Uuid::now_v7().to_string(),
            email,
            password_hash,
            first_name,
            last_name,
            role: role.into(),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        match store::insert(&self.db, row.clone()).await {
            Ok(()) => Ok(User::from(&row)),
            Err(e) if classify(&e) == DbFailure::UniqueViolation => Err(Error::EmailTaken),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get(&self, id: &str) -> Result<User> {
        store::by_id(&self.db, id)
            .await?
            .map(|row| User::from(&row))
            .ok_or(Error::NotFound)
    }

    /// The stored row, password hash included, for the login and password paths.
    pub async fn record_by_email(&self, email: &str) -> Result<Option<Model>> {
        Ok(store::by_email(&self.db, email).await?)
    }

    pub async fn record(&self, id: &str) -> Result<Option<Model>> {
        Ok(store::by_id(&self.db, id).await?)
    }

    /// `Some(None)` clears a name; `None` leaves it.
    pub async fn update_profile(
        &self,
        id: &str,
        first_name: Option<Option<String>>,
        last_name: Option<Option<String>>,
    ) -> Result<User> {
        let mut errors = Vec::new();
        let first_name = first_name.map(|n| clean_name("first_name", n, &mut errors));
        let last_name = last_name.map(|n| clean_name("last_name", n, &mut errors));
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        store::update_names(&self.db, id, first_name, last_name, Timestamp::now())
            .await?
            .map(|row| User::from(&row))
            .ok_or(Error::NotFound)
    }

    /// Hashes and stores a new password (policy already checked by the caller).
    pub async fn set_password(&self, id: &str, password: SecretString) -> Result<()> {
        let hash = self.hasher.hash(password).await?;
        store::set_password_hash(&self.db, id, &hash, Timestamp::now()).await?;
        Ok(())
    }

    /// Rehashes with today's parameters after a successful login with an older hash.
    pub async fn upgrade_hash(&self, row: &Model, password: SecretString) {
        let result = async {
            let new = self.hasher.hash(password).await?;
            store::upgrade_password_hash(&self.db, &row.id, &row.password_hash, &new).await?;
            Ok::<_, Error>(())
        }
        .await;
        match result {
            Ok(()) => {
                tracing::info!(user_id = %row.id, "password hash upgraded to current parameters")
            }
            Err(error) => tracing::warn!(user_id = %row.id, %error, "password hash upgrade failed"),
        }
    }

    /// Creates the bootstrap admin if no account has its email. Idempotent, and safe with
    /// several replicas: the unique email lets one insert win.
    pub async fn ensure_admin(&self, email: &str, password: SecretString) -> Result<()> {
        let registration = Registration {
            email: email.to_owned(),
            password,
            first_name: None,
            last_name: None,
        };
        match self.register(registration, Role::Admin).await {
            Ok(user) => {
                tracing::info!(user_id = %user.id, "bootstrap admin created");
                Ok(())
            }
            Err(Error::EmailTaken) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
