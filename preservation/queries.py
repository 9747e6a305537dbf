"""Named SQL queries (queries/*.sql) and read-only ad-hoc SQL over the database.

A named query is a plain .sql file whose header says what it answers:

    -- name: at_risk
    -- question: Which recordings are at risk of loss, most urgent first, and why?
    -- parameters:
    --   limit: at most this many rows (default: 100)
    -- columns: cluster_id, title, ...

Parameters appear in the SQL as `$name` and are bound by DuckDB, never pasted into the text.
By default everything runs on a read-only connection with file access switched off, and only
SELECT-like statements are accepted, so a query cannot change or leak anything. Asked for
explicitly (`allow_write`, the CLI's `--allow-write`), the database is opened read-write with
DuckDB's full access instead, and any statement runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from preservation import store
from preservation.errors import PreservationError

QUERIES_ENV_VAR = "PRESERVATION_QUERIES"
READ_ONLY_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
WRITE_WARNING = (
    "warning: --allow-write: the database is open for writing, and SQL may change or delete "
    "its data, ATTACH other databases, read and write files, and install extensions"
)
_PARAM = re.compile(r"^--\s{2,}(\w+):\s*(.*?)(?:\s*\(default:\s*(.*?)\))?\s*$")


@dataclass
class NamedQuery:
    name: str
    question: str
    sql: str
    path: Path
    parameters: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    columns: str = ""


def queries_dir() -> Path:
    """$PRESERVATION_QUERIES, else the queries/ folder beside the package (a checkout)."""
    configured = os.environ.get(QUERIES_ENV_VAR)
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "queries"


def parse_header(path: Path) -> NamedQuery:
    """Read a named query's header comments: name, question, parameters and columns."""
    sql = path.read_text(encoding="utf-8")
    query = NamedQuery(name=path.stem, question="", sql=sql, path=path)
    section = ""
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:].strip()
        key, _, value = body.partition(":")
        if key in {"name", "question", "parameters", "columns", "note"} and not line.startswith(
            "--  "
        ):
            section = key
            if key == "name":
                query.name = value.strip()
            elif key == "question":
                query.question = value.strip()
            elif key == "columns":
                query.columns = value.strip()
        elif section == "parameters" and (m := _PARAM.match(line)):
            query.parameters[m.group(1)] = (m.group(2), m.group(3))
        elif section == "question":
            query.question += " " + body
    if not query.question:
        raise PreservationError(f"{path}: the header has no '-- question:' line")
    return query


def load_queries(directory: Path | None = None) -> dict[str, NamedQuery]:
    """Every named query in the folder, by name."""
    directory = directory or queries_dir()
    if not directory.is_dir():
        raise PreservationError(f"no queries folder at {directory} (set ${QUERIES_ENV_VAR})")
    found = (parse_header(p) for p in sorted(directory.glob("*.sql")))
    return {q.name: q for q in found}


def open_database(
    db: str | os.PathLike[str] | None = None, allow_write: bool = False
) -> duckdb.DuckDBPyConnection:
    """The connection `query` and `sql` run on: read-only with access to other files switched
    off (`store.connect_read_only`), or with `allow_write`, read-write with DuckDB's full
    access (`store.connect_read_write`)."""
    return store.connect_read_write(db) if allow_write else store.connect_read_only(db)


def _statements(con: duckdb.DuckDBPyConnection, sql: str) -> list[duckdb.Statement]:
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise PreservationError(f"SQL error: {_first_line(exc)}") from exc
    if not statements:
        raise PreservationError("no SQL statement given")
    return statements


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but SELECT/EXPLAIN statements, naming the offending statement type."""
    for st in _statements(con, sql):
        if st.type not in READ_ONLY_TYPES:
            kind = str(st.type).rsplit(".", 1)[-1]
            raise PreservationError(f"refused: {kind} statements are not allowed (read-only SQL)")


@dataclass
class QueryResult:
    """The columns of a statement's result, and its rows as they are fetched from DuckDB (in
    batches of FETCH_ROWS): a query answering millions of rows need not hold them all in
    Python at once. Read the rows before the connection closes."""

    columns: list[str]
    rows: Iterator[tuple[object, ...]]

    def fetched(self) -> tuple[list[str], list[tuple[object, ...]]]:
        """The columns, and every row in a list."""
        return self.columns, list(self.rows)


FETCH_ROWS = 10_000


def stream_sql(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, object] | None = None,
    allow_write: bool = False,
) -> QueryResult:
    """Run SQL; return the column names and the rows of the last statement, streamed.

    Read-only statements only, unless `allow_write` (then any statement runs: open `con` with
    `open_database(db, allow_write=True)` for writes and file access to work).
    """
    if allow_write:
        _statements(con, sql)
    else:
        check_read_only(con, sql)
    try:
        cursor = con.execute(sql, params) if params else con.execute(sql)
    except duckdb.Error as exc:
        raise PreservationError(f"SQL error: {_first_line(exc)}") from exc
    return QueryResult([d[0] for d in cursor.description or []], _fetched(cursor))


def _fetched(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[object, ...]]:
    try:
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch
    except duckdb.Error as exc:
        raise PreservationError(f"SQL error: {_first_line(exc)}") from exc


def run_sql(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, object] | None = None,
    allow_write: bool = False,
) -> tuple[list[str], list[tuple[object, ...]]]:
    """`stream_sql`, with every row in a list: the column names and rows of the last
    statement."""
    return stream_sql(con, sql, params, allow_write).fetched()


def bind_parameters(query: NamedQuery, given: dict[str, str]) -> dict[str, object]:
    """The query's parameters from user strings and header defaults (numbers become numbers)."""
    unknown = set(given) - set(query.parameters)
    if unknown:
        known = ", ".join(query.parameters) or "none"
        raise PreservationError(
            f"{query.name}: unknown parameter {sorted(unknown)[0]!r} (known: {known})"
        )
    bound: dict[str, object] = {}
    for name, (_, default) in query.parameters.items():
        value = given.get(name, default)
        if value is None:
            raise PreservationError(f"{query.name}: parameter {name!r} is required")
        bound[name] = int(value) if re.fullmatch(r"-?\d+", value) else value
    return bound


def stream_query(
    con: duckdb.DuckDBPyConnection,
    name: str,
    given: dict[str, str] | None = None,
    allow_write: bool = False,
) -> QueryResult:
    """Run the named query `name` with parameters `given` (strings, as typed by a user);
    `allow_write` as for `stream_sql`. The rows are streamed."""
    queries = load_queries()
    if name not in queries:
        raise PreservationError(f"no query named {name!r}; known: {', '.join(sorted(queries))}")
    query = queries[name]
    return stream_sql(con, query.sql, bind_parameters(query, given or {}), allow_write)


def run_query(
    con: duckdb.DuckDBPyConnection,
    name: str,
    given: dict[str, str] | None = None,
    allow_write: bool = False,
) -> tuple[list[str], list[tuple[object, ...]]]:
    """`stream_query`, with every row in a list: the column names and rows."""
    return stream_query(con, name, given, allow_write).fetched()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
