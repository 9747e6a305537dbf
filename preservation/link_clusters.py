"""Clusters: connected components over accepted links, guarded against chaining.

Links are added strongest first. A probabilistic link that would put two records that
cannot be one recording into one cluster (different matrices, different takes of one
matrix, different issues with no matrix to tie them, years far apart, or a pair an
archivist called different) is refused, with the reason, and goes to review; the cluster
stays split. Identifier links and archivists' "same" decisions are not second-guessed,
except by an archivist's "different".

`cluster` does this for millions of links: components are found in SQL, and only those
that could hold a conflict are replayed link by link through `Clusters`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import polars as pl

from preservation.store import scratch

# Reissues keep a recording's first year in MusicBrainz and a transfer's disc year in the
# archives; beyond this gap two records are more likely two recordings of one song.
MAX_YEAR_GAP = 10


@dataclass(frozen=True)
class Traits:
    """What can make two records incompatible (normalized as link_input has them)."""

    year: int | None = None
    label: str | None = None
    catalog: str | None = None
    matrix: str | None = None
    take: str | None = None


def conflict(x: Traits, y: Traits) -> str | None:
    """Why records with these traits cannot be one recording, or None."""
    if x.matrix and y.matrix:
        if x.matrix != y.matrix:
            return f"matrices {x.matrix} and {y.matrix}"
        if x.take and y.take and x.take != y.take:
            return f"takes {x.take} and {y.take} of matrix {x.matrix}"
    elif _differ(x.label, y.label) and _differ(x.catalog, y.catalog):
        return f"issues {x.label} {x.catalog} and {y.label} {y.catalog}"
    if x.year and y.year and abs(x.year - y.year) > MAX_YEAR_GAP:
        return f"years {x.year} and {y.year}"
    return None


def _differ(x: str | None, y: str | None) -> bool:
    return bool(x and y and x != y)


class Clusters:
    """Union-find whose unions can be refused by the members they would bring together."""

    def __init__(self, traits: dict[str, Traits], apart: Iterable[tuple[str, str]] = ()) -> None:
        self.traits = traits
        self.apart = {tuple(sorted(pair)) for pair in apart}
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}

    def find(self, n: str) -> str:
        parent = self.parent
        if n not in parent:
            parent[n] = n
            self.members[n] = [n]
            return n
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def join(self, a: str, b: str, guarded: bool) -> str | None:
        """Put a and b in one cluster; returns why not when refused (and changes nothing)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        reason = self._refusal(self.members[ra], self.members[rb], guarded)
        if reason:
            return reason
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        return None

    def _refusal(self, xs: list[str], ys: list[str], guarded: bool) -> str | None:
        none = Traits()
        for x in xs:
            for y in ys:
                if (min(x, y), max(x, y)) in self.apart:
                    return f"an archivist decided {x} and {y} are different recordings"
                if guarded:
                    why = conflict(self.traits.get(x, none), self.traits.get(y, none))
                    if why:
                        return f"would put {x} and {y} in one cluster: {why}"
        return None

    def groups(self) -> Iterable[tuple[str, str]]:
        """(record_id, smallest record id of its cluster) for every record ever joined."""
        smallest = {root: min(members) for root, members in self.members.items()}
        for n in self.parent:
            yield n, smallest[self.find(n)]


# What `cluster` needs to know of the records its links touch (as link_input has them).
TRAITS_SCHEMA = {
    "record_id": pl.Utf8,
    "year": pl.Int32,
    "label": pl.Utf8,
    "catalog": pl.Utf8,
    "matrix": pl.Utf8,
    "take": pl.Utf8,
}
PAIR_SCHEMA = {"record_a": pl.Utf8, "record_b": pl.Utf8}


@dataclass
class Clustering:
    members: pl.DataFrame  # record_id, first: each record a link touches, and the smallest
    # record id of its cluster
    refused: pl.DataFrame  # record_a, record_b, reason: the links refused


def cluster(
    links: pl.DataFrame, traits: pl.DataFrame, apart: pl.DataFrame | None = None
) -> Clustering:
    """Clusters from `links` (record_a, record_b, guarded), tried in row order, strongest
    first; `traits` (TRAITS_SCHEMA) of the records guarded links touch; `apart`
    (record_a, record_b): pairs an archivist called different.

    The result is the same as joining every link in order through `Clusters`: components do
    not interact, so a component where no two records conflict and no archivist's "different"
    falls (one matrix, one take, years close ...) takes all its links, and only the others
    are replayed link by link."""
    apart = apart if apart is not None else pl.DataFrame(schema=PAIR_SCHEMA)
    with scratch() as work:
        work.register(
            "links_in",
            links.select("record_a", "record_b", "guarded").with_row_index("position").to_arrow(),
        )
        work.register("traits", traits.to_arrow())
        work.register("apart", apart.select("record_a", "record_b").to_arrow())
        work.execute(_NODES_SQL)
        ends = work.sql("SELECT a, b FROM edges").to_arrow_table()
        (nodes,) = work.execute("SELECT count(*) FROM nodes").fetchall()[0]
        roots = components(nodes, ends.column("a").to_pylist(), ends.column("b").to_pylist())
        work.register("roots", pl.DataFrame({"c": roots}).with_row_index("id").to_arrow())
        work.execute("CREATE TABLE comp AS SELECT id, c FROM roots")
        work.execute(_UNSAFE_SQL.format(max_gap=MAX_YEAR_GAP))
        replayed = _replay(work, apart)
        members = work.sql(_SAFE_MEMBERS_SQL).pl()
    return Clustering(
        members=pl.concat([members, replayed.members]),
        refused=replayed.refused,
    )


def components(nodes: int, a: list[int], b: list[int]) -> list[int]:
    """The component of each node 0..nodes-1 given the edges a[i]-b[i]: the number of one of
    its nodes. Plain union-find with path halving: one pass over the edges, a few seconds
    for millions, where rounds of label propagation in SQL took several times as long."""
    parent = list(range(nodes))
    for x, y in zip(a, b, strict=True):
        while parent[x] != x:
            parent[x] = x = parent[parent[x]]
        while parent[y] != y:
            parent[y] = y = parent[parent[y]]
        if x != y:
            parent[max(x, y)] = min(x, y)
    for n in range(nodes):
        parent[n] = parent[parent[n]]  # a parent is numbered lower, so already a root
    return parent


def _replay(work: duckdb.DuckDBPyConnection, apart: pl.DataFrame) -> Clustering:
    """Join the links of the components that could hold a conflict one by one."""
    traits = {
        row[0]: Traits(*row[1:])
        for row in work.execute(
            "SELECT t.* FROM traits t JOIN nodes n USING (record_id) JOIN comp USING (id) "
            "WHERE comp.c IN (SELECT c FROM unsafe)"
        ).fetchall()
    }
    clusters = Clusters(traits, apart.iter_rows())
    refused = [
        (a, b, why)
        for a, b, guarded in work.execute(
            "SELECT l.record_a, l.record_b, l.guarded FROM edges l JOIN comp ON comp.id = l.a "
            "WHERE comp.c IN (SELECT c FROM unsafe) ORDER BY l.position"
        ).fetchall()
        if (why := clusters.join(a, b, guarded)) is not None
    ]
    return Clustering(
        members=pl.DataFrame(list(clusters.groups()), schema=["record_id", "first"], orient="row"),
        refused=pl.DataFrame(refused, schema={**PAIR_SCHEMA, "reason": pl.Utf8}, orient="row"),
    )


# Records as integers from 0, in no particular order (joins on them are cheaper).
_NODES_SQL = """
CREATE TABLE nodes AS
SELECT row_number() OVER () - 1 AS id, record_id
FROM (SELECT record_a AS record_id FROM links_in UNION SELECT record_b FROM links_in);
CREATE TABLE edges AS
SELECT a.id AS a, b.id AS b, l.*
FROM links_in l JOIN nodes a ON a.record_id = l.record_a JOIN nodes b ON b.record_id = l.record_b;
"""
# Components that could hold a conflict and have a guarded link to refuse, or hold both
# records of a pair an archivist called different. Conservative (`conflict` is exact);
# min <> max is "more than one value", and cheaper than counting distinct values.
_UNSAFE_SQL = """
CREATE TABLE unsafe AS
WITH guarded AS (
    SELECT DISTINCT comp.c FROM edges e JOIN comp ON comp.id = e.a WHERE e.guarded
), checked AS (
    SELECT comp.c FROM comp JOIN nodes USING (id) LEFT JOIN traits t USING (record_id)
    WHERE comp.c IN (SELECT c FROM guarded)
    GROUP BY comp.c
    HAVING min(t.matrix) <> max(t.matrix) OR min(t.take) <> max(t.take)
        OR (min(t.label) <> max(t.label) AND min(t.catalog) <> max(t.catalog)
            AND bool_or(t.matrix IS NULL))
        OR max(t.year) - min(t.year) > {max_gap}
)
SELECT c FROM checked
UNION
SELECT ca.c FROM apart x
JOIN nodes na ON na.record_id = x.record_a JOIN comp ca ON ca.id = na.id
JOIN nodes nb ON nb.record_id = x.record_b JOIN comp cb ON cb.id = nb.id
WHERE ca.c = cb.c
"""
_SAFE_MEMBERS_SQL = """
WITH safe AS (
    SELECT comp.c, n.record_id FROM comp JOIN nodes n USING (id)
    WHERE comp.c NOT IN (SELECT c FROM unsafe)
)
SELECT record_id, first FROM safe JOIN (SELECT c, min(record_id) AS first FROM safe GROUP BY c)
USING (c)
"""
