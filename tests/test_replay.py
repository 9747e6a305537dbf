"""The loopback replay server, driven by the real musicbrainzngs client.

This is the harness the live harvesters (issues 4 and 5) are tested with: real recorded
responses over real HTTP on 127.0.0.1, with faults injected on purpose.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib.metadata import version
from xml.etree import ElementTree

import musicbrainzngs
import pytest
import requests

from preservation import __version__
from preservation.pipeline import sample_dir
from preservation.sources import SOURCES
from tests.replay import FAULTS, INVALID_BODY, FaultPlan, ReplayServer

RECORDING = "b9ad642e-b012-41c7-b72a-42cf4911f9ff"
RECORDED = sample_dir() / f"musicbrainz/ws2_json_musicbrainz_rs/lookup/recording/{RECORDING}.json"
PATH = f"/ws/2/recording/{RECORDING}"


@pytest.fixture()
def mb_server() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        server.route(PATH, RECORDED)
        musicbrainzngs.set_useragent("preservation", __version__, "tests@example.org")
        musicbrainzngs.set_hostname(server.host, use_https=False)
        musicbrainzngs.set_format("json")
        musicbrainzngs.set_rate_limit(1.0, 1)
        try:
            yield server
        finally:
            musicbrainzngs.set_hostname("musicbrainz.org", use_https=True)
            musicbrainzngs.set_format("xml")


def test_musicbrainzngs_reads_a_recorded_lookup_and_our_parser_agrees(mb_server):
    payload = musicbrainzngs.get_recording_by_id(RECORDING, includes=["isrcs", "releases"])
    (record,) = SOURCES["musicbrainz"].parse(payload, PATH).records
    (from_file,) = SOURCES["musicbrainz"].parse(json.loads(RECORDED.read_text()), "f").records
    assert record == from_file and record.title == "LAST ANGEL"
    (request,) = mb_server.log
    assert request.path == PATH
    assert request.query["fmt"] == ["json"] and request.query["inc"] == ["isrcs releases"]
    assert request.user_agent == (
        f"preservation/{__version__} python-musicbrainzngs/{version('musicbrainzngs')}"
        " ( tests@example.org )"
    )


def test_rate_limit_is_visible_in_the_server_log(mb_server):
    for _ in range(3):
        musicbrainzngs.get_recording_by_id(RECORDING)
    times = [r.at for r in mb_server.log]
    assert len(times) == 3
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.95


def test_scripted_503_is_retried_and_answered(mb_server):
    mb_server.fail_next(PATH, "503")
    payload = musicbrainzngs.get_recording_by_id(RECORDING)
    assert payload["title"] == "LAST ANGEL"
    assert [r.answered for r in mb_server.log] == ["503", "ok"]


def test_truncated_body_is_detected_and_fetched_again(mb_server):
    # Content-Length promises more than arrives: http.client raises IncompleteRead and
    # musicbrainzngs asks again, so a cut body never reaches a parser.
    mb_server.fail_next(PATH, "truncate")
    assert musicbrainzngs.get_recording_by_id(RECORDING)["title"] == "LAST ANGEL"
    assert [r.answered for r in mb_server.log] == ["truncate", "ok"]


def test_invalid_body_reaches_the_client_as_an_error(mb_server):
    mb_server.fail_next(PATH, "invalid")
    with pytest.raises(ValueError):
        musicbrainzngs.get_recording_by_id(RECORDING)


def test_429_carries_retry_after():
    with ReplayServer(FaultPlan(rate=1.0, kinds=("429",), retry_after=7)) as server:
        server.route(PATH, RECORDED)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(server.url + PATH, timeout=5)
        assert caught.value.code == 429 and caught.value.headers["Retry-After"] == "7"


def test_fault_plan_is_reproducible_and_near_its_rate():
    draws = [FaultPlan(rate=0.1, seed=42).draw() for _ in range(1)]
    plan_a, plan_b = FaultPlan(rate=0.1, seed=42), FaultPlan(rate=0.1, seed=42)
    seq_a = [plan_a.draw() for _ in range(2000)]
    assert seq_a == [plan_b.draw() for _ in range(2000)] and draws[0] == seq_a[0]
    injected = sum(f is not None for f in seq_a)
    assert 150 <= injected <= 250
    assert {f for f in seq_a if f} == set(FAULTS)


def test_unknown_path_is_404_and_logged():
    with ReplayServer() as server:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(server.url + "/ws/2/recording/none", timeout=5)
        assert caught.value.code == 404
        assert [r.answered for r in server.log] == ["404"]


def _get(url: str, timeout: float | None = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return answer.read()


def test_timeout_is_silence_until_the_client_gives_up():
    with ReplayServer(FaultPlan(hold_seconds=30)) as server:
        server.route(PATH, RECORDED)
        server.fail_next(PATH, "timeout")
        started = time.monotonic()
        with pytest.raises(TimeoutError):  # the request went out: the answer never came
            _get(server.url + PATH, timeout=0.3)
        assert time.monotonic() - started < 5  # the client's timeout, not the 30 s hold
        assert _get(server.url + PATH) == RECORDED.read_bytes()  # and the next one is answered
        assert [r.answered for r in server.log] == ["timeout", "ok"]


def test_a_client_with_no_timeout_waits_out_the_whole_hold():
    with ReplayServer(FaultPlan(rate=1.0, kinds=("timeout",), hold_seconds=0.5)) as server:
        server.route(PATH, RECORDED)
        started = time.monotonic()
        with pytest.raises(http.client.RemoteDisconnected):
            _get(server.url + PATH, timeout=None)
        assert time.monotonic() - started >= 0.45


def test_reset_is_a_reset_at_once_even_on_a_kept_alive_connection():
    with ReplayServer() as server, requests.Session() as session:
        server.route(PATH, RECORDED)
        assert session.get(server.url + PATH, timeout=5).content == RECORDED.read_bytes()
        server.fail_next(PATH, "reset")
        started = time.monotonic()
        with pytest.raises(requests.ConnectionError) as caught:
            session.get(server.url + PATH, timeout=5)
        assert "Connection reset by peer" in str(caught.value)
        assert time.monotonic() - started < 2  # not the client's 5 s timeout


def test_invalid_body_is_neither_json_nor_xml():
    with ReplayServer() as server:
        server.route(PATH, RECORDED)
        server.fail_next(PATH, "invalid")
        body = _get(server.url + PATH)
    assert body == INVALID_BODY
    with pytest.raises(ValueError):
        json.loads(body)
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(body)


def test_short_is_cut_but_valid_http_and_slow_is_whole_but_late():
    with ReplayServer(FaultPlan(slow_seconds=0.3)) as server:
        server.route(PATH, RECORDED)
        server.fail_next(PATH, "short", "slow")
        whole = RECORDED.read_bytes()
        assert _get(server.url + PATH) == whole[: len(whole) // 2]  # no IncompleteRead
        started = time.monotonic()
        assert _get(server.url + PATH) == whole
        assert time.monotonic() - started >= 0.28


def test_scripted_ok_lets_one_request_through_between_faults():
    with ReplayServer(FaultPlan(rate=1.0, kinds=("503",))) as server:
        server.route(PATH, RECORDED)
        server.fail_next(PATH, "429", "ok")
        for _ in range(3):
            with contextlib.suppress(urllib.error.HTTPError):
                _get(server.url + PATH)
        assert [r.answered for r in server.log] == ["429", "ok", "503"]


def test_requests_beyond_the_budget_are_refused():
    with ReplayServer(budget=2) as server:
        server.route(PATH, RECORDED)
        _get(server.url + PATH)
        _get(server.url + PATH)
        with pytest.raises(urllib.error.HTTPError) as caught:
            _get(server.url + PATH)
        assert caught.value.code == 404
        assert server.answered() == {"ok": 2, "over budget": 1}
