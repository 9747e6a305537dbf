"""Stage 3, link: group the records that are the same recording into one cluster.

Three kinds of evidence, strongest first:

1. archivists' decisions (`link_decisions`, from the review CSV): "same" links a pair,
   "different" keeps it apart whatever else says;
2. identifiers (`link_rules`): shared ISRC, carried MBID, url to the record's page, same
   label + catalog number + matrix;
3. the probabilistic model (`link_probabilistic`): pairs scored at or above `accept` link,
   pairs between `review` and `accept` go to `link_review`.

Clusters are the connected components of the accepted links, guarded against chaining
(`link_clusters`). Cluster ids are a digest of the smallest record id in the cluster, so
they are stable across re-runs. Every table this stage writes is rebuilt in one
transaction; `link_decisions` is only read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl

from preservation import link_probabilistic as model
from preservation.link_clusters import Clusters
from preservation.link_rules import identifier_edges
from preservation.progress import step
from preservation.store import insert_frame, transaction

DEFAULT_ACCEPT = 0.95
DEFAULT_REVIEW = 0.80


@dataclass
class LinkOptions:
    accept: float = DEFAULT_ACCEPT  # match probability at or above which a pair links
    review: float = DEFAULT_REVIEW  # ... at or above which (below accept) it goes to review
    probabilistic: bool = True  # False: identifiers and decisions only


@dataclass
class LinkResult:
    records: int
    links: int
    clusters: int
    by_method: dict[str, int] = field(default_factory=dict)
    candidate_pairs: int = 0
    review: int = 0
    refused: int = 0
    trained: str = ""


def weight(probability: float) -> float:
    """The match weight (log2 odds) of a match probability."""
    probability = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(probability / (1 - probability))


def link(con: duckdb.DuckDBPyConnection, options: LinkOptions | None = None) -> LinkResult:
    """Rebuild links, clusters and the link_* tables from recordings and holdings."""
    options = options or LinkOptions()
    if not 0 < options.review <= options.accept < 1:
        raise ValueError("thresholds must satisfy 0 < review <= accept < 1")
    (records,) = con.execute("SELECT count(*) FROM recordings").fetchall()[0]
    decisions = con.execute(
        "SELECT record_a, record_b, decision, coalesce(note, '') FROM link_decisions"
    ).fetchall()
    with step("link: identifiers"):
        identified = identifier_edges(con)
    scored = None
    if options.probabilistic and records > 1:
        joined_by_ids = sorted({r for a, b, *_ in identified for r in (a, b)})
        scored = model.score(con, weight(options.review), also=joined_by_ids)
    links, pairs, clusters = _cluster(identified, decisions, scored, options)
    with transaction(con):
        for table in ("links", "clusters", "link_pairs", "link_evidence", "link_review"):
            con.execute(f"DELETE FROM {table}")
        con.execute("DELETE FROM link_model")
        if links:
            columns = ["record_a", "record_b", "method", "rule", "evidence"]
            insert_frame(con, "links", pl.DataFrame(links, schema=columns, orient="row"))
        _write_clusters(con, clusters)
        if scored is not None:
            _write_model_outputs(con, scored, pairs, options)
    by_method: dict[str, int] = {}
    for *_, method, _rule, _evidence in links:
        by_method[method] = by_method.get(method, 0) + 1
    (cluster_count,) = con.execute("SELECT count(DISTINCT cluster_id) FROM clusters").fetchall()[0]
    outcomes = pairs.get_column("outcome") if pairs is not None else pl.Series([], dtype=pl.Utf8)
    return LinkResult(
        records=records,
        links=len(links),
        clusters=cluster_count,
        by_method=by_method,
        candidate_pairs=scored.candidate_pairs if scored else 0,
        review=int((outcomes == "review").sum() + (outcomes == "refused").sum()),
        refused=int((outcomes == "refused").sum()),
        trained=scored.trained if scored else "",
    )


def _cluster(
    identified: list[tuple[str, str, str, str]],
    decisions: list[tuple[str, str, str, str]],
    scored: model.Scored | None,
    options: LinkOptions,
) -> tuple[list[tuple[str, str, str, str, str]], pl.DataFrame | None, Clusters]:
    """Join pairs strongest first; returns the links made, the scored pairs with their
    outcomes, and the clusters."""
    apart = [(a, b) for a, b, decision, _ in decisions if decision == "different"]
    traits = scored.traits if scored else {}
    clusters = Clusters(traits, apart)
    links: list[tuple[str, str, str, str, str]] = []
    for a, b, decision, note in decisions:
        if decision == "same":
            clusters.join(a, b, guarded=False)
            links.append((a, b, "archivist", "review", note or "decided the same recording"))
    for a, b, rule, evidence in identified:
        if clusters.join(a, b, guarded=False) is None:
            links.append((a, b, "identifier", rule, evidence))
    if scored is None:
        return links, None, clusters
    decided = {(a, b): decision for a, b, decision, _ in decisions}
    accept_weight = weight(options.accept)
    outcomes: list[str] = []
    reasons: list[str | None] = []
    for a, b, w, p in scored.pairs.select(
        "record_a", "record_b", "match_weight", "match_probability"
    ).iter_rows():
        if (a, b) in decided:
            outcomes.append("decided")
            reasons.append(f"an archivist decided: {decided[a, b]}")
        elif w < accept_weight:
            outcomes.append("review")
            reasons.append(f"match probability {p:.3f}, below {options.accept}")
        elif (why := clusters.join(a, b, guarded=True)) is not None:
            outcomes.append("refused")
            reasons.append(why)
        else:
            outcomes.append("linked")
            reasons.append(None)
            links.append(
                (a, b, "probabilistic", "model", f"match weight {w:.1f}, probability {p:.4f}")
            )
    pairs = scored.pairs.with_columns(
        pl.Series("outcome", outcomes, dtype=pl.Utf8), pl.Series("reason", reasons, dtype=pl.Utf8)
    )
    return links, pairs, clusters


def _write_clusters(con: duckdb.DuckDBPyConnection, clusters: Clusters) -> None:
    joined = pl.DataFrame(list(clusters.groups()), schema=["record_id", "first"], orient="row")
    # A digest of the smallest record id in the cluster: stable across re-runs.
    insert_frame(
        con,
        "clusters",
        joined,
        select="""
        INSERT INTO clusters
        SELECT 'c' || sha1(coalesce(j.first, r.record_id))[:12], r.record_id
        FROM recordings r LEFT JOIN new_rows j USING (record_id)
        """,
    )


def _write_model_outputs(
    con: duckdb.DuckDBPyConnection, scored: model.Scored, pairs: pl.DataFrame, options: LinkOptions
) -> None:
    insert_frame(con, "link_pairs", pairs)
    insert_frame(con, "link_evidence", scored.evidence)
    insert_frame(
        con,
        "link_review",
        pairs.filter(pl.col("outcome").is_in(["review", "refused"])).select(
            "record_a", "record_b", "match_probability", "reason"
        ),
    )
    con.execute(
        "INSERT INTO link_model VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            datetime.now(UTC).replace(tzinfo=None),
            scored.records,
            scored.candidate_pairs,
            scored.trained,
            scored.prior_weight,
            options.accept,
            options.review,
            scored.settings_json,
        ],
    )
