-- The application's database and its two roles, beside Temporal's (docker-compose.yml;
-- README, Security, "Database roles"):
--   priorauth_owner    LOGIN: owns the database and its schema; `priorauth migrate`
--                      (MIGRATION_DATABASE_URL) applies migrations and the grants.
--   priorauth_runtime  NOLOGIN group: what the worker and the API may do, granted by
--                      the migrations (infra/db_roles.py): rows in and read back; no
--                      UPDATE/DELETE/TRUNCATE of the audit tables, no DDL.
--   priorauth_app      LOGIN, a member of priorauth_runtime: the workers and the API
--                      (DATABASE_URL).
-- Change the passwords for any real deployment.
CREATE ROLE priorauth_owner LOGIN PASSWORD 'priorauth-owner';
CREATE ROLE priorauth_runtime NOLOGIN;
CREATE ROLE priorauth_app LOGIN PASSWORD 'priorauth' IN ROLE priorauth_runtime;
CREATE DATABASE priorauth OWNER priorauth_owner;
REVOKE ALL ON DATABASE priorauth FROM PUBLIC;
GRANT CONNECT ON DATABASE priorauth TO priorauth_runtime;
\connect priorauth
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
