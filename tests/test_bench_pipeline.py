"""The whole-pipeline benchmark (bench/pipeline.py): its input is shaped like what the real
stages ingest, it runs every stage at a tiny size and writes its results, and its log-log
slope is the least-squares one."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from bench import child, pipeline
from preservation.sources.internetarchive.parse import InternetArchive

ROOT = Path(__file__).parent.parent


def test_input_is_dump_lines_and_scrape_pages_the_parsers_read(tmp_path: Path) -> None:
    info = pipeline.write_input(tmp_path, 2_000)
    lines = (tmp_path / "mbdump" / "recording").read_text().splitlines()
    assert len(lines) == info["recordings"] == 2_000
    entities = [json.loads(line) for line in lines]
    assert len({e["id"] for e in entities}) == len(entities)
    # titles and performers recur but vary, so that linking has work and blocking stays small
    titles = {e["title"] for e in entities}
    names = {c["name"] for e in entities for c in e["artist-credit"]}
    assert 100 < len(titles) < len(entities) and len(names) > 100
    pages = (tmp_path / "internetarchive" / "scrape" / "78rpm.jsonl").read_text().splitlines()
    assert len(pages) == info["archive_pages"] >= 1
    parsed = [InternetArchive().parse(json.loads(page), f"78rpm.jsonl#{i}") for i, page in
              enumerate(pages, start=1)]  # fmt: skip
    records = [r for p in parsed for r in p.records]
    assert len(records) == info["archive_items"] > 0
    assert all(r.medium_format == "78 rpm disc" and r.title and r.artists for r in records)
    # some dump lines link a transfer's page: the identifier rule's share of the work
    pages_linked = {
        rel["url"]["resource"]
        for e in entities
        for rel in e["relations"]
        if rel["target-type"] == "url" and "archive.org/details/" in rel["url"]["resource"]
    }
    assert len(pages_linked) == info["url_linked"] > 0
    assert pages_linked <= {r.page_url for r in records}


def test_every_stage_runs_at_a_tiny_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the stages run as `python -m bench.pipeline` from the checkout
    out = tmp_path / "results"
    argv = ["bench.pipeline", "--sizes", "2e3", "--data", str(tmp_path), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    pipeline.main()
    results = json.loads((out / "pipeline.json").read_text())
    (run,) = results["runs"]
    assert run["failed"] is None
    assert list(run["stages"]) == list(pipeline.STAGES)
    for stage, figures in run["stages"].items():
        assert figures["seconds"] > 0 and figures["rows"] > 0, stage
        assert figures["peak_rss_mb"] > 0 and figures["rows_per_s"] > 0, stage
    assert run["floor_s"] > 0 and run["floor_rows"] == 2_000
    # the import's own floors: parsing what it reads, storing what it wrote
    assert run["parse_floor_s"] > 0 and run["store_floor_s"] > 0 and run["store_floor_mb"] > 0
    floors = run["parse_floor_s"] + run["store_floor_s"]
    assert run["import_floors_s"] == pytest.approx(floors, abs=0.01)
    imported = run["stages"]["import-dump"]["seconds"]
    assert run["import_ratio_to_floors"] == pytest.approx(imported / floors, abs=0.01)
    assert run["stages"]["import-dump"]["rows"] == 2_000
    assert run["stages"]["link"]["links"] > 0  # the archive items met their recordings
    assert run["total_s"] == pytest.approx(sum(s["seconds"] for s in run["stages"].values()), 0.01)
    # one size: no slope, and the slope target cannot be judged
    assert set(results["slopes"]) == {*pipeline.STAGES, "total"}
    assert all(v is None for v in results["slopes"].values())
    assert [t["met"] for t in results["targets"]][2:] == [None, True, None]
    markdown = (out / "pipeline.md").read_text()
    assert all(f"| {stage} |" in markdown for stage in pipeline.STAGES)
    assert "| parse floor |" in markdown and "import / (parse + store)" in markdown
    assert not list(tmp_path.glob("pipeline-run-*"))  # the run's database and reports are gone


def _peak_rss_kib() -> int:
    """This process's high-water RSS (VmHWM: its own address space's, not inherited)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def _fill(kib: int) -> int:
    """Take `kib` KiB of memory, touched, and give back how much."""
    block = bytearray(b"\x01") * (kib * 1024)
    return len(block) // 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_generator_in_its_own_process_leaves_the_parent_small() -> None:
    # More than this process ever held, so that its peak would have to rise were it the one
    peak = _peak_rss_kib()
    wanted = peak + 256 * 1024
    assert child.in_own_process(_fill, wanted) == wanted
    assert _peak_rss_kib() < peak + 64 * 1024


def test_loglog_slope_is_the_least_squares_one() -> None:
    assert child.loglog_slope([1e5, 1e6, 1e7], [1.0, 10.0, 100.0]) == pytest.approx(1.0)
    assert child.loglog_slope([1e3, 1e4], [2.0, 200.0]) == pytest.approx(2.0)
    # three evenly spaced sizes: the middle point moves the line, not its slope
    assert child.loglog_slope([1, 10, 100], [1.0, 20.0, 100.0]) == pytest.approx(1.0)
    # uneven sizes, by hand in units of ln 10: x = 0, 1, 3 and y = 0, 1, 2 give 3 / (14 / 3)
    assert child.loglog_slope([1, 10, 1000], [1.0, 10.0, 100.0]) == pytest.approx(9 / 14)
    assert child.loglog_slope([1e5], [3.0]) is None
    assert child.loglog_slope([1e5, 1e5], [3.0, 4.0]) is None


def test_targets_and_slopes_from_runs() -> None:
    def run(size: int, seconds: float, rss: int) -> dict[str, object]:
        stages = {s: {"seconds": seconds, "peak_rss_mb": rss} for s in pipeline.STAGES}
        return {
            "recordings": size,
            "stages": stages,
            "failed": None,
            "total_s": seconds * len(stages),
            "peak_rss_mb": rss,
            "import_ratio_to_floor": 1.2,
            "link_records_per_min": 3_000_000,
            "assess_report_s": 2 * seconds,
        }

    runs = [run(10**6, 2.0, 1_000), run(10**7, 40.0, 5_000)]
    slopes = pipeline.stage_slopes(runs)
    assert slopes["total"] == pytest.approx(math.log10(20), abs=0.01)  # 20x the time for 10x
    met = {t["target"]: t["met"] for t in pipeline.targets(runs, slopes)}
    assert list(met.values()) == [True, True, False, False, False]
    assert pipeline.targets(runs, slopes)[2]["values"] == {"1e7": 80.0}
