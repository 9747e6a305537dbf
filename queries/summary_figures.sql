-- name: summary_figures
-- question: What are the headline figures of the at-risk report: how many recordings, how
--           many at risk (high, medium, low), how many with an open copy, on a single
--           platform, in closed gardens only, with a vanished copy, public domain without an
--           open copy? (The summary of at-risk.html, figure by figure.)
-- parameters: (none)
-- columns: figure, label, value
SELECT figure, label, value
FROM (
    SELECT 1 AS pos, 'clusters' AS figure, 'recordings (clusters)' AS label, count(*) AS value
    FROM risk
    UNION ALL
    SELECT 2, 'at_risk', 'at risk (high or medium)', count(*)
    FROM risk WHERE risk_level IN ('high', 'medium')
    UNION ALL
    SELECT 3, 'high', 'high risk', count(*) FROM risk WHERE risk_level = 'high'
    UNION ALL
    SELECT 4, 'medium', 'medium risk', count(*) FROM risk WHERE risk_level = 'medium'
    UNION ALL
    SELECT 5, 'low', 'low risk', count(*) FROM risk WHERE risk_level = 'low'
    UNION ALL
    SELECT 6, 'open_copy', 'with an open copy', count(*) FROM risk WHERE has_open_copy
    UNION ALL
    SELECT 7, 'single_open_copy', 'open copy in one archive only', count(*)
    FROM risk WHERE single_open_copy
    UNION ALL
    SELECT 8, 'single_platform', 'on a single platform', count(*) FROM risk WHERE single_platform
    UNION ALL
    SELECT 9, 'closed_garden_only', 'in closed gardens only', count(*)
    FROM risk WHERE closed_garden_only
    UNION ALL
    SELECT 10, 'catalogue_only', 'no live copy known', count(*)
    FROM risk WHERE status = 'catalogue_only'
    UNION ALL
    SELECT 11, 'vanished', 'with a vanished copy', count(*) FROM risk WHERE vanished
    UNION ALL
    SELECT 12, 'pd_without_open_copy', 'public domain, no open copy', count(*)
    FROM risk WHERE pd_without_open_copy
)
ORDER BY pos;
