"""Benchmarks: `python -m bench [--sizes 1e5,1e6,1e7]` (or `make bench`).

import-dump on SYNTHETIC dump-shaped recording lines (bench/synthetic.py) at each size,
against the floor measured in the same run on the same file: DuckDB's read_json count(*).
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
        imported = measure("import", dump)
        row = {
            "lines": size,
            "file_mb": round(dump.stat().st_size / 2**20, 1),
            "floor_s": floor["seconds"],
            "floor_peak_rss_mb": floor["peak_rss_mb"],
            "import_s": imported["seconds"],
            "stage_s": imported["stage_seconds"],
            "merge_s": imported["merge_seconds"],
            "import_lines_per_s": round(size / imported["seconds"]),
            "import_peak_rss_mb": imported["peak_rss_mb"],
            "ratio_to_floor": round(imported["seconds"] / floor["seconds"], 2),
            "stage_ratio_to_floor": round(imported["stage_seconds"] / floor["seconds"], 2),
            "recordings": imported["recordings"],
            "holdings": imported["holdings"],
        }
        if size <= args.archive_max:
            archived = measure("import", archive(dump))
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


def worker(what: str, path: Path) -> None:
    started = time.perf_counter()
    if what == "floor":
        con = duckdb.connect()
        rows = con.execute(
            "SELECT count(*) FROM read_json(?, format = 'newline_delimited')", [str(path)]
        ).fetchone()
        print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "rows": rows[0]}))
        return
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

    db = path.parent / "bench.duckdb"
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
    db.unlink(missing_ok=True)
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


def write_results(out: Path, runs: list[dict[str, object]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    machine = {
        **child.machine(
            "SYNTHETIC recording lines shaped like mbdump/recording (bench/synthetic.py)"
        ),
        "free_disk_gb": round(shutil.disk_usage(out).free / 2**30),
    }
    header = (
        "| lines | file MB | floor s | import s (stage + merge) | lines/s | ratio to floor "
        "(stage only) | peak RSS MB | .tar.xz import s (unxz alone) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = "".join(
        f"| {r['lines']:,} | {r['file_mb']:,} | {r['floor_s']} | {r['import_s']} "
        f"({r['stage_s']} + {r['merge_s']}) | {r['import_lines_per_s']:,} | "
        f"{r['ratio_to_floor']} ({r['stage_ratio_to_floor']}) | {r['import_peak_rss_mb']:,} | "
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
        "Floor: DuckDB `read_json` count(*) over the same file, in the same run.",
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
