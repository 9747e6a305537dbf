"""Live Internet Archive harvesting over real HTTP against the loopback replay server.

The responses are real archive.org answers (bundled sample and ../shared/data/real); the
client is the real `internetarchive` package, whose archive.org requests our adapter sends
to 127.0.0.1.
"""

from __future__ import annotations

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
from preservation.sources.internetarchive.live import Archive, Etiquette, Scope
from tests.replay import ReplayServer

IA = sample_dir() / "internetarchive"
HIPPO = "78_i-want-a-hippopotamus-for-christmas_vicki-dale-the-peter-pan-orchestra_gbia0000281a"
HIPPO_FILE = IA / "metadata_api" / f"{HIPPO}.json"
SCRAPE = Path(__file__).parent / "data/internetarchive/scrape_nasa.json"
UNKNOWN_BODY = IA / "metadata_api/mbid-8dd38d9f-eae6-47a7-baa8-eaa46687.json"  # real {}
DARK_BODY = IA / "metadata_api/mbid-3c556c47-110d-4782-a607-c93e486bccf8.json"  # real is_dark


@pytest.fixture()
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        replay.route("/services/search/v1/scrape", SCRAPE)
        replay.route(f"/metadata/{HIPPO}", HIPPO_FILE)
        yield replay


@pytest.fixture()
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = store.connect(tmp_path / "ia.duckdb")
    yield connection
    connection.close()


def archive(server: ReplayServer, retries: int = 2) -> Archive:
    return Archive(Etiquette("tests@example.org", server.url, interval=0.05, retries=retries))


def test_a_78_item_harvested_live_normalizes_to_the_real_records_values(server, con, tmp_path):
    result = harvest_live(con, "internetarchive", [Scope("item", HIPPO)], archive(server))
    assert (result.payloads, result.new_payloads, result.quarantined) == (1, 1, 0)
    stored = con.execute("SELECT key, payload FROM raw_records").fetchone()
    assert stored == (f"item:{HIPPO}", HIPPO_FILE.read_text())
    (request,) = server.log
    assert (request.method, request.path) == ("GET", f"/metadata/{HIPPO}")
    assert request.user_agent.startswith("internetarchive/")
    assert request.user_agent.endswith("preservation/0.1.0 ( tests@example.org )")
    normalize(con)
    row = con.execute(
        "SELECT label, catalog_number, matrix, side, date, medium_format FROM recordings"
    ).fetchone()
    # Expected values read from the real record, not typed in.
    metadata = json.loads(HIPPO_FILE.read_text())["metadata"]
    urns = {u.split(":")[1]: u.split(":", 3)[-1] for u in metadata["external-identifier"]}
    assert row == (
        metadata["publisher"],  # a 78's publisher is its label
        urns["pubcat"],  # urn:pubcat:<label>:<catalog number>
        urns["matrix_no"],
        HIPPO.rsplit("_gbia", 1)[1][-1].upper(),  # the side, from the identifier's ...a
        metadata["date"],
        "78 rpm disc",
    )
    files = json.loads(HIPPO_FILE.read_text())["files"]
    assert any(f["format"] == "24bit Flac" for f in files)  # so the copy is lossless
    assert con.execute("SELECT copy_format, rights_statement FROM holdings").fetchall() == [
        ("lossless", None)  # the Great 78 items carry no licence field
    ]
    # The same response saved in a folder gives the same row: one parser, two transports.
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / HIPPO_FILE.name).write_bytes(HIPPO_FILE.read_bytes())
    saved = store.connect(tmp_path / "saved.duckdb")
    harvest_folder(saved, "internetarchive", folder)
    normalize(saved)
    query = "SELECT * EXCLUDE (raw_keys) FROM recordings"
    assert saved.execute(query).fetchall() == con.execute(query).fetchall()
    saved.close()


def test_collection_scrape_asks_for_the_fields_and_keeps_the_cursor(server, con):
    scope = Scope("collection", "nasa", since="2020-01-01")
    result = harvest_live(con, "internetarchive", [scope], archive(server))
    page = json.loads(SCRAPE.read_text())
    assert (result.payloads, result.entities) == (1, len(page["items"]))
    (request,) = server.log
    assert request.method == "POST"
    assert request.query["q"] == ["collection:nasa AND addeddate:[2020-01-01 TO 9999-12-31]"]
    assert "external-identifier" in request.query["fields"][0].split(",")
    checkpoint = con.execute(
        "SELECT position, total, done, cursor FROM harvest_checkpoints"
    ).fetchone()
    # The real page holds all `total` items, so the scope is done; its cursor is kept.
    assert checkpoint == (page["total"], page["total"], True, page["cursor"])
    normalize(con)
    identifiers = {r[0] for r in con.execute("SELECT source_id FROM recordings").fetchall()}
    assert identifiers == {item["identifier"] for item in page["items"]}


def test_an_interrupted_scrape_resumes_from_its_stored_cursor(server, con):
    # A previous run stored the first page and the cursor of the next, then was stopped.
    scope = Scope("collection", "nasa")
    page = json.loads(SCRAPE.read_text())
    con.execute(
        "INSERT INTO harvest_checkpoints BY NAME SELECT 'internetarchive' AS source, "
        "? AS scope, 100 AS position, 300 AS total, false AS done, 1 AS run_id, "
        "now()::TIMESTAMP AS updated_at, ? AS cursor",
        [scope.name, page["cursor"]],
    )
    server.fail_next("/services/search/v1/scrape", "503", "503", "503")
    with pytest.raises(PreservationError, match="answered 503"):
        harvest_live(con, "internetarchive", [scope], archive(server))
    assert [r.query.get("cursor") for r in server.log] == [[page["cursor"]]] * 3
    assert con.execute("SELECT position, cursor FROM harvest_checkpoints").fetchone() == (
        100,
        page["cursor"],
    )


def test_unknown_and_dark_items_are_answers_not_errors(server, con):
    # archive.org answers {} for any identifier it does not know, so the real {} stands for
    # an unknown audio item. The real dark answer names its own item (a Cover Art Archive
    # image item), so it is asked for under that identifier.
    unknown, dark = "78_an-unknown-side_gbia0000002b", DARK_BODY.stem
    server.route(f"/metadata/{unknown}", UNKNOWN_BODY)
    server.route(f"/metadata/{dark}", DARK_BODY)
    scopes = [Scope("item", unknown), Scope("item", dark)]
    result = harvest_live(con, "internetarchive", scopes, archive(server))
    assert (result.payloads, result.quarantined) == (2, 0)
    outcome = normalize(con)
    gone = con.execute("SELECT record_id, live, status_note FROM holdings").fetchall()
    assert gone == [
        (
            f"internetarchive:item:{unknown}",
            False,
            "unknown identifier: archive.org answered {}",
        )
    ]
    assert outcome.skipped == {
        "Cover Art Archive item (cover images, not audio): item is dark (withdrawn from view)": 1
    }


def test_429_then_success_waits_what_retry_after_says(server, con):
    server.fail_next(f"/metadata/{HIPPO}", "429")
    harvest_live(con, "internetarchive", [Scope("item", HIPPO)], archive(server))
    assert [r.answered for r in server.log] == ["429", "ok"]
    assert server.log[1].at - server.log[0].at >= server.faults.retry_after * 0.95


def test_a_body_cut_short_is_asked_again_and_a_short_one_quarantined(server, con):
    server.fail_next(f"/metadata/{HIPPO}", "truncate")
    harvest_live(con, "internetarchive", [Scope("item", HIPPO)], archive(server))
    assert [r.answered for r in server.log] == ["truncate", "ok"]
    assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (1,)

    # A body shorter than the real one but complete as HTTP goes is asked for again too
    # (most often it passes); one still short after the retries is kept in quarantine.
    server.fail_next(f"/metadata/{HIPPO}", "short")
    result = harvest_live(con, "internetarchive", [Scope("item", HIPPO)], archive(server))
    assert result.quarantined == 0 and [r.answered for r in server.log][-2:] == ["short", "ok"]
    server.fail_next(f"/metadata/{HIPPO}", "short", "short", "short")  # 1 + 2 retries
    result = harvest_live(con, "internetarchive", [Scope("item", HIPPO)], archive(server))
    assert result.quarantined == 1
    reason, payload = con.execute("SELECT reason, payload FROM quarantine").fetchone()
    assert reason.startswith("invalid JSON")
    assert payload == HIPPO_FILE.read_bytes()[: len(HIPPO_FILE.read_bytes()) // 2].decode()


def test_giving_up_names_the_request_and_keeps_what_was_stored(server, con):
    harvest_live(con, "internetarchive", [Scope("item", HIPPO)], archive(server))
    server.fail_next("/services/search/v1/scrape", "503", "503", "503")
    with pytest.raises(PreservationError, match="scrape answered 503"):
        harvest_live(con, "internetarchive", [Scope("collection", "nasa")], archive(server))
    assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (1,)
    assert con.execute("SELECT status FROM harvest_log ORDER BY run_id").fetchall() == [
        ("ok",),
        ("failed",),
    ]


def test_cli_harvest_internetarchive(server, tmp_path):
    from typer.testing import CliRunner

    from preservation.cli import app

    db = str(tmp_path / "cli.duckdb")
    common = ["--contact", "tests@example.org", "--base-url", server.url, "--db", db]
    ok = CliRunner().invoke(app, ["harvest", "internetarchive", "--item", HIPPO, *common])
    assert ok.exit_code == 0, ok.output
    assert "internetarchive: 1 responses (1 entities), 1 new" in ok.output
    none = CliRunner().invoke(app, ["harvest", "internetarchive", *common])
    assert none.exit_code == 1
    assert none.output.startswith("error: nothing to harvest")


def test_items_listed_by_a_search_are_fetched_afterwards(server, con, tmp_path):
    from typer.testing import CliRunner

    from preservation.cli import app
    from preservation.sources.internetarchive.live import item_scopes

    harvest_live(con, "internetarchive", [Scope("collection", "nasa")], archive(server))
    listed = [item["identifier"] for item in json.loads(SCRAPE.read_text())["items"]]
    assert item_scopes(con) == [Scope("item", i) for i in sorted(listed)]
    harvest_live(con, "internetarchive", [Scope("item", HIPPO)], archive(server))
    assert len(item_scopes(con)) == len(listed)  # an item not listed by a search changes nothing
    con.close()

    # Through the CLI: the search first, then the listed items. No real metadata answer of
    # these NASA items is recorded, so the replay server answers 404 and the run stops there,
    # saying which request failed and keeping what was stored.
    db = str(tmp_path / "items.duckdb")
    common = ["--contact", "tests@example.org", "--base-url", server.url, "--db", db]
    result = CliRunner().invoke(
        app, ["harvest", "internetarchive", "--collection", "nasa", "--items", *common]
    )
    assert result.exit_code == 1
    first = sorted(listed)[0]
    assert result.output.strip() == (
        f"error: internetarchive: GET /metadata/{first} answered 404; "
        "what was stored is kept and the harvest resumes from there"
    )
    assert [r.path for r in server.log][-1] == f"/metadata/{first}"
