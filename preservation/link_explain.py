"""Why records were joined: a cluster's records and the links (with their evidence) that
joined them, for `preservation link explain`."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from preservation.errors import PreservationError


@dataclass
class Explanation:
    cluster_id: str
    records: list[tuple[str, ...]]  # record_id, title, date, label, catalog, matrix
    links: list[tuple[str, str, str, str, str]]  # record_a, record_b, method, rule, evidence


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
    return Explanation(cluster, records, links)
