"""Stage 2, normalize: the latest snapshot of every raw payload -> recordings, holdings, works.

Each payload goes through its source's parser (the same one live harvesting uses). Records
seen in several payloads (a recording in a lookup and in a release's tracklist) are merged
into one row. Holdings are classified by the `platforms` and `relationship_types` tables,
which are loaded from preservation/data/*.csv: classification is data, not code.
The derived tables are rebuilt in one transaction, so a re-run gives identical contents.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from importlib import resources
from typing import TypeVar

import duckdb
import polars as pl

from preservation import progress
from preservation.harvest import quarantine
from preservation.sources import SOURCES
from preservation.sources.base import Holding, MalformedPayload, Parsed, Record, Work
from preservation.store import insert_frame, scalar, transaction

MERGED_LISTS = ("isrcs", "release_ids", "external_ids", "work_ids")
T = TypeVar("T")


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
    """Rebuild recordings, holdings, works and recording_works from raw_records."""
    load_classification(con)
    result = NormalizeResult()
    records: dict[str, tuple[Record, list[str]]] = {}
    works: dict[str, tuple[Work, list[str]]] = {}
    holdings: list[tuple[Holding, str]] = []
    run_id = scalar(con, "SELECT coalesce(max(run_id), 0) FROM harvest_log")
    total = scalar(con, "SELECT count(DISTINCT (source, key)) FROM raw_records")
    latest = con.execute(
        "SELECT source, key, content_sha256, payload FROM raw_records "
        "QUALIFY row_number() OVER (PARTITION BY source, key ORDER BY snapshot DESC) = 1 "
        "ORDER BY source, key"
    )
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
        for r in parsed.records:
            _collect(records, r.record_id, r, key, _merge_record)
        for w in parsed.works:
            _collect(works, w.work_id, w, key, _merge_work)
        holdings.extend((h, key) for h in parsed.holdings)
    with transaction(con):
        for source, key, sha, reason, payload in bad:
            quarantine(con, source, key, sha, "normalize", reason, payload, run_id)
        result.quarantined = len(bad)
        _write(con, records, works, holdings)
    result.records = scalar(con, "SELECT count(*) FROM recordings")
    result.holdings = scalar(con, "SELECT count(*) FROM holdings")
    result.works = len(works)
    return result


def _rows(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str, str, str]]:
    while batch := cursor.fetchmany(1000):
        yield from batch


def _parse(source: str, key: str, payload: str) -> Parsed:
    if source not in SOURCES:
        raise MalformedPayload(f"no parser for source {source!r}")
    try:
        return SOURCES[source].parse(json.loads(payload), key)
    except MalformedPayload:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        # A parser meeting a shape it does not expect is bad input, not a crash.
        raise MalformedPayload(f"unexpected shape: {type(exc).__name__}: {exc}") from exc


def _collect(
    seen: dict[str, tuple[T, list[str]]],
    item_id: str,
    item: T,
    key: str,
    merge: Callable[[T, T], None],
) -> None:
    """Keep the first sighting of an item, merge later ones into it, and note every raw key."""
    if item_id not in seen:
        seen[item_id] = (item, [key])
        return
    old, keys = seen[item_id]
    keys.append(key)
    merge(old, item)


def _merge_record(old: Record, new: Record) -> None:
    """Earliest date wins; lists are united; other fields keep the first known value."""
    if new.date and (old.date is None or new.date < old.date):
        old.date, old.date_kind, old.date_source = new.date, new.date_kind, new.date_source
    for f in fields(Record):
        name = f.name
        if name in MERGED_LISTS:
            merged = getattr(old, name) + [
                v for v in getattr(new, name) if v not in getattr(old, name)
            ]
            setattr(old, name, merged)
        elif name == "artists":
            old.artists = old.artists or new.artists
        elif getattr(old, name) is None:
            setattr(old, name, getattr(new, name))


def _merge_work(old: Work, new: Work) -> None:
    old.title = old.title or new.title
    for name in ("iswcs", "composers", "lyricists"):
        setattr(old, name, sorted(set(getattr(old, name)) | set(getattr(new, name))))


def _write(
    con: duckdb.DuckDBPyConnection,
    records: dict[str, tuple[Record, list[str]]],
    works: dict[str, tuple[Work, list[str]]],
    holdings: list[tuple[Holding, str]],
) -> None:
    for table in ("recordings", "holdings", "works", "recording_works"):
        con.execute(f"DELETE FROM {table}")
    recording_rows = pl.DataFrame(
        [
            {
                "record_id": rid,
                "source": r.source,
                "kind": r.kind,
                "source_id": r.source_id,
                "title": r.title,
                "artists": r.artists,
                "date": r.date,
                "year": int(r.date[:4]) if r.date else None,
                "date_source": r.date_source,
                "label": r.label,
                "catalog_number": r.catalog_number,
                "matrix": r.matrix,
                "take": r.take,
                "side": r.side,
                "isrcs": sorted(set(r.isrcs)),
                "duration_s": r.duration_s,
                "medium_format": r.medium_format,
                "release_ids": sorted(set(r.release_ids)),
                "external_ids": sorted(set(r.external_ids)),
                "page_url": r.page_url,
                "date_kind": r.date_kind,
                "raw_keys": sorted(set(keys)),
            }
            for rid, (r, keys) in sorted(records.items())
        ],
        schema=_RECORDING_SCHEMA,
    )
    insert_frame(con, "recordings", recording_rows)

    holding_rows = pl.DataFrame(
        [
            {
                "record_id": h.record_id,
                "url": h.url,
                "relation_type": h.relation_type,
                "live": h.live,
                "status_note": h.status_note,
                "evidence": key,
            }
            for h, key in holdings
        ],
        schema={
            "record_id": pl.String,
            "url": pl.String,
            "relation_type": pl.String,
            "live": pl.Boolean,
            "status_note": pl.String,
            "evidence": pl.String,
        },
    )
    insert_frame(con, "holdings", holding_rows, _CLASSIFY_HOLDINGS)
    _give_release_holdings_to_tracks(con)

    for work, keys in (w for _, w in sorted(works.items())):
        con.execute(
            "INSERT INTO works VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                work.work_id,
                work.source,
                work.source_id,
                work.title,
                work.iswcs,
                work.composers,
                work.lyricists,
                sorted(set(keys)),
            ],
        )
    edges = sorted({(rid, wid) for rid, (r, _) in records.items() for wid in r.work_ids})
    if edges:
        con.executemany("INSERT INTO recording_works VALUES (?, ?)", edges)


_RECORDING_SCHEMA = {
    "record_id": pl.String,
    "source": pl.String,
    "kind": pl.String,
    "source_id": pl.String,
    "title": pl.String,
    "artists": pl.List(pl.String),
    "date": pl.String,
    "year": pl.Int32,
    "date_source": pl.String,
    "label": pl.String,
    "catalog_number": pl.String,
    "matrix": pl.String,
    "take": pl.String,
    "side": pl.String,
    "isrcs": pl.List(pl.String),
    "duration_s": pl.Float64,
    "medium_format": pl.String,
    "release_ids": pl.List(pl.String),
    "external_ids": pl.List(pl.String),
    "page_url": pl.String,
    "date_kind": pl.String,
    "raw_keys": pl.List(pl.String),
}

# The platform is the longest matching domain (music.youtube.com before youtube.com); its fixed
# access class wins over the relationship type's (an archive.org link is open_archive whatever
# MusicBrainz calls it). A url that is neither a known platform with a fixed class nor a known
# holding-type relationship (lyrics, licence, official homepage ...) is not a holding.
_CLASSIFY_HOLDINGS = """
INSERT INTO holdings
WITH hosts AS (
    SELECT *, regexp_replace(lower(regexp_extract(url, '^[a-zA-Z]+://([^/:?#]+)', 1)),
                             '^www\\.', '') AS host
    FROM new_rows
),
matched AS (
    SELECT h.*, p.platform, p.access_class AS fixed_class, p.closed_garden
    FROM hosts h
    LEFT JOIN platforms p ON h.host = p.domain OR h.host LIKE '%.' || p.domain
    QUALIFY row_number() OVER (
        PARTITION BY h.record_id, h.url, h.relation_type, h.evidence
        ORDER BY length(p.domain) DESC NULLS LAST) = 1
)
SELECT m.record_id,
       m.url,
       any_value(coalesce(m.platform, m.host)) AS platform,
       any_value(coalesce(m.fixed_class, r.access_class)) AS access_class,
       any_value(m.closed_garden) AS closed_garden,
       m.relation_type,
       bool_or(m.live) AS live,
       CASE WHEN bool_or(m.live) THEN NULL ELSE min(m.status_note) END AS status_note,
       min(m.evidence) AS evidence
FROM matched m
LEFT JOIN relationship_types r USING (relation_type)
WHERE coalesce(m.fixed_class, r.access_class) IS NOT NULL
GROUP BY m.record_id, m.url, m.relation_type
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
        JOIN recordings rec
          ON rec.kind = 'recording' AND rec.source = rel.source
         AND list_contains(rec.release_ids, rel.source_id)
        WHERE rel.kind = 'release'
        """
    )
    con.execute(
        """
        INSERT OR IGNORE INTO holdings
        SELECT c.recording_record, h.url, h.platform, h.access_class, h.closed_garden,
               h.relation_type, h.live, h.status_note, h.evidence
        FROM covered c JOIN holdings h ON h.record_id = c.release_record
        """
    )
    con.execute("DELETE FROM holdings WHERE record_id IN (SELECT release_record FROM covered)")
    con.execute("DELETE FROM recordings WHERE record_id IN (SELECT release_record FROM covered)")
    con.execute("DROP TABLE covered")
