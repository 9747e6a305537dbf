"""Contributions back to MusicBrainz: the gaps a MusicBrainz editor could fix, with evidence.

Linking puts a MusicBrainz recording or release in one cluster with archive items of the same
recording. Often MusicBrainz does not know those copies, or a date the archive gives: this
module lists what an editor could add, one row per fact, each with the record that says so
and why the two records were judged the same recording. It is pure SQL over the `clusters`,
`recordings`, `holdings` and `links` tables, in steps (`STEPS`, temporary tables dropped
afterwards) whose last is streamed by DuckDB to the CSV (no row passes through Python), so it
runs in seconds on millions of clusters.

musicbrainz-contributions.csv
    UTF-8, a header row (written even when there is nothing to contribute), one row per
    contribution, sorted by contribution, mbid, add (then entity_type, source_record). The
    columns, in `CONTRIBUTION_COLUMNS` order:

    contribution       url_relationship | date
    entity_type        recording | release: the MusicBrainz entity to edit
    mbid               its MusicBrainz id
    musicbrainz_url    https://musicbrainz.org/<entity_type>/<mbid>
    title              its MusicBrainz title
    add                the URL to relate (url_relationship) or the date to add (date)
    relationship_type  the MusicBrainz url-relationship type to use (url_relationship rows;
                       empty for date rows)
    source_record      record_id of the archive item or dated record the fact comes from
    evidence_url       that record's own page
    date_source        which field of that record the date comes from (date rows; empty
                       for url rows)
    cluster_id         the cluster both records are in
    matched_by         why the two records were judged the same: the `links` rows joining
                       them, as '<method>: <rule> (<evidence>)', '; '-joined (for instance
                       'identifier: shared_isrc (USRC17607839)' or 'probabilistic: model
                       (match weight 16.1, probability 1.0)'); 'same cluster' when they are
                       joined only through other records of the cluster

    Every cell a spreadsheet would run as a formula (starting with = + - @, a tab or a
    carriage return) is neutralised with a leading apostrophe, in SQL as the rows stream, by
    the rule of `report_files.neutralise_formula` that every report uses; the rest of the
    cell is unchanged. The order is that of the cells as written.

url_relationship rows
    One per (MusicBrainz recording or release, archive item) in the same cluster when none of
    the entity's url relationships (live or ended: an ended one was ended by an editor, for a
    reason) points at the item. Only items with a live copy are proposed (a dark Internet
    Archive item or a loc.gov item with restricted access is no copy to point to), and only
    from the archives listed in `archive_relationships` in the SQL below. URLs are compared
    on a key: scheme (http, https), a leading 'www.', the host's case, the query, the
    fragment and trailing slashes are ignored, and an archive.org URL /details/<identifier>
    or /download/<identifier>... becomes 'archive.org/details/<identifier>' (the archive
    identifier is what names the item). So https://www.loc.gov/item/jukebox-879940/ and
    http://loc.gov/item/jukebox-879940 are one item, as are https://archive.org/details/X and
    http://www.archive.org/download/X/a.mp3. The query can be ignored because the keys are
    only ever compared with archive item pages, which name their item in the path.

date rows
    One per MusicBrainz recording with no date (year unknown) in a cluster where another
    record has one: the earliest date of the cluster, in the order normalize picks the earliest
    (date text, so '1917' comes before '1917-11-21'; ties: the smallest record_id), with the
    record and field (`date_source`) it comes from. MusicBrainz keeps a recording's date in
    its relationships and releases, not in a field of its own: the row is evidence for an
    editor, whose judgement decides where it goes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from preservation.report_files import copy_csv, csv_text

CONTRIBUTIONS_NAME = "musicbrainz-contributions.csv"

CONTRIBUTION_COLUMNS = (
    "contribution",
    "entity_type",
    "mbid",
    "musicbrainz_url",
    "title",
    "add",
    "relationship_type",
    "source_record",
    "evidence_url",
    "date_source",
    "cluster_id",
    "matched_by",
)

# The MusicBrainz recordings and releases among the members: a CTE of the steps that read them
# (as a table of its own, each step took longer).
MUSICBRAINZ = """contribution_musicbrainz AS (
    SELECT * FROM contribution_members
    WHERE source = 'musicbrainz' AND kind IN ('recording', 'release')
)"""

# The contributions are built in steps, each a temporary table read by the next, and the last
# streamed into the CSV: as one statement, ten million records ran out of memory under a 3 GB
# limit (DuckDB holding every step's hash tables at once) and took 97 s under 2 GB, against
# 59 s in steps (61 s under 3 GB). STEPS: (table, the SELECT that fills it), in order.
STEPS: tuple[tuple[str, str], ...] = (
    (
        "contribution_members",
        """
-- Only a cluster of two records or more can teach MusicBrainz something; most clusters hold
-- one record, so they are set aside first, before any other table is read.
WITH shared AS (
    SELECT cluster_id FROM clusters GROUP BY cluster_id HAVING count(*) > 1
)
SELECT c.cluster_id, r.record_id, r.source, r.kind, r.source_id, r.title, r.date, r.year,
       r.date_source, r.page_url
FROM clusters AS c JOIN recordings AS r USING (record_id)
WHERE c.cluster_id IN (SELECT cluster_id FROM shared)
""",
    ),
    (
        "contribution_items",
        f"""
-- The archives whose items MusicBrainz should point at, and the url-relationship type to add,
-- as MusicBrainz names it. Internet Archive items (the Great 78 Project, 78rpm) offer their
-- audio files for download: 'download for free'. The Library of Congress National Jukebox
-- only streams: 'free streaming'.
WITH archive_relationships (source, relationship_type) AS (
    VALUES ('internetarchive', 'download for free'),
           ('loc', 'free streaming')
),
{MUSICBRAINZ}
-- Archive items with a live copy, in a cluster that holds a MusicBrainz entity.
SELECT m.*, a.relationship_type
FROM contribution_members AS m JOIN archive_relationships AS a USING (source)
WHERE m.kind = 'item'
  AND m.page_url IS NOT NULL
  AND m.cluster_id IN (SELECT cluster_id FROM contribution_musicbrainz)
  AND m.record_id IN (SELECT record_id FROM holdings WHERE live)
""",
    ),
    (
        "contribution_related",
        f"""
-- The (MusicBrainz entity, archive item) pairs of one cluster that MusicBrainz already relates:
-- one of the entity's url relationships has the item page's key. Few: joined on the key here,
-- they are set aside from the pairs by a small anti-join (ten million clusters: the URL keys
-- of every pair, joined to the pairs and then anti-joined, took 18 s).
WITH {MUSICBRAINZ},
urls AS (
    SELECT cluster_id, record_id, true AS is_item, trim(page_url) AS url
    FROM contribution_items
    UNION ALL
    SELECT mb.cluster_id, h.record_id, false AS is_item, trim(h.url) AS url
    FROM holdings AS h
    JOIN (SELECT cluster_id, record_id FROM contribution_musicbrainz
          WHERE cluster_id IN (SELECT cluster_id FROM contribution_items)) AS mb
      USING (record_id)
),
-- Every URL cut into host (lower case, no 'www.') and path (no query, no fragment) ...
parts AS (
    SELECT cluster_id, record_id, is_item,
           regexp_extract(url, '^(?i:https?://)?(?i:www\\.)?([^/?#]*)([^?#]*)',
                          ['host', 'path']) AS url
    FROM urls
),
-- ... and then into the key two URLs of one item share: archive.org by its identifier,
-- anything else as host and path without trailing slashes.
url_keys AS (
    SELECT cluster_id, record_id, is_item,
           CASE WHEN lower(url.host) = 'archive.org'
                     AND regexp_matches(url.path, '^/(details|download)/[^/]')
                THEN 'archive.org/details/'
                     || regexp_extract(url.path, '^/(?:details|download)/([^/]+)', 1)
                ELSE lower(url.host) || rtrim(url.path, '/')
           END AS key
    FROM parts
)
SELECT DISTINCT related.record_id AS mb_record, item.record_id AS item_record
FROM url_keys AS item
JOIN url_keys AS related
  ON related.cluster_id = item.cluster_id AND related.key = item.key
WHERE item.is_item AND NOT related.is_item
""",
    ),
    (
        "contribution_rows",
        f"""
WITH {MUSICBRAINZ},
url_relationships AS (
    SELECT 'url_relationship' AS contribution, mb.record_id AS mb_record,
           i.record_id AS other_record, mb.kind, mb.source_id, mb.title, mb.cluster_id,
           i.page_url AS "add", i.relationship_type, i.page_url AS evidence_url,
           NULL AS date_source
    FROM contribution_musicbrainz AS mb
    JOIN contribution_items AS i USING (cluster_id)
    WHERE NOT EXISTS (
        SELECT 1 FROM contribution_related AS r
        WHERE r.mb_record = mb.record_id AND r.item_record = i.record_id
    )
),
undated AS (
    SELECT * FROM contribution_musicbrainz WHERE kind = 'recording' AND year IS NULL
),
-- The earliest date each such cluster knows, with the record and field it comes from.
earliest AS (
    SELECT cluster_id,
           arg_min(struct_pack(record_id, date, date_source, page_url),
                   (year, date, record_id)) AS donor
    FROM contribution_members
    WHERE year IS NOT NULL AND date IS NOT NULL
      AND cluster_id IN (SELECT cluster_id FROM undated)
    GROUP BY cluster_id
),
dates AS (
    SELECT 'date' AS contribution, u.record_id AS mb_record,
           e.donor.record_id AS other_record, u.kind, u.source_id, u.title, u.cluster_id,
           e.donor.date AS "add", NULL AS relationship_type, e.donor.page_url AS evidence_url,
           e.donor.date_source AS date_source
    FROM undated AS u JOIN earliest AS e USING (cluster_id)
)
SELECT * FROM url_relationships
UNION ALL BY NAME
SELECT * FROM dates
""",
    ),
)
# The contributions from the steps' rows, in no order.
CONTRIBUTIONS_SQL = """
-- Why the two records of a contribution are one recording: the links joining them directly
-- (once per pair: a url row and a date row may name the same two records).
WITH matched AS (
    SELECT c.mb_record, c.other_record,
           string_agg(l.method || ': ' || l.rule || ' (' || l.evidence || ')', '; '
                      ORDER BY l.method, l.rule, l.evidence) AS matched_by
    FROM (SELECT DISTINCT mb_record, other_record FROM contribution_rows) AS c
    JOIN links AS l
      ON l.record_a = least(c.mb_record, c.other_record)
     AND l.record_b = greatest(c.mb_record, c.other_record)
    GROUP BY c.mb_record, c.other_record
)
SELECT
    c.contribution,
    c.kind AS entity_type,
    c.source_id AS mbid,
    'https://musicbrainz.org/' || c.kind || '/' || c.source_id AS musicbrainz_url,
    c.title,
    c."add",
    c.relationship_type::VARCHAR AS relationship_type,
    c.other_record AS source_record,
    c.evidence_url,
    c.date_source::VARCHAR AS date_source,
    c.cluster_id,
    coalesce(m.matched_by, 'same cluster') AS matched_by
FROM contribution_rows AS c
LEFT JOIN matched AS m USING (mb_record, other_record)
"""
ORDER = 'contribution, mbid, "add", entity_type, source_record'

# The file: every text cell a spreadsheet would run as a formula neutralised
# (report_files.csv_text), as the rows stream, sorted once, on the cells as written.
CSV_SQL = f"""
SELECT {", ".join(csv_text(column) for column in CONTRIBUTION_COLUMNS)}
FROM ({CONTRIBUTIONS_SQL})
ORDER BY {ORDER}
"""


def write_contributions(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Path:
    """Write out_dir/musicbrainz-contributions.csv and return its path.

    DuckDB streams the rows to a temporary file beside the report, which then replaces the
    report in one step (report_files.copy_csv): a reader never sees half a file, and a failed
    run leaves the previous report as it was.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        for table, select in STEPS:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
        return copy_csv(con, CSV_SQL, out_dir / CONTRIBUTIONS_NAME)
    finally:
        for table, _ in STEPS:
            con.execute(f"DROP TABLE IF EXISTS {table}")
