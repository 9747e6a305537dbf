"""The acquisition list: every at-risk cluster (risk level high or medium), highest score
first, then by cluster_id, with the columns of `ACQUISITION_COLUMNS`, in three files that
never disagree because DuckDB writes all three from one table:

acquisition-list.csv
    UTF-8, one header row. List columns (musicbrainz_ids, archive_ids, artists, holdings,
    reasons, evidence_urls) are ';'-joined; label, catalog_number and matrix are text
    ('; '-joined when a cluster's records disagree). Any text cell a spreadsheet would read
    as a formula is neutralised with a leading apostrophe.
acquisition-list.json
    One object: {"generated_from": "<database file name, '' for an in-memory database>",
    "as_of": "<assessment date YYYY-MM-DD, or null>", "columns": [...], "rows": [{...}, ...]},
    lists as JSON arrays, text unchanged. `generated_from` is the file name only, so a shared
    report reveals no local directory.
acquisition-list.parquet
    The same rows and columns with their SQL types (lists as lists), for DuckDB, polars,
    pandas or R.

No file holds a generation timestamp: the same database always gives identical files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from preservation.report_files import (
    copy_csv,
    copy_json_document,
    copy_to,
    csv_text,
    sorted_table,
)
from preservation.store import scalar

CSV_NAME = "acquisition-list.csv"
JSON_NAME = "acquisition-list.json"
PARQUET_NAME = "acquisition-list.parquet"
TABLE = "acquisition"  # the temporary table the files and the HTML page are written from

ACQUISITION_COLUMNS = (
    "cluster_id",
    "musicbrainz_ids",
    "archive_ids",
    "title",
    "artists",
    "label",
    "catalog_number",
    "matrix",
    "date",
    "us_recording_status",
    "us_recording_expires",
    "eu_recording_status",
    "eu_recording_expires",
    "us_composition_status",
    "us_composition_expires",
    "eu_composition_status",
    "eu_composition_expires",
    "us_free_to_share",
    "eu_free_to_share",
    "holdings",
    "status",
    "risk_level",
    "score",
    "reasons",
    "evidence_urls",
)
LIST_COLUMNS = frozenset(
    {"musicbrainz_ids", "archive_ids", "artists", "holdings", "reasons", "evidence_urls"}
)
NUMBER_COLUMNS = frozenset(
    {
        "us_recording_expires",
        "eu_recording_expires",
        "us_composition_expires",
        "eu_composition_expires",
        "score",
    }
)

# The at-risk clusters with everything the acquisition list and the HTML table show (sorted
# by `gather`, in ORDER).
# label, catalog_number and matrix: the distinct values of the cluster's records, '; '-joined
# (records of one recording rarely disagree, and when they do a buyer needs to see all of them).
# date: the earliest date any record gives. holdings: live copies only, as 'Platform (class)'.
# evidence_urls: every holding URL (live or not) and every record's own page.
# The US and EU rights come from rights_verdicts pivoted per combination of facts (a few
# thousand rows) and joined on the cluster's facts: the same as the rights_status view gives.
# The records and holdings are read from the temporary tables `gather` builds first.
AT_RISK_SQL = """
WITH at_risk AS (
    SELECT k.*, f.published, f.recorded, f.writers > 0 AS work_known, f.last_died
    FROM risk AS k JOIN cluster_facts AS f USING (cluster_id)
    WHERE k.risk_level IN ('high', 'medium')
),
-- A cluster's values from its records. Most at-risk clusters hold one record, whose values
-- need no aggregate: only clusters of several records (at_risk_several_records) are
-- aggregated, since list aggregates over millions of clusters spill to disk (ten million
-- clusters: 23 s of 48).
-- Lists are made distinct and sorted after aggregating, not by ordered aggregates, which
-- cannot spill.
records AS (
    SELECT
        r.cluster_id,
        CASE WHEN r.source = 'musicbrainz' THEN [r.source_id] ELSE [] END AS musicbrainz_ids,
        CASE WHEN r.source IN ('internetarchive', 'loc') THEN [r.source_id] ELSE [] END
            AS archive_ids,
        nullif(r.label, '') AS label,
        nullif(r.catalog_number, '') AS catalog_number,
        nullif(r.matrix, '') AS matrix,
        r.date,
        CASE WHEN r.page_url IS NOT NULL THEN [r.page_url] ELSE [] END AS pages
    FROM at_risk_records AS r ANTI JOIN at_risk_several_records USING (cluster_id)
    UNION ALL
    SELECT
        cluster_id,
        list_sort(list_distinct(list(source_id) FILTER (WHERE source = 'musicbrainz')))
            AS musicbrainz_ids,
        list_sort(list_distinct(
            list(source_id) FILTER (WHERE source IN ('internetarchive', 'loc'))
        )) AS archive_ids,
        nullif(array_to_string(list_sort(list_distinct(list(label))), '; '), '') AS label,
        nullif(array_to_string(list_sort(list_distinct(list(catalog_number))), '; '), '')
            AS catalog_number,
        nullif(array_to_string(list_sort(list_distinct(list(matrix))), '; '), '') AS matrix,
        min(date) AS date,
        list(page_url) FILTER (WHERE page_url IS NOT NULL) AS pages
    FROM at_risk_records SEMI JOIN at_risk_several_records USING (cluster_id)
    GROUP BY cluster_id
),
-- live: the live copies as 'Platform (class)'; urls: every holding's URL, live or not. As
-- for the records, only clusters of several holdings (at_risk_several_holdings) aggregate.
copies AS (
    SELECT cluster_id,
           CASE WHEN live THEN [platform || ' (' || access_class || ')'] END AS holdings,
           [url] AS urls
    FROM at_risk_holdings ANTI JOIN at_risk_several_holdings USING (cluster_id)
    UNION ALL
    SELECT cluster_id,
           list_sort(list_distinct(
               list(platform || ' (' || access_class || ')') FILTER (WHERE live)
           )) AS holdings,
           list(url) AS urls
    FROM at_risk_holdings SEMI JOIN at_risk_several_holdings USING (cluster_id)
    GROUP BY cluster_id
),
-- One row per combination of facts: us_recording_status, us_recording_expires ... eu_both.
verdicts AS (
    PIVOT (
        SELECT published, recorded, work_known, last_died,
               lower(jurisdiction) || '_' || layer AS part, status, expires_year
        FROM rights_verdicts WHERE jurisdiction IN ('US', 'EU')
    )
    ON part IN ('us_recording', 'eu_recording', 'us_composition', 'eu_composition',
                'us_both', 'eu_both')
    USING any_value(status) AS status, any_value(expires_year) AS expires
    GROUP BY published, recorded, work_known, last_died
)
SELECT
    k.cluster_id,
    coalesce(records.musicbrainz_ids, []) AS musicbrainz_ids,
    coalesce(records.archive_ids, []) AS archive_ids,
    k.title,
    coalesce(k.artists, []) AS artists,
    records.label,
    records.catalog_number,
    records.matrix,
    records.date,
    rights.us_recording_status,
    rights.us_recording_expires,
    rights.eu_recording_status,
    rights.eu_recording_expires,
    rights.us_composition_status,
    rights.us_composition_expires,
    rights.eu_composition_status,
    rights.eu_composition_expires,
    -- free to preserve and share: the recording and the work both public domain
    rights.us_both_status AS us_free_to_share,
    rights.eu_both_status AS eu_free_to_share,
    coalesce(copies.holdings, []) AS holdings,
    k.status,
    k.risk_level,
    k.score,
    k.reasons,
    list_sort(list_distinct(list_concat(copies.urls, records.pages))) AS evidence_urls,
    -- for the HTML page and the search evidence, not in the files
    k.year,
    k.public_domain_in
FROM at_risk AS k
LEFT JOIN records USING (cluster_id)
LEFT JOIN copies USING (cluster_id)
-- on the facts, not on cluster_id: the few thousand combinations are what the join holds in
-- memory, not the wide rows of every at-risk cluster (ten million clusters: 30 s -> 19 s)
LEFT JOIN verdicts AS rights
  ON  rights.published IS NOT DISTINCT FROM k.published
  AND rights.recorded IS NOT DISTINCT FROM k.recorded
  AND rights.work_known = k.work_known
  AND rights.last_died IS NOT DISTINCT FROM k.last_died
"""
ORDER = "score DESC, cluster_id"  # the list's order: most urgent first


# The records and holdings of the at-risk clusters, read once for every report that needs
# them (the acquisition list, the search evidence): joining ten million clusters to their
# records is the costly part, not what each report does with the few million at risk.
AT_RISK_RECORDS_SQL = """
CREATE OR REPLACE TEMP TABLE at_risk_records AS
SELECT c.cluster_id, r.record_id, r.source, r.source_id, r.title, r.date, r.label,
       r.catalog_number, r.matrix, r.page_url, r.raw_keys
FROM risk AS k JOIN clusters AS c USING (cluster_id) JOIN recordings AS r USING (record_id)
WHERE k.risk_level IN ('high', 'medium')
"""
AT_RISK_HOLDINGS_SQL = """
CREATE OR REPLACE TEMP TABLE at_risk_holdings AS
SELECT c.cluster_id, h.url, h.platform, h.access_class, h.closed_garden, h.live, h.status_note
FROM risk AS k JOIN clusters AS c USING (cluster_id) JOIN holdings AS h USING (record_id)
WHERE k.risk_level IN ('high', 'medium')
"""
# The at-risk clusters of more than one record, and of more than one holding: only theirs
# need aggregating (ten million clusters: 1% of the at-risk clusters have several records;
# 41% of those with holdings have several).
AT_RISK_SEVERAL_SQL = """
CREATE OR REPLACE TEMP TABLE at_risk_several_records AS
SELECT cluster_id FROM at_risk_records GROUP BY cluster_id HAVING count(*) > 1;
CREATE OR REPLACE TEMP TABLE at_risk_several_holdings AS
SELECT cluster_id FROM at_risk_holdings GROUP BY cluster_id HAVING count(*) > 1;
"""
GATHERED = (
    "at_risk_records",
    "at_risk_holdings",
    "at_risk_several_records",
    "at_risk_several_holdings",
)


def gather(con: duckdb.DuckDBPyConnection) -> None:
    """Build the temporary tables of this connection's reports (GATHERED), and `acquisition`
    (in list order) from them."""
    for sql in (AT_RISK_RECORDS_SQL, AT_RISK_HOLDINGS_SQL, AT_RISK_SEVERAL_SQL):
        con.execute(sql)
    sorted_table(con, TABLE, AT_RISK_SQL, ORDER)


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what `gather` built."""
    for table in (TABLE, *GATHERED):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def write_acquisition(
    con: duckdb.DuckDBPyConnection, out_dir: Path, as_of: str | None
) -> list[Path]:
    """Write the CSV, JSON and Parquet acquisition lists from the gathered table."""
    columns = ", ".join(ACQUISITION_COLUMNS)
    # Scanning a table keeps its insertion order, which is the list's order.
    rows = f"SELECT {columns} FROM {TABLE}"
    csv_cells = ", ".join(
        c if c in NUMBER_COLUMNS else csv_text(c, is_list=c in LIST_COLUMNS)
        for c in ACQUISITION_COLUMNS
    )
    written = [
        copy_csv(con, f"SELECT {csv_cells} FROM {TABLE}", out_dir / CSV_NAME),
        _write_json(con, as_of, out_dir / JSON_NAME),
        copy_to(con, rows, out_dir / PARQUET_NAME, "FORMAT parquet, COMPRESSION zstd"),
    ]
    return written


def acquisition_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The acquisition list as dicts (for small databases and tests): ACQUISITION_COLUMNS."""
    gather(con)
    try:
        found = con.execute(f"SELECT {', '.join(ACQUISITION_COLUMNS)} FROM {TABLE}").fetchall()
    finally:
        release(con)
    return [dict(zip(ACQUISITION_COLUMNS, row, strict=True)) for row in found]


def _write_json(con: duckdb.DuckDBPyConnection, as_of: str | None, path: Path) -> Path:
    """The JSON document: its header and then its rows, streamed by DuckDB."""
    db_path = scalar(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    header = {
        "generated_from": Path(str(db_path)).name if db_path else "",
        "as_of": as_of,
        "columns": list(ACQUISITION_COLUMNS),
    }
    head = json.dumps(header, ensure_ascii=False, indent=2)[:-2] + ',\n  "rows": ['
    columns = list(ACQUISITION_COLUMNS)
    return copy_json_document(con, TABLE, columns, "cluster_id", path, head=head, tail="]\n}\n")
