"""Wikimedia Commons: the parser on a real API answer, and live harvesting against the replay
server. The answer is a real `generator=search` page of 40 audio files (results 41-80 of a
search; see tests/data/PROVENANCE.md); the licence fields come from a real file-details
answer (for an image: no audio file's was recorded anywhere we could find).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from preservation import store
from preservation.errors import PreservationError
from preservation.harvest import harvest_live
from preservation.normalize import normalize
from preservation.sources import get_source
from preservation.sources.commons.live import Commons, Scope
from preservation.sources.commons.parse import rights
from preservation.sources.http import Etiquette
from tests.replay import ReplayServer

DATA = Path(__file__).parent / "data" / "wikimedia_commons"
SEARCH = DATA / "search_audio_offset40.json"
DETAILS = DATA / "image_details_extmetadata.json"


@pytest.fixture()
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = store.connect(tmp_path / "commons.duckdb")
    yield connection
    connection.close()


def test_every_audio_file_of_the_real_page_is_a_record_with_its_copy_format():
    answer = json.loads(SEARCH.read_text())
    pages = list(answer["query"]["pages"].values())
    parsed = get_source("commons").parse(answer, "search:x#offset=40")
    assert len(parsed.records) == len(pages)
    by_id = {r.source_id: r for r in parsed.records}
    for page in pages:
        record = by_id[page["title"].removeprefix("File:")]
        assert record.duration_s == page["imageinfo"][0].get("duration")
        assert record.page_url == page["canonicalurl"]
    mimes = Counter(p["imageinfo"][0]["mime"] for p in pages)
    formats = Counter(h.copy_format for h in parsed.holdings)
    assert formats == {
        "lossless": mimes["audio/wav"] + mimes["audio/x-flac"],
        "lossy": mimes["application/ogg"] + mimes["audio/mpeg"],
    }
    assert all(h.rights_statement is None for h in parsed.holdings)  # not asked for there


def test_the_licence_is_read_from_real_extmetadata():
    page = next(iter(json.loads(DETAILS.read_text())["query"]["pages"].values()))
    meta = page["imageinfo"][0]["extmetadata"]
    assert rights(meta) == (f"{meta['LicenseShortName']['value']} {meta['LicenseUrl']['value']}")
    # An image, so not a record: only audio files are.
    assert get_source("commons").parse(json.loads(DETAILS.read_text()), "file:x").records == []


def test_search_pages_by_offset_and_stops_where_the_service_does(con):
    scope = Scope("search", "cat")
    # The recorded page is results 41-80: start as if the first page had been harvested.
    con.execute(
        "INSERT INTO harvest_checkpoints BY NAME SELECT 'commons' AS source, ? AS scope, "
        "40 AS position, 11174 AS total, false AS done, 1 AS run_id, "
        "now()::TIMESTAMP AS updated_at, NULL AS cursor",
        [scope.name],
    )
    with ReplayServer() as server:
        server.route("/w/api.php", SEARCH, query={"gsroffset": "40"})
        client = Commons(Etiquette("tests@example.org", server.url, interval=0.05, retries=1))
        with pytest.raises(PreservationError, match=r"commons: GET /w/api\.php answered 404"):
            harvest_live(con, "commons", [scope], client)
        first, second = server.log
    assert first.query["gsroffset"] == ["40"] and second.query["gsroffset"] == ["80"]
    assert first.query["gsrsearch"] == ["filetype:audio cat"]
    assert first.query["maxlag"] == ["5"]
    assert "extmetadata" in first.query["iiprop"][0]
    assert first.user_agent.startswith("preservation/0.1.0 ( tests@example.org ) ")
    # The page that came back is stored, with where to go next.
    assert con.execute("SELECT position, total, done FROM harvest_checkpoints").fetchone() == (
        80,
        11174,
        False,
    )
    normalize(con)
    assert con.execute("SELECT count(*) FROM recordings").fetchone() == (40,)
    assert con.execute("SELECT DISTINCT platform, access_class FROM holdings").fetchall() == [
        ("Wikimedia Commons", "open_archive")
    ]
