"""Report files written by DuckDB itself from SQL, so that millions of rows stream to disk
without becoming Python objects, and a file is replaced only once it is whole.

CSV cells that a spreadsheet program would run as a formula (CSV injection) are neutralised
with a leading apostrophe, in SQL as the rows stream (`neutralised`), with the same rule as
`neutralise_formula` for cells built in Python.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# Cells starting with these are run as formulas by spreadsheet programs (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = "^[=+@\\t\\r-]"  # the same characters, as an RE2 pattern for DuckDB


def neutralise_formula(cell: str) -> str:
    """Prefix an apostrophe to a cell a spreadsheet would run as a formula (CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def neutralised(expr: str) -> str:
    """SQL for the text `expr` as a safe CSV cell: `neutralise_formula`, in DuckDB."""
    return (
        f"CASE WHEN regexp_matches({expr}, '{_FORMULA_START}') THEN '''' || {expr} ELSE {expr} END"
    )


def csv_text(column: str, *, is_list: bool = False) -> str:
    """SQL for one CSV column: a list ';'-joined, then neutralised; named as the column."""
    expr = f"array_to_string({column}, ';')" if is_list else column
    return f"{neutralised(expr)} AS {column}"


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one step, so a
    reader never sees half a file and a failure leaves the previous file as it was."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def copy_to(
    con: duckdb.DuckDBPyConnection,
    select: str,
    path: Path,
    options: str,
    params: dict[str, object] | None = None,
) -> Path:
    """`COPY (select) TO path (options)`, atomically; `params` bind the select's $names."""
    with replacing(path) as tmp:
        con.execute(f"COPY ({select}) TO '{_quoted(tmp)}' ({options})", params or {})
    return path


def copy_csv(
    con: duckdb.DuckDBPyConnection,
    select: str,
    path: Path,
    params: dict[str, object] | None = None,
) -> Path:
    """A UTF-8 CSV with a header row; NULL is an empty cell. The select neutralises its text."""
    return copy_to(con, select, path, "FORMAT csv, HEADER true, DELIMITER ','", params)


def copy_json_document(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    key: str,
    path: Path,
    *,
    head: str,
    tail: str,
) -> Path:
    """A JSON document: the text `head`, the rows of `table` (its `columns`, in scan order)
    as a JSON array of objects one per line, the text `tail`; written atomically. `key`: a
    column unique in `table`.

    Written in one pass by DuckDB's CSV writer with quoting off: the head is the header row
    (the name of the one column), each row a line of JSON text (`to_json` escapes every
    control character, so no row spans two lines) after a comma, except the first (its
    `key`); the tail is then appended. Gigabytes of rows are written once, not written to a
    file of their own and copied after a head written by hand (10 million clusters: 29 s of
    the report's time, the document 3.5 GB)."""
    first = con.execute(f"SELECT {key} FROM {table} LIMIT 1").fetchall()
    fields = ", ".join(columns)
    header = '"' + head.replace('"', '""') + '"'  # the head as a quoted column name
    select = (
        f"SELECT CASE WHEN {key} = $first THEN '' ELSE ',' END "
        f"|| to_json(struct_pack({fields})) AS {header} FROM {table}"
    )
    with replacing(path) as tmp:
        con.execute(
            f"COPY ({select}) TO '{_quoted(tmp)}' (FORMAT csv, HEADER true, QUOTE '', ESCAPE '')",
            {"first": first[0][0] if first else None},
        )
        with tmp.open("a", encoding="utf-8") as out:
            out.write(tail)
    return path


def sorted_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    select: str,
    order: str,
    params: dict[str, object] | None = None,
) -> None:
    """The temporary table `table` holding the rows of `select` in `order` (a scan keeps the
    order, so the files written from it are in it too).

    Sorted in a statement of its own: sorting wide rows (lists of URLs, reasons, holdings) in
    the statement whose joins build them ran out of memory under the default 2 GB limit with
    975,000 at-risk clusters, the sort needing memory while the joins' hash tables held theirs;
    alone, it fits or spills."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_unsorted AS {select}", params or {})
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            f"SELECT * FROM {table}_unsorted ORDER BY {order}"
        )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}_unsorted")


def _quoted(path: Path) -> str:
    """A path inside a SQL string literal (COPY takes no parameter for its target)."""
    return str(path).replace("'", "''")
