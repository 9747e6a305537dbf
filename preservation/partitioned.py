"""Assess beyond one machine: the catalogue cut into partitions of whole clusters, written as
Hive-partitioned Parquet, and the real assess stage run on one partition at a time.

    export_partitions   database -> <dir>/<table>/part=<p>/*.parquet   (what assess reads)
    assess_partitions   each partition -> a fresh database -> assess -> <out>/<table>/part=<p>/
    import_partitions   <out>/cluster_facts, rights_verdicts, risk -> the database (for report)

Everything assess computes about a cluster comes from that cluster's own rows, so a partition
holding whole clusters gives the same rows as the whole catalogue, with memory bounded by the
partition. What goes where:
- clusters, recordings, holdings, recording_works: partition hash(cluster_id) % partitions
  of the record's cluster (records in no cluster are left out: assess never reads them);
- work_writers, artists, demand: reference rows, written into every partition whose records
  refer to them (a work recorded in three partitions is in those three), so a partition never
  needs the whole reference table; shared rows are repeated, which costs little since few
  works and writers are shared across many clusters.
Rights verdicts are per combination of facts, not per cluster: two partitions can decide the
same combination, and importing keeps one of each.

One number crosses partitions: the demand bonus is scaled by the largest demand of any
cluster (assess.DEMAND_BONUS). Export reads it from the whole catalogue into the manifest,
and every partition is assessed with it (assess's `demand_scale`), so that its scores are the
catalogue's. Everything else is per partition: partitions can run on different machines from
the same folder.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from preservation import progress, store
from preservation.assess import assess, demand_scale_of
from preservation.errors import PreservationError
from preservation.store import transaction

MANIFEST = "partitions.json"
# The tables assess reads, and the rows of each that a partition gets: SQL over the temp
# table `cluster_parts` (record_id, part), each row with the partition it goes to.
INPUTS: dict[str, str] = {
    "clusters": "SELECT c.*, p.part FROM clusters AS c JOIN cluster_parts AS p USING (record_id)",
    "recordings": (
        "SELECT r.*, p.part FROM recordings AS r JOIN cluster_parts AS p USING (record_id)"
    ),
    "holdings": "SELECT h.*, p.part FROM holdings AS h JOIN cluster_parts AS p USING (record_id)",
    "recording_works": (
        "SELECT w.*, p.part FROM recording_works AS w JOIN cluster_parts AS p USING (record_id)"
    ),
    "work_writers": (
        "SELECT ww.*, w.part FROM work_writers AS ww JOIN work_parts AS w USING (work_id)"
    ),
    "artists": """
        SELECT a.*, x.part FROM artists AS a
        JOIN (SELECT DISTINCT ww.artist_id, w.part
              FROM work_writers AS ww JOIN work_parts AS w USING (work_id)) AS x
          USING (artist_id)
    """,
    # by any record's source id: a superset of the MusicBrainz recordings assess counts
    "demand": """
        SELECT d.*, x.part FROM demand AS d
        JOIN (SELECT DISTINCT r.source_id, p.part
              FROM recordings AS r JOIN cluster_parts AS p USING (record_id)) AS x
          ON x.source_id = d.recording_mbid
    """,
}
OUTPUTS = ("cluster_facts", "rights_verdicts", "risk")
AT_RISK = "risk_level IN ('high', 'medium')"  # as assess.assess counts them


@dataclass
class ExportResult:
    partitions: int
    rows: dict[str, int]  # per table, summed over partitions (shared reference rows repeated)


@dataclass
class PartitionedAssessResult:
    partitions: int
    clusters: int
    at_risk: int
    as_of: date


@dataclass
class ImportResult:
    clusters: int
    at_risk: int
    as_of: date


def export_partitions(
    con: duckdb.DuckDBPyConnection, out_dir: Path, partitions: int
) -> ExportResult:
    """Write the tables assess reads as Hive-partitioned Parquet under `out_dir` (which must be
    empty or not exist), every row of a cluster in the partition hash(cluster_id) % partitions."""
    if partitions < 1:
        raise PreservationError(f"partitions must be 1 or more, got {partitions}")
    _empty_folder(out_dir)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cluster_parts AS "
        "SELECT record_id, (hash(cluster_id) % ?)::INTEGER AS part FROM clusters",
        [partitions],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE work_parts AS SELECT DISTINCT w.work_id, p.part "
        "FROM recording_works AS w JOIN cluster_parts AS p USING (record_id)"
    )
    rows: dict[str, int] = {}
    try:
        for table, sql in INPUTS.items():
            with progress.step(f"partitions: exporting {table}"):
                # PARTITION_BY writes <table>/part=<p>/data_0.parquet, without the part column
                (rows[table],) = con.execute(
                    f"COPY ({sql}) TO '{_quote(out_dir / table)}' "
                    "(FORMAT parquet, PARTITION_BY (part))"
                ).fetchall()[0]
    finally:
        con.execute("DROP TABLE IF EXISTS cluster_parts; DROP TABLE IF EXISTS work_parts")
    _write_manifest(
        out_dir,
        "export_partitions",
        {"partitions": partitions, "rows": rows, "demand_scale": demand_scale_of(con)},
    )
    return ExportResult(partitions=partitions, rows=rows)


def assess_partitions(
    in_dir: Path, out_dir: Path, as_of: date | None = None
) -> PartitionedAssessResult:
    """Run `assess.assess` on each partition of `in_dir` (written by export_partitions) in a
    database of its own, and write its cluster_facts, rights_verdicts and risk as
    `out_dir/<table>/part=<p>/data.parquet` (out_dir must be empty or not exist)."""
    manifest = _read_manifest(in_dir, "export_partitions")
    partitions = int(str(manifest["partitions"]))
    demand_scale = int(str(manifest["demand_scale"]))
    as_of = as_of or date.today()
    _empty_folder(out_dir)
    for part in range(partitions):
        with progress.step(f"partitions: assessing partition {part + 1} of {partitions}"):
            assess_partition(in_dir, out_dir, part, as_of, demand_scale)
    with store.scratch() as con:
        clusters, at_risk = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {AT_RISK}) FROM {_read(out_dir, 'risk')}"
        ).fetchall()[0]
    _write_manifest(
        out_dir, "assess_partitions", {"partitions": partitions, "as_of": as_of.isoformat()}
    )
    return PartitionedAssessResult(partitions, clusters, at_risk, as_of)


def assess_partition(
    in_dir: Path,
    out_dir: Path,
    part: int,
    as_of: date,
    demand_scale: int | None,
) -> None:
    """Assess one partition in a temporary database of the project's schema, and write its
    results: the unit of work, which needs only the partition's own files. `demand_scale`:
    the catalogue's (from the export manifest); None scales by the partition's own."""
    with tempfile.TemporaryDirectory(prefix="preservation-part-") as tmp:
        con = store.connect(Path(tmp) / "partition.duckdb")
        try:
            for table in INPUTS:
                files = _files(in_dir, table, part)
                if files:
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {files}")
            assess(con, as_of, demand_scale)
            for table in OUTPUTS:
                path = out_dir / table / f"part={part}" / "data.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                con.execute(f"COPY {table} TO '{_quote(path)}' (FORMAT parquet)")
        finally:
            con.close()


def import_partitions(con: duckdb.DuckDBPyConnection, in_dir: Path) -> ImportResult:
    """Replace cluster_facts, rights_verdicts and risk with the results in `in_dir` (written
    by assess_partitions), in one transaction, once they are checked to cover exactly the
    database's clusters."""
    as_of = date.fromisoformat(str(_read_manifest(in_dir, "assess_partitions")["as_of"]))
    facts = _read(in_dir, "cluster_facts")
    missing, unknown = con.execute(
        f"""
        WITH ours AS (SELECT DISTINCT cluster_id FROM clusters),
             theirs AS (SELECT cluster_id FROM {facts})
        SELECT (SELECT count(*) FROM ours ANTI JOIN theirs USING (cluster_id)),
               (SELECT count(*) FROM theirs ANTI JOIN ours USING (cluster_id))
        """
    ).fetchall()[0]
    if missing or unknown:
        raise PreservationError(
            f"{in_dir} was assessed from other clusters than the database's ({missing} "
            f"missing, {unknown} unknown): export, assess and import again"
        )
    with transaction(con):
        for table in OUTPUTS:
            con.execute(f"DELETE FROM {table}")
            # a combination of facts found in several partitions was decided in each
            distinct = "DISTINCT" if table == "rights_verdicts" else ""
            con.execute(
                f"INSERT INTO {table} BY NAME SELECT {distinct} * FROM {_read(in_dir, table)}"
            )
    clusters, at_risk = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {AT_RISK}) FROM risk"
    ).fetchall()[0]
    return ImportResult(clusters=clusters, at_risk=at_risk, as_of=as_of)


def _files(in_dir: Path, table: str, part: int) -> str | None:
    """read_parquet over one partition's files of a table; None when it has no rows there."""
    folder = in_dir / table / f"part={part}"
    if not any(folder.glob("*.parquet")):
        return None
    return f"read_parquet('{_quote(folder)}/*.parquet', hive_partitioning = false)"


def _read(folder: Path, table: str, hive: bool = False) -> str:
    """read_parquet over every partition of a table; `hive`: with the `part` column."""
    if not any((folder / table).glob("part=*/*.parquet")):
        raise PreservationError(f"{folder / table} holds no partition files")
    return (
        f"read_parquet('{_quote(folder / table)}/part=*/*.parquet', "
        f"hive_partitioning = {str(hive).lower()})"
    )


def _empty_folder(folder: Path) -> None:
    # never mix two runs' partitions: a stale part=7 would be read as current
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise PreservationError(f"{folder} is not an empty folder: give a new or empty one")
    folder.mkdir(parents=True, exist_ok=True)


def _write_manifest(folder: Path, writer: str, content: dict[str, object]) -> None:
    # written last: a folder with a manifest is complete
    text = json.dumps({"written_by": writer, **content}, indent=1, sort_keys=True)
    (folder / MANIFEST).write_text(text + "\n")


def _read_manifest(folder: Path, writer: str) -> dict[str, object]:
    """The folder's manifest, which `writer` must have written (the folder is then whole)."""
    path = folder / MANIFEST
    try:
        content: dict[str, object] = json.loads(path.read_text())
    except (OSError, ValueError):
        content = {}
    if not isinstance(content, dict) or content.get("written_by") != writer:
        raise PreservationError(f"{folder} is not a finished output of {writer}")
    return content


def _quote(path: Path) -> str:
    """A path inside a single-quoted SQL string."""
    return str(path).replace("'", "''")
