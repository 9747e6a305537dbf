"""Assess by partitions (partitioned.py) on the bundled real sample: the same rows as assess on
the whole database, each partition holding whole clusters, and the command line round trip."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from preservation import store
from preservation.assess import assess
from preservation.cli import app
from preservation.demand import load_demand
from preservation.errors import PreservationError
from preservation.partitioned import (
    OUTPUTS,
    PartitionedAssessResult,
    assess_partition,
    assess_partitions,
    export_partitions,
    import_partitions,
)
from tests.conftest import AS_OF, rows

PARTITIONS = 3


@dataclass
class Run:
    db: Path
    exported: Path
    assessed: Path
    result: PartitionedAssessResult


@pytest.fixture(scope="module")
def run(sample_run, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A copy of the sample with demand for one recording in each of partitions 0 and 1,
    assessed whole (kept as base_<table>), then by partitions and imported back."""
    base = tmp_path_factory.mktemp("partitioned")
    db = base / "sample.duckdb"
    shutil.copy(sample_run[0].db, db)
    with store.connect(db) as con:
        picked = rows(
            con,
            f"""
            SELECT (hash(c.cluster_id) % {PARTITIONS})::INTEGER AS part, min(r.source_id)
            FROM recordings r JOIN clusters c USING (record_id)
            WHERE r.source = 'musicbrainz' AND r.kind = 'recording' AND part < 2
            GROUP BY part ORDER BY part
            """,
        )
        assert [p for p, _ in picked] == [0, 1]
        listens = {0: 50, 1: 5_000}
        popularity = base / "popularity.json"
        popularity.write_text(
            json.dumps([{"recording_mbid": m, "total_listen_count": listens[p]} for p, m in picked])
        )
        load_demand(con, popularity)
        assess(con, AS_OF)
        for table in OUTPUTS:
            con.execute(f"CREATE TABLE base_{table} AS SELECT * FROM {table}; DELETE FROM {table}")
        export_partitions(con, base / "exported", PARTITIONS)
        result = assess_partitions(base / "exported", base / "assessed", AS_OF)
        import_partitions(con, base / "assessed")
    return Run(db, base / "exported", base / "assessed", result)


def parquet(folder: Path, table: str) -> str:
    """Every partition of a table, with its `part` column."""
    return f"read_parquet('{folder / table}/part=*/*.parquet', hive_partitioning = true)"


@pytest.mark.parametrize("table", OUTPUTS)
def test_partitions_give_the_rows_of_one_database(run: Run, table: str) -> None:
    with duckdb.connect(str(run.db), read_only=True) as con:
        (count,) = rows(con, f"SELECT count(*) FROM {table}")[0]
        assert count > 0 and rows(con, f"SELECT count(*) FROM base_{table}") == [(count,)]
        # as multisets: no row lost, none doubled, none different
        for a, b in ((table, f"base_{table}"), (f"base_{table}", table)):
            assert rows(con, f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}") == []


def test_demand_is_scaled_by_the_catalogues_largest(run: Run, tmp_path: Path) -> None:
    # Partition 0's own largest demand is 50: scored alone, its listened cluster would get the
    # whole demand bonus. Export records the catalogue's largest, 5,000, and every partition
    # is scored with it.
    manifest = json.loads((run.exported / "partitions.json").read_text())
    assert manifest["demand_scale"] == 5_000
    with duckdb.connect(str(run.db), read_only=True) as con:
        ((cluster, score),) = rows(con, "SELECT cluster_id, score FROM risk WHERE demand = 50")
        assert run.result.clusters == rows(con, "SELECT count(*) FROM risk")[0][0]
    assess_partition(run.exported, tmp_path, 0, AS_OF, demand_scale=None)
    alone = rows(
        duckdb.connect(),
        f"SELECT score FROM '{tmp_path}/risk/part=0/data.parquet' WHERE cluster_id = ?",
        [cluster],
    )
    assert alone[0][0] > score


def test_each_partition_holds_whole_clusters(run: Run) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{run.db}' AS db (READ_ONLY)")
    con.execute(f"CREATE TABLE parts AS SELECT * FROM {parquet(run.exported, 'clusters')}")
    # no cluster in two partitions, each in the one its id hashes to, every partition used
    split = "SELECT cluster_id FROM parts GROUP BY 1 HAVING count(DISTINCT part) > 1"
    assert rows(con, split) == []
    assert rows(con, f"SELECT * FROM parts WHERE hash(cluster_id) % {PARTITIONS} <> part") == []
    assert rows(con, "SELECT count(DISTINCT part) FROM parts") == [(PARTITIONS,)]
    # every record and holding of the database once, in its cluster's partition
    assert sorted(rows(con, "SELECT cluster_id, record_id FROM parts")) == sorted(
        rows(con, "SELECT cluster_id, record_id FROM db.clusters")
    )
    for table in ("recordings", "holdings", "recording_works"):
        strays = rows(
            con,
            f"SELECT t.record_id FROM {parquet(run.exported, table)} AS t "
            "ANTI JOIN parts AS p ON p.record_id = t.record_id AND p.part = t.part",
        )
        assert strays == [], table
        assert rows(con, f"SELECT count(*) FROM {parquet(run.exported, table)}") == rows(
            con, f"SELECT count(*) FROM db.{table}"
        )
    # a partition's writers are all those of its own works, once each, and no others
    assert rows(con, "SELECT count(*) FROM db.work_writers")[0][0] > 0
    for part in range(PARTITIONS):
        folder = run.exported / "work_writers" / f"part={part}"
        own = f"read_parquet('{folder}/*.parquet', hive_partitioning = false)"
        got = rows(con, f"SELECT * FROM {own}") if folder.exists() else []
        want = rows(
            con,
            "SELECT DISTINCT ww.* FROM db.work_writers AS ww "
            "JOIN db.recording_works AS rw USING (work_id) "
            f"JOIN parts AS p USING (record_id) WHERE p.part = {part}",
        )
        assert sorted(got) == sorted(want)
    # each partition's results are of its own clusters only
    for table in ("cluster_facts", "risk"):
        strays = rows(
            con,
            f"SELECT o.cluster_id FROM {parquet(run.assessed, table)} AS o "
            "ANTI JOIN parts AS p ON p.cluster_id = o.cluster_id AND p.part = o.part",
        )
        assert strays == [], table


def test_import_refuses_results_of_other_clusters(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "relinked.duckdb"
    shutil.copy(run.db, db)
    with store.connect(db) as con:
        before = rows(con, "SELECT count(*) FROM risk")
        # as if the database had been linked again since the export
        con.execute("DELETE FROM clusters WHERE cluster_id = (SELECT min(cluster_id) FROM risk)")
        with pytest.raises(PreservationError, match=r"0 missing, 1 unknown"):
            import_partitions(con, run.assessed)
        with pytest.raises(PreservationError, match="not a finished output of assess"):
            import_partitions(con, run.exported)
        assert rows(con, "SELECT count(*) FROM risk") == before  # left as it was


def test_command_line_round_trip(sample_run, tmp_path: Path) -> None:
    db = tmp_path / "sample.duckdb"
    shutil.copy(sample_run[0].db, db)
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(app, ["partitions", *args])
        assert result.exit_code == 0, result.output
        return result.output

    exported = invoke("export", str(tmp_path / "e"), "--db", str(db), "--partitions", "2")
    assert "2 partitions in" in exported and "recordings 78" in exported
    assessed = invoke("assess", str(tmp_path / "e"), "--out", str(tmp_path / "a"), "--as-of",
                      AS_OF.isoformat())  # fmt: skip
    imported = invoke("import", str(tmp_path / "a"), "--db", str(db))
    with duckdb.connect(str(sample_run[0].db), read_only=True) as con:
        clusters, at_risk = rows(
            con, "SELECT count(*), count(*) FILTER (WHERE risk_level IN ('high', 'medium')) "
            "FROM risk"
        )[0]  # fmt: skip
    assert f"{clusters} clusters in 2 partitions assessed as of {AS_OF}: {at_risk} at risk" in (
        assessed
    )
    assert f"{clusters} clusters as of {AS_OF}: {at_risk} at risk" in imported
    # one line, no traceback, exit status 1
    again = runner.invoke(app, ["partitions", "export", str(tmp_path / "e"), "--db", str(db)])
    assert again.exit_code == 1
    assert again.output.strip().splitlines() == [
        f"error: {tmp_path / 'e'} is not an empty folder: give a new or empty one"
    ]
    assert runner.invoke(app, ["partitions", "--help"]).exit_code == 0
