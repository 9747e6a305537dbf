"""The DuckDB store: where the database is, its schema, and transactional writes.

Every stage opens the database through `connect`, which applies the schema (idempotently)
and refuses a database written by a newer schema version than this code understands.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from preservation.errors import PreservationError

SCHEMA_VERSION = 10  # 2: harvest_checkpoints, harvest_log.entities; 3: dump imports, source_*;
# 4: no primary-key indexes on the tables normalize rebuilds (GROUP BY keeps them unique);
# 5: harvest_checkpoints.cursor; 6: holdings.copy_format, holdings.rights_statement;
# 7: recordings.country; 8: link_pairs, link_evidence, link_model, link_review, link_decisions;
# 9: no primary-key indexes on links, clusters, rights_status and risk (rebuilt whole by link
# and assess; at 2M records the indexes took longer to write than the linking itself)
# 10: cluster_facts, rights_verdicts, demand; rights_status becomes a view over them; risk
# gains single_open_copy, pd_without_open_copy, public_domain_in, live_copies, demand

# Upgrading from below a version drops these tables, whose shape changed: they are derived,
# and `preservation run` (or normalize, or import-dump again) rebuilds them.
REBUILT_BELOW = {
    4: (
        "recordings",
        "holdings",
        "works",
        "recording_works",
        "work_writers",
        "artists",
        "source_records",
        "source_holdings",
        "source_works",
        "source_artists",
        "dump_imports",
    ),
    9: ("links", "clusters", "rights_status", "risk"),
    10: ("rights_status", "risk"),
}
DEFAULT_DB = "preservation.duckdb"
DB_ENV_VAR = "PRESERVATION_DB"
# DuckDB would take 80% of RAM; a laptop runs other things. Beyond this, joins and
# aggregations spill to a temporary folder beside the database instead.
MEMORY_ENV_VAR = "PRESERVATION_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The database: the argument, else $PRESERVATION_DB, else ./preservation.duckdb."""
    return Path(db or os.environ.get(DB_ENV_VAR) or DEFAULT_DB)


def memory_limit() -> str:
    """DuckDB's memory cap for this program's connections: $PRESERVATION_MEMORY_LIMIT."""
    return os.environ.get(MEMORY_ENV_VAR) or DEFAULT_MEMORY_LIMIT


def connect(db: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database for writing, with the current schema applied."""
    path = resolve_db_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), config={"memory_limit": memory_limit()})
    except duckdb.Error as exc:
        raise PreservationError(f"cannot open database {path}: {exc}") from exc
    _apply_schema(con, path)
    return con


@contextmanager
def scratch(
    beside: duckdb.DuckDBPyConnection | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private in-memory database for intermediate work: what it holds never touches the
    user's file, and what does not fit in memory spills to a temporary folder (not, as
    DuckDB would have it, to the current directory).

    `beside`: the user's database connection, capped at LENT_MEMORY_LIMIT while the scratch
    database lives. Each DuckDB instance caches up to its own memory limit, so the two would
    otherwise hold twice what the user allowed (ten million records: 5.9 GB linking)."""
    with tempfile.TemporaryDirectory(prefix="preservation-") as spill:
        work = duckdb.connect(config={"memory_limit": memory_limit(), "temp_directory": spill})
        try:
            if beside is None:
                yield work
            else:
                with _lent_memory(beside):
                    yield work
        finally:
            work.close()


# What the user's connection keeps while a scratch database works beside it (or the user's
# limit, when smaller): enough for the queries that feed the scratch database, which spill.
LENT_MEMORY_LIMIT = "512MB"
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]i?b|b)?\s*", re.I)
_UNIT = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
_UNIT |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _size(limit: str) -> float | None:
    """Bytes in a DuckDB memory size ('2GB', '512 MiB'); None for a form not known here."""
    found = _SIZE.fullmatch(limit)
    if found is None:
        return None
    return float(found[1]) * _UNIT[(found[2] or "b").lower()]


@contextmanager
def _lent_memory(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    own = memory_limit()
    lent_size, own_size = _size(LENT_MEMORY_LIMIT), _size(own)
    lent = own if own_size is not None and own_size < (lent_size or 0) else LENT_MEMORY_LIMIT
    con.execute(f"SET memory_limit = '{lent}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{own}'")


def connect_read_only(db: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """Open an existing database read-only, with access to other files switched off."""
    # enable_external_access=false refuses ATTACH, COPY ... TO and file-reading functions.
    return _open_existing(
        db,
        "read-only",
        read_only=True,
        config={"enable_external_access": False, "lock_configuration": True},
    )


def connect_read_write(db: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """Open an existing database for writing with DuckDB's full access (other files, ATTACH,
    COPY ... TO, extensions): what `sql --allow-write` and `query --allow-write` use.

    Unlike `connect`, it creates nothing and applies no schema: it is the user's SQL that
    changes the database.
    """
    return _open_existing(db, "for writing", config={"memory_limit": memory_limit()})


def _open_existing(
    db: str | os.PathLike[str] | None, how: str, **options: Any
) -> duckdb.DuckDBPyConnection:
    """Open a database that must already exist (`how` names the mode in the error)."""
    path = resolve_db_path(db)
    if not path.exists():
        raise PreservationError(f"no database at {path}: run `preservation run` first")
    try:
        return duckdb.connect(str(path), **options)
    except duckdb.Error as exc:
        raise PreservationError(f"cannot open database {path} {how}: {exc}") from exc


def _apply_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    with transaction(con):
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_info "
            "(key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"
        )
        found = scalar(con, "SELECT value FROM schema_info WHERE key = 'schema_version'")
        if found is not None and int(str(found)) > SCHEMA_VERSION:
            raise PreservationError(
                f"{path} has schema version {found}, newer than this program's {SCHEMA_VERSION}: "
                "upgrade preservation"
            )
        for version, tables in REBUILT_BELOW.items():
            if found is not None and int(str(found)) < version:
                for table in tables:
                    _drop(con, table)
        con.execute(resources.files("preservation").joinpath("schema.sql").read_text())
        con.execute(
            "INSERT OR REPLACE INTO schema_info VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a table or view (rights_status was a table before schema 10, a view since)."""
    kind = scalar(con, "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ?", [name])
    con.execute(f"DROP {kind or 'TABLE'} IF EXISTS {name}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run a block of writes as one transaction: all of it lands, or none of it."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every table, for summaries and closing notes."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]
    return {n: int(str(scalar(con, f'SELECT count(*) FROM "{n}"'))) for n in names}


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    """The single value a query returns (None for no row), with the result fully consumed."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> pl.DataFrame:
    """A query's whole result as a polars DataFrame (through Arrow, no Python rows)."""
    return con.sql(sql, params=params).pl()


def insert_frame(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, select: str | None = None
) -> None:
    """Insert a DataFrame (through Arrow) into `table` by column name.

    `select` may replace the plain copy with a query over the frame, visible as `new_rows`.
    """
    con.register("new_rows", frame.to_arrow())
    try:
        con.execute(select or f"INSERT INTO {table} BY NAME SELECT * FROM new_rows")
    finally:
        con.unregister("new_rows")
