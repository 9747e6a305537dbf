-- name: missing_dates
-- question: Where are dates missing: recordings with no date in any source, and MusicBrainz
--           recordings without a date that another record of the same recording could supply?
-- parameters: (none)
-- columns: gap ('no date anywhere' | 'date known elsewhere in the cluster'), cluster_id, record_id, title, artists, known_date, known_from
-- note: 'no date anywhere' lists every record of a cluster without a year; known_date is the
--       earliest date the cluster's other records give (as given: 'YYYY', 'YYYY-MM' or
--       'YYYY-MM-DD'), known_from the record that gives it (the smallest id on a tie). A date
--       from an archive item may be a recording date, not a release date (see the record).
WITH undated AS (
    -- MusicBrainz recordings with no date
    SELECT c.cluster_id, r.record_id, r.title, r.artists
    FROM recordings r
    JOIN clusters c USING (record_id)
    WHERE r.source = 'musicbrainz' AND r.kind = 'recording' AND r.date IS NULL
),
known AS (
    -- the earliest date each of their clusters has, and the record it comes from
    SELECT c.cluster_id,
           min(r.date) AS known_date,
           first(r.record_id ORDER BY r.date, r.record_id) AS known_from
    FROM clusters c
    JOIN recordings r USING (record_id)
    WHERE r.date IS NOT NULL
      AND c.cluster_id IN (SELECT cluster_id FROM undated)
    GROUP BY c.cluster_id
)
SELECT 'no date anywhere' AS gap, c.cluster_id, r.record_id, r.title, r.artists,
       CAST(NULL AS VARCHAR) AS known_date, CAST(NULL AS VARCHAR) AS known_from
FROM risk k
JOIN clusters c USING (cluster_id)
JOIN recordings r USING (record_id)
WHERE k.year IS NULL
UNION ALL
SELECT 'date known elsewhere in the cluster', u.cluster_id, u.record_id, u.title, u.artists,
       n.known_date, n.known_from
FROM undated u
JOIN known n USING (cluster_id)
ORDER BY gap, cluster_id, record_id;
