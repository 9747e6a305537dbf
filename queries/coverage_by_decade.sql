-- name: coverage_by_decade
-- question: For each decade, how many recordings have a live copy in each access class
--           (open_archive, free_stream, paid_stream, store), and how many have none?
-- parameters: (none)
-- columns: decade ('unknown' when no date), access_class ('none' when no live copy), clusters
-- note: a recording with copies in two classes counts once in each.
SELECT coalesce(CAST(year // 10 * 10 AS VARCHAR) || 's', 'unknown') AS decade,
       coalesce(access_class, 'none') AS access_class,
       count(*) AS clusters
FROM (
    SELECT year, unnest(CASE WHEN len(access_classes) = 0 THEN [NULL]
                             ELSE access_classes END) AS access_class
    FROM risk
)
GROUP BY ALL
ORDER BY decade, access_class;
