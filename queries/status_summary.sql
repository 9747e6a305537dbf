-- name: status_summary
-- question: How many recordings are in each risk status, and at which risk level?
--           (The summary figures and status chart of at-risk.html.)
-- parameters: (none)
-- columns: status, risk_level, clusters
SELECT status, risk_level, count(*) AS clusters
FROM risk
GROUP BY ALL
ORDER BY clusters DESC, status;
