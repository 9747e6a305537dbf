-- name: unlinked_archive_items
-- question: Which open copies does MusicBrainz not know about: items of the Internet Archive
--           or the Library of Congress linked to no MusicBrainz recording or release?
-- parameters: (none)
-- columns: cluster_id, record_id, source, source_id, title, artists, date, label, catalog_number, page_url
-- note: candidates to add to MusicBrainz (with the item's page as the url relationship), or
--       pairs for `preservation link review` when MusicBrainz has the recording under another
--       title.
WITH known_to_musicbrainz AS (
    SELECT DISTINCT c.cluster_id
    FROM clusters c
    JOIN recordings r USING (record_id)
    WHERE r.source = 'musicbrainz'
)
SELECT c.cluster_id, r.record_id, r.source, r.source_id, r.title, r.artists, r.date, r.label,
       r.catalog_number, r.page_url
FROM recordings r
JOIN clusters c USING (record_id)
LEFT JOIN known_to_musicbrainz m USING (cluster_id)
WHERE r.source IN ('internetarchive', 'loc')
  AND r.kind = 'item'
  AND m.cluster_id IS NULL            -- no MusicBrainz record in the cluster
ORDER BY r.source, r.date NULLS LAST, r.record_id;
