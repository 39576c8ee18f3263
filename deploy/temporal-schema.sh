#!/bin/sh
# One-shot: create Temporal's databases and bring their schemas up to date (idempotent).
set -eu
SCHEMA=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" \
    --pw "$SQL_PASSWORD" --db "$db" create-database || true
done
temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" \
  --pw "$SQL_PASSWORD" --db temporal setup-schema -v 0.0
temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" \
  --pw "$SQL_PASSWORD" --db temporal update-schema -d "$SCHEMA/temporal/versioned"
temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" \
  --pw "$SQL_PASSWORD" --db temporal_visibility setup-schema -v 0.0
temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" \
  --pw "$SQL_PASSWORD" --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
