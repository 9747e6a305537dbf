"""SYNTHETIC MusicBrainz recording dump lines, for scale benchmarks only.

Every line is shaped like a line of mbdump/recording: the keys, nesting and key order are
copied from the real recording entities in preservation/sample (picard's recording.json and
recording_video.json); the url relationships are real ones from the sample with their
identifiers replaced. Titles, MBIDs, dates, ISRCs and urls are made up: nothing here
describes a real recording. The mix (share of lines with relationships, ISRCs, works) is
chosen to give lines of about 1 KB, like the real dump's average.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from preservation.pipeline import sample_dir

GENERATOR_VERSION = 1  # bump when the lines change, so cached files are made again
ID, TEXT = "@@ID@@", "@@TEXT@@"  # placeholders in pre-rendered JSON pieces
PICARD = sample_dir() / "musicbrainz" / "ws2_json_picard"


def _real(name: str) -> dict[str, Any]:
    return json.loads((PICARD / name).read_text())


def _url_relations() -> list[dict[str, Any]]:
    """Real url relationships of the sample, one per type."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("target-type") == "url" and isinstance(node.get("url"), dict):
                found.setdefault(str(node["type"]), node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted((sample_dir() / "musicbrainz").rglob("*.json")):
        walk(json.loads(path.read_text()))
    return [found[t] for t in sorted(found)]


def _mbid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class RecordingLines:
    """Makes synthetic recording lines from real templates (string templates, for speed)."""

    def __init__(self, seed: int = 1953) -> None:
        self.rng = random.Random(seed)
        real = _real("recording_video.json")
        credit = real["artist-credit"][0]
        # Pieces are rendered to JSON once with placeholders, filled in for each line.
        self.credit = json.dumps([{**credit, "artist": {**credit["artist"], "id": ID}}])
        work_rel = next(r for r in _real("recording.json")["relations"] if r.get("work"))
        work = {k: v for k, v in work_rel["work"].items() if k != "relations"}  # as in dumps
        self.work = json.dumps({**work_rel, "work": {**work, "id": ID, "title": TEXT}})
        self.urls = []
        for rel in _url_relations():
            url = {**rel["url"], "id": ID, "resource": _placeholder_url(rel["url"]["resource"])}
            self.urls.append(json.dumps({**rel, "url": url}))
        self.tail = {
            key: json.dumps(real.get(key, default))
            for key, default in (("aliases", []), ("tags", []))
        }

    def __iter__(self) -> Iterator[str]:
        rng, n = self.rng, 0
        while True:
            n += 1
            rels = [
                _fill(rng.choice(self.urls), _mbid(rng), f"{n:x}")
                for _ in range(rng.choices((0, 1, 2, 3), (55, 30, 10, 5))[0])
            ]
            if rng.random() < 0.3:
                rels.append(_fill(self.work, _mbid(rng), f"Synthetic work {n}"))
            isrcs = f'["XXS{n % 10**9:09d}"]' if rng.random() < 0.2 else "[]"
            date = f"{rng.randint(1890, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            yield (
                f'{{"aliases": {self.tail["aliases"]}, '
                f'"artist-credit": {_fill(self.credit, _mbid(rng))}, "disambiguation": "", '
                f'"first-release-date": "{date}", '
                f'"id": "{_mbid(rng)}", "isrcs": {isrcs}, "length": {rng.randint(90, 400) * 1000}, '
                f'"relations": [{", ".join(rels)}], "tags": {self.tail["tags"]}, '
                f'"title": "Synthetic recording {n}", "video": false}}'
            )


def _placeholder_url(resource: str) -> str:
    """Keep the real scheme and host (platform classification depends on it), vary the path."""
    scheme, _, rest = resource.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/synthetic/{TEXT}"


def _fill(template: str, mbid: str, text: str = "") -> str:
    return template.replace(ID, mbid).replace(TEXT, text)


def write_recording_dump(path: Path, count: int) -> Path:
    """Write `count` synthetic recording lines to `path` (an mbdump/recording-shaped file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = iter(RecordingLines())
    with path.open("w", encoding="utf-8", buffering=2**22) as out:
        for _ in range(count):
            out.write(next(lines))
            out.write("\n")
    return path
