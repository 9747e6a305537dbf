-- name: pd_without_open_copy
-- question: Which recordings are public domain (as a sound recording) in a jurisdiction, yet
--           no open archive holds a copy? These may lawfully be preserved and shared there.
-- parameters:
--   jurisdiction: 'US' or 'EU' (default: US)
-- columns: cluster_id, title, artists, year, jurisdiction, expires_year, rule_id, status, live_platforms
SELECT k.cluster_id, k.title, k.artists, k.year, r.jurisdiction, r.expires_year, r.rule_id,
       k.status, k.live_platforms
FROM risk k
JOIN rights_status r USING (cluster_id)
WHERE r.layer = 'recording'
  AND r.jurisdiction = $jurisdiction
  AND r.status = 'public_domain'
  AND NOT k.has_open_copy
ORDER BY k.score DESC, k.cluster_id;
