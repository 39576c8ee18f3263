-- Browser sessions of the codec server (api/codec_server.py). The Temporal UI sends
-- cookies, not bearer tokens, so POST /codec/session trades a bearer token for a
-- random session id in an HttpOnly cookie. Only the id's SHA-256 is stored: reading
-- this table opens no session. A session ends at expires_at (absolute, never
-- extended) or when its row is deleted (DELETE /codec/session, or DELETE
-- /codec/sessions for all). Kept here, not in memory, so that every API replica
-- knows every session and a revocation holds on all of them.
CREATE TABLE codec_sessions (
    id_hash      text PRIMARY KEY,
    role         text        NOT NULL,
    token_id     text        NOT NULL,      -- fingerprint of the bearer token that opened it
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX codec_sessions_expires ON codec_sessions (expires_at);
