-- name: closed_garden_only
-- question: Which recordings live only on closed commercial platforms (streaming services and
--           stores that decide alone what stays), with no open or independent copy, and on
--           which labels were they issued?
-- parameters:
--   label: only recordings with a label containing this text, in any case; empty: all (default: )
-- columns: cluster_id, label, title, artists, year, live_platforms, score, reasons
-- note: label is every distinct label of the cluster's records, '; '-joined (NULL: none known);
--       the filter matches each label on its own, so 'victor' finds 'Victor; Columbia'.
WITH labels AS (
    SELECT c.cluster_id,
           nullif(array_to_string(list_sort(list_distinct(list(r.label))), '; '), '') AS label,
           coalesce(bool_or(contains(lower(r.label), lower($label))), false) AS label_matches
    FROM risk k
    JOIN clusters c USING (cluster_id)
    JOIN recordings r USING (record_id)
    WHERE k.closed_garden_only
    GROUP BY c.cluster_id
)
SELECT k.cluster_id, l.label, k.title, k.artists, k.year, k.live_platforms, k.score, k.reasons
FROM risk k
JOIN labels l USING (cluster_id)
WHERE k.closed_garden_only
  AND ($label = '' OR l.label_matches)
ORDER BY l.label NULLS LAST, k.score DESC, k.cluster_id;
