-- name: single_platform_by_decade
-- question: For each decade, how many recordings have every live copy on one single platform,
--           which platform, and what share of the decade's recordings is that?
-- parameters: (none)
-- columns: decade ('unknown' when no date), platform, clusters, decade_clusters, share
-- note: decade_clusters counts every recording of the decade, with or without a live copy;
--       share = clusters / decade_clusters, rounded to 3 places.
WITH by_decade AS (
    SELECT coalesce(CAST(year // 10 * 10 AS VARCHAR) || 's', 'unknown') AS decade,
           CASE WHEN single_platform THEN live_platforms[1] END AS platform
    FROM risk
),
totals AS (
    SELECT decade, count(*) AS decade_clusters
    FROM by_decade
    GROUP BY decade
)
SELECT d.decade, d.platform, count(*) AS clusters, t.decade_clusters,
       round(count(*) / t.decade_clusters, 3) AS share
FROM by_decade d
JOIN totals t USING (decade)
WHERE d.platform IS NOT NULL
GROUP BY d.decade, d.platform, t.decade_clusters
ORDER BY d.decade, clusters DESC, d.platform;
