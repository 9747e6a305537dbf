-- name: public_domain_entrants
-- question: Whose works enter the public domain on 1 January of a given year in a
--           jurisdiction, with which works and how many recordings of them?
-- parameters:
--   jurisdiction: US, EU, UK, CA, JP or AU (default: EU)
--   year: the year on whose 1 January the works become free (default: 2027)
-- columns: composer, artist_id, roles, died, works, clusters, jurisdiction, entering
-- note: read from the composition layer of rights_status: protection runs to 31 December of
--       expires_year, so a work enters on 1 January of expires_year + 1. A work is free only
--       when its last surviving author's term ends: a composer whose own term ends that year
--       is not listed while a co-author (or another work recorded with it, as in a medley)
--       keeps the recording's composition layer protected. The authors counted are those
--       assess counts: composers, writers, lyricists and librettists. Every author of an
--       entering work is listed, including co-authors who died earlier.
WITH entering AS (
    SELECT cluster_id, jurisdiction
    FROM rights_status
    WHERE layer = 'composition'
      AND jurisdiction = upper($jurisdiction)
      AND expires_year = $year - 1
),
authors AS (
    SELECT e.cluster_id, e.jurisdiction, w.work_id, w.title AS work, ww.role, ww.artist_id,
           coalesce(a.name, ww.name) AS composer, a.end_date AS died
    FROM entering e
    JOIN clusters c USING (cluster_id)
    JOIN recording_works rw USING (record_id)
    JOIN works w USING (work_id)
    JOIN work_writers ww USING (work_id)
    LEFT JOIN artists a USING (artist_id)
    WHERE ww.role IN ('composer', 'writer', 'lyricist', 'librettist')
)
SELECT composer, artist_id,
       list_sort(list_distinct(list(role))) AS roles,
       died,
       list_sort(list_distinct(list(work))) AS works,
       count(DISTINCT cluster_id) AS clusters,
       jurisdiction,
       printf('%04d-01-01', $year) AS entering
FROM authors
GROUP BY composer, artist_id, died, jurisdiction
ORDER BY composer, artist_id;
