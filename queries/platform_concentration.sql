-- name: platform_concentration
-- question: How concentrated are the live copies: for each platform, how many copies and
--           recordings it holds, what share of all live copies and of all recordings with a
--           live copy that is, and for how many recordings it is the only platform?
-- parameters: (none)
-- columns: platform, live_copies, clusters, share_of_copies, share_of_clusters, only_platform, closed_garden, access_classes
-- note: a live copy is a live holding that is not a catalogue entry (one row of holdings: a
--       release's link counts once per track it was given to); a recording's platforms are its
--       risk.live_platforms. share_of_clusters is out of the recordings that have any live
--       copy; shares are rounded to 3 places. closed_garden: the platform is classified as a
--       closed commercial platform.
WITH per_platform AS (
    -- the live copies on each platform
    SELECT platform,
           count(*) AS live_copies,
           bool_and(closed_garden) AS closed_garden,
           list_sort(list(DISTINCT access_class)) AS access_classes
    FROM holdings
    WHERE live AND access_class <> 'catalogue_only'
    GROUP BY platform
),
clusters_per_platform AS (
    -- the recordings with a live copy on each platform, and those with no other platform
    SELECT platform,
           count(*) AS clusters,
           count(*) FILTER (WHERE single_platform) AS only_platform
    FROM (SELECT unnest(live_platforms) AS platform, single_platform FROM risk)
    GROUP BY platform
)
SELECT p.platform, p.live_copies, n.clusters,
       round(p.live_copies / sum(p.live_copies) OVER (), 3) AS share_of_copies,
       round(n.clusters / (SELECT count(*) FROM risk WHERE len(live_platforms) > 0), 3)
           AS share_of_clusters,
       n.only_platform, p.closed_garden, p.access_classes
FROM per_platform p
JOIN clusters_per_platform n USING (platform)
ORDER BY p.live_copies DESC, p.platform;
