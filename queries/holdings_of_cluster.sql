-- name: holdings_of_cluster
-- question: What exactly is known about one recording: each of its records, and each place a
--           copy is (or was) held, whether it is live, and the evidence?
-- parameters:
--   cluster: the cluster id, or the id of any of its records (e.g. musicbrainz:recording:<MBID>)
-- columns: cluster_id, record_id, source, kind, title, artists, date, label, catalog_number, page_url, platform, access_class, closed_garden, relation_type, url, live, live_copy, status_note, evidence
-- note: one row per holding; a record with no holding has one row with the holding columns
--       empty. live_copy: live and not a catalogue entry (what counts for the risk). evidence
--       is the raw_records key (or dump file) the holding was read from.
WITH chosen AS (
    SELECT DISTINCT cluster_id
    FROM clusters
    WHERE cluster_id = $cluster OR record_id = $cluster
)
SELECT c.cluster_id, r.record_id, r.source, r.kind, r.title, r.artists, r.date, r.label,
       r.catalog_number, r.page_url, h.platform, h.access_class, h.closed_garden,
       h.relation_type, h.url, h.live,
       h.live AND h.access_class <> 'catalogue_only' AS live_copy,
       h.status_note, h.evidence
FROM chosen
JOIN clusters c USING (cluster_id)
JOIN recordings r USING (record_id)
LEFT JOIN holdings h USING (record_id)
ORDER BY r.record_id, h.url NULLS FIRST, h.relation_type;
