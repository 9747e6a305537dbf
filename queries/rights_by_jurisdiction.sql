-- name: rights_by_jurisdiction
-- question: In each jurisdiction, how many recordings are public domain, in copyright or
--           undetermined, as sound recordings, as musical works and both together?
-- parameters: (none)
-- columns: jurisdiction, layer (recording | composition | both), status (public_domain | in_copyright | undetermined), clusters
-- note: one row for every jurisdiction, layer and status, with 0 when no recording has it.
--       'both' is public domain only when the recording and the work both are (free to
--       preserve and share).
-- The rows of rights_status, counted: rather than one row per recording and jurisdiction
-- (tens of millions in a whole catalogue), the recordings are counted per combination of the
-- facts their verdicts depend on (a few thousand), joined to the verdicts as rights_status
-- joins them, and the counts summed.
WITH facts AS (
    SELECT published, recorded, writers > 0 AS work_known, last_died, count(*) AS clusters
    FROM cluster_facts
    GROUP BY ALL
),
counts AS (
    SELECT v.jurisdiction, v.layer, v.status, sum(f.clusters)::BIGINT AS clusters
    FROM facts AS f
    JOIN rights_verdicts AS v
      ON  v.published IS NOT DISTINCT FROM f.published
      AND v.recorded IS NOT DISTINCT FROM f.recorded
      AND v.work_known = f.work_known
      AND v.last_died IS NOT DISTINCT FROM f.last_died
    GROUP BY v.jurisdiction, v.layer, v.status
),
layers(layer, layer_order) AS (
    VALUES ('recording', 1), ('composition', 2), ('both', 3)
),
statuses(status, status_order) AS (
    VALUES ('public_domain', 1), ('in_copyright', 2), ('undetermined', 3)
)
SELECT j.jurisdiction, l.layer, s.status, coalesce(n.clusters, 0) AS clusters
FROM (SELECT DISTINCT jurisdiction FROM counts) j
CROSS JOIN layers l
CROSS JOIN statuses s
LEFT JOIN counts n USING (jurisdiction, layer, status)
ORDER BY j.jurisdiction, l.layer_order, s.status_order;
