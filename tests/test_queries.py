"""Named queries, read-only SQL and the CLI's refusals and one-line errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from preservation import cli, store
from preservation.cli import app
from preservation.errors import PreservationError
from preservation.queries import load_queries, parse_header, queries_dir, run_query, run_sql

runner = CliRunner()


def test_every_query_has_a_question_and_runs_on_the_sample(sample_run):
    summary, _ = sample_run
    con = store.connect_read_only(summary.db)
    queries = load_queries()
    assert {"at_risk", "single_platform", "pd_without_open_copy", "coverage_by_decade"} <= set(
        queries
    )
    for query in queries.values():
        assert query.question.endswith("?") or "?" in query.question, query.name
        # a required parameter (no default) gets a real value of the sample
        given = {"cluster": "c65e97708f155"} if query.name == "holdings_of_cluster" else {}
        columns, _ = run_query(con, query.name, given)
        assert query.columns.split(",")[0].strip().split(" ")[0] == columns[0], query.name


def test_header_parameters_and_defaults():
    query = parse_header(queries_dir() / "at_risk.sql")
    assert query.parameters["limit"] == ("at most this many rows", "100")
    assert query.parameters["level"][1] == "medium"


def test_at_risk_matches_the_risk_table(sample_run):
    con = store.connect_read_only(sample_run[0].db)
    _, rows = run_query(con, "at_risk", {"level": "high", "limit": "1000"})
    expected = con.execute("SELECT count(*) FROM risk WHERE risk_level = 'high'").fetchall()[0][0]
    assert len(rows) == expected > 0
    scores = [r[6] for r in rows]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM risk",
        "DROP TABLE risk",
        "ATTACH '/tmp/other.duckdb'",
        "COPY risk TO '/tmp/x.csv'",
        "INSERT INTO risk SELECT * FROM risk",
        "SET enable_external_access = true",
        "PRAGMA threads=1",
    ],
)
def test_sql_refuses_writes(sample_run, sql):
    con = store.connect_read_only(sample_run[0].db)
    with pytest.raises(PreservationError, match="refused"):
        run_sql(con, sql)


def test_sql_cannot_read_files(sample_run):
    con = store.connect_read_only(sample_run[0].db)
    with pytest.raises(PreservationError, match="disabled by configuration"):
        run_sql(con, "SELECT * FROM read_csv('/etc/hostname')")


def test_cli_sql_refusal_is_one_line_and_nonzero(sample_run):
    result = runner.invoke(app, ["sql", "--db", str(sample_run[0].db), "DELETE FROM risk"])
    assert result.exit_code == 1
    assert (
        result.output.strip() == "error: refused: DELETE statements are not allowed (read-only SQL)"
    )


def test_cli_query_json(sample_run):
    result = runner.invoke(
        app, ["query", "single_platform", "--db", str(sample_run[0].db), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    platforms = {row["title"]: row["platform"] for row in json.loads(result.output)}
    assert platforms["The Enemy"] == "YouTube"


def test_cli_streams_every_row_as_csv_or_json_and_cuts_a_table(sample_run, monkeypatch):
    db = str(sample_run[0].db)
    columns, rows = run_query(store.connect_read_only(db), "single_platform")
    assert len(rows) > 3
    args = ["query", "single_platform", "--db", db]

    as_json = runner.invoke(app, [*args, "--format", "json"])
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    assert as_json.stdout == json.dumps(records, ensure_ascii=False, default=str, indent=1) + "\n"
    as_csv = runner.invoke(app, [*args, "--format", "csv"])
    assert [r[1] for r in csv.reader(io.StringIO(as_csv.stdout))] == [
        "cluster_id",
        *(row[1] for row in rows),
    ]
    assert as_json.stderr == as_csv.stderr == ""

    cut = runner.invoke(app, [*args, "--format", "csv", "--max-rows", "2"])
    assert len(cut.stdout.splitlines()) == 3
    assert cut.stderr.strip() == "only the first 2 rows are shown: --max-rows sets how many"

    # a table stops at TABLE_MAX_ROWS (rich would lay out millions of rows for hours)
    monkeypatch.setattr(cli, "TABLE_MAX_ROWS", 3)
    clusters = "SELECT cluster_id FROM risk ORDER BY cluster_id"
    table = runner.invoke(app, ["sql", "--db", db, clusters])
    assert table.exit_code == 0, table.output
    every = [c for (c,) in store.connect_read_only(db).execute(clusters).fetchall()]
    assert [c for c in every if c in table.stdout] == every[:3]
    assert "only the first 3 rows are shown" in table.stderr
    assert "--format csv or json gives every row" in table.stderr


def test_cli_missing_database_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["sql", "--db", str(tmp_path / "none.duckdb"), "SELECT 1"])
    assert result.exit_code == 1
    assert "no database at" in result.output and "Traceback" not in result.output


def test_cli_rights_check_json():
    result = runner.invoke(
        app,
        [
            "rights",
            "check",
            "--jurisdiction",
            "US",
            "--published",
            "1925",
            "--as-of",
            "2026-01-01",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0
    verdict = json.loads(result.output)
    assert (verdict["status"], verdict["expires_year"], verdict["rule"]) == (
        "public_domain",
        2025,
        "US-recording-1401-1923-1946",
    )


@pytest.mark.parametrize(
    "command", ["run", "harvest", "normalize", "link", "assess", "report", "query", "sql"]
)
def test_every_command_has_help_and_db(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "--db" in result.output
