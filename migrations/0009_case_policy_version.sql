-- Issue #17, "Versions in effect": the case record names the version of its policy the
-- case runs under. A case starts under the version in effect on its day of receipt; a
-- renewal is decided under the version in effect on the renewal request's day, and the
-- renewed case runs under that version from then on (its decision rows already name the
-- version each used: decisions.policy_version). `authorizations.policy_version` is the
-- version of `policy_id` the case runs under now, written with every projection.
--
-- Run as the migration role (infra/migrations.py). `authorizations` stays a working
-- table (infra/db_roles.py, WORKING): the runtime role's SELECT, INSERT and UPDATE are
-- table-wide and are re-applied after every migration run (grant_runtime), so this
-- column needs no grant of its own. Rows written before: every case then ran under the
-- one Blincyto version served (the only policy file of domain/policies/), filled here;
-- a row of another policy keeps NULL (not known) until its case next projects.
ALTER TABLE authorizations ADD COLUMN policy_version text;
UPDATE authorizations SET policy_version = '2025-09-04'
    WHERE policy_id = 'OHSU-HEALTHSERVICES-0382';
