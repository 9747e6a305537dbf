"""MusicBrainz JSON dump import (`import-dump`).

The dump files are built from real MusicBrainz entities (the bundled sample's WS/2 lookups,
which have the shape of dump lines: one entity with its relationships), one per line, the way
mbdump/<entity> holds them. The TIMESTAMP file is written by the test.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from preservation import store
from preservation.cli import app
from preservation.harvest import harvest_folder, harvest_live
from preservation.normalize import normalize
from preservation.pipeline import sample_dir
from preservation.sources.musicbrainz import dump
from preservation.sources.musicbrainz.dump import import_dump
from preservation.sources.musicbrainz.live import Etiquette, Scope, WebService
from tests.replay import ReplayServer

MB = sample_dir() / "musicbrainz"
ENTITIES = {
    "recording": [
        "ws2_json_picard/recording.json",
        "ws2_json_picard/recording_composer.json",
        "ws2_json_picard/recording_instrumental.json",
        "ws2_json_picard/recording_video.json",
    ],
    "release": [
        "ws2_json_picard/release.json",
        "ws2_json_musicbrainz_rs/lookup/release/59211ea4-ffd2-4ad9-9a4e-941d3148024a.json",
        "ws2_json_musicbrainz_rs/lookup/release/987f3e2d-22a6-4a4f-b840-c80c26b8b91a.json",
        "ws2_json_url_rels/release_6393da26-1c2a-491c-8149-3ddaf5cc0d89_inc-url-rels.json",
        "ws2_json_url_rels/release_7d0cf748-475e-4be6-b7f2-ef2d55f3f0f5_inc-url-rels.json",
        "ws2_json_url_rels/release_83a3f2c0-3ca7-4e6e-9de8-f740a1eb8990_inc-url-rels.json",
    ],
    "work": ["ws2_json_musicbrainz_rs/lookup/work/c1b0e8a2-2461-4d48-9a89-f4e6d624d342.json"],
    "artist": ["ws2_json_picard/artist_ended.json"],
}
# The merged tables, without provenance columns (keys differ between a dump and a harvest).
MERGED = {
    "recordings": "SELECT * EXCLUDE (raw_keys) FROM recordings ORDER BY ALL",
    "holdings": "SELECT * EXCLUDE (evidence) FROM holdings ORDER BY ALL",
    "works": "SELECT * EXCLUDE (raw_keys) FROM works ORDER BY ALL",
    "work_writers": "SELECT * FROM work_writers ORDER BY ALL",
    "recording_works": "SELECT * FROM recording_works ORDER BY ALL",
    "artists": "SELECT * EXCLUDE (raw_keys) FROM artists ORDER BY ALL",
}


def entity_line(relative: str) -> str:
    return json.dumps(json.loads((MB / relative).read_text()), ensure_ascii=False)


def write_mbdump(folder: Path, lines: dict[str, list[str]]) -> Path:
    (folder / "mbdump").mkdir(parents=True)
    (folder / "TIMESTAMP").write_text("2026-11-18 00:00:00.000000+00\n")
    for entity, entity_lines in lines.items():
        (folder / "mbdump" / entity).write_text("".join(f"{line}\n" for line in entity_lines))
    return folder


def pack(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:xz") as tar:
        tar.add(folder / "TIMESTAMP", arcname="TIMESTAMP")
        for file in sorted((folder / "mbdump").iterdir()):  # artist, recording, release, work
            tar.add(file, arcname=f"mbdump/{file.name}")
    return archive


@pytest.fixture()
def real_lines() -> dict[str, list[str]]:
    return {entity: [entity_line(f) for f in files] for entity, files in ENTITIES.items()}


@pytest.fixture()
def archive(tmp_path, real_lines) -> Path:
    return pack(write_mbdump(tmp_path / "extracted", real_lines), tmp_path / "dump.tar.xz")


@pytest.fixture()
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = store.connect(tmp_path / "dump.duckdb")
    yield connection
    connection.close()


def merged(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {table: con.execute(sql).fetchall() for table, sql in MERGED.items()}


def test_dump_import_gives_the_same_rows_as_the_live_harvest(archive, con, tmp_path):
    result = import_dump(con, archive)
    assert result.dump_timestamp == "2026-11-18 00:00:00.000000+00"
    assert {e.entity: (e.lines, e.staged, e.quarantined) for e in result.entities} == {
        entity: (len(files), len(files), 0) for entity, files in ENTITIES.items()
    }
    from_dump = merged(con)
    assert len(from_dump["recordings"]) > len(ENTITIES["recording"])  # release tracks too
    assert from_dump["holdings"] and from_dump["work_writers"] and from_dump["artists"]

    # The same entities through the live path: the real client against the replay server for
    # recording and release lookups; works and artists are not live scopes, so their saved
    # responses go through the same parser from a folder.
    live = store.connect(tmp_path / "live.duckdb")
    with ReplayServer() as server:
        scopes = []
        for kind in ("recording", "release"):
            for relative in ENTITIES[kind]:
                mbid = json.loads((MB / relative).read_text())["id"]
                server.route(f"/ws/2/{kind}/{mbid}", MB / relative)
                scopes.append(Scope(kind, mbid))
        client = WebService(Etiquette("tests@example.org", server.url, interval=0.05))
        harvested = harvest_live(live, "musicbrainz", scopes, client)
    assert harvested.payloads == len(scopes)
    folder = tmp_path / "saved" / "musicbrainz"
    folder.mkdir(parents=True)
    for relative in ENTITIES["work"] + ENTITIES["artist"]:
        (folder / Path(relative).name).write_bytes((MB / relative).read_bytes())
    harvest_folder(live, "musicbrainz", folder)
    normalize(live)
    assert merged(live) == from_dump
    live.close()


def test_archive_extracted_folder_and_bare_file_import_alike(archive, tmp_path):
    from_archive = store.connect(tmp_path / "a.duckdb")
    import_dump(from_archive, archive)
    from_folder = store.connect(tmp_path / "b.duckdb")
    import_dump(from_folder, tmp_path / "extracted")
    assert merged(from_folder) == merged(from_archive)
    raw_keys = from_archive.execute(
        "SELECT raw_keys FROM recordings WHERE source_id = ?",
        [json.loads((MB / ENTITIES["recording"][2]).read_text())["id"]],
    ).fetchone()
    assert raw_keys == (["dump.tar.xz:mbdump/recording"],)  # the MBID names the line
    release = json.loads((MB / ENTITIES["release"][0]).read_text())
    track = release["media"][0]["tracks"][0]["recording"]["id"]
    track_keys = from_archive.execute(
        "SELECT raw_keys FROM recordings WHERE source_id = ?", [track]
    ).fetchone()
    assert track_keys == ([f"dump.tar.xz:mbdump/release#{release['id']}"],)

    bare = store.connect(tmp_path / "c.duckdb")
    (only,) = import_dump(bare, tmp_path / "extracted" / "mbdump" / "work").entities
    assert (only.entity, only.lines) == ("work", 1)
    renamed = tmp_path / "works-2026.jsonl"
    renamed.write_bytes((tmp_path / "extracted" / "mbdump" / "work").read_bytes())
    with pytest.raises(Exception, match="cannot tell which entity"):
        import_dump(bare, renamed)
    assert import_dump(bare, renamed, entity="work").entities[0].staged == 1
    for connection in (from_archive, from_folder, bare):
        connection.close()


def test_malformed_lines_are_quarantined_with_line_number_and_reason(con, tmp_path, real_lines):
    good = real_lines["recording"]
    no_id = json.loads(good[1])
    del no_id["id"]
    bad_work = json.loads(good[3])
    for rel in bad_work["relations"]:
        if rel["target-type"] == "work":
            rel["work"]["id"] = "not-an-mbid"
    lines = [
        good[0],
        good[2][: len(good[2]) // 2],  # line 2: cut short
        "",  # line 3: blank
        json.dumps(["not", "an", "entity"]),  # line 4
        json.dumps(no_id),  # line 5
        json.dumps(bad_work),  # line 6
        good[1],  # line 7
    ]
    folder = write_mbdump(tmp_path / "bad", {"recording": lines})
    (result,) = import_dump(con, folder).entities
    assert (result.lines, result.staged, result.quarantined) == (7, 2, 5)
    kept = dict(
        con.execute(
            "SELECT key, reason FROM quarantine WHERE stage = 'import' ORDER BY key"
        ).fetchall()
    )
    assert list(kept) == [f"bad:mbdump/recording#{n}" for n in (2, 3, 4, 5, 6)]
    assert kept["bad:mbdump/recording#2"].startswith("invalid JSON: ")
    assert kept["bad:mbdump/recording#3"] == "blank line"
    assert kept["bad:mbdump/recording#4"] == "expected a JSON object, got list"
    assert kept["bad:mbdump/recording#5"] == "recording without a valid 'id'"
    assert kept["bad:mbdump/recording#6"].startswith("work relationship without a valid")
    payload = con.execute(
        "SELECT payload FROM quarantine WHERE key = 'bad:mbdump/recording#2'"
    ).fetchone()
    assert payload == (lines[1],)
    assert con.execute("SELECT list(source_id ORDER BY source_id) FROM recordings").fetchone() == (
        sorted(json.loads(line)["id"] for line in (good[0], good[1])),
    )


def test_interrupted_import_resumes_where_it_stopped(archive, tmp_path, monkeypatch):
    clean = store.connect(tmp_path / "clean.duckdb")
    import_dump(clean, archive, chunk_bytes=4096)
    con = store.connect(tmp_path / "interrupted.duckdb")
    real_stage = dump._stage_chunk
    calls = {"n": 0}

    def stage_then_die(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the third chunk: the recording file's second line
            raise KeyboardInterrupt
        return real_stage(*args, **kwargs)

    monkeypatch.setattr(dump, "_stage_chunk", stage_then_die)
    with pytest.raises(KeyboardInterrupt):
        import_dump(con, archive, chunk_bytes=4096)
    done_before = con.execute("SELECT entity, lines_done, status FROM dump_imports").fetchall()
    assert done_before == [("artist", 1, "complete"), ("recording", 1, "running")]
    assert con.execute("SELECT status FROM harvest_log").fetchall() == [("failed",)]
    normalize(con)  # an unfinished import does not count
    assert con.execute("SELECT count(*) FROM recordings").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM artists").fetchone() == (1,)

    monkeypatch.setattr(dump, "_stage_chunk", real_stage)
    resumed = import_dump(con, archive, chunk_bytes=4096)
    recording = next(e for e in resumed.entities if e.entity == "recording")
    assert (recording.resumed_at_line, recording.lines) == (1, len(ENTITIES["recording"]) - 1)
    assert merged(con) == merged(clean)
    count = "SELECT count(*), count(DISTINCT (record_id, document, pos)) FROM source_records"
    assert con.execute(count).fetchone() == clean.execute(count).fetchone()
    assert con.execute("SELECT entity, status FROM dump_imports ORDER BY import_id").fetchall() == [
        ("artist", "superseded"),  # complete before the interruption, imported again after
        ("recording", "complete"),  # resumed
        ("artist", "complete"),
        ("release", "complete"),
        ("work", "complete"),
    ]
    clean.close()
    con.close()


def test_a_new_import_replaces_the_previous_one_and_harvests_survive(archive, con, tmp_path):
    import_dump(con, archive)
    first = merged(con)
    harvest_folder(con, "loc", sample_dir() / "loc")
    normalize(con)
    with_loc = con.execute("SELECT count(*) FROM recordings WHERE source = 'loc'").fetchone()
    assert with_loc[0] > 0
    import_dump(con, archive)
    assert con.execute(
        "SELECT status, count(*) FROM dump_imports GROUP BY 1 ORDER BY 1"
    ).fetchall() == [("complete", 4), ("superseded", 4)]
    assert con.execute("SELECT count(*) FROM recordings WHERE source = 'loc'").fetchone() == (
        with_loc
    )
    mb_only = {
        table: [row for row in rows if "loc:" not in str(row)]
        for table, rows in merged(con).items()
    }
    assert mb_only == first
    assert_unique_keys(con)


KEYS = {
    "recordings": "record_id",
    "holdings": "record_id, url, relation_type",
    "works": "work_id",
    "work_writers": "work_id, role, artist_id",
    "recording_works": "record_id, work_id",
    "artists": "artist_id",
}


def assert_unique_keys(con: duckdb.DuckDBPyConnection) -> None:
    """The merged tables have no key index (for speed); the merge must keep keys unique."""
    for table, key in KEYS.items():
        total, distinct = con.execute(
            f"SELECT count(*), count(DISTINCT ({key})) FROM {table}"
        ).fetchone()
        assert total == distinct, table


def test_chunks_keep_line_numbers_and_skip_whole_lines():
    lines = [f'{{"n": {i}}}' for i in range(1, 51)]
    data = "\n".join(lines).encode()  # the last line has no newline
    chunks = list(dump._chunks(io.BytesIO(data), 64, skip_lines=7))
    assert chunks[0][0] == 8
    rebuilt = b"".join(block for _, block, _ in chunks).decode().splitlines()
    assert rebuilt == lines[7:]
    for first, block, count in chunks:
        numbers = [json.loads(line)["n"] for line in block.splitlines()]
        assert numbers == list(range(first, first + count))


def test_cli_import_dump_and_its_one_line_failure(archive, tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.duckdb")
    ok = runner.invoke(app, ["import-dump", str(archive), "--db", db])
    assert ok.exit_code == 0, ok.output
    assert "mbdump/recording: 4 lines -> 4 recordings staged, 0 quarantined" in ok.output
    cut = tmp_path / "cut.tar.xz"
    cut.write_bytes(archive.read_bytes()[:4000])
    failed = runner.invoke(app, ["import-dump", str(cut), "--db", db])
    assert failed.exit_code == 1
    assert failed.output.startswith("error: cannot read ")
    assert len(failed.output.strip().splitlines()) == 1


def test_a_line_longer_than_duckdbs_default_object_size_imports(con, tmp_path, real_lines):
    # Box-set releases run to megabytes on one line; DuckDB refuses lines over its default
    # 16 MB unless told, so each chunk is read with its longest line's length.
    release = json.loads(real_lines["release"][0])
    release["annotation"] = "long annotation " * 1_250_000  # 20 MB
    lines = [real_lines["release"][1], json.dumps(release), real_lines["release"][2]]
    folder = write_mbdump(tmp_path / "long", {"release": lines})
    (result,) = import_dump(con, folder).entities
    assert (result.lines, result.staged, result.quarantined) == (3, 3, 0)
    assert con.execute(
        "SELECT count(*) FROM recordings WHERE list_contains(release_ids, ?)", [release["id"]]
    ).fetchone()[0] == sum(len(m["tracks"]) for m in release["media"])


def test_the_object_size_fits_the_longest_line(monkeypatch):
    # The windowed look must agree with measuring every line: small sizes, so that lines
    # around the limit, at the block's start, middle and end, can all be tried.
    monkeypatch.setattr(dump, "MIN_OBJECT_BYTES", 64)
    rng = random.Random(78)
    for _ in range(2_000):
        lengths = [rng.choice([0, 1, 30, 61, 62, 63, 64, 100, rng.randrange(130)]) for _ in
                   range(rng.randrange(1, 8))]  # fmt: skip
        block = b"\n".join(b"x" * n for n in lengths) + rng.choice([b"\n", b""])
        expected = max(64, dump._longest_line(block) + 2)
        assert dump._object_size(block) == expected, lengths


def test_chunks_go_to_a_named_temp_folder_else_to_ram_with_room(monkeypatch, tmp_path):
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile caches the folder it found
    ram = tmp_path / "shm"
    assert dump.chunk_parent(2**20, ram) == Path(tempfile.gettempdir())  # no such folder
    ram.mkdir()
    assert dump.chunk_parent(2**20, ram) == ram
    assert dump.chunk_parent(2**60, ram) == Path(tempfile.gettempdir())  # no room for two
    named = tmp_path / "named"
    named.mkdir()
    monkeypatch.setenv("TMPDIR", str(named))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert dump.chunk_parent(2**20, ram) == named  # the user's choice wins


def test_an_import_with_its_chunks_in_ram_cleans_up_there_and_after_the_dead(
    archive, con, tmp_path, monkeypatch
):
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    ram = tmp_path / "shm"
    ram.mkdir()
    monkeypatch.setattr(dump, "RAM_FOLDER", ram)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    left = ram / f"{dump.CHUNK_FOLDER_PREFIX}{dead}-x1"  # what a killed import leaves
    left.mkdir()
    (left / "chunk.jsonl").write_text("{}\n")
    used: list[Path] = []
    chunk_parent = dump.chunk_parent
    monkeypatch.setattr(
        dump, "chunk_parent", lambda size: used.append(chunk_parent(size)) or used[-1]
    )
    result = import_dump(con, archive)
    assert used and set(used) == {ram}
    assert {e.entity: (e.staged, e.quarantined) for e in result.entities} == {
        entity: (len(files), 0) for entity, files in ENTITIES.items()
    }
    assert list(ram.iterdir()) == []  # the killed import's folder and this import's are gone
