-- name: quarantined
-- question: Which harvested payloads could not be used, at which stage, and why?
-- parameters: (none)
-- columns: source, key, stage, reason, first_seen_run
SELECT source, key, stage, reason, first_seen_run
FROM quarantine
ORDER BY source, key;
