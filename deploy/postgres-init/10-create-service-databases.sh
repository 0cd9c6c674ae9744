#!/usr/bin/env bash
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). Creates one database and one login role per service:
# each service owns its database and cannot connect to the other's.
# Passwords come from the container environment (AUTH_DB_PASSWORD, TODO_DB_PASSWORD) and are passed
# to psql as variables, so no password is interpolated into SQL text by the shell.
set -euo pipefail

: "${AUTH_DB_PASSWORD:?AUTH_DB_PASSWORD must be set}"
: "${TODO_DB_PASSWORD:?TODO_DB_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  -v auth_password="$AUTH_DB_PASSWORD" \
  -v todo_password="$TODO_DB_PASSWORD" <<'SQL'
CREATE ROLE auth LOGIN PASSWORD :'auth_password';
CREATE ROLE todo LOGIN PASSWORD :'todo_password';
-- The owner may create tables in the database's public schema (PostgreSQL 15: owned by pg_database_owner).
CREATE DATABASE auth OWNER auth;
CREATE DATABASE todo OWNER todo;
REVOKE ALL ON DATABASE auth FROM PUBLIC;
REVOKE ALL ON DATABASE todo FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE auth TO auth;
GRANT CONNECT, TEMPORARY ON DATABASE todo TO todo;
SQL
