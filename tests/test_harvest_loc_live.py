"""Live loc.gov harvesting over real HTTP against the loopback replay server.

The responses are real loc.gov answers from the bundled sample (the search one was cut to
its first 3 results by the repository it comes from, and has no pagination block).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import duckdb
import pytest

from preservation import store
from preservation.errors import PreservationError
from preservation.harvest import harvest_live
from preservation.normalize import normalize
from preservation.pipeline import sample_dir
from preservation.sources.http import Etiquette
from preservation.sources.loc.live import PAGE_SIZE, LocGov, Scope
from tests.replay import ReplayServer

LOC = sample_dir() / "loc"
ITEM = "jukebox-879940"
ITEM_FILE = LOC / "item" / f"{ITEM}.json"
SEARCH_FILE = LOC / "search" / "steal-away_first3.json"


@pytest.fixture()
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        replay.route(f"/item/{ITEM}/", ITEM_FILE)
        replay.route("/search/", SEARCH_FILE)
        yield replay


@pytest.fixture()
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = store.connect(tmp_path / "loc.duckdb")
    yield connection
    connection.close()


def client(server: ReplayServer) -> LocGov:
    return LocGov(Etiquette("tests@example.org", server.url, interval=0.05, retries=2))


def test_a_jukebox_item_harvested_live_has_the_real_records_values(server, con):
    result = harvest_live(con, "loc", [Scope("item", ITEM)], client(server))
    assert (result.payloads, result.new_payloads, result.entities) == (1, 1, 1)
    (request,) = server.log
    assert request.query == {"fo": ["json"]}
    assert request.user_agent.startswith("preservation/0.1.0 ( tests@example.org ) ")
    normalize(con)
    row = con.execute(
        "SELECT label, catalog_number, matrix, date, date_kind FROM recordings"
    ).fetchone()
    item = json.loads(ITEM_FILE.read_text())["item"]  # expected values from the real record
    assert row == (
        item["recording_label"],
        item["recording_catalog_number"],
        item["recording_matrix_number"].removesuffix(" (Matrix ID)"),
        item["recording_date"],
        "recorded",  # a Jukebox date is when the disc was recorded, not published
    )
    holdings = con.execute(
        "SELECT platform, access_class, live, copy_format, rights_statement FROM holdings"
    ).fetchall()
    # The real item offers a WAV beside the MP3, and says on whose terms it is streamed.
    assert holdings == [
        ("Library of Congress", "open_archive", True, "lossless", item["rights_advisory"])
    ]


def test_a_search_is_one_page_when_loc_gov_gives_no_pagination(server, con):
    result = harvest_live(con, "loc", [Scope("search", "steal away")], client(server))
    page = json.loads(SEARCH_FILE.read_text())
    assert (result.payloads, result.entities) == (1, len(page["results"]))
    (request,) = server.log
    assert request.query == {
        "fo": ["json"], "c": [str(PAGE_SIZE)], "sp": ["1"], "q": ["steal away"]
    }  # fmt: skip
    assert con.execute("SELECT position, done FROM harvest_checkpoints").fetchone() == (3, True)
    normalize(con)
    ids = {r[0] for r in con.execute("SELECT source_id FROM recordings").fetchall()}
    assert ids == {r["url"].rstrip("/").rsplit("/", 1)[-1] for r in page["results"]}


def test_429_then_success_and_giving_up(server, con):
    server.fail_next(f"/item/{ITEM}/", "429")
    harvest_live(con, "loc", [Scope("item", ITEM)], client(server))
    assert [r.answered for r in server.log] == ["429", "ok"]
    assert server.log[1].at - server.log[0].at >= server.faults.retry_after * 0.95
    server.fail_next("/search/", "503", "503", "503")
    with pytest.raises(PreservationError, match="loc: GET /search/ answered 503"):
        harvest_live(con, "loc", [Scope("search", "steal away")], client(server))
    assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (1,)


def test_scope_values_are_checked():
    with pytest.raises(PreservationError, match=r"takes a loc\.gov item name"):
        Scope("item", "https://www.loc.gov/item/jukebox-879940/")
