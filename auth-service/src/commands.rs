//! What the binary does with its command line; `main.rs` only parses it and calls [`run`].

use std::process::ExitCode;
use std::time::Duration;

use shared_claims::Role;

use crate::accounts::{Accounts, Registration};
use crate::app::{self, StartError};
use crate::cli::{Cli, Command, KeysCommand, UsersCommand};
use crate::keys::{Revocation, Rotation};
use crate::{App, Settings};

/// The whole `main` of the binary: the command line, run by [`service_kit::startup::main`].
pub fn main() -> ExitCode {
    use clap::Parser as _;
    service_kit::startup::main(|| run(Cli::parse()))
}

/// Runs the command line: serves by default, or one of the operator subcommands.
pub async fn run(cli: Cli) -> ExitCode {
    let _telemetry = service_kit::telemetry::init(cli.settings.log_format, "auth-service");
    match dispatch(cli).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(%error, "auth-service stopped");
            eprintln!("auth-service: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode, StartError> {
    let mut settings = cli.settings;
    settings.load_secret_files()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = App::build(settings).await?;
            app.run_until_stopped(service_kit::serve::shutdown_signal())
                .await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            settings.validate()?;
            service_kit::db::migrate::<crate::store::migrations::Migrator>(
                &settings.db_config(),
                "auth-service",
            )
            .await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck => {
            match service_kit::probe::check(
                settings.listen_addr,
                "/healthz",
                Duration::from_secs(3),
            )
            .await
            {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(why) => {
                    eprintln!("unhealthy: {why}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Keys { action } => keys(settings, action).await,
        Command::Users {
            action:
                UsersCommand::Create {
                    email,
                    role,
                    password_stdin,
                },
        } => create_user(settings, email, role, password_stdin).await,
    }
}

/// Signing-key commands. They migrate nothing and generate no key-encryption key file, and
/// before anything else they prove the key-encryption key opens every stored key: a wrong one
/// would otherwise seal a key no replica can open.
async fn keys(settings: Settings, action: KeysCommand) -> Result<ExitCode, StartError> {
    settings.validate()?;
    let db = service_kit::db::connect(&settings.db_config()).await?;
    let signing_keys = app::signing_keys(&settings, db.clone(), app::KekFile::MustExist)?;
    if let Err(error) = signing_keys.check_key_encryption_key().await {
        eprintln!("auth-service: {error}");
        eprintln!(
            "nothing was changed: set AUTH_KEY_ENCRYPTION_KEY to the key the service runs with"
        );
        return Ok(ExitCode::FAILURE);
    }
    match action {
        KeysCommand::List => {
            for key in signing_keys.list().await.map_err(StartError::SigningKeys)? {
                let retired = key
                    .retired_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\tcreated={}\tactivates={}\tretired={}",
                    key.kid,
                    key.state.as_str(),
                    key.created_at.to_rfc3339(),
                    key.activates_at.to_rfc3339(),
                    retired
                );
            }
        }
        KeysCommand::Revoke { kid } => {
            match signing_keys
                .revoke(&kid)
                .await
                .map_err(StartError::SigningKeys)?
            {
                Revocation::Revoked { kid, now_signing } => match now_signing {
                    Some(next) => println!("revoked {kid}; {next} signs from now"),
                    None => println!("revoked {kid}"),
                },
                Revocation::UnknownKey => {
                    eprintln!("no key {kid}");
                    return Ok(ExitCode::FAILURE);
                }
                Revocation::NoSuccessor => {
                    eprintln!(
                        "{kid} is the active key and no next key is published: run `keys rotate` first"
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        KeysCommand::Rotate => {
            match signing_keys
                .rotate()
                .await
                .map_err(StartError::SigningKeys)?
            {
                Rotation::Published(key) => println!(
                    "published {}\tnext\tactivates={}",
                    key.kid,
                    key.activates_at.to_rfc3339()
                ),
                Rotation::AlreadyPending(key) => {
                    eprintln!(
                        "a next key is already published: {} activates at {}; not rotating again",
                        key.kid,
                        key.activates_at.to_rfc3339()
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn create_user(
    settings: Settings,
    email: String,
    role: Role,
    password_stdin: bool,
) -> Result<ExitCode, StartError> {
    settings.validate()?;
    let password = app::read_password(password_stdin)?;
    let db = app::database(&settings).await?;
    let accounts = Accounts::new(db, app::password_hasher(&settings)?);
    let registration = Registration {
        email,
        password,
        first_name: None,
        last_name: None,
    };
    match accounts.register(registration, role).await {
        Ok(user) => {
            println!("created {} ({}) as {}", user.email, user.id, user.role);
            Ok(ExitCode::SUCCESS)
        }
        Err(crate::error::Error::Validation(errors)) => {
            for e in errors {
                eprintln!("{}: {}", e.field, e.message);
            }
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
