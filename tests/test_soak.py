"""Soak: every live harvester over a few hundred real recorded answers, with faults injected.

Each source is harvested twice from the loopback replay server (tests/replay.py), into two
databases: once with no fault, once with a seeded share of requests failing (429/503 with
Retry-After, resets, timeouts, cut bodies, bodies cut with a matching length, error pages in
place of JSON, slow answers). A run that gives up is run again, as a user would. Then every
table harvesting and normalizing write must be equal in both databases: nothing lost, nothing
stored twice, and the one answer that is broken for good (a real body cut in half, served
every time) quarantined with its reason in both. Requests and wall time are bounded.

A body that is not JSON is asked for again, and taken as the answer only when every attempt
gave one: when a fault takes the place of one of the broken answer's attempts, the run gives
up on it (naming the request) and the next run, as a user would, asks again.

Only a few dozen distinct real answers were ever recorded (tests/data/PROVENANCE.md), so most
request keys are answered with one of them: the same real lookup under many MBIDs or
identifiers, the same real search page at every offset and for many queries. What is soaked is
the transport, checkpoints and storage, which do not care whose answer it is.

The default run (`make test`) is one seed at 10%; `make soak` (marker `soak`) runs more
answers, more seeds and higher rates.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from preservation import store
from preservation.errors import PreservationError
from preservation.harvest import harvest_live
from preservation.normalize import normalize
from preservation.pipeline import sample_dir
from preservation.sources import get_live
from preservation.sources.base import HarvestOptions, LiveClient, Scope
from preservation.sources.commons import live as commons
from preservation.sources.http import Etiquette
from preservation.sources.internetarchive import live as ia
from preservation.sources.loc import live as loc
from preservation.sources.musicbrainz import live as mb
from preservation.sources.musicbrainz.parse import WRITER_TYPES
from tests.replay import FAULTS, FaultPlan, ReplayServer

SAMPLE = sample_dir()
DATA = Path(__file__).parent / "data"
CONTACT = "soak@example.org"

# Short waits, so that a soak takes seconds: the client gives up on a silent server after
# TIMEOUT, the server answers after SLOW ('slow'), and every retry waits at most MAX_WAIT
# (Retry-After says 1 s: the cap is what is tested here, Retry-After itself is in the
# per-source live tests). On 'timeout' the server stays silent until the client gives up, or
# for HOLD: a client with no timeout of its own would blow the time bound.
TIMEOUT, HOLD, SLOW, MAX_WAIT = 0.5, 30.0, 0.1, 0.05
RETRIES = 4
INTERVAL = 0.001  # a loopback mirror: no need to pace

# Tables a harvest writes, and those normalize rebuilds from them; compared whole, less the
# columns that say when or in which run (they differ between any two harvests).
HARVEST_TABLES = {
    "raw_records": "SELECT source, key, replace(request, $url, 'http://replay') AS request, "
    "content_sha256, payload FROM raw_records",
    "quarantine": "SELECT source, key, content_sha256, stage, reason, payload FROM quarantine",
    "harvest_checkpoints": "SELECT source, scope, position, total, done, cursor "
    "FROM harvest_checkpoints",
}
NORMALIZED_TABLES = (
    "source_records", "source_holdings", "source_works", "source_artists",
    "recordings", "holdings", "works", "work_writers", "artists", "recording_works",
)  # fmt: skip


@dataclass
class Plan:
    """One source's soak: what the server answers, what is asked, what must be stored."""

    source: str
    client: Callable[[str], LiveClient]  # base URL -> a client with short waits
    scopes: list[Scope]
    routes: list[tuple[str, bytes, dict[str, str | None] | None]] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)  # raw_records keys of a whole harvest
    broken: dict[str, bytes] = field(default_factory=dict)  # key -> body broken for good
    follow_up: bool = False  # then what the source follows up with (--writers, --items)
    scripted: list[str] = field(default_factory=list)  # paths for one scripted fault of each kind

    def route(self, path: str, body: bytes, query: dict[str, str | None] | None = None) -> None:
        self.routes.append((path, body, query))


def mbid(label: str) -> str:
    """A made-up but well-formed MBID, the same on every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"soak:{label}"))


def cut(body: bytes) -> bytes:
    """A real body cut in half: what a broken cache in front of a service might keep sending."""
    return body[: len(body) // 2]


# --- MusicBrainz --------------------------------------------------------------------------

MB = SAMPLE / "musicbrainz"
MB_DATA = DATA / "musicbrainz"
MB_LOOKUPS = {
    "recording": [
        MB / "ws2_json_picard/recording.json",
        MB / "ws2_json_picard/recording_composer.json",
        MB / "ws2_json_picard/recording_instrumental.json",
        MB / "ws2_json_picard/recording_video.json",
        MB / "ws2_json_musicbrainz_rs/lookup/recording/b9ad642e-b012-41c7-b72a-42cf4911f9ff.json",
        MB_DATA / "ws2_json_picard/recording_artist_name_change.json",
        MB_DATA / "ws2_json_picard/recording_credits.json",
        MB_DATA / "ws2_json_picard/recording_generic_instrument.json",
    ],
    "release": [
        MB / "ws2_json_picard/release.json",
        MB / "ws2_json_musicbrainz_rs/lookup/release/59211ea4-ffd2-4ad9-9a4e-941d3148024a.json",
        MB / "ws2_json_musicbrainz_rs/lookup/release/987f3e2d-22a6-4a4f-b840-c80c26b8b91a.json",
        MB / "ws2_json_url_rels/release_6393da26-1c2a-491c-8149-3ddaf5cc0d89_inc-url-rels.json",
        MB / "ws2_json_url_rels/release_7d0cf748-475e-4be6-b7f2-ef2d55f3f0f5_inc-url-rels.json",
        MB / "ws2_json_url_rels/release_83a3f2c0-3ca7-4e6e-9de8-f740a1eb8990_inc-url-rels.json",
        MB_DATA / "ws2_json_picard/release_5medias.json",
        MB_DATA / "ws2_json_picard/release_multidisc.json",
    ],
    "artist": [
        MB / "ws2_json_picard/artist_ended.json",
        MB_DATA / "ws2_json_picard/artist.json",
        MB_DATA / "ws2_json_picard/artist_arabic.json",
        MB_DATA / "ws2_json_musicbrainz_rs/lookup/artist/5b11f4ce-a62d-471e-81fc-a69a8278c7da.json",
        MB_DATA / "ws2_json_musicbrainz_rs/lookup/artist/db92a151-1ac2-438b-bc43-b82e149ddd50.json",
    ],
}
MB_SEARCH = MB_DATA / "search_recording_we_will_rock_you.json"  # 25 of 423: one real page
MB_BROWSE = MB_DATA / "ws2_json_musicbrainz_rs/browse/release/by_label.json"  # 25 of 117


def writers(body: Any) -> set[str]:
    """MBIDs of the writers of every work a lookup's body names (what --writers asks for)."""
    found: set[str] = set()
    if isinstance(body, dict):
        if isinstance(body.get("work"), dict):
            for rel in body["work"].get("relations") or []:
                if rel.get("target-type") == "artist" and rel.get("type") in WRITER_TYPES:
                    found.add(rel["artist"]["id"])
        for value in body.values():
            found |= writers(value)
    elif isinstance(body, list):
        for value in body:
            found |= writers(value)
    return found


def musicbrainz_plan(scale: int) -> Plan:
    def client(url: str) -> LiveClient:
        etiquette = mb.Etiquette(CONTACT, url, INTERVAL, RETRIES, MAX_WAIT, TIMEOUT)
        return mb.WebService(etiquette)

    plan = Plan("musicbrainz", client, [], follow_up=True)
    lookups: list[tuple[str, str, bytes]] = []
    for kind, files in MB_LOOKUPS.items():
        bodies = [f.read_bytes() for f in files]
        # every real lookup under its own MBID, then under made-up ones in turn
        lookups += [(kind, json.loads(b)["id"], b) for b in bodies]
        extra = {"recording": 80, "release": 50, "artist": 30}[kind] * scale
        lookups += [(kind, mbid(f"{kind}-{n}"), bodies[n % len(bodies)]) for n in range(extra)]
    for kind, key, body in lookups:
        plan.route(f"/ws/2/{kind}/{key}", body)
        plan.scopes.append(mb.Scope(kind, key))
        plan.expected.add(f"{kind}:{key}")
    known_artists = {key for kind, key, _ in lookups if kind == "artist"}
    artist_bodies = [f.read_bytes() for f in MB_LOOKUPS["artist"]]
    written = set().union(*(writers(json.loads(b)) for kind, _, b in lookups if kind != "artist"))
    for n, writer in enumerate(sorted(written - known_artists)):
        # no real lookup of these writers is recorded: another real artist answers for each
        plan.route(f"/ws/2/artist/{writer}", artist_bodies[n % len(artist_bodies)])
        plan.expected.add(f"artist:{writer}")

    # A search: the one real page at every offset, so each query pages through all 423.
    search = json.loads(MB_SEARCH.read_text())
    plan.route("/ws/2/recording/", MB_SEARCH.read_bytes())
    for n in range(4 * scale):
        query = f'recording:"we will rock you" AND soak:{n}'
        plan.scopes.append(mb.Scope("query", query))
        step = len(search["recordings"])
        plan.expected |= {f"query:{query}#offset={o}" for o in range(0, search["count"], step)}

    # Label and collection browses: the one real browse page at every offset (of 117).
    browse = json.loads(MB_BROWSE.read_text())
    plan.route("/ws/2/release/", MB_BROWSE.read_bytes())
    for n in range(4 * scale):
        for kind in ("label", "collection"):
            key = mbid(f"{kind}-{n}")
            plan.scopes.append(mb.Scope(kind, key))
            step = len(browse["releases"])
            offsets = range(0, browse["release-count"], step)
            plan.expected |= {f"{kind}:{key}#offset={o}" for o in offsets}

    broken = mbid("broken-recording")
    plan.route(f"/ws/2/recording/{broken}", cut(MB_LOOKUPS["recording"][0].read_bytes()))
    plan.scopes.append(mb.Scope("recording", broken))
    plan.broken[f"recording:{broken}"] = cut(MB_LOOKUPS["recording"][0].read_bytes())
    plan.scripted = ["/ws/2/recording/"]  # the search pages: 17 requests a query
    return plan


# --- Internet Archive ---------------------------------------------------------------------

IA_ITEMS = sorted((SAMPLE / "internetarchive/metadata_api").glob("*.json"))
IA_SCRAPE = DATA / "internetarchive/scrape_nasa.json"


def internetarchive_plan(scale: int) -> Plan:
    def client(url: str) -> LiveClient:
        return ia.Archive(Etiquette(CONTACT, url, INTERVAL, RETRIES, MAX_WAIT, TIMEOUT))

    plan = Plan("internetarchive", client, [], follow_up=True)
    bodies = [f.read_bytes() for f in IA_ITEMS]
    # Scrapes of the collection added since as many dates: the one real scrape page each.
    plan.route("/services/search/v1/scrape", IA_SCRAPE.read_bytes())
    for n in range(10 * scale):
        since = (date(2001, 1, 1) + timedelta(days=97 * n)).isoformat()
        scope = ia.Scope("collection", "nasa", since=since)
        plan.scopes.append(scope)
        plan.expected.add(f"{scope.name}#offset=0")
    # The items the scrape lists (fetched by --items), and items asked for by name: real
    # metadata answers in turn, each real one also under its own identifier.
    listed = [item["identifier"] for item in json.loads(IA_SCRAPE.read_text())["items"]]
    named = [(json.loads(b).get("metadata") or {}).get("identifier") for b in bodies]
    own = [ident or f.stem for ident, f in zip(named, IA_ITEMS, strict=True)]
    made_up = [f"78_soak-side-{n}_gbia{n:07d}" for n in range(150 * scale)]
    for n, identifier in enumerate(listed + own + made_up):
        body = bodies[own.index(identifier)] if identifier in own else bodies[n % len(bodies)]
        plan.route(f"/metadata/{identifier}", body)
        plan.expected.add(f"item:{identifier}")
        if identifier not in listed:
            plan.scopes.append(ia.Scope("item", identifier))
    broken = "78_soak-broken_gbia0000000a"
    plan.route(f"/metadata/{broken}", cut(bodies[0]))
    plan.scopes.append(ia.Scope("item", broken))
    plan.broken[f"item:{broken}"] = cut(bodies[0])
    plan.scripted = [f"/metadata/{identifier}" for identifier in made_up[: len(FAULTS)]]
    return plan


# --- Library of Congress ------------------------------------------------------------------

LOC_ITEM = SAMPLE / "loc/item/jukebox-879940.json"
LOC_SEARCH = SAMPLE / "loc/search/steal-away_first3.json"  # no pagination block: one page


def loc_plan(scale: int) -> Plan:
    def client(url: str) -> LiveClient:
        return loc.LocGov(Etiquette(CONTACT, url, INTERVAL, RETRIES, MAX_WAIT, TIMEOUT))

    plan = Plan("loc", client, [])
    items = ["jukebox-879940"] + [f"jukebox-soak-{n}" for n in range(180 * scale)]
    for item in items:
        plan.route(f"/item/{item}/", LOC_ITEM.read_bytes())
        plan.scopes.append(loc.Scope("item", item))
        plan.expected.add(f"item:{item}")
    plan.route("/search/", LOC_SEARCH.read_bytes())
    for n in range(50 * scale):
        scope = loc.Scope("search", f"steal away {n}")
        plan.scopes.append(scope)
        plan.expected.add(f"{scope.name}#offset=0")
    for n in range(20 * scale):
        scope = loc.Scope("collection", f"soak-collection-{n}")
        plan.route(f"/collections/{scope.value}/", LOC_SEARCH.read_bytes())
        plan.scopes.append(scope)
        plan.expected.add(f"{scope.name}#offset=0")
    plan.route("/item/soak-broken/", cut(LOC_ITEM.read_bytes()))
    plan.scopes.append(loc.Scope("item", "soak-broken"))
    plan.broken["item:soak-broken"] = cut(LOC_ITEM.read_bytes())
    plan.scripted = [f"/item/{item}/" for item in items[1 : 1 + len(FAULTS)]]
    return plan


# --- Wikimedia Commons --------------------------------------------------------------------

COMMONS_SEARCH = DATA / "wikimedia_commons/search_audio_offset40.json"  # says: go on at 80
COMMONS_DETAILS = DATA / "wikimedia_commons/image_details_extmetadata.json"  # no `continue`


def commons_plan(scale: int) -> Plan:
    def client(url: str) -> LiveClient:
        return commons.Commons(Etiquette(CONTACT, url, INTERVAL, RETRIES, MAX_WAIT, TIMEOUT))

    plan = Plan("commons", client, [])
    # Each search: the real search page first, which says to go on at 80; there, the real
    # file-details answer, which has no `continue`: the search ends.
    plan.route("/w/api.php", COMMONS_SEARCH.read_bytes(), {"gsroffset": "0"})
    plan.route("/w/api.php", COMMONS_DETAILS.read_bytes(), {"gsroffset": "80"})
    for n in range(120 * scale):
        scope = commons.Scope("search", f"soak {n}")
        plan.scopes.append(scope)
        plan.expected |= {f"{scope.name}#offset=0", f"{scope.name}#offset=80"}
    details = json.loads(COMMONS_DETAILS.read_text())
    (title,) = [page["title"] for page in details["query"]["pages"].values()]
    plan.route("/w/api.php", COMMONS_DETAILS.read_bytes(), {"titles": title})
    plan.scopes.append(commons.Scope("file", title.removeprefix("File:")))
    plan.expected.add(f"file:{title.removeprefix('File:')}#offset=0")
    plan.route("/w/api.php", cut(COMMONS_SEARCH.read_bytes()), {"titles": "File:Soak broken.ogg"})
    plan.scopes.append(commons.Scope("file", "Soak broken.ogg"))
    plan.broken["file:Soak broken.ogg#offset=0"] = cut(COMMONS_SEARCH.read_bytes())
    plan.scripted = ["/w/api.php"]
    return plan


PLANS = {
    "musicbrainz": musicbrainz_plan,
    "internetarchive": internetarchive_plan,
    "loc": loc_plan,
    "commons": commons_plan,
}


# --- the soak -----------------------------------------------------------------------------


@dataclass
class Outcome:
    tables: dict[str, list[tuple]]
    requests: int
    answered: dict[str, int]
    failures: list[str]  # why each run that gave up did
    seconds: float
    duplicates: int  # recordings, and holdings, whose key is there more than once


def harvest_to_completion(
    con: duckdb.DuckDBPyConnection, plan: Plan, url: str, max_runs: int
) -> list[str]:
    """Harvest as `preservation harvest SOURCE ...` does (the scopes, then the follow-ups),
    running the same command again while it fails, up to `max_runs` times; then normalize.
    Returns why each run that failed did."""
    failures = []
    for _ in range(max_runs):
        client = plan.client(url)
        try:
            harvest_live(con, plan.source, plan.scopes, client)
            options = HarvestOptions(CONTACT, url, INTERVAL, follow_up=plan.follow_up)
            if more := get_live(plan.source).follow_up(con, options):
                harvest_live(con, plan.source, more, client)
        except PreservationError as exc:  # anything else is a crash, and fails the test
            failures.append(str(exc))
            continue
        normalize(con)
        return failures
    raise AssertionError(f"{plan.source}: still failing after {max_runs} runs: {failures}")


def tables(con: duckdb.DuckDBPyConnection, url: str) -> dict[str, list[tuple]]:
    out = {}
    for name, query in HARVEST_TABLES.items():
        params = {"url": url} if "$url" in query else {}
        out[name] = con.execute(f"{query} ORDER BY ALL", params).fetchall()
    for name in NORMALIZED_TABLES:
        out[name] = con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
    return out


def harvest_once(
    plan: Plan, server: ReplayServer, db: Path, faults: FaultPlan | None, max_runs: int
) -> Outcome:
    server.log.clear()
    server.faults = faults or FaultPlan()
    if faults is not None:
        # Every kind at least once, whatever the draws: each scripted fault is followed by a
        # good answer on its path, so that none of them alone makes a request give up.
        paths = plan.scripted
        for n, kind in enumerate(FAULTS):
            server.fail_next(paths[n % len(paths)], kind, "ok")
    con = store.connect(db)
    try:
        started = time.monotonic()
        failures = harvest_to_completion(con, plan, server.url, max_runs)
        seconds = time.monotonic() - started
        duplicates = con.execute(
            "SELECT (SELECT count(*) - count(DISTINCT record_id) FROM recordings) + "
            "(SELECT count(*) - count(DISTINCT (record_id, url, relation_type)) FROM holdings)"
        ).fetchone()[0]
        answered, requests = server.answered(), len(server.log)
        return Outcome(tables(con, server.url), requests, answered, failures, seconds, duplicates)
    finally:
        con.close()


def soak(
    tmp_path: Path, source: str, scale: int, rate: float, seed: int, max_runs: int = 3
) -> tuple[Outcome, Outcome]:
    """Harvest `source` without faults, then with `rate` of them (drawn from `seed`), into two
    databases; check what a soak must show; return both outcomes."""
    plan = PLANS[source](scale)
    with ReplayServer() as server:
        for path, body, query in plan.routes:
            server.route(path, body, query)
        clean = harvest_once(plan, server, tmp_path / "clean.duckdb", None, 1)
        # A harvester stuck in a loop meets a 404 there rather than hanging the test.
        server.budget = 2 * max_runs * clean.requests + 100
        faults = FaultPlan(rate, seed=seed, slow_seconds=SLOW, hold_seconds=HOLD)
        faulty = harvest_once(plan, server, tmp_path / "faults.duckdb", faults, max_runs)
    check(plan, clean, faulty, rate)
    report = ", ".join(f"{k} {v}" for k, v in sorted(faulty.answered.items()) if k != "ok")
    print(
        f"\n{source} scale {scale} rate {rate} seed {seed}: {clean.requests} requests "
        f"fault-free in {clean.seconds:.1f} s; {faulty.requests} with faults ({report}) in "
        f"{faulty.seconds:.1f} s, {len(faulty.failures) + 1} run(s)"
        + "".join(f"\n  a run gave up: {why}" for why in faulty.failures)
    )
    return clean, faulty


def check(plan: Plan, clean: Outcome, faulty: Outcome, rate: float) -> None:
    """What a soak must show, beyond its two databases being equal."""
    # The fault-free run stored every answer once, and only the broken one in quarantine.
    keys = [key for _, key, *_ in clean.tables["raw_records"]]
    assert sorted(keys) == sorted(plan.expected)  # each once: no second snapshot of any
    quarantined = {key: (reason, payload) for _, key, _, _, reason, payload in
                   clean.tables["quarantine"]}  # fmt: skip
    assert quarantined.keys() == plan.broken.keys()
    for key, (reason, payload) in quarantined.items():
        assert reason.startswith("invalid JSON: ") and payload == plan.broken[key].decode()
    assert all(done for *_, done, _ in clean.tables["harvest_checkpoints"])
    assert clean.failures == [] and clean.answered.keys() == {"ok"}

    # With faults: every kind was injected, and a share near the rate.
    injected = {k: v for k, v in faulty.answered.items() if k in FAULTS}
    assert injected.keys() == set(FAULTS)
    assert sum(injected.values()) >= 0.5 * rate * faulty.requests
    assert faulty.answered.keys() <= {"ok", *FAULTS}  # no 404, nothing over budget

    # Nothing lost, nothing duplicated, the same quarantine: table by table.
    for name, rows in clean.tables.items():
        assert faulty.tables[name] == rows, f"{plan.source}: {name} differs with faults"
    assert faulty.duplicates == 0

    # Bounded: a fault costs about one more request and at most a timeout, a wait and a slow
    # answer more; a run that gives up, one more pass.
    runs = len(faulty.failures) + 1
    assert faulty.requests <= runs * clean.requests * (1 + 2 * rate) + 20
    per_fault = TIMEOUT + SLOW + 2 * MAX_WAIT
    assert faulty.seconds <= runs * clean.seconds * 1.5 + sum(injected.values()) * per_fault + 10


@pytest.mark.parametrize("source", sorted(PLANS))
def test_ten_percent_faults_lose_and_duplicate_nothing(tmp_path, source):
    clean, faulty = soak(tmp_path, source, scale=1, rate=0.1, seed=9)
    assert clean.requests >= 200  # a few hundred answers, as the issue asks
    assert clean.seconds + faulty.seconds < 60


@pytest.mark.soak
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("source", sorted(PLANS))
def test_long_soak_more_answers_and_seeds(tmp_path, source, seed):
    soak(tmp_path, source, scale=2, rate=0.1, seed=seed)


@pytest.mark.soak
@pytest.mark.parametrize("source", sorted(PLANS))
def test_long_soak_at_thirty_percent_faults(tmp_path, source):
    # At 30%, five faults in a row on one request (0.3**5) happen every few hundred requests:
    # runs give up, and are run again as a user would (finished scopes start over).
    soak(tmp_path, source, scale=1, rate=0.3, seed=4, max_runs=10)


@pytest.mark.parametrize("source", sorted(PLANS))
def test_a_body_garbled_only_after_other_faults_is_not_taken_as_the_answer(tmp_path, source):
    # Met at 30%: four cut bodies, then one cut with a matching length, on one request. That
    # last body is not the service's answer (the others said nothing), so the run gives up
    # and quarantines nothing; the next run stores the real answer.
    plan = PLANS[source](1)
    first_path = plan.routes[0][0]  # each plan routes its first scope's path first
    con = store.connect(tmp_path / "garbled.duckdb")
    with ReplayServer() as server:
        for path, body, query in plan.routes:
            server.route(path, body, query)
        server.fail_next(first_path, *["truncate"] * RETRIES, "short")
        with pytest.raises(PreservationError, match="gave up"):
            harvest_live(con, source, plan.scopes[:1], plan.client(server.url))
        assert [r.path for r in server.log] == [first_path] * (RETRIES + 1)
        assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
        harvest_live(con, source, plan.scopes[:1], plan.client(server.url))
    keys = {key for (key,) in con.execute("SELECT key FROM raw_records").fetchall()}
    assert keys and keys <= plan.expected
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    con.close()
