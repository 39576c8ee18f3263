-- FHIR Subscriptions (R4 backport, PAS topic; README, "FHIR: Da Vinci PAS, DTR and CRD").

-- fhir_claims: what the FHIR door must know of a case's PAS Claim to answer it again
-- later (a subscription notification): who submitted it (the credential's subject),
-- the requesting organization's identifiers (the topic's orgIdentifier filter) and the
-- Claim's references and item sequences the ClaimResponse echoes. References and
-- sequences only: no name, member id or date of birth. One row per case, written at
-- $submit before the case starts.
CREATE TABLE fhir_claims (
    case_id          text PRIMARY KEY,
    submitted_by     text        NOT NULL,
    org_identifiers  text[]      NOT NULL DEFAULT '{}',
    context          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- fhir_subscriptions: one row per POST /fhir/Subscription. A subscription matches the
-- decisions of cases its owner submitted whose requesting organization has one of its
-- org_identifiers (PAS: subscriptions are per sending system, created only by it).
-- DELETE turns it off (status 'off'); rows are never removed. events_since_start
-- counts the notifications written for it (eventsSinceSubscriptionStart).
CREATE TABLE fhir_subscriptions (
    id                 text PRIMARY KEY,
    owner              text        NOT NULL,      -- the subject of the credential that created it
    status             text        NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'off')),
    org_identifiers    text[]      NOT NULL,
    endpoint           text        NOT NULL,
    headers            jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- channel.header, sent on delivery
    ends_at            timestamptz,
    resource           jsonb       NOT NULL,      -- the Subscription as answered (no headers)
    events_since_start bigint      NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fhir_subscriptions_owner ON fhir_subscriptions (owner, status);
