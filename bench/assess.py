"""Assess + report benchmark: `python -m bench.assess [--sizes 1e5,1e6,1e7]` (part of `make bench`).

`assess.assess` and then `report.write_reports` on SYNTHETIC clusters (bench/synthetic_assess.py:
the tables assess reads, generated directly at each size and cached under bench/data/). Each
measurement runs in its own process on its own copy of the cached database, so its peak RSS
is its own and every run starts from the same tables. Figures: seconds for assess and for
report, clusters per second, peak RSS (after assess, and overall), the size of the reports.

Baselines, in the same run on the same database:
- the floor, one SQL statement doing the least any assess must do (join clusters to recordings
  and to holdings, per cluster the records, the earliest year and the distinct platforms,
  written to a table);
- the write floor, the least time writing the report's files takes: its five largest files
  (the acquisition list's CSV, JSON and Parquet, the contributions CSV, the search evidence's
  JSON lines) written again, by the report's own COPY functions, from their own rows loaded
  into tables beforehand (the loading is not timed). It needs no computing at all, so
  floor + write floor is what no assess + report of these outputs can beat on the machine.
Results are printed and written to bench/results/assess.{json,md}.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from bench import child
from bench.synthetic_assess import GENERATOR_VERSION, cached_database

HERE = Path(__file__).parent
AS_OF = date(2026, 11, 23)
TARGET_SECONDS = 60.0
TARGET_RSS_MB = 4 * 1024
TARGET = "assess + report < 60 s and < 4 GiB at 1e7"

FLOOR_SQL = """
CREATE TABLE floor_facts AS
WITH records AS (
    SELECT c.cluster_id, count(*) AS records, min(r.year) AS year
    FROM clusters c JOIN recordings r USING (record_id)
    GROUP BY c.cluster_id
),
copies AS (
    SELECT c.cluster_id, list_distinct(list(h.platform)) AS platforms
    FROM clusters c JOIN holdings h USING (record_id)
    GROUP BY c.cluster_id
)
SELECT * FROM records LEFT JOIN copies USING (cluster_id)
"""


def main() -> None:
    args = child.sized_arguments(
        "python -m bench.assess", __doc__, "1e5,1e6,1e7", "clusters per run", HERE
    )
    if args.worker:
        worker(*args.worker)
        return
    runs = []
    for size in (int(float(s)) for s in args.sizes.split(",")):
        db, generated = cached_database(args.data, size)
        rows: dict[str, int] = generated["rows"]  # type: ignore[assignment]
        load = round(os.getloadavg()[0], 1)
        floor = child.measure("bench.assess", "floor", db)
        run = child.measure("bench.assess", "assess", db)
        try:
            write_floor = child.measure("bench.assess", "write-floor", reports_folder(db))
        finally:
            shutil.rmtree(reports_folder(db), ignore_errors=True)
        total = run["assess_s"] + run["report_s"]
        row = {
            "clusters": run["clusters"],
            "records": rows["recordings"],
            "holdings": rows["holdings"],
            "db_mb": generated["db_mb"],
            "generate_s": generated["generate_s"],
            "floor_s": floor["seconds"],
            "floor_peak_rss_mb": floor["peak_rss_mb"],
            "write_floor_s": write_floor["seconds"],
            "write_floor_files": write_floor["files"],
            "floors_s": round(floor["seconds"] + write_floor["seconds"], 1),
            **{k: v for k, v in run.items() if k != "clusters"},
            "total_s": round(total, 1),
            "clusters_per_s": round(run["clusters"] / total) if total else None,
            "ratio_to_floor": round(total / floor["seconds"], 1) if floor["seconds"] else None,
            "within_target": total < TARGET_SECONDS and run["peak_rss_mb"] < TARGET_RSS_MB,
            "load_average_1m": load,
        }
        runs.append(row)
        print(json.dumps(row), flush=True)
    write_results(args.out, runs)


def reports_folder(db: Path) -> Path:
    """Where the assess worker leaves the reports of `db` for the write floor to rewrite."""
    return db.with_name(f"{db.stem}-reports")


def worker(what: str, path: str) -> None:
    """Measure `what`: floor | assess on a private copy of the database `path`, write-floor on
    the reports folder `path`."""
    if what == "write-floor":
        print(json.dumps(_write_floor(Path(path))))
        return
    from preservation import store

    db = Path(path)
    with tempfile.TemporaryDirectory(dir=db.parent, prefix="assess-run-") as tmp:
        copy = Path(tmp) / "bench.duckdb"
        shutil.copyfile(db, copy)
        child.settle()
        con = store.connect(copy)
        try:
            floor = what == "floor"
            result = _floor(con) if floor else _assess_and_report(con, reports_folder(db))
        finally:
            con.close()
    print(json.dumps(result))


def _floor(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    started = time.perf_counter()
    con.execute(FLOOR_SQL)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "clusters": con.execute("SELECT count(*) FROM floor_facts").fetchone()[0],
    }


def _assess_and_report(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, object]:
    from preservation.assess import assess
    from preservation.report import write_reports

    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    result = assess(con, as_of=AS_OF)
    assessed = time.perf_counter()
    assess_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, the peak so far
    write_reports(con, out)
    reported = time.perf_counter()
    files = [p for p in out.rglob("*") if p.is_file()]
    return {
        "clusters": result.clusters,
        "at_risk": result.at_risk,
        "assess_s": round(assessed - started, 2),
        "report_s": round(reported - assessed, 2),
        "assess_peak_rss_mb": round(assess_rss / 1024),
        "report_files": len(files),
        "reports_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1),
        "risk_rows": con.execute("SELECT count(*) FROM risk").fetchone()[0],
    }


def _write_floor(reports: Path) -> dict[str, object]:
    """Seconds to write the report's largest files again from their own rows (see the module's
    docstring), in total and per file, with the bytes written again and the report's own."""
    from preservation import store
    from preservation.report_acquisition import (
        ACQUISITION_COLUMNS,
        CSV_NAME,
        JSON_NAME,
        PARQUET_NAME,
    )
    from preservation.report_contributions import CONTRIBUTIONS_NAME
    from preservation.report_files import copy_csv, copy_json_document, copy_to
    from preservation.report_search_evidence import FOLDER, RECORDINGS_NAME

    report_files = {
        name: reports / name for name in (CSV_NAME, JSON_NAME, PARQUET_NAME, CONTRIBUTIONS_NAME)
    }
    report_files[RECORDINGS_NAME] = reports / FOLDER / RECORDINGS_NAME
    csv = "read_csv('{}', header = true, all_varchar = true, quote = '\"', escape = '\"')"
    loads = {  # the table of each file's rows: what it is loaded from
        "acquisition_csv": csv.format(report_files[CSV_NAME]),
        "acquisition": f"read_parquet('{report_files[PARQUET_NAME]}')",
        "contributions_csv": csv.format(report_files[CONTRIBUTIONS_NAME]),
        "evidence": f"read_json('{report_files[RECORDINGS_NAME]}', format = 'newline_delimited')",
    }
    again = reports / "again"
    again.mkdir()
    con = store.connect(reports / "write-floor.duckdb")
    writes = {  # each file, written again from its rows as the report writes it
        CSV_NAME: lambda: copy_csv(con, "FROM acquisition_csv", again / CSV_NAME),
        JSON_NAME: lambda: copy_json_document(
            con,
            "acquisition",
            list(ACQUISITION_COLUMNS),
            "cluster_id",
            again / JSON_NAME,
            head='{"rows": [',
            tail="]}\n",
        ),
        PARQUET_NAME: lambda: copy_to(
            con, "FROM acquisition", again / PARQUET_NAME, "FORMAT parquet, COMPRESSION zstd"
        ),
        CONTRIBUTIONS_NAME: lambda: copy_csv(
            con, "FROM contributions_csv", again / CONTRIBUTIONS_NAME
        ),
        RECORDINGS_NAME: lambda: copy_to(
            con, "FROM evidence", again / RECORDINGS_NAME, "FORMAT json"
        ),
    }
    try:
        for table, source in loads.items():
            con.execute(f"CREATE TABLE {table} AS FROM {source}")
        con.execute("CHECKPOINT")
        child.settle()
        files: dict[str, dict[str, float]] = {}
        for name, write in writes.items():
            started = time.perf_counter()
            written = write()
            seconds = time.perf_counter() - started
            files[name] = {
                "seconds": round(seconds, 3),
                "bytes": written.stat().st_size,
                "report_bytes": report_files[name].stat().st_size,
            }
            written.unlink()  # the disk holds one copy of the reports at a time, not two
    finally:
        con.close()
    return {"seconds": round(sum(f["seconds"] for f in files.values()), 2), "files": files}


def write_results(out: Path, runs: list[dict[str, object]]) -> None:
    machine = child.machine(
        f"SYNTHETIC clusters (bench/synthetic_assess.py, generator v{GENERATOR_VERSION}); "
        f"code at {_code_version()}"
    )
    header = (
        "| clusters | records | holdings | db MB | floor s | write floor s "
        "| floor + write floor s | assess s | report s "
        "| assess + report s | clusters/s | ratio to floor | peak RSS MB after assess "
        "| peak RSS MB | floor peak RSS MB | reports MB | at risk | within target | load |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        "|:--:|---:|\n"
    )
    rows = "".join(
        f"| {r['clusters']:,} | {r['records']:,} | {r['holdings']:,} | {r['db_mb']:,} "
        f"| {r['floor_s']} | {r['write_floor_s']} | {r['floors_s']} "
        f"| {r['assess_s']} | {r['report_s']} | {r['total_s']} "
        f"| {r['clusters_per_s']:,} | {r['ratio_to_floor']} | {r['assess_peak_rss_mb']:,} "
        f"| {r['peak_rss_mb']:,} | {r['floor_peak_rss_mb']:,} | {r['reports_mb']:,} "
        f"| {r['at_risk']:,} | {'yes' if r['within_target'] else 'no'} "
        f"| {r['load_average_1m']} |\n"
        for r in runs
    )
    note = (
        f"Target: {TARGET} clusters (peak RSS of the process doing both). "
        f"DuckDB memory_limit {os.environ.get('PRESERVATION_MEMORY_LIMIT') or '2GB'} "
        "($PRESERVATION_MEMORY_LIMIT). Baseline (floor): one CREATE TABLE AS joining clusters "
        "to recordings and holdings, per cluster the record count, earliest year and distinct "
        "platforms, on the same database in the same run; ratio = (assess + report) / floor. "
        "Write floor: the report's five largest files written again by its own COPY functions "
        "from their own rows, already loaded into tables (bench/assess.py); floor + write floor "
        "is the least any assess + report writing these files can take here. "
        "`load`: the 1-minute load average when the size started (other work on the machine "
        "slows every figure). Each measurement starts once the disk has caught up (os.sync): "
        "on this VM it sustained 57-130 MB/s (dd with fdatasync), so the reports' gigabytes "
        "go to disk at about that speed once the page cache is full."
    )
    child.write_results(out, "assess", "assess + report", machine, runs, header + rows, note)


def _code_version() -> str:
    """The commit measured, and whether preservation/ had uncommitted changes."""
    git = ["git", "-C", str(HERE.parent)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "preservation"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"
    return f"commit {commit}" + (" with uncommitted changes in preservation/" if dirty else "")


if __name__ == "__main__":
    main()
