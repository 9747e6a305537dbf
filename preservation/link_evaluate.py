"""How right the clusters are, measured against a gold file of known pairs.

The gold file is a CSV with columns `record_a`, `record_b` and, optionally, `same`
(true: the same recording, the default; false: known to be different recordings) and any
notes. A gold pair whose records are not both in the database is counted as unusable, not as
an error of the linker.

Pairs are compared as the clusters imply them: two records in one cluster are a predicted
pair. Precision is the share of predicted pairs among gold pairs that are truly the same;
recall the share of true gold pairs that were predicted.

Cluster-level figures (`truth_scores`) need the whole truth about a set of records, as the
benchmark's generator knows it: which records are one recording ("entities"). Gold "same"
pairs are turned into entities by joining them transitively.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from preservation.errors import PreservationError
from preservation.link_clusters import Clusters

TRUE = {"", "1", "true", "yes", "same"}
FALSE = {"0", "false", "no", "different"}


@dataclass
class Evaluation:
    gold_pairs: int = 0
    unusable: int = 0  # a record of the pair is not in the database
    true_positives: int = 0
    false_positives: int = 0  # joined, but gold says different
    false_negatives: int = 0  # apart, but gold says the same
    true_negatives: int = 0
    missed: list[tuple[str, str]] = field(default_factory=list)
    wrongly_joined: list[tuple[str, str]] = field(default_factory=list)
    # Cluster level: gold recordings (records joined by "same" pairs, transitively) and how
    # many of them are whole, all their records in one cluster.
    entities: int = 0
    entities_whole: int = 0

    @property
    def precision(self) -> float | None:
        joined = self.true_positives + self.false_positives
        return self.true_positives / joined if joined else None

    @property
    def recall(self) -> float | None:
        same = self.true_positives + self.false_negatives
        return self.true_positives / same if same else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None


@dataclass
class TruthScores:
    """Clusters against complete truth over a set of records."""

    true_pairs: int  # pairs of records that are one recording
    predicted_pairs: int  # pairs of those records that share a cluster
    correct_pairs: int  # ... and are one recording
    entities: int  # recordings with two records or more
    entities_whole: int  # ... whose records form exactly one cluster, alone
    clusters: int  # clusters with two records or more (among the records)
    clusters_pure: int  # ... whose records are all one recording

    @property
    def precision(self) -> float | None:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else None

    @property
    def recall(self) -> float | None:
        return self.correct_pairs / self.true_pairs if self.true_pairs else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None


TRUTH_SQL = """
WITH t AS (
    SELECT truth.record_id, truth.entity, c.cluster_id
    FROM {truth} truth JOIN clusters c USING (record_id)
), by_both AS (SELECT count(*) AS n FROM t GROUP BY cluster_id, entity),
by_entity AS (
    SELECT count(*) AS n, count(DISTINCT cluster_id) AS clusters FROM t GROUP BY entity
), by_cluster AS (
    SELECT cluster_id, count(*) AS n, count(DISTINCT entity) AS entities FROM t GROUP BY 1
), whole AS (
    -- an entity is whole when it has one cluster and that cluster holds nothing else
    SELECT count(*) AS n FROM (
        SELECT entity, any_value(cluster_id) AS cluster_id FROM t GROUP BY entity
        HAVING count(*) > 1 AND count(DISTINCT cluster_id) = 1
    ) e JOIN by_cluster b USING (cluster_id) WHERE b.entities = 1
)
SELECT (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM by_entity),
       (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM by_cluster),
       (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM by_both),
       (SELECT count(*) FROM by_entity WHERE n > 1),
       (SELECT n FROM whole),
       (SELECT count(*) FROM by_cluster WHERE n > 1),
       (SELECT count(*) FROM by_cluster WHERE n > 1 AND entities = 1)
"""


def truth_scores(con: duckdb.DuckDBPyConnection, truth: str) -> TruthScores:
    """Pair and cluster figures of the current clusters against `truth`, a table or view
    of (record_id, entity) covering every record it speaks about."""
    return TruthScores(*con.execute(TRUTH_SQL.format(truth=truth)).fetchall()[0])


def read_gold(path: Path) -> list[tuple[str, str, bool]]:
    """(record_a, record_b, same) rows of a gold CSV; a clear error for a malformed one."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise PreservationError(f"cannot read gold file {path}: {exc}") from exc
    pairs = []
    for number, row in enumerate(rows, start=2):
        a, b = (row.get("record_a") or "").strip(), (row.get("record_b") or "").strip()
        same = (row.get("same") or "").strip().lower()
        if not a or not b or same not in TRUE | FALSE:
            raise PreservationError(
                f"{path}:{number}: expected record_a, record_b and same (true/false)"
            )
        pairs.append((a, b, same in TRUE))
    return pairs


def evaluate(con: duckdb.DuckDBPyConnection, gold: list[tuple[str, str, bool]]) -> Evaluation:
    """Compare the current clusters with gold pairs."""
    # Only the gold records' clusters: a catalogue's clusters table has tens of millions of rows.
    named = sorted({record for a, b, _ in gold for record in (a, b)})
    cluster = dict(
        con.execute(
            "SELECT record_id, cluster_id FROM clusters "
            "SEMI JOIN (SELECT unnest($named) AS record_id) USING (record_id)",
            {"named": named},
        ).fetchall()
    )
    result = Evaluation(gold_pairs=len(gold))
    for a, b, same in gold:
        if a not in cluster or b not in cluster:
            result.unusable += 1
            continue
        joined = cluster[a] == cluster[b]
        if same and joined:
            result.true_positives += 1
        elif same:
            result.false_negatives += 1
            result.missed.append((a, b))
        elif joined:
            result.false_positives += 1
            result.wrongly_joined.append((a, b))
        else:
            result.true_negatives += 1
    entities = Clusters({})
    for a, b, same in gold:
        if same and a in cluster and b in cluster:
            entities.join(a, b, guarded=False)
    for members in entities.members.values():
        result.entities += 1
        result.entities_whole += len({cluster[m] for m in members}) == 1
    return result
