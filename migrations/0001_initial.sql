-- The PostgreSQL record of every case (DESIGN.md, Persistence).
-- Every table a payer must be able to show later: the authorization
-- projection, the append-only decisions audit, the claims ledger, clinical
-- events and the notifications outbox. Every write is keyed so a retried
-- activity inserts nothing twice.

-- Rows that are evidence are never changed or removed.
CREATE FUNCTION forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

-- authorizations: the current state of each case, kept by the workflow.
-- `version` only grows; an older projection never overwrites a newer one.
CREATE TABLE authorizations (
    case_id          text PRIMARY KEY,
    request_id       text        NOT NULL,
    member_ref       text        NOT NULL,      -- keyed hash, never the member id
    version          bigint      NOT NULL,
    status           text        NOT NULL,
    track            text,
    path             text,
    line_of_business text        NOT NULL,
    urgency          text        NOT NULL,
    periods          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    renewals_used    integer     NOT NULL DEFAULT 0,
    cycles_started   integer     NOT NULL DEFAULT 0,
    units_authorized integer     NOT NULL DEFAULT 0,
    units_paid       integer     NOT NULL DEFAULT 0,
    period_end       date,
    escalated        boolean     NOT NULL DEFAULT false,
    received_at      timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX authorizations_member_ref ON authorizations (member_ref);
CREATE INDEX authorizations_status ON authorizations (status);

-- decisions: append-only audit of every determination with its reasons,
-- its full evaluation trace and the policy version it ran.
CREATE TABLE decisions (
    id               bigserial PRIMARY KEY,
    decision_key     text        NOT NULL UNIQUE,
    case_id          text        NOT NULL,
    request_id       text        NOT NULL,
    kind             text        NOT NULL,      -- initial, info, review, appeal, renewal, extension
    determination    text        NOT NULL,
    automated        boolean     NOT NULL,
    reviewer_id      text,
    rationale        text,
    decision         jsonb,                     -- the whole Decision (CONTRACT.md)
    reasons          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    trace            jsonb,
    policy_id        text        NOT NULL,
    policy_version   text        NOT NULL,
    urgency          text        NOT NULL,
    line_of_business text        NOT NULL,
    received_at      timestamptz NOT NULL,
    decided_at       timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_case ON decisions (case_id, decided_at);
CREATE INDEX decisions_decided_at ON decisions (decided_at);
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- claim_lines: the claims ledger (POLICY.md, Claims against an authorization).
-- One row per claim id + line, and one more for its reversal (reversal = true,
-- allowed_units negative), so sum(allowed_units) is always the units paid,
-- both over a member's rolling 42 days and over a period of a case.
CREATE TABLE claim_lines (
    id               bigserial PRIMARY KEY,
    claim_id         text        NOT NULL,
    line             integer     NOT NULL,
    reversal         boolean     NOT NULL DEFAULT false,
    case_id          text        NOT NULL,
    member_ref       text        NOT NULL,
    date_of_service  date        NOT NULL,
    units            integer     NOT NULL,      -- billed
    status           text        NOT NULL,      -- paid, partially_paid, denied
    allowed_units    integer     NOT NULL,
    denied_units     integer     NOT NULL,
    carc_codes       text[]      NOT NULL DEFAULT '{}',
    answer           jsonb       NOT NULL,      -- the ClaimAnswer as returned
    line_json        jsonb       NOT NULL,      -- the line as received
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (claim_id, line, reversal)
);
CREATE INDEX claim_lines_member_dos ON claim_lines (member_ref, date_of_service);
CREATE INDEX claim_lines_case_dos ON claim_lines (case_id, date_of_service);
CREATE TRIGGER claim_lines_append_only BEFORE UPDATE OR DELETE ON claim_lines
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- clinical_events: what the clinical systems reported (CONTRACT.md, Clinical event).
CREATE TABLE clinical_events (
    id               bigserial PRIMARY KEY,
    case_id          text        NOT NULL,
    event_id         text        NOT NULL,
    member_ref       text        NOT NULL,
    type             text        NOT NULL,
    event_date       date        NOT NULL,
    event            jsonb       NOT NULL,
    received_at      timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, event_id)
);
CREATE TRIGGER clinical_events_append_only BEFORE UPDATE OR DELETE ON clinical_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- notifications: the outbox. Written once under its key, then delivered once;
-- status moves pending -> sending (leased) -> sent | failed.
CREATE TABLE notifications (
    id               bigserial PRIMARY KEY,
    key              text        NOT NULL UNIQUE,
    case_id          text        NOT NULL,
    kind             text        NOT NULL,
    recipient        text        NOT NULL,
    channel          text        NOT NULL,
    payload          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    text             text        NOT NULL DEFAULT '',
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    lease_until      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX notifications_case ON notifications (case_id, created_at);
CREATE INDEX notifications_unsent ON notifications (status) WHERE status <> 'sent';
