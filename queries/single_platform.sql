-- name: single_platform
-- question: Which recordings can be found on only one platform, and which platform is it?
-- parameters: (none)
-- columns: platform, cluster_id, title, artists, year, status, risk_level
SELECT live_platforms[1] AS platform, cluster_id, title, artists, year, status, risk_level
FROM risk
WHERE single_platform
ORDER BY platform, score DESC, cluster_id;
