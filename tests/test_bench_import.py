"""The import-dump benchmark (`python -m bench`): it measures the import against its three
floors, each in its own process, and leaves no database behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest

from bench import __main__ as import_bench

ROOT = Path(__file__).parent.parent


def test_the_import_is_measured_against_its_floors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the workers run as `python -m bench` from the checkout
    out = tmp_path / "results"
    argv = ["bench", "--sizes", "2e3", "--data", str(tmp_path), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", [*argv, "--archive-max", "0"])
    import_bench.main()
    (run,) = json.loads((out / "import_dump.json").read_text())["runs"]
    assert run["lines"] == 2_000 and run["recordings"] == 2_000
    assert min(run["floor_s"], run["parse_floor_s"], run["store_floor_s"]) > 0
    floors = run["parse_floor_s"] + run["store_floor_s"]
    assert run["ratio_to_floors"] == pytest.approx(run["import_s"] / floors, abs=0.01)
    assert run["floors_ratio_to_floor"] == pytest.approx(floors / run["floor_s"], abs=0.01)
    assert "| 2,000 |" in (out / "import_dump.md").read_text()
    assert not list(tmp_path.rglob("*.duckdb"))  # the import's database and its copy are gone


def test_the_parse_floor_reads_every_line_as_the_import_does(tmp_path: Path) -> None:
    dump = import_bench.dump_file(tmp_path, 500)
    assert import_bench.parse_floor(dump) == {"rows": 500}
    assert import_bench.count_floor(dump) == {"rows": 500}


def test_the_store_floor_writes_a_copy_and_leaves_the_original(tmp_path: Path) -> None:
    db = tmp_path / "bench.duckdb"
    with duckdb.connect(db) as con:
        con.execute(
            "CREATE TABLE recordings AS SELECT range AS id, 'x' || range AS t FROM range(100000)"
        )
        con.execute('CREATE TABLE "odd name" AS SELECT 1 AS one')
    before = db.read_bytes()
    figures = import_bench.store_floor(db)
    assert 0 < figures["mb"] < 10
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.duckdb"]
