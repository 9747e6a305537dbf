"""Stage 3, link: group the records that are the same recording into one cluster.

This first linker uses deterministic evidence only, each link recorded in `links` with the
rule and the shared value, so any cluster can be explained:

- shared_isrc: two records carry the same ISRC;
- carried_mbid: a record carries a MusicBrainz id of another (`urn:mb_recording_id:` ...);
- url_to_record: a record's holding URL is another record's own page (a MusicBrainz url
  relationship to an archive.org or loc.gov item);
- same_78_side: same label, catalog number and matrix, and no conflicting take (several
  transfers of one disc side).

Clusters are the connected components of those links. Cluster ids are derived from the
smallest record id in the cluster, so they are stable across re-runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from preservation.store import transaction

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


@dataclass
class LinkResult:
    links: int
    clusters: int
    records: int


def link(con: duckdb.DuckDBPyConnection) -> LinkResult:
    """Rebuild `links` and `clusters` from recordings and holdings."""
    edges: list[tuple[str, str, str, str, str]] = []
    for rule, sql in RULES.items():
        for a, b, evidence in con.execute(sql).fetchall():
            edges.append((a, b, "identifier", rule, evidence))
    edges = sorted(set(edges))
    records = [r[0] for r in con.execute("SELECT record_id FROM recordings").fetchall()]
    members = connected_components(records, [(a, b) for a, b, *_ in edges])
    with transaction(con):
        con.execute("DELETE FROM links")
        con.execute("DELETE FROM clusters")
        if edges:
            # An edge found twice by one rule (two shared ISRCs) is kept once, with one value.
            con.executemany("INSERT OR IGNORE INTO links VALUES (?, ?, ?, ?, ?)", edges)
        con.executemany(
            "INSERT INTO clusters VALUES (?, ?)",
            [(cluster_id(group), r) for group in members for r in group],
        )
    return LinkResult(links=len(edges), clusters=len(members), records=len(records))


def cluster_id(group: list[str]) -> str:
    """A stable id for a cluster: a digest of its smallest record id."""
    return "c" + hashlib.sha1(min(group).encode()).hexdigest()[:12]


def connected_components(nodes: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Groups of nodes joined by edges (union-find with path halving)."""
    parent = {n: n for n in nodes}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for n in nodes:
        groups.setdefault(find(n), []).append(n)
    return sorted(sorted(g) for g in groups.values())
