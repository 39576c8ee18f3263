-- A member's units and prior cycles are counted per drug (issue #14: policies are a
-- registry, selected by the request's drug). Every row that a member's history or
-- unit window reads names the policy of its case, `policy_id` (the policy file's
-- `policy.id`, which all versions of one drug's policy share): the claims ledger
-- sums a member's units over the lines of one policy, prior-cycle history reads the
-- member's cases under one policy. Rows written before are Blincyto's, the only
-- drug served until now (OHSU-HEALTHSERVICES-0382): the column is added with that
-- default, which fills them without an UPDATE (the append-only triggers are row
-- triggers on UPDATE; adding a column fires none), and the default is then dropped,
-- so a row written without its policy is an error, not silently Blincyto's.

ALTER TABLE authorizations ADD COLUMN policy_id text NOT NULL
    DEFAULT 'OHSU-HEALTHSERVICES-0382';
ALTER TABLE authorizations ALTER COLUMN policy_id DROP DEFAULT;

ALTER TABLE claim_lines ADD COLUMN policy_id text NOT NULL
    DEFAULT 'OHSU-HEALTHSERVICES-0382';
ALTER TABLE claim_lines ALTER COLUMN policy_id DROP DEFAULT;

-- Not read by member, but kept beside the lines they refused, for the same audit.
ALTER TABLE claim_line_rejections ADD COLUMN policy_id text NOT NULL
    DEFAULT 'OHSU-HEALTHSERVICES-0382';
ALTER TABLE claim_line_rejections ALTER COLUMN policy_id DROP DEFAULT;

-- The member's window and history are now read by member and policy.
DROP INDEX claim_lines_member_dos;
CREATE INDEX claim_lines_member_policy_dos ON claim_lines (member_ref, policy_id, date_of_service);
DROP INDEX authorizations_member_ref;
CREATE INDEX authorizations_member_policy ON authorizations (member_ref, policy_id);
