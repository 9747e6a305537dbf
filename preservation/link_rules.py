"""Deterministic links: records that share an identifier, each with the rule and the value.

- shared_isrc: two records carry the same ISRC;
- carried_mbid: a record carries a MusicBrainz id of another (`urn:mb_recording_id:` ...);
- url_to_record: a record's holding URL is another record's own page (a MusicBrainz url
  relationship to an archive.org or loc.gov item);
- same_78_side: same label, catalog number and matrix, and no conflicting take (several
  transfers of one disc side).
"""

from __future__ import annotations

import duckdb
import polars as pl

# Each rule yields (record_a, record_b, evidence) with record_a < record_b.
RULES: dict[str, str] = {
    "shared_isrc": """
        WITH codes AS (SELECT record_id, unnest(isrcs) AS isrc FROM recordings)
        SELECT a.record_id, b.record_id, 'ISRC ' || a.isrc
        FROM codes a JOIN codes b ON a.isrc = b.isrc AND a.record_id < b.record_id
    """,
    "carried_mbid": """
        WITH carried AS (
            SELECT record_id, unnest(external_ids) AS ext FROM recordings
        ), targets AS (
            SELECT record_id,
                   CASE WHEN ext LIKE 'mb_recording:%' THEN 'musicbrainz:recording:' || ext[14:]
                        WHEN ext LIKE 'mb_release:%' THEN 'musicbrainz:release:' || ext[12:]
                   END AS target, ext
            FROM carried
        )
        SELECT least(t.record_id, r.record_id), greatest(t.record_id, r.record_id), t.ext
        FROM targets t JOIN recordings r ON r.record_id = t.target
        WHERE t.record_id <> r.record_id
    """,
    "url_to_record": """
        WITH pages AS (
            SELECT record_id, source,
                   rtrim(regexp_replace(lower(page_url), '^https?://(www\\.)?', ''), '/') AS page
            FROM recordings WHERE page_url IS NOT NULL
        ), links AS (
            SELECT h.record_id, r.source, h.url,
                   rtrim(regexp_replace(lower(h.url), '^https?://(www\\.)?', ''), '/') AS page
            FROM holdings h JOIN recordings r USING (record_id)
        )
        SELECT least(l.record_id, p.record_id), greatest(l.record_id, p.record_id), l.url
        FROM links l JOIN pages p ON l.page = p.page AND l.source <> p.source
    """,
    "same_78_side": """
        WITH sides AS (
            SELECT record_id, take, label, catalog_number, matrix,
                   regexp_replace(lower(label), '[^a-z0-9]', '', 'g') || '|' ||
                   regexp_replace(lower(catalog_number), '[^a-z0-9]', '', 'g') || '|' ||
                   regexp_replace(lower(matrix), '[^a-z0-9]', '', 'g') AS side_key
            FROM recordings
            WHERE label IS NOT NULL AND catalog_number IS NOT NULL AND matrix IS NOT NULL
        )
        SELECT a.record_id, b.record_id,
               a.label || ' ' || a.catalog_number || ', matrix ' || a.matrix
        FROM sides a JOIN sides b ON a.side_key = b.side_key AND a.record_id < b.record_id
        WHERE a.take IS NULL OR b.take IS NULL OR a.take = b.take
    """,
}


def identifier_edges(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """record_a, record_b, rule, evidence for every pair an identifier rule joins; a pair
    one rule finds twice (two shared ISRCs) is kept once, with its smallest value."""
    found = " UNION ALL ".join(
        f"SELECT a, b, '{rule}' AS rule, evidence FROM ({sql}) AS found(a, b, evidence)"
        for rule, sql in RULES.items()
    )
    return con.sql(
        f"SELECT a AS record_a, b AS record_b, rule, min(evidence) AS evidence FROM ({found}) "
        "GROUP BY ALL ORDER BY record_a, record_b, rule"
    ).pl()
