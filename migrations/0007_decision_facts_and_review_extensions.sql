-- Issue #17: what policy impact analysis and the CMS extension measure read.

-- The facts each decision was made on. Until now a case's request and the facts
-- added to it (info, renewals) lived only in its Temporal history (encrypted);
-- PostgreSQL kept the decision and its trace, not what it was decided on. Each
-- decision row now carries the case's request as it stood (CONTRACT.md, with every
-- fact merged so far) WITHOUT the member's identity (no name, member id or date of
-- birth: the age in whole years and months on the period's start instead,
-- domain/decision_facts.py) and the member's earlier cycles the system counted
-- (policy Section I, prior therapy), so `priorauth policy impact` can re-decide the
-- latest facts of every case from PostgreSQL alone. NULL on older rows.
ALTER TABLE decisions ADD COLUMN request jsonb;
ALTER TABLE decisions ADD COLUMN prior_cycles integer;
CREATE INDEX decisions_case_facts ON decisions (case_id, id DESC) WHERE request IS NOT NULL;

-- A reviewer's extension of a review's decision clock (CMS-0057-F): a decision row
-- of kind 'review_extension', determination 'extended', reviewer_id and actor the
-- reviewer, rationale the reason, `extends_review` the review it extends ('initial',
-- 'appeal', 'renewal:<n>') and `due_at` that review's new decision deadline. Once per
-- review: a second extension of the same review cannot be recorded. (Kind
-- 'extension' remains a reviewer's extension of an authorization *period*.)
ALTER TABLE decisions ADD COLUMN extends_review text;
ALTER TABLE decisions ADD COLUMN due_at timestamptz;
ALTER TABLE decisions ADD CONSTRAINT decisions_review_extension_complete CHECK (
    kind <> 'review_extension'
    OR (extends_review IS NOT NULL AND due_at IS NOT NULL AND rationale IS NOT NULL)
);
CREATE UNIQUE INDEX decisions_one_extension_per_review
    ON decisions (case_id, extends_review) WHERE kind = 'review_extension';
