-- name: at_risk
-- question: Which recordings are at risk of loss, most urgent first, and why?
-- parameters:
--   level: lowest risk level to include: 'high' or 'medium' (default: medium)
--   limit: at most this many rows (default: 100)
-- columns: cluster_id, title, artists, year, status, risk_level, score, live_platforms, reasons
SELECT cluster_id, title, artists, year, status, risk_level, score, live_platforms, reasons
FROM risk
WHERE risk_level = 'high' OR ($level = 'medium' AND risk_level = 'medium')
ORDER BY score DESC, cluster_id
LIMIT $limit;
