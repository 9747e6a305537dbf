"""Whole-pipeline benchmark: `python -m bench.pipeline [--sizes 1e5,1e6,1e7]` (`make bench`).

At each size (MusicBrainz recordings), the real stages run in order on one fresh database,
each in its own process (so its peak RSS is its own), each as its CLI command runs it (open
the database, the stage's function, close):

  harvest (archive items: `harvest.harvest_folder`) -> normalize (`normalize.normalize`)
  -> import-dump (`dump.import_dump`) -> link (`link.link`) -> assess (`assess.assess`)
  -> report (`report.write_reports`)

The input is SYNTHETIC and cached under bench/data/pipeline-v<GENERATOR_VERSION>-<size>/:

- `mbdump/recording`: `size` lines shaped like the MusicBrainz recording dump, each one a line
  of bench/synthetic.py (real templates: keys, nesting, url and work relationships, ISRCs)
  with its title, artist credit, first-release date and length replaced by those of a
  recording drawn as bench/synthetic_link.py draws them (titles from a pool that recurs,
  performers of whom 200 stars hold a fifth of the sides, 1900-1955). bench/synthetic.py's
  own lines all credit one artist and are titled "Synthetic recording <n>", which gives the
  linker nothing to do and makes its blocking quadratic; hence the replacement.
- `internetarchive/scrape/78rpm.jsonl`: saved archive.org scrape pages (1,000 items a page,
  the fields the live harvester asks for, in the shape of the sample's Great 78 item): 78 rpm
  transfers of 2.5% of the recordings (a tenth of them transferred twice) and of 0.5% more
  that MusicBrainz lacks, with bench/synthetic_link.py's transfer noise ("Surname, Forename",
  typos, "- Side A", missing years and catalogue numbers). About 3 items per 100
  recordings: the Great 78 Project's ~400,000 items are about 1% of MusicBrainz's recordings.
  A fifth of the transferred recordings' dump lines link the transfer's page (the identifier
  rule), the rest are for the model to find.

Baselines in the same run: DuckDB `read_json` count(*) over the same dump file (the floor the
issue states for import-dump), the import's parse and store floors (the least any import of
this file can take here: bench/__main__.py says how each is measured), all three by
`python -m bench`'s own floor workers, and the previous release of the project when one is
tagged. Each measurement starts once the disk has caught up with what came before it
(`child.settle`). Figures per stage: seconds, input rows per second, peak RSS;
the total; the log-log slope of seconds against size over the sizes run; the issue's targets.
Results are printed and written to bench/results/pipeline.{json,md}.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from bench import child
from bench.assess import AS_OF, TARGET_RSS_MB, _code_version
from bench.synthetic import RecordingLines, _fill, _mbid
from bench.synthetic_link import LABELS, _person, _prolific, _title, _transfer
from preservation.pipeline import sample_dir
from preservation.sources.internetarchive.live import FIELDS, PAGE_SIZE

HERE = Path(__file__).parent
GENERATOR_VERSION = 1  # bump when the input changes, so cached inputs are made again
SEED = 1927
TRANSFERRED = 0.025  # share of recordings with a 78 transfer in the archive ...
TWICE = 0.1  # ... of which transferred twice
ARCHIVE_ONLY = 0.005  # per recording: a transfer of a recording MusicBrainz lacks
URL_LINKED = 0.2  # transferred recordings whose dump line links the transfer's page
GREAT_78 = (
    sample_dir() / "internetarchive/metadata_api/78_i-want-a-hippopotamus-for-christmas_"
    "vicki-dale-the-peter-pan-orchestra_gbia0000281a.json"
)
# The stages in order, and what each one's rows are: the rows it takes in.
ROWS = {
    "harvest": "archive items in the saved pages",
    "normalize": "archive records parsed",
    "import-dump": "dump lines",
    "link": "records",
    "assess": "clustered records",
    "report": "assessed clusters",
}
STAGES = tuple(ROWS)
LINK_TARGET_PER_MIN = 2_000_000
FLOOR_TARGET = 1.5
ASSESS_REPORT_TARGET_S = 60.0
TARGET_SIZE = 10_000_000  # the size the assess + report target is stated for
SLOPE_TARGET = 1.1


def main() -> None:
    args = child.sized_arguments(
        "python -m bench.pipeline", __doc__, "1e5,1e6,1e7", "MusicBrainz recordings per run", HERE
    )
    if args.worker:
        worker(*args.worker)
        return
    runs = []
    for size in (int(float(s)) for s in args.sizes.split(",")):
        runs.append(run_size(args.data, size))
        print(json.dumps(runs[-1]), flush=True)
        # Written after every size, so a long run that fails later keeps what it measured.
        write_results(args.out, runs)


def run_size(data: Path, size: int) -> dict[str, Any]:
    """Every stage, in order, on one fresh database made from the cached input of `size`."""
    folder, generated = cached_input(data, size)
    load = round(os.getloadavg()[0], 1)
    dump = folder / "mbdump" / "recording"
    floor = child.measure("bench", "floor", dump)
    parsed = child.measure("bench", "parse-floor", dump)
    stored = None
    stages: dict[str, dict[str, Any]] = {}
    failed = None
    with tempfile.TemporaryDirectory(dir=data, prefix="pipeline-run-") as tmp:
        run = Path(tmp)
        (run / "input").symlink_to(folder.resolve())
        for stage in STAGES:
            try:
                stages[stage] = child.measure("bench.pipeline", stage, run)
            except SystemExit as exc:  # the stage's process failed: keep what ran before it
                failed = f"{stage}: {str(exc)[-300:]}"
                break
            stages[stage]["rows_per_s"] = _per_second(stages[stage]["rows"], stages[stage])
            if stage == "import-dump":
                stored = child.measure("bench", "store-floor", run / "bench.duckdb")
        db_mb = _mb(run / "bench.duckdb")
        reports_mb = sum(_mb(p) for p in (run / "reports").rglob("*") if p.is_file())
    floors = {"count": floor, "parse": parsed, "store": stored}
    return summarize(size, generated, floors, stages, failed, load, db_mb, reports_mb)


def summarize(
    size: int,
    generated: dict[str, Any],
    floors: dict[str, Any],
    stages: dict[str, dict[str, Any]],
    failed: str | None,
    load: float,
    db_mb: float,
    reports_mb: float,
) -> dict[str, Any]:
    """One size's row of the results: the stages, the total and the per-size targets."""
    total = sum(s["seconds"] for s in stages.values())
    rows_in = generated["recordings"] + generated["archive_items"]
    floor, parsed, stored = floors["count"], floors["parse"], floors["store"]
    row: dict[str, Any] = {
        "recordings": size,
        **{k: v for k, v in generated.items() if k != "recordings"},
        "floor_s": floor["seconds"],
        "floor_rows": floor["rows"],
        "floor_peak_rss_mb": floor["peak_rss_mb"],
        "parse_floor_s": parsed["seconds"],
        "parse_floor_peak_rss_mb": parsed["peak_rss_mb"],
        "store_floor_s": stored["seconds"] if stored else None,
        "store_floor_mb": stored["mb"] if stored else None,
        "store_floor_peak_rss_mb": stored["peak_rss_mb"] if stored else None,
        "stages": stages,
        "failed": failed,
        "total_s": round(total, 2),
        "total_rows_per_s": round(rows_in / total) if total else None,
        "peak_rss_mb": max((s["peak_rss_mb"] for s in stages.values()), default=None),
        "db_mb": round(db_mb, 1),
        "reports_mb": round(reports_mb, 1),
        "load_average_1m": load,
    }
    if "import-dump" in stages:
        imported = stages["import-dump"]["seconds"]
        row["import_ratio_to_floor"] = round(imported / floor["seconds"], 2)
        if stored:
            least = parsed["seconds"] + stored["seconds"]
            row["import_floors_s"] = round(least, 2)
            row["import_floors_ratio_to_floor"] = round(least / floor["seconds"], 2)
            row["import_ratio_to_floors"] = round(imported / least, 2)
    if "link" in stages:
        row["link_records_per_min"] = round(stages["link"]["rows_per_s"] * 60)
    if "report" in stages:
        row["assess_report_s"] = round(stages["assess"]["seconds"] + stages["report"]["seconds"], 2)
    return row


def _per_second(rows: int, stage: dict[str, Any]) -> int | None:
    return round(rows / stage["seconds"]) if stage["seconds"] else None


def _mb(path: Path) -> float:
    return path.stat().st_size / 2**20 if path.exists() else 0.0


# --- the stages, each run by `python -m bench.pipeline --worker STAGE RUN_FOLDER` ---


def worker(stage: str, folder: str) -> None:
    """Run one stage on RUN_FOLDER/bench.duckdb, timed as the CLI command would run it:
    opening the database, the stage, closing it (DuckDB checkpoints on close)."""
    from preservation import store

    run = Path(folder)
    child.settle()
    started = time.perf_counter()
    con = store.connect(run / "bench.duckdb")
    try:
        rows, extra = STAGE_RUNNERS[stage](con, run)
        seconds = time.perf_counter() - started
        extra.update(_counts(con))  # off the clock: what the stage left, for the results
        closing = time.perf_counter()
    finally:
        con.close()
    seconds += time.perf_counter() - closing
    print(json.dumps({"seconds": round(seconds, 3), "rows": rows, **extra}))


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = ("recordings", "holdings", "clusters", "risk")
    return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}


def _harvest(con: duckdb.DuckDBPyConnection, run: Path) -> tuple[int, dict[str, Any]]:
    from preservation.harvest import harvest_folder

    saved = run / "input"
    result = harvest_folder(con, "internetarchive", saved / "internetarchive", saved)
    items = json.loads((saved / "info.json").read_text())["archive_items"]
    return items, {"pages": result.payloads, "quarantined": result.quarantined}


def _normalize(con: duckdb.DuckDBPyConnection, run: Path) -> tuple[int, dict[str, Any]]:
    from preservation.normalize import normalize

    result = normalize(con)
    return result.records, {"quarantined": result.quarantined}


def _import_dump(con: duckdb.DuckDBPyConnection, run: Path) -> tuple[int, dict[str, Any]]:
    from preservation.sources.musicbrainz.dump import import_dump

    result = import_dump(con, run / "input" / "mbdump" / "recording")
    lines = sum(e.lines for e in result.entities)
    return lines, {"quarantined": sum(e.quarantined for e in result.entities)}


def _link(con: duckdb.DuckDBPyConnection, run: Path) -> tuple[int, dict[str, Any]]:
    from preservation.link import link

    result = link(con)
    return result.records, {
        "links": result.links,
        "by_method": result.by_method,
        "candidate_pairs": result.candidate_pairs,
        "review": result.review,
        "trained": result.trained,
    }


def _assess(con: duckdb.DuckDBPyConnection, run: Path) -> tuple[int, dict[str, Any]]:
    from preservation.assess import assess

    records = int(con.execute("SELECT count(*) FROM clusters").fetchone()[0])
    result = assess(con, as_of=AS_OF)
    return records, {"at_risk": result.at_risk}


def _report(con: duckdb.DuckDBPyConnection, run: Path) -> tuple[int, dict[str, Any]]:
    from preservation.report import write_reports

    clusters = int(con.execute("SELECT count(*) FROM risk").fetchone()[0])
    files = write_reports(con, run / "reports")
    return clusters, {"files": len(files)}


STAGE_RUNNERS: dict[str, Callable[[duckdb.DuckDBPyConnection, Path], tuple[int, dict]]] = {
    "harvest": _harvest,
    "normalize": _normalize,
    "import-dump": _import_dump,
    "link": _link,
    "assess": _assess,
    "report": _report,
}


# --- the synthetic input ---


def cached_input(data: Path, size: int) -> tuple[Path, dict[str, Any]]:
    """The cached input folder of `size` recordings (generated when missing) and its info.json:
    {"recordings", "archive_items", "archive_pages", "url_linked", "input_mb", "generate_s"}."""
    folder = data / f"pipeline-v{GENERATOR_VERSION}-{size}"
    if not (folder / "info.json").exists():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        started = time.perf_counter()
        info = child.in_own_process(write_input, partial, size)
        info["generate_s"] = round(time.perf_counter() - started, 1)
        info["input_mb"] = round(sum(_mb(p) for p in partial.rglob("*") if p.is_file()), 1)
        (partial / "info.json").write_text(json.dumps(info, indent=2) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
        print(f"generated the input of {size:,} recordings in {info['generate_s']:.0f} s")
    return folder, json.loads((folder / "info.json").read_text())


def write_input(folder: Path, recordings: int, seed: int = SEED) -> dict[str, Any]:
    """Write the dump file and the archive pages of `recordings` recordings into `folder`."""
    rng = random.Random(seed)
    people = [_person(rng) for _ in range(recordings // 4 + 50)]
    titles = [_title(rng) for _ in range(recordings // 3 + 50)]
    shapes = RecordingLines(seed)
    # The sample's free-streaming url relationship, to point at an archive.org page.
    streaming = next(u for u in shapes.urls if '"type": "free streaming"' in u)
    item_shape = _item_template()
    dump = folder / "mbdump" / "recording"
    pages = folder / "internetarchive" / "scrape" / "78rpm.jsonl"
    for path in (dump, pages):
        path.parent.mkdir(parents=True, exist_ok=True)
    info = {"recordings": recordings, "archive_items": 0, "archive_pages": 0, "url_linked": 0}
    items: list[dict[str, Any]] = []
    with dump.open("w", buffering=2**22) as lines, pages.open("w", buffering=2**22) as scrape:

        def add_item(record: dict[str, Any]) -> None:
            items.append(_archive_item(record, item_shape))
            info["archive_items"] += 1
            if len(items) == PAGE_SIZE:
                _write_page(scrape, items, info)

        for line in _lines(shapes, recordings):
            truth = _truth(rng, people, titles)
            page_url = None
            if rng.random() < TRANSFERRED:
                for copy in range(2 if rng.random() < TWICE else 1):
                    transfer = _transfer(rng, truth, copy, rng.choice("ab"))
                    add_item(transfer)
                if rng.random() < URL_LINKED:
                    page_url = "https://archive.org/details/" + transfer["record_id"].split(":")[2]
                    info["url_linked"] += 1
            relation = _fill(streaming, _mbid(rng)) if page_url else None
            lines.write(_catalogue_line(line, truth, rng, relation, page_url))
            lines.write("\n")
            if rng.random() < ARCHIVE_ONLY:
                add_item(_transfer(rng, _truth(rng, people, titles), 0, rng.choice("ab")))
        if items:
            _write_page(scrape, items, info)
    return info


def _lines(shapes: RecordingLines, count: int) -> Iterator[str]:
    lines = iter(shapes)
    for _ in range(count):
        yield next(lines)


def _truth(rng: random.Random, people: list[str], titles: list[str]) -> dict[str, Any]:
    """One recording, with the keys bench/synthetic_link.py's `_transfer` reads."""
    year = rng.randint(1900, 1955)
    return {
        "entity": None,
        "title": rng.choice(titles),
        "performers": [_prolific(rng, people) for _ in range(rng.choice([1, 1, 1, 2, 3]))],
        "label": rng.choice(LABELS),
        "catalog": f"{rng.choice(['', 'A', 'B-', ''])}{rng.randint(100, 99999)}",
        "year": year,
        "day": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "matrix": f"{rng.choice(['', 'B-', 'W', 'C-'])}{rng.randint(1000, 99999)}",
        "take": str(rng.randint(1, 6)),
        "duration": round(rng.uniform(140, 200), 1),
    }


def _catalogue_line(
    line: str,
    truth: dict[str, Any],
    rng: random.Random,
    relation: str | None,
    page_url: str | None,
) -> str:
    """bench/synthetic.py's line with the recording's title, credits, date and length."""
    entity = json.loads(line)
    credit = entity["artist-credit"][0]
    performers = truth["performers"]
    entity["artist-credit"] = [
        {
            **credit,
            # The template's artist is a band with a disambiguation; these are people. Their
            # MBIDs stay the template's random ones: normalizing reads credited names only.
            "artist": {
                **credit["artist"],
                "name": name,
                "sort-name": _sort_name(name),
                "type": "Person",
                "disambiguation": "",
            },
            "joinphrase": " & " if i < len(performers) - 1 else "",
            "name": name,
        }
        for i, name in enumerate(performers)
    ]
    roll = rng.random()
    entity["first-release-date"] = (
        truth["day"] if roll < 0.3 else str(truth["year"]) if roll < 0.9 else ""
    )
    entity["length"] = round(truth["duration"] * 1000) if rng.random() < 0.6 else None
    entity["title"] = truth["title"]
    for rel in entity["relations"]:
        if rel.get("target-type") == "work":
            rel["work"]["title"] = truth["title"]  # the song recorded
    if relation and page_url:
        rel = json.loads(relation)
        entity["relations"].append({**rel, "url": {**rel["url"], "resource": page_url}})
    return json.dumps(entity)


def _sort_name(name: str) -> str:
    *given, family = name.split()
    return f"{family}, {' '.join(given)}"


def _item_template() -> dict[str, Any]:
    """The sample's Great 78 item, with only the fields the live harvester's scrape asks for."""
    metadata = json.loads(GREAT_78.read_text())["metadata"]
    return {k: v for k, v in metadata.items() if k in FIELDS}


def _archive_item(record: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """A scrape-API item for a transfer record of bench/synthetic_link.py's `_transfer`."""
    urns = []
    if record["matrix"]:
        urns.append(f"urn:matrix_no:{record['matrix']}")
    if record["label"] and record["catalog_number"]:
        urns.append(f"urn:pubcat:{record['label'].lower()}:{record['catalog_number']}")
    item = {
        **template,
        "identifier": record["record_id"].split(":")[2],
        "creator": record["artists"],
        "external-identifier": urns,
        "publisher": record["label"],
        "title": record["title"],
        "date": record["date"],
        "year": record["date"][:4] if record["date"] else None,
    }
    return {k: v for k, v in item.items() if v not in (None, [])}  # absent, as the API omits


def _write_page(out: Any, items: list[dict[str, Any]], info: dict[str, Any]) -> None:
    # `total` is what the scrape API says the whole search holds; a count of the pages so far
    # is enough here (the folder transport never asks for another page).
    out.write(json.dumps({"items": items, "count": len(items), "total": info["archive_items"]}))
    out.write("\n")
    info["archive_pages"] += 1
    items.clear()


# --- results ---


def targets(runs: list[dict[str, Any]], slopes: dict[str, float | None]) -> list[dict[str, Any]]:
    """The issue's targets, each with the figures it was judged on and whether it was met
    (None: not measurable in this run)."""

    def judged(name: str, values: dict[str, Any], ok: Callable[[Any], bool]) -> dict[str, Any]:
        present = {k: v for k, v in values.items() if v is not None}
        met = all(ok(v) for v in present.values()) if present else None
        return {"target": name, "values": present, "met": met}

    by_size = {_size_name(r["recordings"]): r for r in runs}
    at_target = {k: r.get("assess_report_s") for k, r in by_size.items()}
    at_target = {k: v for k, v in at_target.items() if by_size[k]["recordings"] == TARGET_SIZE}
    return [
        judged(
            f"import-dump within {FLOOR_TARGET}x of the read_json floor",
            {k: r.get("import_ratio_to_floor") for k, r in by_size.items()},
            lambda v: v <= FLOOR_TARGET,
        ),
        judged(
            f"link >= {LINK_TARGET_PER_MIN:,} records/min",
            {k: r.get("link_records_per_min") for k, r in by_size.items()},
            lambda v: v >= LINK_TARGET_PER_MIN,
        ),
        judged(
            f"assess + report < {ASSESS_REPORT_TARGET_S:.0f} s at {_size_name(TARGET_SIZE)} "
            "recordings",
            at_target,
            lambda v: v < ASSESS_REPORT_TARGET_S,
        ),
        judged(
            f"peak RSS < {TARGET_RSS_MB / 1024:.0f} GiB (every stage)",
            {k: r["peak_rss_mb"] for k, r in by_size.items()},
            lambda v: v < TARGET_RSS_MB,
        ),
        judged(
            f"log-log slope of total seconds vs size <= {SLOPE_TARGET}",
            {"total": slopes.get("total")},
            lambda v: v <= SLOPE_TARGET,
        ),
    ]


def _size_name(size: int) -> str:
    """1e5 for 100000."""
    mantissa, exponent = f"{size:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def stage_slopes(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """The log-log slope of seconds against size per stage and for the total, over the sizes
    that ran the stage (None with fewer than two)."""
    slopes: dict[str, float | None] = {}
    for stage in (*STAGES, "total"):
        points = [
            (r["recordings"], r["total_s"] if stage == "total" else r["stages"][stage]["seconds"])
            for r in runs
            if (stage == "total" and not r["failed"]) or stage in r["stages"]
        ]
        slope = child.loglog_slope([p[0] for p in points], [p[1] for p in points])
        slopes[stage] = None if slope is None else round(slope, 2)
    return slopes


def previous_release() -> str | None:
    """The newest release tag, if the project has one."""
    try:
        tags = subprocess.run(
            ["git", "-C", str(HERE.parent), "tag", "--sort=-creatordate"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    return tags[0] if tags else None


def write_results(out: Path, runs: list[dict[str, Any]]) -> None:
    slopes = stage_slopes(runs)
    judged = targets(runs, slopes)
    release = previous_release()
    summary = {
        **child.machine(
            f"SYNTHETIC MusicBrainz recording dump lines and archive.org scrape pages "
            f"(bench/pipeline.py, generator v{GENERATOR_VERSION}); code at {_code_version()}"
        ),
        "memory_limit": os.environ.get("PRESERVATION_MEMORY_LIMIT") or "2GB",
        "previous_release": release,
        "slopes": slopes,
        "targets": judged,
    }
    child.write_results(
        out,
        "pipeline",
        "whole-pipeline",
        summary,
        runs,
        _stage_table(runs)
        + "\n"
        + _slope_table(slopes)
        + "\n"
        + _target_table(judged)
        + "\n"
        + _import_floor_table(runs),
        _note(runs, release, summary["memory_limit"]),
    )


def _stage_table(runs: list[dict[str, Any]]) -> str:
    text = (
        "| recordings | stage | input rows | s | rows/s | peak RSS MB |\n"
        "|---:|---|---:|---:|---:|---:|\n"
    )
    for r in runs:
        n = f"{r['recordings']:,}"
        text += f"| {n} | floor: read_json count(*) | {r['floor_rows']:,} | {r['floor_s']} "
        text += f"| {_rate(r['floor_rows'], r['floor_s'])} | {r['floor_peak_rss_mb']:,} |\n"
        text += f"| {n} | parse floor | {r['floor_rows']:,} | {r['parse_floor_s']} "
        text += f"| {_rate(r['floor_rows'], r['parse_floor_s'])} "
        text += f"| {r['parse_floor_peak_rss_mb']:,} |\n"
        if r["store_floor_s"] is not None:
            text += f"| {n} | store floor ({r['store_floor_mb']:,} MB) | - "
            text += f"| {r['store_floor_s']} | - | {r['store_floor_peak_rss_mb']:,} |\n"
        for stage in STAGES:
            if stage in r["stages"]:
                s = r["stages"][stage]
                text += f"| {n} | {stage} | {s['rows']:,} | {s['seconds']} "
                text += f"| {_rate(s['rows'], s['seconds'])} | {s['peak_rss_mb']:,} |\n"
        rows_in = r["recordings"] + r["archive_items"]
        total = f"failed at {r['failed']}" if r["failed"] else "**total**"
        text += f"| {n} | {total} | {rows_in:,} | {r['total_s']} "
        text += f"| {_rate(rows_in, r['total_s'])} | {r['peak_rss_mb'] or 0:,} |\n"
    return text


def _import_floor_table(runs: list[dict[str, Any]]) -> str:
    """The import against the least it can take: parsing what it reads and storing what it
    writes, beside the count(*) floor the target is stated against."""
    text = (
        "| recordings | count(*) floor s | parse floor s | store floor s | parse + store s "
        "| (parse + store) / count(*) | import s | import / (parse + store) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    for r in runs:
        if r.get("import_floors_s") is None:
            continue
        text += (
            f"| {r['recordings']:,} | {r['floor_s']} | {r['parse_floor_s']} "
            f"| {r['store_floor_s']} | {r['import_floors_s']} "
            f"| {r['import_floors_ratio_to_floor']} | {r['stages']['import-dump']['seconds']} "
            f"| {r['import_ratio_to_floors']} |\n"
        )
    return text


def _rate(rows: int, seconds: float) -> str:
    return f"{round(rows / seconds):,}" if seconds else "-"


def _slope_table(slopes: dict[str, float | None]) -> str:
    text = "| log-log slope of s vs size | " + " | ".join(slopes) + " |\n"
    text += "|---|" + "---:|" * len(slopes) + "\n"
    text += "| slope | " + " | ".join("-" if v is None else str(v) for v in slopes.values())
    return text + " |\n"


def _target_table(judged: list[dict[str, Any]]) -> str:
    text = "| target | figures | met |\n|---|---|:--:|\n"
    for t in judged:
        figures = ", ".join(f"{k}: {v:,}" for k, v in t["values"].items()) or "not run"
        met = {True: "yes", False: "no", None: "-"}[t["met"]]
        text += f"| {t['target']} | {figures} | {met} |\n"
    return text


def _note(runs: list[dict[str, Any]], release: str | None, memory_limit: str) -> str:
    inputs = "; ".join(
        f"{r['recordings']:,}: {r['archive_items']:,} archive items in {r['archive_pages']:,} "
        f"pages, {r['url_linked']:,} linked by url, {r['input_mb']:,} MB, database "
        f"{r['db_mb']:,} MB, reports {r['reports_mb']:,} MB, load {r['load_average_1m']}"
        for r in runs
    )
    baseline = (
        f"Previous release {release}: not measured (it needs its own checkout and environment)."
        if release
        else "Previous release: none to compare with (`git tag` lists no release; the "
        "version is still 0.1.0)."
    )
    return (
        "Stages in order on one fresh database, each in its own process, timed as its CLI "
        "command runs (open, the stage, close): harvest of the saved archive pages, normalize, "
        "import-dump of the recording dump file (which merges the archive records with it), "
        "link, assess, report. Input rows: "
        + "; ".join(f"{stage}: {what}" for stage, what in ROWS.items())
        + "; total: dump lines + archive items. The input holds MusicBrainz recording lines only"
        " (no release, work or artist dump files: no labels or catalogue numbers on the "
        "MusicBrainz side, works without writers) and archive.org scrape pages of 78 "
        f"transfers; per size: {inputs}. Floor: DuckDB `read_json` count(*) over the same "
        "dump file in the same run; the parse and store floors as bench/__main__.py measures "
        "them, under DuckDB's default memory limit (they bound time, not memory). "
        f"{baseline} DuckDB memory_limit {memory_limit} "
        "($PRESERVATION_MEMORY_LIMIT); `load`: the 1-minute load average when the size started."
    )


if __name__ == "__main__":
    main()
