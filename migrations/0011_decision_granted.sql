-- Issue #16: what a reviewer's approval granted. A reviewer may approve with a shorter
-- period (Section I) and/or fewer units (Section II) than the engine's grant, never more;
-- the row's `decision` stays the engine's decision (its recommendation and trace), and
-- `granted` holds the authorization the approval gave: start, end, days, cycles,
-- authorized_units … (domain.decision.Authorization as JSON). NULL on rows that grant
-- nothing and on older rows.
ALTER TABLE decisions ADD COLUMN granted jsonb;
