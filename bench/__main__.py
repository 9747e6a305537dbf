"""Benchmarks: `python -m bench [--sizes 1e5,1e6,1e7]` (or `make bench`).

import-dump on SYNTHETIC dump-shaped recording lines (bench/synthetic.py) at each size,
against floors measured in the same run on the same file:
- the floor: DuckDB's read_json count(*), which finds where each line ends and parses no value;
- the parse floor: read_json as the import reads the lines (`dump.json_reader`: its columns,
  nested lists of structs and all), every value hashed so that none is skipped, none stored;
- the store floor: the database the import left, written again as a new database file
  (every table copied from the import's file, attached read-only; closing it checkpoints and
  fsyncs). No computing: what storing those rows costs DuckDB and this disk. Copying from
  tables loaded into memory first was slower (7.9-12.4 s against 5.6 s at 1e6), so the
  import's own file is the source.
The import parses and stores, so parse floor + store floor is the least it can take here.
The floors run under DuckDB's default memory limit (80% of RAM), not the import's: they bound
time, which more memory can only lower (the store floor's peak RSS, 6.7 GB at 1e7, is that).
Each measurement runs in its own process, so its peak RSS is its own. Generated files are
kept under bench/data/ (ignored by git) and reused while the generator is unchanged.
Results are printed and written to bench/results/import_dump.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
import time
from pathlib import Path

import duckdb

from bench import child
from bench.synthetic import GENERATOR_VERSION, write_recording_dump

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default="1e5,1e6,1e7", help="recording lines per run")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--archive-max", type=float, default=1e6, help="also time .tar.xz imports up to this size"
    )
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    runs = []
    for size in sizes:
        dump = dump_file(args.data, size)
        floor = measure("floor", dump)
        parsed = measure("parse-floor", dump)
        imported = measure("import", dump)
        stored = measure("store-floor", imported_database(dump))
        imported_database(dump).unlink()
        floors = parsed["seconds"] + stored["seconds"]
        row = {
            "lines": size,
            "file_mb": round(dump.stat().st_size / 2**20, 1),
            "floor_s": floor["seconds"],
            "floor_peak_rss_mb": floor["peak_rss_mb"],
            "parse_floor_s": parsed["seconds"],
            "store_floor_s": stored["seconds"],
            "store_floor_mb": stored["mb"],
            "import_s": imported["seconds"],
            "stage_s": imported["stage_seconds"],
            "merge_s": imported["merge_seconds"],
            "import_lines_per_s": round(size / imported["seconds"]),
            "import_peak_rss_mb": imported["peak_rss_mb"],
            "ratio_to_floor": round(imported["seconds"] / floor["seconds"], 2),
            "stage_ratio_to_floor": round(imported["stage_seconds"] / floor["seconds"], 2),
            "floors_ratio_to_floor": round(floors / floor["seconds"], 2),
            "ratio_to_floors": round(imported["seconds"] / floors, 2),
            "recordings": imported["recordings"],
            "holdings": imported["holdings"],
        }
        if size <= args.archive_max:
            archived = measure("import", archive(dump))
            imported_database(archive(dump)).unlink()
            unxz = measure("unxz", archive(dump))
            row["archive_import_s"] = archived["seconds"]
            row["archive_decompress_s"] = unxz["seconds"]
            row["archive_peak_rss_mb"] = archived["peak_rss_mb"]
        runs.append(row)
        print(json.dumps(row), flush=True)
    write_results(args.out, runs)


def dump_file(data: Path, size: int) -> Path:
    """A cached mbdump/recording file of `size` synthetic lines."""
    path = data / f"synthetic-v{GENERATOR_VERSION}-{size}" / "mbdump" / "recording"
    if not path.exists():
        started = time.perf_counter()
        partial = child.in_own_process(write_recording_dump, path.with_suffix(".partial"), size)
        partial.rename(path)
        print(f"generated {size:,} synthetic lines in {time.perf_counter() - started:.0f} s")
    return path


def archive(dump: Path) -> Path:
    """recording.tar.xz beside the extracted file, as MusicBrainz publishes it."""
    path = dump.parent.parent / "recording.tar.xz"
    if not path.exists():
        with tarfile.open(path.with_suffix(".partial"), "w:xz", preset=0) as tar:
            tar.add(dump, arcname="mbdump/recording")
        path.with_suffix(".partial").rename(path)
    return path


def measure(what: str, path: Path) -> dict[str, float]:
    return child.measure("bench", what, path)


def imported_database(dump: Path) -> Path:
    """Where the import worker leaves its database, for the store floor."""
    return dump.parent / "bench.duckdb"


def worker(what: str, path: Path) -> None:
    if what in FLOORS:
        child.settle()
        started = time.perf_counter()
        figures = FLOORS[what](path)
        print(json.dumps({"seconds": round(time.perf_counter() - started, 2), **figures}))
        return
    started = time.perf_counter()
    if what == "unxz":
        with tarfile.open(path, "r|xz") as tar:
            for info in tar:
                stream = tar.extractfile(info)
                while stream is not None and stream.read(2**24):
                    pass
        print(json.dumps({"seconds": round(time.perf_counter() - started, 2)}))
        return
    from preservation import store
    from preservation.sources.musicbrainz import dump

    db = imported_database(path)
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    merge_seconds = 0.0
    merge = dump.merge_sightings

    def timed_merge(con: duckdb.DuckDBPyConnection) -> None:
        nonlocal merge_seconds
        began = time.perf_counter()
        merge(con)
        merge_seconds = time.perf_counter() - began

    dump.merge_sightings = timed_merge  # instrumentation only: the same function, timed
    started = time.perf_counter()
    con = store.connect(db)
    dump.import_dump(con, path)
    seconds = time.perf_counter() - started
    counts = store.table_counts(con)
    con.close()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "merge_seconds": round(merge_seconds, 2),
                "stage_seconds": round(seconds - merge_seconds, 2),
                "recordings": counts["recordings"],
                "holdings": counts["holdings"],
            }
        )
    )


def count_floor(dump: Path) -> dict[str, object]:
    con = duckdb.connect()
    (rows,) = con.execute(
        "SELECT count(*) FROM read_json(?, format = 'newline_delimited')", [str(dump)]
    ).fetchall()[0]
    return {"rows": rows}


def parse_floor(dump: Path) -> dict[str, object]:
    from preservation.sources.musicbrainz.dump import COLUMNS, json_reader

    values = ", ".join(f'"{name}"' for name in COLUMNS["recording"])
    con = duckdb.connect()
    (rows, _) = con.execute(
        f"SELECT count(*), sum(hash({values})) {json_reader('recording', dump)}"
    ).fetchall()[0]
    return {"rows": rows}


def store_floor(db: Path) -> dict[str, object]:
    copy = db.with_name(f"{db.stem}-stored-again.duckdb")
    copy.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{db}' AS imported (READ_ONLY)")
        con.execute(f"ATTACH '{copy}' AS again")
        for (table,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'imported'"
        ).fetchall():
            con.execute(f'CREATE TABLE again."{table}" AS FROM imported."{table}"')
        con.execute("DETACH again")  # checkpoints the new file and fsyncs it
        return {"mb": round(copy.stat().st_size / 2**20, 1)}
    finally:
        con.close()
        copy.unlink(missing_ok=True)


FLOORS = {"floor": count_floor, "parse-floor": parse_floor, "store-floor": store_floor}


def write_results(out: Path, runs: list[dict[str, object]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    machine = {
        **child.machine(
            "SYNTHETIC recording lines shaped like mbdump/recording (bench/synthetic.py)"
        ),
        "free_disk_gb": round(shutil.disk_usage(out).free / 2**30),
    }
    header = (
        "| lines | file MB | floor s | parse floor s | store floor s (MB) | import s "
        "(stage + merge) | lines/s | ratio to floor (stage only) | floors / floor | import / "
        "floors | peak RSS MB | .tar.xz import s (unxz alone) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = "".join(
        f"| {r['lines']:,} | {r['file_mb']:,} | {r['floor_s']} | {r['parse_floor_s']} | "
        f"{r['store_floor_s']} ({r['store_floor_mb']:,}) | {r['import_s']} "
        f"({r['stage_s']} + {r['merge_s']}) | {r['import_lines_per_s']:,} | "
        f"{r['ratio_to_floor']} ({r['stage_ratio_to_floor']}) | {r['floors_ratio_to_floor']} | "
        f"{r['ratio_to_floors']} | {r['import_peak_rss_mb']:,} | "
        + (
            f"{r['archive_import_s']} ({r['archive_decompress_s']}) |\n"
            if "archive_import_s" in r
            else "- |\n"
        )
        for r in runs
    )
    child.write_results(
        out,
        "import_dump",
        "import-dump",
        machine,
        runs,
        header + rows,
        "Floors, in the same run on the same file (see bench/__main__.py): the floor, DuckDB "
        "`read_json` count(*); the parse floor, read_json of the import's columns, every value "
        "hashed; the store floor, the import's database written again as a new file. "
        "`floors`: parse floor + store floor, the least the import can take here. The floors "
        "run under DuckDB's default memory limit: they bound time, not memory.",
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
