"""Run one measurement in its own process, so that its peak RSS is its own.

On Linux a process counts, in its peak RSS (ru_maxrss), the peak of the process that started
it as it was at that moment: exec folds the old address space's high-water mark into the new
process's. So the benchmarks' parent process must stay small: what grows it (generating
synthetic input) runs in a process of its own too (`in_own_process`). Before this, a parent
that had just generated ten million clusters (5.1 GB) made each measurement after it report
5.1 GB, whatever it used itself."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

import duckdb

T = TypeVar("T")


def measure(module: str, what: str, path: Path) -> dict[str, float]:
    """`python -m module --worker what path`, whose last stdout line is a JSON object;
    returns that object with the child's peak RSS added."""
    child = subprocess.Popen(
        [sys.executable, "-m", module, "--worker", what, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{module} {what} {path} failed: {output}")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux
    return result


def in_own_process(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` run in a new Python process (its result pickled back), so that the
    memory it takes is never the caller's: see the module's docstring."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def settle() -> None:
    """Wait until the files written so far are on disk. This VM's disk took 57-130 MB/s in
    runs of dd with fdatasync, while the page cache takes gigabytes at once, so a measurement
    that starts while what came before it (a copied database, a stage's output, reports) is
    still being flushed pays for that writing too."""
    os.sync()


def machine(data: str) -> dict[str, object]:
    """Where and on what a benchmark ran, for its results file."""
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "data": data,
    }


def write_results(
    out: Path, name: str, title: str, machine: dict[str, object], runs: list, table: str, note: str
) -> None:
    """Write `name`.json (machine and runs) and `name`.md (the table), and print the table."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps({**machine, "runs": runs}, indent=2) + "\n")
    text = (
        f"# {title} benchmark ({machine['when']})\n\n"
        f"{machine['data']}; {machine['cpus']} CPUs, DuckDB {machine['duckdb']}, "
        f"Python {machine['python']}.\n{note}\n\n{table}"
    )
    (out / f"{name}.md").write_text(text)
    print(text)


def sized_arguments(
    prog: str, doc: str | None, sizes: str, unit: str, here: Path
) -> argparse.Namespace:
    """The options of a benchmark run at several sizes: --sizes, --data, --out, and the hidden
    --worker WHAT PATH by which `measure` runs one measurement in a child process."""
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    parser.add_argument("--sizes", default=sizes, help=unit)
    parser.add_argument("--data", type=Path, default=here / "data")
    parser.add_argument("--out", type=Path, default=here / "results")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


def loglog_slope(sizes: Sequence[float], seconds: Sequence[float]) -> float | None:
    """The least-squares slope of log(seconds) against log(size): 1 when time grows in
    proportion to size, 2 when it grows with its square. None without two distinct sizes
    with positive times (one point has no slope)."""
    points = [(math.log(n), math.log(t)) for n, t in zip(sizes, seconds, strict=True) if t > 0]
    if len({x for x, _ in points}) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
