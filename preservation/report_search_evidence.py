"""search-evidence/: for each at-risk recording that may lawfully be preserved, the record of
which sources were searched, when, with which request, and what was found.

US law lets a pre-1972 sound recording that is not being commercially exploited be used for
non-commercial purposes after a good-faith, reasonable search (17 U.S.C. § 1401(c)); the
Copyright Office's rule (37 CFR 201.37(c)) lists the searches it expects, among them its own
schedules of pre-1972 recordings and commercial services this tool does not search. This
record is therefore one part of such a search, written down, not all of it.

Candidates: at-risk clusters (level high or medium) whose recording is public domain in a
risk jurisdiction, or whose earliest year is before 1972 (the § 1401(c) case).

Files:
recordings.jsonl
    One JSON object per candidate, most urgent first: cluster_id, title, artists, year,
    status, risk_level, score, why (why it is a candidate), searched (per source: the harvest
    runs that completed and the last one's end, UTC), found (each record of the cluster with
    the requests it was read from and when they were fetched), holdings (every known copy,
    live or not), not_found_in (sources searched that gave no record of it) and
    commercially_available (live copies on closed commercial platforms).
<cluster_id>.json
    The same object, indented, for each candidate listed in at-risk.html (the page links it).
searches.csv
    Every harvest run: source, transport, scope (the query, collection or MBIDs asked for),
    started_at, finished_at (UTC), status, payloads read and entities found.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from preservation.report_acquisition import ORDER  # most urgent first, as that list
from preservation.report_files import copy_csv, copy_to, csv_text

FOLDER = "search-evidence"
RECORDINGS_NAME = "recordings.jsonl"
SEARCHES_NAME = "searches.csv"
BEFORE_US_1401 = 1972  # fixed before 15 Feb 1972: 17 U.S.C. § 1401(c)
TABLE = "search_evidence"  # the temporary table the files are written from

EVIDENCE_SQL = """
WITH candidates AS (
    SELECT cluster_id, title, artists, year, status, risk_level, score,
           CASE WHEN len(public_domain_in) > 0
                THEN 'public domain as a sound recording in '
                     || array_to_string(public_domain_in, ', ')
                ELSE 'from before 1972: non-commercial use in the US under 17 U.S.C. '
                     || '§ 1401(c) needs a good-faith, reasonable search'
           END AS why
    FROM acquisition  -- the at-risk clusters, as report_acquisition.gather built them
    WHERE len(public_domain_in) > 0 OR year < $before
),
-- their records and holdings, as report_acquisition.gather read them
members AS (
    SELECT r.cluster_id, r.record_id, r.source, r.title, r.date, r.page_url, r.raw_keys
    FROM at_risk_records AS r SEMI JOIN candidates AS k USING (cluster_id)
),
-- Every stored response a record was read from: each is a search that found it. Lists are
-- sorted after aggregating (list_sort), not by an ordered aggregate, which cannot spill to
-- disk and ran out of memory at ten million clusters.
fetched AS (
    SELECT m.record_id,
           list_sort(list({'fetched_at': s.fetched_at, 'request': s.request})) AS read_from
    FROM (SELECT record_id, source, unnest(raw_keys) AS key FROM members) AS m
    JOIN raw_records AS s USING (source, key)
    GROUP BY m.record_id
),
found_records AS (
    SELECT m.cluster_id, m.source,
           {'record_id': m.record_id, 'source': m.source, 'title': m.title, 'date': m.date,
            'page_url': m.page_url, 'read_from': coalesce(f.read_from, [])} AS record
    FROM members AS m LEFT JOIN fetched AS f USING (record_id)
),
-- Most clusters hold one record: only those of several (at_risk_several_records) are aggregated.
found AS (
    SELECT cluster_id, [record] AS found, [source] AS found_in
    FROM found_records ANTI JOIN at_risk_several_records USING (cluster_id)
    UNION ALL
    SELECT cluster_id, list_sort(list(record)) AS found, list(DISTINCT source) AS found_in
    FROM found_records SEMI JOIN at_risk_several_records USING (cluster_id)
    GROUP BY cluster_id
),
-- The candidates' holdings; as for their records, only clusters of several holdings
-- (at_risk_several_holdings) are aggregated.
candidate_holdings AS (
    SELECT cluster_id,
           {'url': url, 'platform': platform, 'access_class': access_class, 'live': live,
            'status_note': status_note} AS holding,
           live AND closed_garden AND access_class <> 'catalogue_only' AS commercial,
           platform
    FROM at_risk_holdings SEMI JOIN candidates USING (cluster_id)
),
copies AS (
    SELECT cluster_id, [holding] AS holdings,
           CASE WHEN commercial THEN [platform] END AS commercially_available
    FROM candidate_holdings ANTI JOIN at_risk_several_holdings USING (cluster_id)
    UNION ALL
    SELECT cluster_id, list_sort(list(holding)) AS holdings,
           list_sort(list_distinct(list(platform) FILTER (WHERE commercial)))
               AS commercially_available
    FROM candidate_holdings SEMI JOIN at_risk_several_holdings USING (cluster_id)
    GROUP BY cluster_id
),
searched AS (
    SELECT list({'source': source, 'runs': runs, 'last_finished_at': last_finished_at}
                ORDER BY source) AS searched,
           list(source ORDER BY source) AS sources
    FROM (
        SELECT source, count(*) AS runs, max(finished_at) AS last_finished_at
        FROM harvest_log WHERE status = 'ok' GROUP BY source
    )
)
SELECT k.cluster_id, k.title, k.artists, k.year, k.status, k.risk_level, k.score, k.why,
       s.searched,
       coalesce(f.found, []) AS found,
       coalesce(h.holdings, []) AS holdings,
       list_filter(s.sources, lambda src: NOT list_contains(f.found_in, src)) AS not_found_in,
       coalesce(h.commercially_available, []) AS commercially_available
FROM candidates AS k
CROSS JOIN searched AS s
LEFT JOIN found AS f USING (cluster_id)
LEFT JOIN copies AS h USING (cluster_id)
"""

SEARCHES_SQL = f"""
SELECT run_id, source, transport, {csv_text("scope")}, started_at, finished_at, status,
       payloads, entities, quarantined
FROM harvest_log ORDER BY run_id
"""


def write_search_evidence(
    con: duckdb.DuckDBPyConnection, out_dir: Path, listed: list[str]
) -> dict[str, str]:
    """Write search-evidence/ for the gathered at-risk table; one indented file for each
    candidate among `listed` (the clusters the HTML page shows). Returns cluster_id -> that
    file's path relative to out_dir, for the page to link."""
    folder = out_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):  # rewritten whole: no file from an earlier run stays
        stale.unlink()
    # Computed once: the JSON lines and the page's files are read from the same table. It is
    # sorted as the lines are written, in a statement apart from the joins that build it (in
    # one, the sort ran out of memory), and not into a table of its own first: the one read
    # that needs the order is the one that sorts (ten million clusters: 18.6 s -> 16.1 s).
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {TABLE} AS {EVIDENCE_SQL}", {"before": BEFORE_US_1401}
        )
        # one object per line
        copy_to(
            con, f"SELECT * FROM {TABLE} ORDER BY {ORDER}", folder / RECORDINGS_NAME, "FORMAT json"
        )
        copy_csv(con, SEARCHES_SQL, folder / SEARCHES_NAME)
        cursor = con.execute(
            f"SELECT * FROM {TABLE} WHERE list_contains($listed, cluster_id)", {"listed": listed}
        )
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {TABLE}")
    linked: dict[str, str] = {}
    for row in rows:
        record = dict(zip(names, row, strict=True))
        name = f"{_file_stem(record['cluster_id'])}.json"
        text = json.dumps(record, ensure_ascii=False, indent=2, default=str)
        (folder / name).write_text(text + "\n", encoding="utf-8")
        linked[record["cluster_id"]] = f"{FOLDER}/{name}"
    return linked


def _file_stem(cluster_id: str) -> str:
    """A file name for a cluster id: its own characters where they are safe in a path."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", cluster_id)
