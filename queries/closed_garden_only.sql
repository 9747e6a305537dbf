-- name: closed_garden_only
-- question: Which recordings live only on closed commercial platforms (streaming services and
--           stores that decide alone what stays), with no open or independent copy?
-- parameters: (none)
-- columns: cluster_id, title, artists, year, live_platforms, score, reasons
SELECT cluster_id, title, artists, year, live_platforms, score, reasons
FROM risk
WHERE closed_garden_only
ORDER BY score DESC, cluster_id;
