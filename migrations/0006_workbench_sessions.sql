-- Browser sessions of the reviewer workbench (api/workbench/session.py). A person
-- trades their bearer token once (POST /workbench/login) for a random session id in
-- an HttpOnly, SameSite=Strict cookie. Only the id's SHA-256 is stored, so reading
-- this table opens no session. csrf_token is the session's synchronizer token: every
-- form the workbench serves carries it and every POST must send it back. A session
-- stands for the subject and roles of the credential that opened it, ends at
-- expires_at (absolute, never extended) or when its row is deleted (logout), and is
-- never updated (infra/db_roles.py: the runtime role may not UPDATE it).
CREATE TABLE workbench_sessions (
    id_hash     text PRIMARY KEY,
    subject     text        NOT NULL,
    roles       text[]      NOT NULL,
    auth        text        NOT NULL,      -- token | jwt: how the credential was proved
    csrf_token  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX workbench_sessions_expires ON workbench_sessions (expires_at);
