"""Live harvest throughput against the loopback replay server (`python -m bench.harvest`).

Each source's real recorded answers are served by tests/replay.py on 127.0.0.1, and the
real clients fetch them with no pause between requests (a mirror's setting: the public
services get one request a second). It measures the harvest machinery itself: requests/s,
entities per request, and the rows (recordings + holdings) one answer normalizes to.
Results go to bench/results/harvest.{json,md}.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from preservation import store
from preservation.harvest import harvest_live
from preservation.normalize import normalize
from preservation.pipeline import sample_dir
from preservation.sources import http
from preservation.sources.commons import live as commons
from preservation.sources.internetarchive import live as ia
from preservation.sources.loc import live as loc
from preservation.sources.musicbrainz import live as mb
from tests.replay import ReplayServer

HERE = Path(__file__).parent
SAMPLE = sample_dir()
SCRAPE = HERE.parent / "tests/data/internetarchive/scrape_nasa.json"
COMMONS_PAGE = HERE.parent / "tests/data/wikimedia_commons/search_audio_offset40.json"
HIPPO = "78_i-want-a-hippopotamus-for-christmas_vicki-dale-the-peter-pan-orchestra_gbia0000281a"
REPEAT = 200  # requests per case


def cases() -> list[tuple[str, str, str, Path, Callable[[str], Any], Any]]:
    """(source, case, path served, real answer, client factory, scope)."""
    picard = SAMPLE / "musicbrainz/ws2_json_picard"
    release = SAMPLE / "musicbrainz/ws2_json_musicbrainz_rs/lookup/release"
    rec_id = json.loads((picard / "recording_video.json").read_text())["id"]
    rel_file = release / "987f3e2d-22a6-4a4f-b840-c80c26b8b91a.json"

    def mb_client(url: str) -> Any:
        return mb.WebService(mb.Etiquette("bench@example.org", url, interval=0.0))

    def ia_client(url: str) -> Any:
        return ia.Archive(http.Etiquette("bench@example.org", url, interval=0.0))

    def commons_client(url: str) -> Any:
        return commons.Commons(http.Etiquette("bench@example.org", url, interval=0.0))

    def loc_client(url: str) -> Any:
        return loc.LocGov(http.Etiquette("bench@example.org", url, interval=0.0))

    return [
        ("musicbrainz", "recording lookup", f"/ws/2/recording/{rec_id}",
         picard / "recording_video.json", mb_client, mb.Scope("recording", rec_id)),
        ("musicbrainz", "release lookup", f"/ws/2/release/{rel_file.stem}",
         rel_file, mb_client, mb.Scope("release", rel_file.stem)),
        ("internetarchive", "item (metadata API)", f"/metadata/{HIPPO}",
         SAMPLE / f"internetarchive/metadata_api/{HIPPO}.json", ia_client, ia.Scope("item", HIPPO)),
        ("internetarchive", "scrape page", "/services/search/v1/scrape",
         SCRAPE, ia_client, ia.Scope("collection", "nasa")),
        ("loc", "item", "/item/jukebox-879940/",
         SAMPLE / "loc/item/jukebox-879940.json", loc_client, loc.Scope("item", "jukebox-879940")),
        ("loc", "search page", "/search/",
         SAMPLE / "loc/search/steal-away_first3.json", loc_client, loc.Scope("search", "x")),
        # The only recorded Commons answer is a 40-file search page; asked for as one file's
        # lookup here (one request, one answer) to time the machinery on it.
        ("commons", "file pages (40 in the answer)", "/w/api.php",
         COMMONS_PAGE, commons_client, commons.Scope("file", "x")),
    ]  # fmt: skip


def main() -> None:
    rows = []
    work = HERE / "data" / "harvest"
    work.mkdir(parents=True, exist_ok=True)
    for source, case, path, answer, make_client, scope in cases():
        db = work / "harvest.duckdb"
        db.unlink(missing_ok=True)
        con = store.connect(db)
        with ReplayServer() as server:
            server.route(path, answer)
            client = make_client(server.url)
            started = time.perf_counter()
            result = harvest_live(con, source, [scope] * REPEAT, client)
            seconds = time.perf_counter() - started
        normalize(con)
        counts = store.table_counts(con)
        con.close()
        db.unlink(missing_ok=True)
        rows.append(
            {
                "source": source,
                "case": case,
                "requests": result.payloads,
                "seconds": round(seconds, 2),
                "requests_per_s": round(result.payloads / seconds),
                "entities_per_request": round(result.entities / result.payloads, 1),
                "rows_per_answer": counts["recordings"] + counts["holdings"],
                "rows_per_s": round(
                    (counts["recordings"] + counts["holdings"]) * result.payloads / seconds
                ),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "harvest.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "# Live harvest against the loopback replay server",
        "",
        f"{REPEAT} requests per case, no pause between them (the public services get one a "
        "second); real recorded answers; real clients (musicbrainzngs, internetarchive, "
        "requests).",
        "",
        "| source | case | requests/s | entities per request | rows per answer "
        "(recordings + holdings) | rows/s |",
        "|---|---|---:|---:|---:|---:|",
        *(
            f"| {r['source']} | {r['case']} | {r['requests_per_s']} | "
            f"{r['entities_per_request']} | {r['rows_per_answer']} | {r['rows_per_s']:,} |"
            for r in rows
        ),
    ]
    (out / "harvest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
