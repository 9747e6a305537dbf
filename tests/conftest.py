"""Shared fixtures: the bundled real sample, run once per session into a fresh database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from preservation.pipeline import RunSummary, run

AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunSummary, Path]:
    """The whole pipeline on the bundled sample: (summary, reports folder)."""
    base = tmp_path_factory.mktemp("sample_run")
    summary = run(base / "sample.duckdb", None, base / "reports", AS_OF)
    return summary, base / "reports"


@pytest.fixture()
def sample_db(sample_run: tuple[RunSummary, Path]) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the sample database."""
    con = duckdb.connect(str(sample_run[0].db), read_only=True)
    yield con
    con.close()


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()
