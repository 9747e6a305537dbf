"""Linking benchmark: `python -m bench.link [--sizes 1e5,1e6]` (part of `make bench`).

`preservation link` on SYNTHETIC records (bench/synthetic_link.py): at each size, that many
catalogue records on one side and about as many 78 transfers on the other, with the noise
the real thing has. Baseline, in the same run on the same database: the identifier rules
alone (the linker before the probabilistic model). Each measurement runs in its own
process, so its peak RSS is its own. Figures: seconds, records per minute, candidate pairs,
peak RSS, and pair precision / recall / F1 and cluster figures against the generator's
truth. Results are printed and written to bench/results/link.{json,md}.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench import child
from bench.synthetic_link import GENERATOR_VERSION, write_link_sample

HERE = Path(__file__).parent

LOAD_SQL = """
INSERT INTO recordings BY NAME
SELECT record_id, source, CASE source WHEN 'musicbrainz' THEN 'recording' ELSE 'item' END AS kind,
       split_part(record_id, ':', 3) AS source_id, title, artists, date, year, label,
       catalog_number, matrix, take, duration_s
FROM read_parquet(?)
"""


def main() -> None:
    args = child.sized_arguments(
        "python -m bench.link", __doc__, "1e5,1e6", "catalogue records per side", HERE
    )
    if args.worker:
        worker(*args.worker)
        return
    runs = []
    for size in (int(float(s)) for s in args.sizes.split(",")):
        sample = args.data / f"link-{size}-v{GENERATOR_VERSION}.parquet"
        if not sample.exists():
            child.in_own_process(write_link_sample, sample, size)
        baseline = child.measure("bench.link", "identifiers", sample)
        model = child.measure("bench.link", "model", sample)
        runs.append(
            {
                "per_side": size,
                "records": model["records"],
                "baseline_s": baseline["seconds"],
                "baseline_recall": baseline["recall"],
                **{k: v for k, v in model.items() if k != "records"},
                "records_per_min": round(model["records"] / model["seconds"] * 60),
                "ratio_to_baseline": round(model["seconds"] / baseline["seconds"], 1),
            }
        )
    write_results(args.out, runs)


def worker(what: str, sample: str) -> None:
    from preservation import store
    from preservation.link import LinkOptions, link
    from preservation.link_evaluate import truth_scores

    db = Path(sample).with_suffix(f".{what}.duckdb")
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    con = store.connect(db)
    con.execute(LOAD_SQL, [sample])
    started = time.perf_counter()
    result = link(con, LinkOptions(probabilistic=what == "model"))
    seconds = time.perf_counter() - started
    con.execute(f"CREATE VIEW truth AS SELECT record_id, entity FROM read_parquet('{sample}')")
    scores = truth_scores(con, "truth")
    con.close()
    db.unlink(missing_ok=True)
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "records": result.records,
                "candidate_pairs": result.candidate_pairs,
                "links": result.links,
                "review": result.review,
                "refused": result.refused,
                "trained": result.trained,
                "precision": _round(scores.precision),
                "recall": _round(scores.recall),
                "f1": _round(scores.f1),
                "entities_whole": _round(scores.entities_whole / max(scores.entities, 1)),
                "clusters_pure": _round(scores.clusters_pure / max(scores.clusters, 1)),
            }
        )
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def write_results(out: Path, runs: list[dict[str, object]]) -> None:
    machine = child.machine(
        "SYNTHETIC catalogue records and 78 transfers (bench/synthetic_link.py)"
    )
    header = (
        "| per side | records | baseline s (identifiers only) | link s | records/min | ratio "
        "| candidate pairs | peak RSS MB | pair P | pair R | F1 | entities whole | clusters pure "
        "| review |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = "".join(
        f"| {r['per_side']:,} | {r['records']:,} | {r['baseline_s']} | {r['seconds']} | "
        f"{r['records_per_min']:,} | {r['ratio_to_baseline']} | {r['candidate_pairs']:,} | "
        f"{r['peak_rss_mb']:,} | {r['precision']} | {r['recall']} | {r['f1']} | "
        f"{r['entities_whole']} | {r['clusters_pure']} | {r['review']:,} |\n"
        for r in runs
    )
    child.write_results(
        out,
        "link",
        "link",
        machine,
        runs,
        header + rows,
        "Baseline: the identifier rules alone, on the same database in the same run.",
    )


if __name__ == "__main__":
    main()
