-- name: rights_by_jurisdiction
-- question: In each jurisdiction, how many recordings are public domain, in copyright or
--           undetermined, as sound recordings, as musical works and both together?
-- parameters: (none)
-- columns: jurisdiction, layer (recording | composition | both), status (public_domain | in_copyright | undetermined), clusters
-- note: one row for every jurisdiction, layer and status, with 0 when no recording has it.
--       'both' is public domain only when the recording and the work both are (free to
--       preserve and share).
WITH counts AS (
    SELECT jurisdiction, layer, status, count(*) AS clusters
    FROM rights_status
    GROUP BY jurisdiction, layer, status
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
