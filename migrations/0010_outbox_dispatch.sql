-- The notifications outbox, delivered by the worker's dispatcher (README, "Notices").
-- A case writes its notices in the same local activity (and transaction) as its
-- projection; the worker's outbox dispatcher delivers them. It needs what the
-- notice's followers need: the case's policy ("policy_id@version"; NULL: by the drug).
ALTER TABLE notifications ADD COLUMN policy_ref text;
-- The dispatcher's scan: rows still owed, oldest first, per channel.
CREATE INDEX notifications_owed ON notifications (channel, id) WHERE status IN ('pending', 'sending');
