"""Why records were joined: a cluster's records, the links (with their evidence) that joined
them and, for the model's links, each field's weight, the prior, the total and the
thresholds; also the pairs of the cluster waiting for review or refused, for
`preservation link explain`."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from preservation.errors import PreservationError


@dataclass
class Thresholds:
    prior_weight: float
    accept: float  # match probability
    review: float
    trained: str


@dataclass
class Explanation:
    cluster_id: str
    records: list[tuple[str, ...]]  # record_id, title, date, label, catalog, matrix
    links: list[tuple[str, str, str, str, str]]  # record_a, record_b, method, rule, evidence
    # (record_a, record_b) -> [(field, level, weight)], for every scored pair shown
    weights: dict[tuple[str, str], list[tuple[str, str, float]]] = field(default_factory=dict)
    # scored pairs with a record in the cluster that were not linked: a, b, p, outcome, reason
    unlinked: list[tuple[str, str, float, str, str]] = field(default_factory=list)
    thresholds: Thresholds | None = None


def explain(con: duckdb.DuckDBPyConnection, cluster_or_record: str) -> Explanation:
    """The cluster a record belongs to (or the cluster named), its records and links."""
    found = con.execute(
        "SELECT DISTINCT cluster_id FROM clusters WHERE cluster_id = ? OR record_id = ?",
        [cluster_or_record, cluster_or_record],
    ).fetchall()
    if not found:
        raise PreservationError(
            f"no cluster or record {cluster_or_record!r}: run `preservation link` first, or "
            "check the id (query: at_risk lists cluster ids)"
        )
    (cluster,) = found[0]
    records = con.execute(
        """
        SELECT r.record_id, coalesce(r.title, ''), coalesce(r.date, ''),
               coalesce(r.label, ''), coalesce(r.catalog_number, ''), coalesce(r.matrix, '')
        FROM clusters c JOIN recordings r USING (record_id)
        WHERE c.cluster_id = ? ORDER BY r.record_id
        """,
        [cluster],
    ).fetchall()
    links = con.execute(
        """
        SELECT l.record_a, l.record_b, l.method, l.rule, l.evidence
        FROM links l JOIN clusters c ON c.record_id = l.record_a
        WHERE c.cluster_id = ? ORDER BY ALL
        """,
        [cluster],
    ).fetchall()
    unlinked = con.execute(
        """
        SELECT record_a, record_b, match_probability, outcome, coalesce(reason, '')
        FROM link_pairs
        WHERE outcome <> 'linked' AND (record_a IN (SELECT record_id FROM clusters
                                                    WHERE cluster_id = $1)
                                    OR record_b IN (SELECT record_id FROM clusters
                                                    WHERE cluster_id = $1))
        ORDER BY match_probability DESC, record_a, record_b
        """,
        [cluster],
    ).fetchall()
    shown = {(a, b) for a, b, *_ in links} | {(a, b) for a, b, *_ in unlinked}
    weights: dict[tuple[str, str], list[tuple[str, str, float]]] = {}
    for a, b, name, level, weight in con.execute(
        """
        SELECT e.record_a, e.record_b, e.field, e.level, e.weight
        FROM link_evidence e
        WHERE e.record_a IN (SELECT record_id FROM clusters WHERE cluster_id = $1)
           OR e.record_b IN (SELECT record_id FROM clusters WHERE cluster_id = $1)
        ORDER BY e.record_a, e.record_b, e.weight DESC
        """,
        [cluster],
    ).fetchall():
        if (a, b) in shown:
            weights.setdefault((a, b), []).append((name, level, weight))
    model = con.execute("SELECT prior_weight, accept, review, trained FROM link_model").fetchall()
    thresholds = Thresholds(*model[0]) if model else None
    return Explanation(cluster, records, links, weights, unlinked, thresholds)
