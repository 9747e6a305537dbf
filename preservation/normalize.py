"""Stage 2, normalize: the latest snapshot of every raw payload -> recordings, holdings, works.

Each payload goes through its source's parser (the same one live harvesting uses). Records
seen in several payloads (a recording in a lookup and in a release's tracklist) are merged
into one row. Holdings are classified by the `platforms` and `relationship_types` tables,
which are loaded from preservation/data/*.csv: classification is data, not code.
The derived tables are rebuilt in one transaction, so a re-run gives identical contents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from importlib import resources

import duckdb
import polars as pl

from preservation import progress
from preservation.harvest import quarantine
from preservation.sources import SOURCES
from preservation.sources.base import (
    Artist,
    Holding,
    MalformedPayload,
    Parsed,
    Record,
    Work,
    load_json,
)
from preservation.store import insert_frame, scalar, transaction


@dataclass
class NormalizeResult:
    payloads: int = 0
    records: int = 0
    holdings: int = 0
    works: int = 0
    quarantined: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def load_classification(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)load the platform classification tables from the packaged CSV files."""
    data = resources.files("preservation").joinpath("data")
    with transaction(con):
        for table in ("platforms", "relationship_types"):
            csv = str(data.joinpath(f"{table}.csv"))
            con.execute(f"DELETE FROM {table}")
            con.execute(
                f"INSERT INTO {table} BY NAME SELECT * FROM read_csv(?, header = true, "
                "all_varchar = true, nullstr = '')",
                [csv],
            )


def normalize(con: duckdb.DuckDBPyConnection) -> NormalizeResult:
    """Rebuild recordings, holdings, works, work_writers, artists from their sightings.

    Harvested payloads are parsed again (their sightings replace the previous ones); sightings
    written by complete dump imports are kept. All of them are merged in SQL.
    """
    load_classification(con)
    result = NormalizeResult()
    run_id = scalar(con, "SELECT coalesce(max(run_id), 0) FROM harvest_log")
    total = scalar(con, "SELECT count(DISTINCT (source, key)) FROM raw_records")
    previous = _previous_snapshots(con)  # before `latest`: a new query would end its cursor
    latest = con.execute(
        "SELECT source, key, content_sha256, payload FROM raw_records "
        "QUALIFY row_number() OVER (PARTITION BY source, key ORDER BY snapshot DESC) = 1 "
        "ORDER BY source, key"
    )
    staged = Sightings()
    bad: list[tuple[str, str, str, str, str]] = []
    for source, key, sha, payload in progress.track(_rows(latest), "normalize", total):
        result.payloads += 1
        try:
            parsed = _parse(source, key, payload)
        except MalformedPayload as exc:
            bad.append((source, key, sha, str(exc), payload))
            continue
        if parsed.skipped:
            result.skipped[parsed.skipped] += 1
        if (source, key) in previous:
            parsed.holdings += _gone_since(source, key, *previous[source, key], parsed)
        staged.add(key, parsed)
    with transaction(con):
        for source, key, sha, reason, payload in bad:
            quarantine(con, source, key, sha, "normalize", reason, payload, run_id)
        result.quarantined = len(bad)
        for table in SIGHTING_TABLES:
            con.execute(f"DELETE FROM {table} WHERE import_id IS NULL")
        staged.insert(con)
        merge(con)
    result.records = int(str(scalar(con, "SELECT count(*) FROM recordings")))
    result.holdings = int(str(scalar(con, "SELECT count(*) FROM holdings")))
    result.works = int(str(scalar(con, "SELECT count(*) FROM works")))
    return result


def _previous_snapshots(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[str, str]]:
    """The snapshot before the latest, for each key harvested more than once: its payload and
    the date it was fetched."""
    rows = con.execute(
        "SELECT source, key, payload, strftime(fetched_at, '%Y-%m-%d') FROM raw_records "
        "QUALIFY row_number() OVER (PARTITION BY source, key ORDER BY snapshot DESC) = 2"
    ).fetchall()
    return {(source, key): (payload, fetched) for source, key, payload, fetched in rows}


def _gone_since(source: str, key: str, payload: str, fetched: str, latest: Parsed) -> list[Holding]:
    """Holdings the previous snapshot listed that the latest no longer does: not live now.

    A link removed from MusicBrainz (or an item gone from a collection's answer) is a copy
    that may have vanished, which is what a preservation report must show, not forget.
    """
    try:
        before = _parse(source, key, payload)
    except MalformedPayload:
        return []
    now = {(h.record_id, h.url, h.relation_type) for h in latest.holdings}
    still_listed = {r.record_id for r in latest.records}
    note = f"no longer listed by the source (listed in the response stored {fetched})"
    return [
        replace(h, live=False, status_note=note)
        for h in before.holdings
        if h.live
        and h.record_id in still_listed
        and (h.record_id, h.url, h.relation_type) not in now
    ]


def _rows(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str, str, str]]:
    while batch := cursor.fetchmany(1000):
        yield from batch


def _parse(source: str, key: str, payload: str) -> Parsed:
    if source not in SOURCES:
        raise MalformedPayload(f"no parser for source {source!r}")
    try:
        decoded = load_json(payload)
    except ValueError as exc:  # stored before harvesting checked as much
        raise MalformedPayload(f"invalid JSON: {exc}") from exc
    try:
        return SOURCES[source].parse(decoded, key)
    except MalformedPayload:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, ArithmeticError) as exc:
        # A parser meeting a shape it does not expect is bad input, not a crash.
        raise MalformedPayload(f"unexpected shape: {type(exc).__name__}: {exc}") from exc


SIGHTING_TABLES = ("source_records", "source_holdings", "source_works", "source_artists")


@dataclass
class Sightings:
    """What the parsers read from harvested payloads, as rows of the source_* tables."""

    records: list[dict[str, object]] = field(default_factory=list)
    holdings: list[dict[str, object]] = field(default_factory=list)
    works: list[dict[str, object]] = field(default_factory=list)
    artists: list[dict[str, object]] = field(default_factory=list)

    def add(self, key: str, parsed: Parsed) -> None:
        where = {"import_id": None, "raw_key": key, "document": None}
        for pos, r in enumerate(parsed.records):
            row = {f.name: getattr(r, f.name) for f in fields(Record)}
            self.records.append({**where, "pos": pos, "record_id": r.record_id, **row})
        for h in parsed.holdings:
            self.holdings.append({**where, **{f.name: getattr(h, f.name) for f in fields(h)}})
        for pos, w in enumerate(parsed.works):
            row = {f.name: getattr(w, f.name) for f in fields(Work) if f.name != "writers"}
            writers = [{f.name: getattr(v, f.name) for f in fields(v)} for v in w.writers]
            self.works.append(
                {**where, "pos": pos, "work_id": w.work_id, **row, "writers": writers}
            )
        for pos, a in enumerate(parsed.artists):
            row = {f.name: getattr(a, f.name) for f in fields(Artist)}
            self.artists.append({**where, "pos": pos, "artist_id": a.artist_id, **row})

    def insert(self, con: duckdb.DuckDBPyConnection) -> None:
        for table, rows in zip(
            SIGHTING_TABLES, (self.records, self.holdings, self.works, self.artists), strict=True
        ):
            if rows:
                schema = _table_schema(con, table)
                insert_frame(con, table, pl.DataFrame(rows, schema=schema))


def _table_schema(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, pl.DataType]:
    """The polars schema of a table, so that empty lists and all-NULL columns keep their types."""
    return dict(con.sql(f"SELECT * FROM {table} LIMIT 0").pl().schema)


def merge_sightings(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the merged tables from the sightings already staged (after a dump import)."""
    load_classification(con)
    with transaction(con):
        merge(con)


def merge(con: duckdb.DuckDBPyConnection) -> None:
    """Merge every counted sighting into recordings, holdings, works, work_writers, artists.

    Run inside the caller's transaction. The earliest date wins (with its kind and source);
    lists are united; every other field keeps the first value seen, in (raw_key, line, pos)
    order; raw_keys keeps the provenance of every sighting.
    """
    for table in ("recordings", "holdings", "works", "recording_works", "work_writers", "artists"):
        con.execute(f"DELETE FROM {table}")
    con.execute(_COUNTED_SIGHTINGS)
    con.execute(_MERGE_RECORDINGS)
    con.execute(_CLASSIFY_HOLDINGS)
    _give_release_holdings_to_tracks(con)
    con.execute(_MERGE_WORKS)
    con.execute(_MERGE_ARTISTS)
    con.execute(
        "DROP VIEW counted_records; DROP VIEW counted_holdings; "
        "DROP VIEW counted_works; DROP VIEW counted_artists"
    )


# Sightings that count: harvested ones, and those of complete dump imports. `seq` orders the
# sightings of one thing ("first seen"); `evidence` names the payload or dump line they came from.
_COUNTED_SIGHTINGS = """
CREATE OR REPLACE TEMP VIEW counted_import AS
    SELECT import_id FROM dump_imports WHERE status = 'complete';
""" + "\n".join(
    f"""
CREATE OR REPLACE TEMP VIEW counted_{name} AS
    SELECT *, (raw_key, coalesce(document, ''), {pos}) AS seq,
           raw_key || coalesce('#' || document, '') AS evidence
    FROM source_{name}
    WHERE import_id IS NULL OR import_id IN (SELECT import_id FROM counted_import);"""
    for name, pos in (("records", "pos"), ("holdings", "0"), ("works", "pos"), ("artists", "pos"))
)

_FIRST = "arg_min({0}, seq) FILTER (WHERE {0} IS NOT NULL) AS {0}"
_EARLIEST = "arg_min({0}, (date, seq)) FILTER (WHERE date IS NOT NULL) AS {0}"
_UNITED = "list_sort(list_distinct(flatten(list({0})))) AS {0}"
_FIRST_SEEN = (
    "label",
    "catalog_number",
    "matrix",
    "take",
    "side",
    "duration_s",
    "medium_format",
    "page_url",
)
_LISTS = ("isrcs", "release_ids", "external_ids")

# Most records are seen once (a dump line): those are copied, the others aggregated.
_MERGE_RECORDINGS = f"""
CREATE OR REPLACE TEMP TABLE sightings_per_record AS
SELECT record_id, count(*) AS sightings FROM counted_records GROUP BY record_id;

INSERT INTO recordings BY NAME
SELECT record_id, source, kind, source_id, title, coalesce(artists, []) AS artists,
       date, CAST(left(date, 4) AS INTEGER) AS year,
       CASE WHEN date IS NOT NULL THEN date_kind END AS date_kind,
       CASE WHEN date IS NOT NULL THEN date_source END AS date_source,
       CASE WHEN date IS NOT NULL THEN country END AS country,
       {", ".join(_FIRST_SEEN)},
       {", ".join(f"list_sort(list_distinct(coalesce({c}, []))) AS {c}" for c in _LISTS)},
       [evidence] AS raw_keys
FROM counted_records
WHERE record_id IN (SELECT record_id FROM sightings_per_record WHERE sightings = 1);

INSERT INTO recordings BY NAME
SELECT record_id,
       any_value(source) AS source, any_value(kind) AS kind, any_value(source_id) AS source_id,
       {_FIRST.format("title")},
       coalesce(arg_min(artists, seq) FILTER (WHERE len(artists) > 0), []) AS artists,
       min(date) AS date,
       CAST(left(min(date), 4) AS INTEGER) AS year,
       {_EARLIEST.format("date_kind")},
       {_EARLIEST.format("date_source")},
       -- the earliest date's country, from a sighting that names one when several share it
       arg_min(country, (date, country IS NULL, seq)) FILTER (WHERE date IS NOT NULL)
           AS country,
       {", ".join(_FIRST.format(c) for c in _FIRST_SEEN)},
       {", ".join(_UNITED.format(c) for c in _LISTS)},
       list_sort(list_distinct(list(evidence))) AS raw_keys
FROM counted_records
WHERE record_id IN (SELECT record_id FROM sightings_per_record WHERE sightings > 1)
GROUP BY record_id;

DROP TABLE sightings_per_record;

INSERT INTO recording_works
SELECT DISTINCT record_id, unnest(work_ids) FROM counted_records WHERE len(work_ids) > 0;
"""

_MERGE_WORKS = f"""
CREATE OR REPLACE TEMP TABLE merged_writers AS
SELECT DISTINCT work_id, w.role, w.artist_id, w.name
FROM (SELECT work_id, unnest(writers) AS w FROM counted_works);

INSERT INTO work_writers
SELECT work_id, role, artist_id, min(name) FROM merged_writers GROUP BY ALL;

INSERT INTO works BY NAME
SELECT w.work_id,
       any_value(source) AS source, any_value(source_id) AS source_id,
       {_FIRST.format("title")},
       {_UNITED.format("iswcs")},
       list_sort(list_distinct(flatten(list(
           [x.name for x in writers if x.role IN ('composer', 'writer') AND x.name IS NOT NULL]
       )))) AS composers,
       list_sort(list_distinct(flatten(list(
           [x.name for x in writers if x.role IN ('lyricist', 'librettist') AND x.name IS NOT NULL]
       )))) AS lyricists,
       list_sort(list_distinct(list(evidence))) AS raw_keys
FROM counted_works w
GROUP BY w.work_id;

DROP TABLE merged_writers;
"""

_MERGE_ARTISTS = f"""
INSERT INTO artists BY NAME
SELECT artist_id,
       any_value(source) AS source, any_value(source_id) AS source_id,
       {
    ", ".join(
        _FIRST.format(c)
        for c in ("name", "sort_name", "type", "country", "begin_date", "end_date", "ended")
    )
},
       list_sort(list_distinct(list(evidence))) AS raw_keys
FROM counted_artists
GROUP BY artist_id;
"""

# The platform is the longest matching domain (music.youtube.com before youtube.com); its fixed
# access class wins over the relationship type's (an archive.org link is open_archive whatever
# MusicBrainz calls it). A url that is neither a known platform with a fixed class nor a known
# holding-type relationship (lyrics, licence, official homepage ...) is not a holding.
_CLASSIFY_HOLDINGS = """
INSERT INTO holdings BY NAME
WITH hosts AS (
    SELECT *, regexp_replace(lower(regexp_extract(url, '^[a-zA-Z]+://([^/:?#]+)', 1)),
                             '^www\\.', '') AS host
    FROM counted_holdings
),
host_platforms AS (  -- per distinct host, so the suffix match runs once per host
    SELECT h.host, p.platform, p.access_class AS fixed_class, p.closed_garden
    FROM (SELECT DISTINCT host FROM hosts) h
    JOIN platforms p ON h.host = p.domain OR h.host LIKE '%.' || p.domain
    QUALIFY row_number() OVER (PARTITION BY h.host ORDER BY length(p.domain) DESC) = 1
)
SELECT h.record_id,
       h.url,
       any_value(coalesce(p.platform, h.host)) AS platform,
       any_value(coalesce(p.fixed_class, r.access_class)) AS access_class,
       any_value(p.closed_garden) AS closed_garden,
       h.relation_type,
       bool_or(h.live) AS live,
       CASE WHEN bool_or(h.live) THEN NULL ELSE min(h.status_note) END AS status_note,
       min(h.evidence) AS evidence,
       min(h.copy_format) AS copy_format,  -- 'lossless' sorts before 'lossy'
       min(h.rights_statement) AS rights_statement
FROM hosts h
LEFT JOIN host_platforms p USING (host)
LEFT JOIN relationship_types r USING (relation_type)
WHERE coalesce(p.fixed_class, r.access_class) IS NOT NULL
GROUP BY h.record_id, h.url, h.relation_type
"""


def _give_release_holdings_to_tracks(con: duckdb.DuckDBPyConnection) -> None:
    """A release known only by its links (no tracklist) hands them to its known recordings.

    A link on a release says each of its tracks can be found there. Once a tracklist from
    another payload names the release's recordings, the release-level stand-in is dropped.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE covered AS
        SELECT rel.record_id AS release_record, rec.record_id AS recording_record
        FROM recordings rel
        JOIN (SELECT record_id, source, unnest(release_ids) AS release_id
              FROM recordings WHERE kind = 'recording') rec
          ON rec.release_id = rel.source_id AND rec.source = rel.source
        WHERE rel.kind = 'release'
        """
    )
    # A recording keeps its own holding of the same url and type; otherwise one per url+type.
    con.execute(
        """
        INSERT INTO holdings BY NAME
        SELECT c.recording_record AS record_id, h.* EXCLUDE (record_id)
        FROM covered c JOIN holdings h ON h.record_id = c.release_record
        WHERE NOT EXISTS (
            SELECT 1 FROM holdings own
            WHERE own.record_id = c.recording_record AND own.url = h.url
              AND own.relation_type = h.relation_type)
        QUALIFY row_number() OVER (
            PARTITION BY c.recording_record, h.url, h.relation_type
            ORDER BY h.live DESC, h.evidence) = 1
        """
    )
    con.execute("DELETE FROM holdings WHERE record_id IN (SELECT release_record FROM covered)")
    con.execute("DELETE FROM recordings WHERE record_id IN (SELECT release_record FROM covered)")
    con.execute("DROP TABLE covered")
