-- A line that repeats a claim id + line with different content is denied
-- (CARC 16, POLICY.md "Claims against an authorization") and changes nothing
-- in claim_lines; its answer is still kept here, once per distinct content,
-- so PostgreSQL alone shows every answer given.
CREATE TABLE claim_line_rejections (
    id               bigserial PRIMARY KEY,
    claim_id         text        NOT NULL,
    line             integer     NOT NULL,
    reversal         boolean     NOT NULL,
    case_id          text        NOT NULL,
    member_ref       text        NOT NULL,
    content_hash     text        NOT NULL,      -- sha256 of line_json
    answer           jsonb       NOT NULL,
    line_json        jsonb       NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (claim_id, line, reversal, content_hash)
);
CREATE INDEX claim_line_rejections_case ON claim_line_rejections (case_id);
CREATE TRIGGER claim_line_rejections_append_only BEFORE UPDATE OR DELETE ON claim_line_rejections
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
