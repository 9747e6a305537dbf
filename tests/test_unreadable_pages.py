"""A page answered (HTTP 200) with something unusable at every attempt, in a paged scope.

In an offset-paged scope (MusicBrainz search and browse, loc.gov search and collection pages,
Commons search) the offsets after such a page still answer: the page is kept in quarantine
with its reason and the harvest goes on at the next offset, once the scope's size is known.
The first page, or more than a few broken pages in a row (an outage, not broken pages),
still fail the run. A Commons continuation that does not move the scope ends it with an
error instead of asking for the same page forever.

Real recorded answers over real HTTP (tests/replay.py), as the soak serves them: the one real
page of a search or browse at every offset, and the broken answers a broken cache or proxy
would send in its place: the real page cut in half, a proxy's error page, or a real answer to
another request (valid JSON, but not a page of this scope).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from preservation import store
from preservation.errors import PreservationError
from preservation.harvest import harvest_live
from preservation.normalize import normalize
from preservation.pipeline import sample_dir
from preservation.sources.base import UNUSABLE_IN_A_ROW
from preservation.sources.commons import live as commons
from preservation.sources.http import Etiquette
from preservation.sources.loc import live as loc
from preservation.sources.musicbrainz import live as mb
from tests.replay import INVALID_BODY, ReplayServer

DATA = Path(__file__).parent / "data"
CONTACT = "tests@example.org"
RETRIES = 2  # so every broken page is asked for three times
INTERVAL, MAX_WAIT, TIMEOUT = 0.001, 0.01, 5.0  # a loopback mirror: no need to pace or wait

# The one real recording search page: 25 of 423 recordings, served at every offset.
SEARCH = DATA / "musicbrainz/search_recording_we_will_rock_you.json"
QUERY = 'recording:"we will rock you" AND arid:0383dadf-2a4e-4d10-a46a-e9e041da8eb3'
STEP = len(json.loads(SEARCH.read_text())["recordings"])  # what each answer holds
COUNT = json.loads(SEARCH.read_text())["count"]
# The one real browse page: a label's releases, 25 of 117, served at every offset.
BROWSE = DATA / "musicbrainz/ws2_json_musicbrainz_rs/browse/release/by_label.json"
LABEL = "6e2e809f-8c54-4e0f-aca0-0642771ab3cf"  # a made-up but well-formed MBID
# A real recording lookup: valid JSON, and not a page of any search or browse.
LOOKUP = (
    sample_dir() / "musicbrainz/ws2_json_musicbrainz_rs/lookup/recording/"
    "b9ad642e-b012-41c7-b72a-42cf4911f9ff.json"
)
LOC_SEARCH = sample_dir() / "loc/search/steal-away_first3.json"  # 3 results, no pagination
COMMONS_SEARCH = DATA / "wikimedia_commons/search_audio_offset40.json"  # continue at 80
COMMONS_DETAILS = DATA / "wikimedia_commons/image_details_extmetadata.json"  # no `continue`


def cut(body: bytes) -> bytes:
    """A real body cut in half: what a broken cache in front of a service might keep sending."""
    return body[: len(body) // 2]


@pytest.fixture()
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = store.connect(tmp_path / "pages.duckdb")
    yield connection
    connection.close()


def musicbrainz(server: ReplayServer) -> mb.WebService:
    # The retry waits themselves are tested in test_harvest_musicbrainz_live.py.
    no_wait = mb.Etiquette(
        CONTACT, server.url, INTERVAL, RETRIES, MAX_WAIT, TIMEOUT, sleep=lambda _: None
    )
    return mb.WebService(no_wait)


def search_server(broken: dict[int, bytes], budget: int | None = None) -> ReplayServer:
    """The real search page at every offset, but `broken` bodies at those offsets."""
    server = ReplayServer(budget=budget)
    for offset, body in broken.items():  # musicbrainzngs sends no offset for the first page
        server.route("/ws/2/recording/", body, query={"offset": str(offset) if offset else None})
    server.route("/ws/2/recording/", SEARCH)
    return server


def offsets(server: ReplayServer) -> list[int]:
    """The offset of each request, in order (musicbrainzngs sends none for the first page)."""
    return [int(r.query.get("offset", ["0"])[0]) for r in server.log]


def keys(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [k for (k,) in con.execute(f"SELECT key FROM {table} ORDER BY key").fetchall()]


def checkpoint(con: duckdb.DuckDBPyConnection) -> tuple[int, int, bool]:
    return con.execute("SELECT position, total, done FROM harvest_checkpoints").fetchone()


def logged(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT status, payloads, quarantined, entities FROM harvest_log ORDER BY run_id"
    ).fetchall()


def search_keys(*offsets: int) -> list[str]:
    return sorted(f"query:{QUERY}#offset={o}" for o in offsets)


# --- offset-paged scopes: a page broken for good is skipped ------------------------------


def test_a_search_page_broken_for_good_is_quarantined_and_the_pages_after_it_harvested(con):
    broken = cut(SEARCH.read_bytes())
    with search_server({25: broken}) as server:
        result = harvest_live(con, "musicbrainz", [mb.Scope("query", QUERY)], musicbrainz(server))
    # Asked three times (every attempt garbled), then skipped by the 100 a request asks for.
    after = list(range(125, COUNT, STEP))
    assert offsets(server) == [0, 25, 25, 25, *after]
    assert sorted(keys(con, "raw_records")) == search_keys(0, *after)
    ((key, stage, reason, payload),) = con.execute(
        "SELECT key, stage, reason, payload FROM quarantine"
    ).fetchall()
    assert (key, stage, payload) == (f"query:{QUERY}#offset=25", "harvest", broken.decode())
    assert reason.startswith("invalid JSON: Unterminated string")
    assert reason.endswith("(page skipped: the scope went on at offset 125)")
    assert checkpoint(con) == (after[-1] + STEP, COUNT, True)
    pages = 1 + len(after)
    assert (result.payloads, result.quarantined, result.entities) == (pages + 1, 1, pages * STEP)
    assert logged(con) == [("ok", pages + 1, 1, pages * STEP)]


def test_valid_json_of_another_shape_is_quarantined_too_and_never_read_as_an_answer(con):
    # A browse page answered with a real recording lookup, as a misrouting cache might: it is
    # JSON, so storing alone would keep it as an answer; it must land in quarantine instead.
    label = mb.Scope("label", LABEL)
    with ReplayServer() as server:
        server.route("/ws/2/release/", LOOKUP, query={"offset": "50"})
        server.route("/ws/2/release/", BROWSE)
        harvest_live(con, "musicbrainz", [label], musicbrainz(server))
    assert offsets(server) == [0, 25, 50]  # then 150: past the label's 117 releases
    assert keys(con, "raw_records") == [f"{label.name}#offset=0", f"{label.name}#offset=25"]
    ((key, reason),) = con.execute("SELECT key, reason FROM quarantine").fetchall()
    assert key == f"{label.name}#offset=50"
    # The lookup lists its recording's releases too, but no count of a label's releases.
    assert reason == (
        "JSON, but not a page of this scope (KeyError: 'release-count') "
        "(page skipped: the scope ended there)"
    )
    assert checkpoint(con) == (150, 117, True)
    normalize(con)
    lookup = json.loads(LOOKUP.read_text())["id"]
    found = con.execute("SELECT count(*) FROM recordings WHERE source_id = ?", [lookup])
    assert found.fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM recordings").fetchone()[0] > 0


def test_a_loc_collection_resumed_skips_its_broken_page_with_the_checkpoints_total(con):
    # loc.gov pages by page number, 100 results a page. No real answer with a pagination
    # block was recorded (tests/data/PROVENANCE.md), so the harvest starts where a previous
    # run left it: the first page (100 of 250 results) stored. The second page is broken for
    # good; the third is the real page without pagination, so the collection ends there.
    scope = loc.Scope("collection", "national-jukebox")
    con.execute(
        "INSERT INTO harvest_checkpoints BY NAME SELECT 'loc' AS source, ? AS scope, "
        "100 AS position, 250 AS total, false AS done, 1 AS run_id, "
        "now()::TIMESTAMP AS updated_at, NULL AS cursor",
        [scope.name],
    )
    path = f"/collections/{scope.value}/"
    with ReplayServer() as server:
        server.route(path, INVALID_BODY, query={"sp": "2"}, content_type="text/html")
        server.route(path, LOC_SEARCH, query={"sp": "3"})
        client = loc.LocGov(Etiquette(CONTACT, server.url, INTERVAL, RETRIES, MAX_WAIT, TIMEOUT))
        result = harvest_live(con, "loc", [scope], client)
    assert [r.query["sp"] for r in server.log] == [["2"]] * (RETRIES + 1) + [["3"]]
    assert keys(con, "raw_records") == [f"{scope.name}#offset=200"]
    ((key, reason),) = con.execute("SELECT key, reason FROM quarantine").fetchall()
    assert key == f"{scope.name}#offset=100"
    assert reason.startswith("invalid JSON: Expecting value: line 1 column 1 (char 0)")
    assert checkpoint(con) == (203, 203, True)  # the last page says it is all there is
    assert (result.quarantined, result.entities) == (1, 3)


def test_a_commons_search_skips_its_broken_page(con):
    # The real search page says to go on at 80; there, a body cut in half every time; 50
    # further on (what a request asks for), the real file-details answer, which ends it.
    scope = commons.Scope("search", "cat")
    with ReplayServer() as server:
        server.route("/w/api.php", COMMONS_SEARCH.read_bytes(), {"gsroffset": "0"})
        server.route("/w/api.php", cut(COMMONS_SEARCH.read_bytes()), {"gsroffset": "80"})
        server.route("/w/api.php", COMMONS_DETAILS.read_bytes(), {"gsroffset": "130"})
        client = commons.Commons(
            Etiquette(CONTACT, server.url, INTERVAL, RETRIES, MAX_WAIT, TIMEOUT)
        )
        result = harvest_live(con, "commons", [scope], client)
    assert [r.query["gsroffset"][0] for r in server.log] == ["0", "80", "80", "80", "130"]
    assert keys(con, "raw_records") == [f"{scope.name}#offset=0", f"{scope.name}#offset=130"]
    assert keys(con, "quarantine") == [f"{scope.name}#offset=80"]
    assert checkpoint(con)[2] is True
    assert (result.payloads, result.quarantined, result.entities) == (3, 1, 40 + 1)


# --- what still fails --------------------------------------------------------------------


def test_a_broken_first_page_fails_the_run_in_one_line(con):
    # Nothing read yet says how large the scope is: there is no next offset to go on at.
    scope = mb.Scope("query", QUERY)
    server = search_server({0: cut(SEARCH.read_bytes())})
    with server, pytest.raises(PreservationError) as failed:
        harvest_live(con, "musicbrainz", [scope], musicbrainz(server))
    message = str(failed.value)
    assert len(message.splitlines()) == 1
    assert message.startswith("musicbrainz: unusable answer to http://127.0.0.1:")
    assert f"it is the first page of query:{QUERY}" in message
    assert offsets(server) == [0] * (RETRIES + 1)
    assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM harvest_checkpoints").fetchone() == (0,)
    assert con.execute("SELECT status, message FROM harvest_log").fetchall() == [
        ("failed", message)
    ]


def test_three_broken_pages_in_a_row_are_skipped(con):
    broken = {offset: INVALID_BODY for offset in (25, 125, 225)}
    assert len(broken) == UNUSABLE_IN_A_ROW
    with search_server(broken) as server:
        result = harvest_live(con, "musicbrainz", [mb.Scope("query", QUERY)], musicbrainz(server))
    assert sorted(keys(con, "quarantine")) == search_keys(25, 125, 225)
    assert sorted(keys(con, "raw_records")) == search_keys(0, *range(325, COUNT, STEP))
    assert (result.quarantined, checkpoint(con)[2]) == (3, True)


def test_four_in_a_row_is_an_outage_and_fails_with_nothing_skipped(con):
    # An outage answering an error page to everything: the run fails, and since nothing says
    # the pages were broken rather than hidden, none is quarantined nor skipped. Once the
    # service is back, the next run asks for all of them again.
    broken = {offset: INVALID_BODY for offset in (25, 125, 225, 325)}
    scope = mb.Scope("query", QUERY)
    with search_server(broken) as server:
        with pytest.raises(PreservationError) as failed:
            harvest_live(con, "musicbrainz", [scope], musicbrainz(server))
        assert offsets(server) == [0] + [o for o in broken for _ in range(RETRIES + 1)]
        message = str(failed.value)
        assert len(message.splitlines()) == 1
        assert "offset=325" in message
        assert f"4 in a row for query:{QUERY}: an outage rather than broken pages" in message
        assert keys(con, "raw_records") == search_keys(0)
        assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
        assert checkpoint(con) == (25, COUNT, False)

        server.routes["/ws/2/recording/"] = server.routes["/ws/2/recording/"][-1:]  # it is back
        server.log.clear()
        harvest_live(con, "musicbrainz", [scope], musicbrainz(server))
    assert offsets(server) == list(range(25, COUNT, STEP))
    assert sorted(keys(con, "raw_records")) == search_keys(*range(0, COUNT, STEP))
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    assert [row[0] for row in logged(con)] == ["failed", "ok"]


# --- resuming around a skip --------------------------------------------------------------


def test_a_run_stopped_after_the_skip_resumes_after_it(con):
    # The server stops answering (404: its request budget) after the page that follows the
    # broken one: the run fails there, with the skip recorded. The next run goes on from the
    # page after, and never asks for the broken page again.
    scope = mb.Scope("query", QUERY)
    budget = 1 + (RETRIES + 1) + 1  # the first page, the broken one, the one after it
    with search_server({25: cut(SEARCH.read_bytes())}, budget=budget) as server:
        with pytest.raises(PreservationError, match="answered 404"):
            harvest_live(con, "musicbrainz", [scope], musicbrainz(server))
        assert offsets(server) == [0, 25, 25, 25, 125, 150]
        assert checkpoint(con) == (150, COUNT, False)
        assert keys(con, "quarantine") == search_keys(25)
        server.budget, server.log = None, []
        harvest_live(con, "musicbrainz", [scope], musicbrainz(server))
    assert offsets(server) == list(range(150, COUNT, STEP))
    assert keys(con, "quarantine") == search_keys(25)
    assert checkpoint(con)[2] is True
    assert logged(con)[0][:3] == ("failed", 3, 1)


def test_a_run_stopped_before_a_readable_page_follows_asks_for_the_broken_one_again(con):
    # A failure right after a broken page may be the same outage: the skip is recorded only
    # once a readable page follows, so here the next run asks for the broken page again.
    scope = mb.Scope("query", QUERY)
    budget = 1 + (RETRIES + 1)  # the first page, the broken one
    server = search_server({25: cut(SEARCH.read_bytes())}, budget=budget)
    with server, pytest.raises(PreservationError, match="answered 404"):
        harvest_live(con, "musicbrainz", [scope], musicbrainz(server))
    assert offsets(server) == [0, 25, 25, 25, 125]
    assert checkpoint(con) == (25, COUNT, False)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)


# --- a Commons continuation that does not move ------------------------------------------


def test_a_category_continue_without_gcmcontinue_fails_instead_of_looping(tmp_path):
    from typer.testing import CliRunner

    from preservation.cli import app

    # A category answered with the real search page, whose `continue` holds no gcmcontinue
    # (gsroffset, continue): following it would ask for the category's first page forever.
    with ReplayServer(budget=10) as server:
        server.route("/w/api.php", COMMONS_SEARCH.read_bytes())
        common = ["--contact", CONTACT, "--base-url", server.url, "--interval", "0.01"]
        db = str(tmp_path / "cli.duckdb")
        for _ in range(2):  # and the next run stops there again, storing nothing new
            failed = CliRunner().invoke(
                app, ["harvest", "commons", "--collection", "Audio files", *common, "--db", db]
            )
            assert failed.exit_code == 1
            (line,) = failed.output.strip().splitlines()
            assert line == (
                "error: commons: the answer for category:Audio files at offset 0 says it goes "
                "on (continue: continue, gsroffset) but gives no new gcmcontinue: asking on "
                "would fetch the same page forever, so the scope stops here; the answer is "
                "stored"
            )
    assert len(server.log) == 2  # one request a run
    assert "gcmcontinue" not in server.log[1].query  # the same first page, asked once more
    cli = store.connect(tmp_path / "cli.duckdb")
    assert keys(cli, "raw_records") == ["category:Audio files#offset=0"]
    assert cli.execute("SELECT position, done, cursor FROM harvest_checkpoints").fetchone() == (
        0,
        False,
        None,
    )
    cli.close()


def test_a_search_continue_that_does_not_move_fails_instead_of_looping(con):
    # Resumed at 80, the search is answered with the real page that says to go on at 80.
    scope = commons.Scope("search", "cat")
    con.execute(
        "INSERT INTO harvest_checkpoints BY NAME SELECT 'commons' AS source, ? AS scope, "
        "80 AS position, 11174 AS total, false AS done, 1 AS run_id, "
        "now()::TIMESTAMP AS updated_at, NULL AS cursor",
        [scope.name],
    )
    with ReplayServer(budget=10) as server:
        server.route("/w/api.php", COMMONS_SEARCH.read_bytes())
        client = commons.Commons(
            Etiquette(CONTACT, server.url, INTERVAL, RETRIES, MAX_WAIT, TIMEOUT)
        )
        with pytest.raises(PreservationError, match="gives no new gsroffset") as failed:
            harvest_live(con, "commons", [scope], client)
    assert "search:cat at offset 80" in str(failed.value)
    assert [r.query["gsroffset"] for r in server.log] == [["80"]]
    assert keys(con, "raw_records") == [f"{scope.name}#offset=80"]
    assert checkpoint(con) == (80, 11174, False)
