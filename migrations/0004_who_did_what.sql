-- Who did what (README, Security): every row that records an action names the
-- subject of the credential it came with, every call on case data through the
-- API leaves an access_audit row, and no audit table can be emptied.

-- The subject whose message a decision answers: the submitter of the request
-- or of the facts, the renewal's requester, the reviewer, the withdrawer.
-- (reviewer_id stays the reviewer of a reviewer's decision.) Kinds now include
-- 'withdrawal'.
ALTER TABLE decisions ADD COLUMN actor text;
-- The system (its credential's subject) that sent a claim line or a clinical event.
ALTER TABLE claim_lines ADD COLUMN sent_by text;
ALTER TABLE claim_line_rejections ADD COLUMN sent_by text;
ALTER TABLE clinical_events ADD COLUMN sent_by text;
-- Whose message caused a notice; NULL: the case's own clocks (deadlines, windows).
ALTER TABLE notifications ADD COLUMN actor text;

-- access_audit: one row per API call on case data (api/audit.py), refusals
-- included. Who (subject, roles, how proved), what (route and its name), which
-- case(s), the outcome. Never a body, a token or PHI.
CREATE TABLE access_audit (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    subject        text,                       -- NULL: no valid credential (401)
    roles          text[]      NOT NULL DEFAULT '{}',
    auth           text,                       -- token | jwt
    action         text        NOT NULL,       -- the route's name: read, search, decode, …
    method         text        NOT NULL,
    route          text        NOT NULL,       -- the route template: /cases/{case_id}/review
    case_id        text,
    case_ids       text[],                     -- GET /cases: the cases it returned
    query          text,                       -- GET /cases: the visibility query (no PHI)
    payloads       integer,                    -- codec: the payloads encoded or decoded
    namespace      text,                       -- codec: the X-Namespace header
    status         integer     NOT NULL,       -- the HTTP status answered
    correlation_id text
);
CREATE INDEX access_audit_case ON access_audit (case_id, at);
CREATE INDEX access_audit_cases ON access_audit USING gin (case_ids);
CREATE INDEX access_audit_subject ON access_audit (subject, at);
CREATE INDEX access_audit_at ON access_audit (at);
CREATE TRIGGER access_audit_append_only BEFORE UPDATE OR DELETE ON access_audit
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Codec browser sessions (0003_codec_sessions.sql) stand for a subject and its
-- roles, like every other credential, instead of a role and a token fingerprint.
-- Sessions opened the older way end here (their owners open a new one).
DELETE FROM codec_sessions;
ALTER TABLE codec_sessions
    DROP COLUMN role,
    DROP COLUMN token_id,
    ADD COLUMN subject text   NOT NULL,   -- the subject of the credential that opened it
    ADD COLUMN roles   text[] NOT NULL,   -- that credential's roles, when it was opened
    ADD COLUMN auth    text   NOT NULL;   -- token | jwt: how that credential was proved

-- Row triggers do not fire on TRUNCATE: a statement trigger refuses it on every
-- append-only table. (The runtime role has no TRUNCATE privilege either, and
-- owns nothing; see infra/db_roles.py.)
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
CREATE TRIGGER claim_lines_no_truncate BEFORE TRUNCATE ON claim_lines
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
CREATE TRIGGER claim_line_rejections_no_truncate BEFORE TRUNCATE ON claim_line_rejections
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
CREATE TRIGGER clinical_events_no_truncate BEFORE TRUNCATE ON clinical_events
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
CREATE TRIGGER access_audit_no_truncate BEFORE TRUNCATE ON access_audit
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
