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
from preservation.link_clusters import TRAITS_SCHEMA, Clustering, cluster
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
    decisions = con.sql(
        "SELECT record_a, record_b, decision, coalesce(note, '') AS note FROM link_decisions"
    ).pl()
    with step("link: identifiers"):
        identified = identifier_edges(con)
    scored = None
    if options.probabilistic and records > 1:
        # Records joined by identifiers may meet the model's pairs in one cluster.
        also = pl.concat([identified["record_a"], identified["record_b"]]).unique().to_list()
        scored = model.score(con, weight(options.review), also=also)
    pairs = _decided(scored.pairs if scored else _NO_PAIRS, decisions)
    with step("link: clusters"):
        traits = scored.traits if scored else pl.DataFrame(schema=TRAITS_SCHEMA)
        clustering = _cluster(identified, decisions, pairs, traits, weight(options.accept))
    pairs = _outcomes(pairs, clustering.refused, options)
    links = _links(identified, decisions, pairs, clustering.refused)
    with transaction(con):
        for table in ("links", "clusters", "link_pairs", "link_evidence", "link_review"):
            con.execute(f"DELETE FROM {table}")
        con.execute("DELETE FROM link_model")
        insert_frame(con, "links", links)
        _write_clusters(con, clustering.members)
        if scored is not None:
            _write_model_outputs(con, scored, pairs, options)
    (cluster_count,) = con.execute("SELECT count(DISTINCT cluster_id) FROM clusters").fetchall()[0]
    outcomes = pairs.get_column("outcome").value_counts()
    counted = dict(zip(outcomes["outcome"], outcomes["count"], strict=True))
    return LinkResult(
        records=records,
        links=links.height,
        clusters=cluster_count,
        by_method=dict(links.group_by("method").len().iter_rows()),
        candidate_pairs=scored.candidate_pairs if scored else 0,
        review=counted.get("review", 0) + counted.get("refused", 0),
        refused=counted.get("refused", 0),
        trained=scored.trained if scored else "",
    )


_NO_PAIRS = pl.DataFrame(
    schema={
        "record_a": pl.Utf8,
        "record_b": pl.Utf8,
        "match_weight": pl.Float64,
        "match_probability": pl.Float64,
    }
)


def _decided(pairs: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """The scored pairs with the archivist's decision on each, if any."""
    return pairs.join(
        decisions.select("record_a", "record_b", "decision"),
        on=["record_a", "record_b"],
        how="left",
        maintain_order="left",
    )


def _cluster(
    identified: pl.DataFrame,
    decisions: pl.DataFrame,
    pairs: pl.DataFrame,
    traits: pl.DataFrame,
    accept_weight: float,
) -> Clustering:
    """Join pairs strongest first: archivists' "same" and identifiers unguarded, then the
    model's pairs at or above `accept_weight` that no archivist decided, guarded."""
    ends = ["record_a", "record_b"]
    tried = pl.concat(
        [
            decisions.filter(pl.col("decision") == "same")
            .select(ends)
            .with_columns(guarded=pl.lit(False)),
            identified.select(ends).with_columns(guarded=pl.lit(False)),
            pairs.filter(pl.col("decision").is_null() & (pl.col("match_weight") >= accept_weight))
            .select(ends)
            .with_columns(guarded=pl.lit(True)),
        ]
    )
    return cluster(tried, traits, decisions.filter(pl.col("decision") == "different"))


def _outcomes(pairs: pl.DataFrame, refused: pl.DataFrame, options: LinkOptions) -> pl.DataFrame:
    """What became of each scored pair, and why: decided, review, refused or linked."""
    accept_weight = weight(options.accept)
    pairs = pairs.join(refused, on=["record_a", "record_b"], how="left", maintain_order="left")
    weak = pl.col("match_weight") < accept_weight
    return pairs.select(
        "record_a",
        "record_b",
        "match_weight",
        "match_probability",
        outcome=pl.when(pl.col("decision").is_not_null())
        .then(pl.lit("decided"))
        .when(weak)
        .then(pl.lit("review"))
        .when(pl.col("reason").is_not_null())
        .then(pl.lit("refused"))
        .otherwise(pl.lit("linked")),
        reason=pl.when(pl.col("decision").is_not_null())
        .then(pl.format("an archivist decided: {}", pl.col("decision")))
        .when(weak)
        .then(
            pl.format(
                "match probability {}, below {}",
                pl.col("match_probability").round(3),
                pl.lit(options.accept),
            )
        )
        .otherwise(pl.col("reason")),
    )


def _links(
    identified: pl.DataFrame, decisions: pl.DataFrame, pairs: pl.DataFrame, refused: pl.DataFrame
) -> pl.DataFrame:
    """The links made: every pair joined, by whichever evidence joined it."""
    ends = ["record_a", "record_b"]
    made = [
        decisions.filter(pl.col("decision") == "same").select(
            *ends,
            method=pl.lit("archivist"),
            rule=pl.lit("review"),
            evidence=pl.when(pl.col("note") != "")
            .then(pl.col("note"))
            .otherwise(pl.lit("decided the same recording")),
        ),
        identified.select(*ends, method=pl.lit("identifier"), rule="rule", evidence="evidence"),
    ]
    made = [m.join(refused, on=ends, how="anti", maintain_order="left") for m in made]
    made.append(
        pairs.filter(pl.col("outcome") == "linked").select(
            *ends,
            method=pl.lit("probabilistic"),
            rule=pl.lit("model"),
            evidence=pl.format(
                "match weight {}, probability {}",
                pl.col("match_weight").round(1),
                pl.col("match_probability").round(4),
            ),
        )
    )
    return pl.concat(made)


def _write_clusters(con: duckdb.DuckDBPyConnection, members: pl.DataFrame) -> None:
    # A digest of the smallest record id in the cluster: stable across re-runs.
    insert_frame(
        con,
        "clusters",
        members,
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
    insert_frame(con, "link_evidence", scored.evidence, select=model.EVIDENCE_INSERT_SQL)
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
