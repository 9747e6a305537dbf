"""Demand: how much people listen to a recording, from a lawful popularity source the user
supplies, to rank at-risk recordings people still want above those nobody plays.

The file is what ListenBrainz's popularity API gives (CC0: POST /1/popularity/recording
returns [{"recording_mbid", "total_listen_count", "total_user_count"}, ...]) saved as JSON,
or the same columns as CSV or Parquet; `listen_count` is accepted for `total_listen_count`.
Loading replaces the `demand` table; `assess` adds listens per cluster and a bonus (see
assess.DEMAND_BONUS). Rows without a valid MBID or with a count that is not a whole number
of zero or more are quarantined with their reason, never dropped silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from preservation.errors import PreservationError
from preservation.harvest import quarantine
from preservation.store import scalar, transaction

READERS = {".csv": "read_csv", ".json": "read_json", ".parquet": "read_parquet"}
LISTEN_COLUMNS = ("total_listen_count", "listen_count")
_MBID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


@dataclass
class DemandResult:
    loaded: int
    quarantined: int
    source: str


def load_demand(con: duckdb.DuckDBPyConnection, path: Path) -> DemandResult:
    """Replace `demand` with the rows of `path`, in one transaction."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise PreservationError(f"{path}: demand must be .csv, .json or .parquet")
    if not path.is_file():
        raise PreservationError(f"{path}: no such file")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE demand_file AS SELECT * FROM {reader}(?)", [str(path)]
        )
    except duckdb.Error as exc:
        raise PreservationError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from exc
    columns = {r[0] for r in con.execute("DESCRIBE demand_file").fetchall()}
    listens = next((c for c in LISTEN_COLUMNS if c in columns), None)
    if "recording_mbid" not in columns or listens is None:
        raise PreservationError(
            f"{path}: needs columns recording_mbid and total_listen_count (found: "
            f"{', '.join(sorted(columns))})"
        )
    users = "TRY_CAST(total_user_count AS BIGINT)" if "total_user_count" in columns else "NULL"
    checked = f"""
        SELECT row_number() OVER () AS line, *,
               lower(trim(CAST(recording_mbid AS VARCHAR))) AS mbid,
               TRY_CAST({listens} AS BIGINT) AS listens, {users} AS listeners,
               CASE WHEN NOT coalesce(regexp_matches(mbid, '{_MBID}'), false)
                        THEN 'recording_mbid is not an MBID'
                    WHEN listens IS NULL OR listens < 0 OR TRY_CAST({listens} AS DOUBLE) <> listens
                        THEN '{listens} is not a whole number of zero or more'
               END AS problem
        FROM demand_file
    """
    run_id = scalar(con, "SELECT coalesce(max(run_id), 0) FROM harvest_log")
    with transaction(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE demand_checked AS {checked}")
        bad = con.execute(
            "SELECT line, problem, CAST(to_json(d) AS VARCHAR) FROM demand_checked AS d "
            "WHERE problem IS NOT NULL ORDER BY line"
        ).fetchall()
        for line, problem, payload in bad:
            key, sha = f"{path.name}:{line}", hashlib.sha256(payload.encode()).hexdigest()
            quarantine(con, "demand", key, sha, "import", problem, payload, run_id)
        con.execute("DELETE FROM demand")
        con.execute(
            "INSERT INTO demand SELECT mbid, sum(listens), sum(listeners), ? "
            "FROM demand_checked WHERE problem IS NULL GROUP BY mbid",
            [path.name],
        )
        con.execute("DROP TABLE demand_checked")
    con.execute("DROP TABLE demand_file")
    loaded = int(str(scalar(con, "SELECT count(*) FROM demand")))
    return DemandResult(loaded=loaded, quarantined=len(bad), source=path.name)
