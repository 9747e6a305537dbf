-- name: vanished
-- question: Which known copies are no longer live (relationship ended, item dark, file
--           deleted, access restricted, or no longer listed since the previous harvested
--           snapshot), and does each recording still have another live copy?
-- parameters:
--   since_snapshot_only: 'yes': only links the source stopped listing since the previous snapshot; 'no': all (default: no)
-- columns: cluster_id, title, record_id, platform, access_class, url, status_note, evidence, has_other_live_copy
-- note: a live copy is a live holding that is not a catalogue entry. Recordings left with no
--       live copy come first.
SELECT c.cluster_id, k.title, h.record_id, h.platform, h.access_class, h.url, h.status_note,
       h.evidence, len(k.live_platforms) > 0 AS has_other_live_copy
FROM holdings h
JOIN clusters c USING (record_id)
JOIN risk k USING (cluster_id)
WHERE NOT h.live
  AND ($since_snapshot_only = 'no'
       OR starts_with(coalesce(h.status_note, ''), 'no longer listed by the source'))
ORDER BY has_other_live_copy, c.cluster_id, h.record_id, h.url, h.relation_type;
