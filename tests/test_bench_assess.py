"""The assess benchmark's generator (bench/synthetic_assess.py) makes tables shaped like the
real ones, and assess runs on them: 1,000 synthetic clusters, a second or so; the benchmark
(bench/assess.py) measures assess, report and both its floors at that size."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bench import assess as bench_assess
from bench.synthetic_assess import generate
from preservation import store
from preservation.assess import assess

CLUSTERS = 1_000
ACCESS_CLASSES = {"open_archive", "free_stream", "paid_stream", "store", "catalogue_only"}
TABLES = ("recordings", "clusters", "holdings", "works", "recording_works", "work_writers")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("bench_assess") / "synthetic.duckdb"
    counts = generate(path, CLUSTERS)
    assert all(counts[t] > 0 for t in (*TABLES, "artists")), counts
    con = store.connect(path)
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def test_tables_are_shaped_like_the_real_ones(synthetic: duckdb.DuckDBPyConnection) -> None:
    con = synthetic
    assert one(con, "SELECT count(DISTINCT cluster_id) FROM clusters") == CLUSTERS
    # every record in exactly one cluster, and every cluster member a record
    assert one(con, "SELECT count(*) FROM recordings") == one(con, "SELECT count(*) FROM clusters")
    assert one(con, "SELECT count(DISTINCT record_id) FROM recordings") == one(
        con, "SELECT count(*) FROM recordings"
    )
    assert one(con, "SELECT count(*) FROM clusters LEFT JOIN recordings r USING (record_id) "
                    "WHERE r.record_id IS NULL") == 0  # fmt: skip
    records_per_cluster = one(con, "SELECT count(*) FROM recordings") / CLUSTERS
    assert 1.3 < records_per_cluster < 1.5
    # record ids as the parsers write them
    assert one(con, """
        SELECT count(*) FROM recordings
        WHERE NOT regexp_full_match(record_id,
            'musicbrainz:recording:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
            '|internetarchive:item:78_[a-z0-9-]+_[a-z0-9-]+_gbia[0-9]{7,}[ab]'
            '|loc:item:jukebox-[0-9]+')
    """) == 0  # fmt: skip
    # every holding belongs to a record, is classified, and is unique by (record, url, type)
    assert one(con, "SELECT count(*) FROM holdings LEFT JOIN recordings r USING (record_id) "
                    "WHERE r.record_id IS NULL") == 0  # fmt: skip
    classes = {r[0] for r in con.execute("SELECT DISTINCT access_class FROM holdings").fetchall()}
    assert classes <= ACCESS_CLASSES and {"open_archive", "catalogue_only"} <= classes
    assert one(con, "SELECT count(*) - count(DISTINCT (record_id, url, relation_type)) "
                    "FROM holdings") == 0  # fmt: skip
    assert one(con, "SELECT count(*) FROM holdings WHERE NOT live AND status_note IS NULL") == 0
    # dates mostly 1900-1965, about 5% missing; LoC gives recording days
    missing = one(con, "SELECT avg((year IS NULL)::INTEGER) FROM recordings")
    assert 0.02 < missing < 0.09
    assert one(con, "SELECT avg((year BETWEEN 1899 AND 1966)::INTEGER) FROM recordings "
                    "WHERE year IS NOT NULL") > 0.85  # fmt: skip
    assert one(con, "SELECT bool_and(date_kind = 'recorded') FROM recordings "
                    "WHERE source = 'loc' AND year IS NOT NULL")  # fmt: skip
    # works and their writers hang together
    assert one(con, "SELECT count(*) FROM recording_works LEFT JOIN works w USING (work_id) "
                    "WHERE w.work_id IS NULL") == 0  # fmt: skip
    assert one(con, "SELECT count(*) FROM work_writers LEFT JOIN artists a USING (artist_id) "
                    "WHERE a.artist_id IS NULL") == 0  # fmt: skip


def test_assess_gives_one_risk_row_per_cluster(synthetic: duckdb.DuckDBPyConnection) -> None:
    result = assess(synthetic, as_of=date(2026, 11, 23))
    assert result.clusters == CLUSTERS
    assert one(synthetic, "SELECT count(*) FROM risk") == CLUSTERS
    assert one(synthetic, "SELECT count(DISTINCT cluster_id) FROM risk") == CLUSTERS
    statuses = {r[0] for r in synthetic.execute("SELECT DISTINCT status FROM risk").fetchall()}
    assert {"catalogue_only", "open_public_domain"} <= statuses


def test_the_same_size_gives_the_same_database(tmp_path: Path) -> None:
    tables = ("recordings", "holdings", "clusters")
    digests = []
    for name in ("a", "b"):
        generate(tmp_path / f"{name}.duckdb", 50)
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
        digests.append(
            [
                one(con, f"SELECT sum(hash(t)) FROM (SELECT * FROM {t} ORDER BY ALL) t")
                for t in tables
            ]
        )
        con.close()
    assert digests[0] == digests[1]


def test_the_benchmark_measures_both_floors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).parent.parent)  # its workers run `python -m bench.assess`
    data, out = tmp_path / "data", tmp_path / "results"
    argv = ["bench.assess", "--sizes", "1e3", "--data", str(data), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    bench_assess.main()
    (run,) = json.loads((out / "assess.json").read_text())["runs"]
    assert run["clusters"] == CLUSTERS and run["risk_rows"] == CLUSTERS and run["at_risk"] > 0
    assert run["floor_s"] > 0 and run["assess_s"] > 0 and run["report_s"] > 0
    # the write floor wrote each of the report's five largest files again, the same size but
    # for the JSON document's head, and timed each
    files = run["write_floor_files"]
    assert set(files) == {
        "acquisition-list.csv",
        "acquisition-list.json",
        "acquisition-list.parquet",
        "musicbrainz-contributions.csv",
        "recordings.jsonl",
    }
    for name, written in files.items():
        assert written["seconds"] > 0, name
        if name == "acquisition-list.json":
            assert 0 < written["report_bytes"] - written["bytes"] < 1_000
        else:
            assert written["bytes"] == pytest.approx(written["report_bytes"], rel=0.01), name
    seconds = sum(f["seconds"] for f in files.values())
    assert run["write_floor_s"] == pytest.approx(seconds, abs=0.01)
    assert run["floors_s"] == pytest.approx(run["floor_s"] + run["write_floor_s"], abs=0.1)
    assert "| write floor s |" in (out / "assess.md").read_text()
    # the reports the write floor read are gone; the cached database stays for the next run
    left = {p.name for p in data.iterdir()}
    assert not [name for name in left if name.endswith("-reports")], left
    assert any(name.endswith(".duckdb") for name in left), left
