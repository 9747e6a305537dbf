-- name: closed_garden_by_label
-- question: For each label, how many of its recordings live only on closed commercial
--           platforms, out of how many, and on which platforms?
-- parameters: (none)
-- columns: label ('(no label)' when no record of the cluster names one), closed_garden_clusters, clusters, share, platforms
-- note: a recording issued on two labels counts once under each. Labels are compared as the
--       sources spell them. Only labels with at least one closed-garden recording are listed;
--       share = closed_garden_clusters / clusters, rounded to 3 places; platforms are the live
--       platforms of the label's closed-garden recordings.
WITH cluster_labels AS (
    -- each cluster once per label its records name
    SELECT DISTINCT c.cluster_id, r.label
    FROM clusters c
    JOIN recordings r USING (record_id)
    WHERE r.label IS NOT NULL
),
labelled AS (
    SELECT coalesce(cl.label, '(no label)') AS label, k.closed_garden_only, k.live_platforms
    FROM risk k
    LEFT JOIN cluster_labels cl USING (cluster_id)
),
counts AS (
    SELECT label,
           count(*) FILTER (WHERE closed_garden_only) AS closed_garden_clusters,
           count(*) AS clusters
    FROM labelled
    GROUP BY label
    HAVING count(*) FILTER (WHERE closed_garden_only) > 0
),
platforms AS (
    -- the live platforms of each label's closed-garden recordings
    SELECT label, list_sort(list(DISTINCT platform)) AS platforms
    FROM (SELECT label, unnest(live_platforms) AS platform FROM labelled WHERE closed_garden_only)
    GROUP BY label
)
SELECT label, closed_garden_clusters, clusters,
       round(closed_garden_clusters / clusters, 3) AS share, platforms
FROM counts
JOIN platforms USING (label)
ORDER BY closed_garden_clusters DESC, label;
