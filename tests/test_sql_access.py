"""`preservation sql` and `preservation query`: read-only unless `--allow-write`.

Without the flag, writes, ATTACH, COPY ... TO, SET / PRAGMA, INSTALL / LOAD and functions that
read real files are refused with one `error:` line and exit status 1, and the database is left
as it was. With it, a warning goes to stderr and the statements run: a write is there when
the database is opened again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from preservation import store
from preservation.cli import app
from preservation.errors import PreservationError
from preservation.pipeline import sample_dir
from preservation.queries import WRITE_WARNING, open_database, run_query, run_sql

runner = CliRunner()
REAL_CSV = Path(__file__).parent / "data" / "gold" / "real_pairs.csv"
REAL_JSON = sample_dir() / "loc" / "item" / "jukebox-879940.json"
REAL_TEXT = Path(__file__).resolve().parents[1] / "README.md"


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def fingerprint(db: Path) -> tuple[object, ...]:
    """What a refused statement must leave as it was: tables, their row counts, the schema."""
    con = store.connect_read_only(db)
    try:
        return (
            tuple(sorted(store.table_counts(con).items())),
            con.execute("SELECT * FROM schema_info ORDER BY ALL").fetchall(),
        )
    finally:
        con.close()


@pytest.fixture()
def copy_of_sample(sample_run, tmp_path) -> Path:
    """A private copy of the sample database, for writes (the session's copy stays as is)."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_run[0].db, copy)
    return copy


def refused_statements(reports: Path, tmp: Path) -> dict[str, tuple[str, str]]:
    """Statements `sql` must refuse without --allow-write: (SQL, what the error says)."""
    parquet = reports / "acquisition-list.parquet"
    refused = "refused: {} statements are not allowed (read-only SQL)"
    no_files = "disabled by configuration"
    return {
        "insert": ("INSERT INTO schema_info VALUES ('owner', 'me')", refused.format("INSERT")),
        "update": ("UPDATE risk SET score = 0", refused.format("UPDATE")),
        "delete": ("DELETE FROM recordings", refused.format("DELETE")),
        "create": ("CREATE TABLE notes AS SELECT 1 AS n", refused.format("CREATE")),
        "drop": ("DROP TABLE risk", refused.format("DROP")),
        "after a select": ("SELECT 1; DELETE FROM risk", refused.format("DELETE")),
        "behind a comment": ("/* just a look */ delete from risk", refused.format("DELETE")),
        "attach": (f"ATTACH '{tmp / 'other.duckdb'}' AS other", refused.format("ATTACH")),
        "copy to": (f"COPY recordings TO '{tmp / 'out.csv'}'", refused.format("COPY")),
        "copy query to": (
            f"COPY (SELECT * FROM risk) TO '{tmp / 'out.parquet'}' (FORMAT parquet)",
            refused.format("COPY"),
        ),
        "export": (f"EXPORT DATABASE '{tmp / 'export'}'", refused.format("EXPORT")),
        "install": ("INSTALL httpfs", refused.format("LOAD")),
        "load": ("LOAD json", refused.format("LOAD")),
        "set": ("SET enable_external_access = true", refused.format("SET")),
        "pragma": ("PRAGMA threads=1", refused.format("SET")),  # DuckDB: a SET
        "read_csv": (f"SELECT * FROM read_csv('{REAL_CSV}')", no_files),
        "read_json": (f"SELECT * FROM read_json('{REAL_JSON}')", no_files),
        "read_parquet": (f"SELECT * FROM read_parquet('{parquet}')", no_files),
        "read_text": (f"SELECT content FROM read_text('{REAL_TEXT}')", no_files),
        "read_blob": (f"FROM read_blob('{REAL_TEXT}')", no_files),
        "bare file": (f"FROM '{REAL_CSV}'", no_files),
        "glob": (f"SELECT * FROM glob('{REAL_CSV.parent}/*')", no_files),
        "in a CTE": (f"WITH x AS (SELECT * FROM read_csv('{REAL_CSV}')) SELECT * FROM x", no_files),
    }


CASES = list(refused_statements(Path("reports"), Path("tmp")))


@pytest.mark.parametrize("case", CASES)
def test_sql_without_allow_write_refuses_in_one_line(sample_run, tmp_path, case):
    summary, reports = sample_run
    sql, says = refused_statements(reports, tmp_path)[case]
    for real in (reports / "acquisition-list.parquet", REAL_CSV, REAL_JSON, REAL_TEXT):
        assert real.is_file()  # the file functions are refused real files, not missing ones
    before = fingerprint(summary.db)
    result = invoke("sql", "--db", str(summary.db), sql)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert result.stdout == ""  # nothing but the error, on stderr
    assert fingerprint(summary.db) == before
    assert list(tmp_path.iterdir()) == []  # no file written, no database attached


def test_functions_refuse_writes_on_a_read_only_connection(sample_run):
    con = open_database(sample_run[0].db)
    try:
        with pytest.raises(PreservationError, match="refused: DELETE"):
            run_sql(con, "DELETE FROM risk")
        # Even told to allow writes, a read-only connection cannot write.
        with pytest.raises(PreservationError, match="read-only"):
            run_sql(con, "DELETE FROM risk", allow_write=True)
    finally:
        con.close()


def test_named_query_parameters_cannot_smuggle_statements(sample_run):
    before = fingerprint(sample_run[0].db)
    hostile = "high'; DELETE FROM risk; --"
    result = invoke("query", "at_risk", "-p", f"level={hostile}", "--db", str(sample_run[0].db))
    assert result.exit_code == 0, result.output
    assert fingerprint(sample_run[0].db) == before


def write_query(folder: Path) -> Path:
    folder.mkdir()
    (folder / "add_note.sql").write_text(
        "-- name: add_note\n"
        "-- question: Can a named query write? Only with --allow-write?\n"
        "-- parameters:\n"
        "--   note: the note to keep (default: kept)\n"
        "-- columns: Count\n"
        "CREATE TABLE IF NOT EXISTS notes (note VARCHAR);\n"
        "INSERT INTO notes VALUES ($note);\n"
    )
    return folder


def test_query_refuses_a_writing_named_query_without_the_flag(sample_run, tmp_path, monkeypatch):
    monkeypatch.setenv("PRESERVATION_QUERIES", str(write_query(tmp_path / "queries")))
    before = fingerprint(sample_run[0].db)
    result = invoke("query", "add_note", "--db", str(sample_run[0].db))
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: refused: CREATE statements are not allowed (read-only SQL)"
    )
    assert fingerprint(sample_run[0].db) == before


# ---------------------------------------------------------------------------------------------
# With --allow-write
# ---------------------------------------------------------------------------------------------


def test_sql_allow_write_warns_and_the_write_persists(copy_of_sample):
    db = str(copy_of_sample)
    result = invoke(
        "sql",
        "--allow-write",
        "--db",
        db,
        "CREATE TABLE notes AS SELECT 'first' AS note; INSERT INTO notes VALUES ('second'); "
        "DELETE FROM risk WHERE risk_level = 'low'",
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [WRITE_WARNING]
    con = duckdb.connect(db, read_only=True)  # opened again, by plain DuckDB
    try:
        assert con.execute("SELECT note FROM notes ORDER BY note").fetchall() == [
            ("first",),
            ("second",),
        ]
        assert con.execute("SELECT count(*) FROM risk WHERE risk_level = 'low'").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM risk").fetchone()[0] > 0
    finally:
        con.close()


def test_sql_allow_write_reads_and_writes_files_and_attaches(copy_of_sample, tmp_path):
    db = str(copy_of_sample)
    read = invoke(
        "sql", "--allow-write", "--db", db, "--format", "csv",
        f"SELECT count(*) AS n FROM read_csv('{REAL_CSV}')",
    )  # fmt: skip
    assert read.exit_code == 0, read.output
    pairs = len(REAL_CSV.read_text().strip().splitlines()) - 1  # less the header
    assert read.stdout.splitlines() == ["n", str(pairs)]
    out = tmp_path / "recordings.csv"
    copied = invoke("sql", "--allow-write", "--db", db, f"COPY recordings TO '{out}' (HEADER)")
    assert copied.exit_code == 0, copied.output
    con = duckdb.connect(db, read_only=True)
    try:
        recordings = con.execute("SELECT count(*) FROM recordings").fetchone()[0]
    finally:
        con.close()
    assert len(out.read_text().strip().splitlines()) == recordings + 1
    other = tmp_path / "other.duckdb"
    attached = invoke(
        "sql", "--allow-write", "--db", db,
        f"ATTACH '{other}' AS other; CREATE TABLE other.kept AS SELECT 42 AS answer",
    )  # fmt: skip
    assert attached.exit_code == 0, attached.output
    con = duckdb.connect(str(other), read_only=True)
    try:
        assert con.execute("SELECT answer FROM kept").fetchall() == [(42,)]
    finally:
        con.close()


def test_query_allow_write_runs_a_writing_named_query(copy_of_sample, tmp_path, monkeypatch):
    monkeypatch.setenv("PRESERVATION_QUERIES", str(write_query(tmp_path / "queries")))
    db = str(copy_of_sample)
    for note in ("one", "two"):
        result = invoke("query", "add_note", "-p", f"note={note}", "--allow-write", "--db", db)
        assert result.exit_code == 0, result.output
        assert WRITE_WARNING in result.stderr
    con = store.connect_read_only(db)
    try:
        assert con.execute("SELECT note FROM notes ORDER BY note").fetchall() == [
            ("one",),
            ("two",),
        ]
    finally:
        con.close()


def test_functions_allow_writes_when_asked(copy_of_sample):
    con = open_database(copy_of_sample, allow_write=True)
    try:
        columns, rows = run_sql(con, "UPDATE schema_info SET value = value", allow_write=True)
        assert (columns, rows) == (["Count"], [(1,)])
        run_query(con, "status_summary", allow_write=True)  # reading still works
    finally:
        con.close()
    with pytest.raises(PreservationError, match="no database at"):
        open_database(copy_of_sample.parent / "none.duckdb", allow_write=True)


def test_a_bad_statement_with_allow_write_is_still_one_line(copy_of_sample):
    result = invoke("sql", "--allow-write", "--db", str(copy_of_sample), "DELETE FROM nowhere")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[0] == WRITE_WARNING
    error = result.stderr.strip().splitlines()[1:]
    assert len(error) == 1 and error[0].startswith("error: SQL error: ")


def test_help_documents_allow_write():
    for command in ("sql", "query"):
        result = invoke(command, "--help")
        assert "--allow-write" in result.output and "read-write" in result.output
