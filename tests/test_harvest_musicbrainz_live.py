"""Live MusicBrainz harvesting over real HTTP against the loopback replay server.

The responses are real recordings (bundled sample); the client is the real musicbrainzngs.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from preservation import store
from preservation.errors import PreservationError
from preservation.harvest import harvest_folder, harvest_live
from preservation.normalize import normalize
from preservation.pipeline import sample_dir
from preservation.sources.musicbrainz.live import Etiquette, Scope, WebService, writer_scopes
from tests.replay import ReplayServer

MB = sample_dir() / "musicbrainz"
RECORDING = "b9ad642e-b012-41c7-b72a-42cf4911f9ff"
RELEASE = "987f3e2d-22a6-4a4f-b840-c80c26b8b91a"
RECORDED_RECORDING = MB / f"ws2_json_musicbrainz_rs/lookup/recording/{RECORDING}.json"
RECORDED_RELEASE = MB / f"ws2_json_musicbrainz_rs/lookup/release/{RELEASE}.json"
WE_WILL_ROCK_YOU = Path(__file__).parent / "data/musicbrainz/search_recording_we_will_rock_you.json"


class Waits(list[float]):
    """Stands in for time.sleep during retries, remembering each wait (the rate limiter
    between requests is musicbrainzngs' own and still sleeps for real)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        replay.route(f"/ws/2/recording/{RECORDING}", RECORDED_RECORDING)
        replay.route(f"/ws/2/release/{RELEASE}", RECORDED_RELEASE)
        yield replay


@pytest.fixture()
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = store.connect(tmp_path / "live.duckdb")
    yield connection
    connection.close()


def service(server: ReplayServer, waits: Waits | None = None, retries: int = 2) -> WebService:
    return WebService(
        Etiquette(
            contact="tests@example.org",
            base_url=server.url,
            interval=1.0,
            retries=retries,
            sleep=waits if waits is not None else Waits(),
        )
    )


def test_lookups_store_the_bytes_and_normalize_like_saved_responses(server, con, tmp_path):
    scopes = [Scope("recording", RECORDING), Scope("release", RELEASE)]
    result = harvest_live(con, "musicbrainz", scopes, service(server))
    assert (result.payloads, result.new_payloads, result.entities) == (2, 2, 2)
    stored = dict(con.execute("SELECT key, payload FROM raw_records").fetchall())
    assert stored[f"recording:{RECORDING}"] == RECORDED_RECORDING.read_text()
    (request,) = [r for r in server.log if r.path.endswith(RECORDING)]
    assert request.query["inc"] == [
        "artist-credits isrcs releases url-rels work-rels work-level-rels"
    ]
    assert request.user_agent.startswith("preservation/0.1.0 ")
    assert request.user_agent.endswith(" ( tests@example.org )")
    normalize(con)
    live = con.execute("SELECT * EXCLUDE (raw_keys) FROM recordings ORDER BY 1").fetchall()

    # the same responses saved in a folder go through the same parser to the same rows
    folder = tmp_path / "saved" / "musicbrainz"
    folder.mkdir(parents=True)
    (folder / "recording.json").write_bytes(RECORDED_RECORDING.read_bytes())
    (folder / "release.json").write_bytes(RECORDED_RELEASE.read_bytes())
    other = store.connect(tmp_path / "folder.duckdb")
    harvest_folder(other, "musicbrainz", folder)
    normalize(other)
    assert (
        other.execute("SELECT * EXCLUDE (raw_keys) FROM recordings ORDER BY 1").fetchall() == live
    )


def test_one_request_per_second(server, con):
    scopes = [
        Scope("recording", RECORDING),
        Scope("release", RELEASE),
        Scope("recording", RECORDING),
    ]
    harvest_live(con, "musicbrainz", scopes, service(server))
    times = [r.at for r in server.log]
    assert len(times) == 3
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.95


def test_a_mirror_interval_is_kept_not_inverted(server, con):
    # musicbrainzngs' own limiter sleeps requests/interval seconds: asked for 0.2 s it would
    # wait 5 s between requests. The pacing is ours, so a mirror gets the interval it asked for.
    scopes = [Scope("recording", RECORDING), Scope("release", RELEASE)] * 2
    fast = Etiquette("tests@example.org", server.url, interval=0.2, sleep=Waits())
    harvest_live(con, "musicbrainz", scopes, WebService(fast))
    gaps = [b.at - a.at for a, b in itertools.pairwise(server.log)]
    assert len(gaps) == 3
    assert all(0.19 <= gap < 1.0 for gap in gaps), gaps


def test_public_server_cannot_be_asked_faster_and_needs_a_contact():
    with pytest.raises(PreservationError, match="one request per second"):
        Etiquette(contact="me@example.org", interval=0.5)
    with pytest.raises(PreservationError, match="need a contact"):
        Etiquette(contact="")
    Etiquette(contact="me@example.org", base_url="http://mirror.local:5000", interval=0.2)


def test_503_with_retry_after_is_waited_out(server, con):
    server.faults.retry_after = 3
    server.fail_next(f"/ws/2/recording/{RECORDING}", "503", "429")
    waits = Waits()
    result = harvest_live(
        con, "musicbrainz", [Scope("recording", RECORDING)], service(server, waits)
    )
    assert result.new_payloads == 1
    assert waits == [3.0, 3.0]
    assert [r.answered for r in server.log] == ["503", "429", "ok"]


def test_reset_and_cut_body_are_retried_with_backoff(server, con):
    server.fail_next(f"/ws/2/recording/{RECORDING}", "reset", "truncate")
    waits = Waits()
    harvest_live(con, "musicbrainz", [Scope("recording", RECORDING)], service(server, waits))
    assert waits == [2.0, 4.0]
    stored = con.execute("SELECT payload FROM raw_records").fetchall()
    assert stored == [(RECORDED_RECORDING.read_text(),)]


def test_giving_up_fails_the_run_and_keeps_what_was_stored(server, con):
    server.fail_next(f"/ws/2/release/{RELEASE}", "503", "503", "503")
    scopes = [Scope("recording", RECORDING), Scope("release", RELEASE)]
    with pytest.raises(
        PreservationError, match=r"gave up on http://127\.0\.0\.1:\d+/ws/2/release/"
    ):
        harvest_live(con, "musicbrainz", scopes, service(server, retries=2))
    assert con.execute("SELECT key FROM raw_records").fetchall() == [(f"recording:{RECORDING}",)]
    assert con.execute("SELECT status FROM harvest_log").fetchall() == [("failed",)]
    # the next run skips nothing and repeats nothing: the finished recording is fetched again
    # only as a new snapshot check, the release is fetched for the first time
    harvest_live(con, "musicbrainz", scopes, service(server))
    assert sorted(k for (k,) in con.execute("SELECT key FROM raw_records").fetchall()) == [
        f"recording:{RECORDING}",
        f"release:{RELEASE}",
    ]


def test_search_pages_by_offset_and_resumes_where_it_stopped(server, con):
    # Only the first page of this real search (25 of 423 recordings) was ever recorded, so the
    # second request has no answer: the harvest stops there, and the next run resumes at it.
    # musicbrainzngs sends no offset for the first page
    server.route("/ws/2/recording/", WE_WILL_ROCK_YOU, query={"offset": None})
    scope = Scope(
        "query", 'recording:"we will rock you" AND arid:0383dadf-2a4e-4d10-a46a-e9e041da8eb3'
    )
    with pytest.raises(PreservationError, match="answered 404"):
        harvest_live(con, "musicbrainz", [scope], service(server))
    assert [(r.query.get("offset"), r.query["limit"], r.answered) for r in server.log] == [
        (None, ["100"], "ok"),
        (["25"], ["100"], "404"),
    ]
    checkpoint = con.execute("SELECT position, total, done FROM harvest_checkpoints").fetchall()
    assert checkpoint == [(25, 423, False)]
    assert (
        json.loads(con.execute("SELECT payload FROM raw_records").fetchall()[0][0])["count"] == 423
    )

    server.log.clear()
    with pytest.raises(PreservationError):
        harvest_live(con, "musicbrainz", [scope], service(server))
    assert server.log[0].query["offset"] == ["25"]
    assert con.execute("SELECT count(*) FROM raw_records").fetchall() == [(1,)]


def test_scope_values_are_checked():
    with pytest.raises(PreservationError, match="takes an MBID"):
        Scope("label", "not-an-mbid")


def test_cli_live_harvest_and_its_failure_message(server, tmp_path):
    from typer.testing import CliRunner

    from preservation.cli import app

    runner = CliRunner()
    db = str(tmp_path / "cli.duckdb")
    common = ["--contact", "tests@example.org", "--base-url", server.url, "--db", db]
    ok = runner.invoke(app, ["harvest", "musicbrainz", "--recording", RECORDING, *common])
    assert ok.exit_code == 0, ok.output
    assert "1 responses (1 entities), 1 new" in ok.output
    missing = "00000000-0000-0000-0000-000000000000"
    failed = runner.invoke(app, ["harvest", "musicbrainz", "--release", missing, *common])
    assert failed.exit_code == 1
    assert failed.output.startswith("error: musicbrainz: http://127.0.0.1:")
    assert failed.output.strip().endswith("answered 404 (not found or refused)")
    assert len(failed.output.strip().splitlines()) == 1


def test_writers_of_harvested_works_are_looked_up_for_their_life_spans(server, tmp_path):
    from typer.testing import CliRunner

    from preservation.cli import app

    # A real recording whose work names one composer (Tchaikovsky). No real lookup of that
    # artist is recorded, so the replay server answers his path with the real lookup of
    # another artist (Serge Gainsbourg, life span 1928-1991): what is tested is that the
    # writer is asked for, and that an artist lookup lands in `artists` with its life span.
    recording = "22bac38a-53c2-4eb3-bbd0-76144c390154"
    composer = "9ddd7abc-9e1b-471d-8031-583bc6bc8be9"
    server.route(f"/ws/2/recording/{recording}", MB / "ws2_json_picard/recording_composer.json")
    server.route(f"/ws/2/artist/{composer}", MB / "ws2_json_picard/artist_ended.json")
    db = tmp_path / "writers.duckdb"
    common = ["--contact", "tests@example.org", "--base-url", server.url, "--interval", "0.2"]
    result = CliRunner().invoke(
        app,
        ["harvest", "musicbrainz", "--recording", recording, "--writers", *common, "--db", db],
    )
    assert result.exit_code == 0, result.output
    assert [r.path for r in server.log] == [
        f"/ws/2/recording/{recording}",
        f"/ws/2/artist/{composer}",
    ]
    con = store.connect(db)
    normalize(con)
    assert con.execute("SELECT name, end_date FROM artists").fetchall() == [
        ("Serge Gainsbourg", "1991-03-02")
    ]
    # The answer was about another artist, so this writer's life span is still unknown and
    # the next --writers run asks for him again; a writer whose artist is known is not asked.
    assert writer_scopes(con) == [Scope("artist", composer)]
    con.execute("UPDATE work_writers SET artist_id = (SELECT artist_id FROM artists)")
    assert writer_scopes(con) == []
    con.close()


def test_a_link_removed_since_the_last_harvest_is_kept_as_not_live(server, con, tmp_path):
    # The real release has two Bandcamp links. The second harvest answers with the same real
    # response minus the 'free streaming' one, as if an editor had removed it since.
    release = "6393da26-1c2a-491c-8149-3ddaf5cc0d89"
    recorded = MB / f"ws2_json_url_rels/release_{release}_inc-url-rels.json"
    server.route(f"/ws/2/release/{release}", recorded)
    harvest_live(con, "musicbrainz", [Scope("release", release)], service(server))
    edited = json.loads(recorded.read_text())
    edited["relations"] = [r for r in edited["relations"] if r["type"] != "free streaming"]
    later = tmp_path / "later.json"
    later.write_text(json.dumps(edited))
    del server.routes[f"/ws/2/release/{release}"]  # the first matching route would answer
    server.route(f"/ws/2/release/{release}", later)
    harvest_live(con, "musicbrainz", [Scope("release", release)], service(server))
    assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (2,)  # two snapshots
    normalize(con)
    holdings = con.execute(
        "SELECT relation_type, live, status_note FROM holdings ORDER BY relation_type"
    ).fetchall()
    assert holdings[0][:2] == ("free streaming", False)
    assert holdings[0][2].startswith("no longer listed by the source (listed in the response")
    assert holdings[1] == ("purchase for download", True, None)
