"""Bad input, property-based: the MusicBrainz dump importer (`import-dump`).

Dump files are built from real MusicBrainz entities (the bundled sample's WS/2 lookups, which
have the shape of dump lines), each line given a fresh MBID, then some lines are left as they
are and the others made hostile by hypothesis: fields replaced by hostile values or wrong
types, keys dropped or added, lists cut, a hostile title, bytes truncated or laced with invalid
UTF-8 and control bytes, blank lines, JSON that is not an object, nesting thousands deep.

Properties: the import never fails on a bad line; every line is counted once, staged or
quarantined (key `<file>#<line>`, a reason, the line as it was); a line that is not a JSON
object with an MBID is quarantined; an untouched line is staged; hostile titles are kept as
data; the merged tables hold only real dates and positive finite durations. And on the
command line: the summary's counts are the database's, and a file that cannot be imported at
all is one `error:` line with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from typer.testing import CliRunner

from preservation import store
from preservation.cli import app
from preservation.pipeline import sample_dir
from preservation.sources.base import json_object, load_json
from preservation.sources.musicbrainz.dump import import_dump
from tests.test_bad_input import (
    BAD_DATES,
    DEEP,
    HOSTILE_NUMBERS,
    MBID,
    TITLES,
    assert_merged_tables_sane,
    damage_bytes,
    empty,
    mutate_document,
    reproducible,
)

MB = sample_dir() / "musicbrainz"
# Real entities of each dump entity file (as tests/test_import_dump.py uses them).
ENTITY_DOCUMENTS: dict[str, list[Path]] = {
    "recording": [
        MB / "ws2_json_picard/recording.json",
        MB / "ws2_json_picard/recording_composer.json",
        MB / "ws2_json_picard/recording_instrumental.json",
        MB / "ws2_json_picard/recording_video.json",
    ],
    "release": [
        MB / "ws2_json_picard/release.json",
        MB / "ws2_json_musicbrainz_rs/lookup/release/59211ea4-ffd2-4ad9-9a4e-941d3148024a.json",
        MB / "ws2_json_url_rels/release_7d0cf748-475e-4be6-b7f2-ef2d55f3f0f5_inc-url-rels.json",
        MB / "ws2_json_url_rels/release_83a3f2c0-3ca7-4e6e-9de8-f740a1eb8990_inc-url-rels.json",
    ],
    "work": [MB / "ws2_json_musicbrainz_rs/lookup/work/c1b0e8a2-2461-4d48-9a89-f4e6d624d342.json"],
    "artist": [MB / "ws2_json_picard/artist_ended.json"],
}
TITLE_KEY = {"recording": "title", "release": "title", "work": "title", "artist": "name"}
# Where a line's entity is found once staged: its id, per sighting table.
STAGED_IDS = {
    "recording": "SELECT source_id FROM source_records WHERE import_id = ? AND document IS NULL",
    "release": "SELECT coalesce(document, source_id) FROM source_records WHERE import_id = ? "
    "AND (document IS NOT NULL OR kind = 'release')",
    "work": "SELECT source_id FROM source_works WHERE import_id = ? AND document IS NULL",
    "artist": "SELECT source_id FROM source_artists WHERE import_id = ?",
}
# Where a hostile title lands once merged.
TITLE_SQL = {
    "recording": "SELECT title FROM recordings WHERE record_id = 'musicbrainz:recording:' || ?",
    "release": "SELECT title FROM recordings WHERE record_id = 'musicbrainz:release:' || ?",
    "work": "SELECT title FROM works WHERE work_id = 'musicbrainz:work:' || ?",
    "artist": "SELECT name FROM artists WHERE artist_id = 'musicbrainz:artist:' || ?",
}


@dataclass
class Line:
    """One dump line: its bytes, how it was made, and (for some kinds) what must become of it."""

    kind: str  # good | title | mutated | bytes | blank | not-object | deep
    body: bytes = field(repr=False)
    mbid: str | None = None
    title: str | None = None
    steps: list[str] = field(default_factory=list)


@dataclass
class DumpFile:
    entity: str
    lines: list[Line]
    archive: bool  # packed in a .tar.xz as MusicBrainz publishes it, or a bare mbdump file

    def write(self, folder: Path) -> Path:
        data = b"".join(line.body + b"\n" for line in self.lines)
        bare = folder / self.entity
        bare.write_bytes(data)
        if not self.archive:
            return bare
        archive = folder / "dump.tar.xz"
        with tarfile.open(archive, "w:xz") as tar:
            tar.add(bare, arcname=f"mbdump/{self.entity}")
        return archive


@st.composite
def dump_lines(draw: st.DrawFn, entity: str, mbid: str) -> Line:
    origin = draw(st.sampled_from(ENTITY_DOCUMENTS[entity]))
    doc = json.loads(origin.read_text(encoding="utf-8"))
    doc["id"] = mbid
    kind = draw(st.sampled_from(["good", "title", "mutated", "mutated", "bytes", "blank", "other"]))
    if kind == "good":
        return Line(kind, json.dumps(doc, ensure_ascii=draw(st.booleans())).encode(), mbid)
    if kind == "title":
        title = draw(TITLES)
        doc[TITLE_KEY[entity]] = title
        if entity == "release":
            doc.pop("media", None)  # a release with no tracklist is kept as itself
        return Line(kind, json.dumps(doc).encode(), mbid, title)
    if kind == "blank":
        return Line(kind, draw(st.sampled_from([b"", b" ", b"\t", b"  \t \r"])))
    if kind == "other":
        value = draw(
            st.one_of(
                st.sampled_from([[], [1, 2], "text", 3, None, True, 1.5]),
                HOSTILE_NUMBERS,
                st.just(DEEP),
            )
        )
        body = json.dumps(value, default=str).encode()
        depth = draw(st.sampled_from([10, 5_000, 100_000]))
        body = body.replace(json.dumps(DEEP).encode(), b"[" * depth + b"]" * depth)
        return Line("not-object", body, steps=[f"{value!r:.60}"])
    steps: list[str] = []
    if kind == "mutated":
        doc = mutate_document(draw, origin, steps, doc)
        text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
        if DEEP in text:
            depth = draw(st.sampled_from([40, 5_000, 100_000]))
            text = text.replace(json.dumps(DEEP), "[" * depth + "]" * depth)
        return Line(kind, text.encode("utf-8", "surrogatepass"), mbid, steps=steps)
    body = damage_bytes(draw, json.dumps(doc).encode(), draw(st.integers(1, 2)), steps)
    return Line("bytes", body, mbid, steps=steps)


@st.composite
def dump_files(draw: st.DrawFn) -> DumpFile:
    entity = draw(st.sampled_from(sorted(ENTITY_DOCUMENTS)))
    salt = draw(st.integers(0, 2**64))  # each line's entity gets an MBID of its own
    mbids = [str(uuid.UUID(int=salt * 16 + n + 1)) for n in range(draw(st.integers(1, 8)))]
    lines = [draw(dump_lines(entity, mbid)) for mbid in mbids]
    return DumpFile(entity, lines, draw(st.integers(0, 4)) == 0)


def usable(line: Line) -> bool | None:
    """Whether the line is, to Python's strict reading, a JSON object with an MBID: a line
    that is not must be quarantined (one that is may still be, for a bad relationship).

    None when Python cannot tell: JSON nested deeper than Python decodes is still JSON, and
    DuckDB reads it (a nested value where text belongs is read as its JSON text).
    """
    try:
        doc = json_object(load_json(line.body))
    except ValueError as exc:  # MalformedPayload too
        return None if "nested too deeply" in str(exc) else False
    return isinstance(doc.get("id"), str) and bool(MBID.fullmatch(doc["id"]))


def check_import(con: duckdb.DuckDBPyConnection, case: DumpFile) -> None:
    for n, line in enumerate(case.lines, start=1):
        note(f"line {n}: {line.kind} {len(line.body)} bytes {'; '.join(line.steps)}")
    with tempfile.TemporaryDirectory(prefix="bad-dump-") as tmp:
        path = case.write(Path(tmp))
        empty(con)
        result = import_dump(con, path)  # a bad line never fails the import
    (done,) = result.entities
    raw_key = f"dump.tar.xz:mbdump/{case.entity}" if case.archive else case.entity
    # Every line counted once: staged or quarantined.
    assert done.lines == len(case.lines)
    assert done.staged + done.quarantined == done.lines
    quarantined = {
        key: (reason, payload)
        for key, reason, payload in con.execute(
            "SELECT key, reason, payload FROM quarantine"
        ).fetchall()
    }
    assert len(quarantined) == done.quarantined
    numbers = set()
    for key, (reason, payload) in quarantined.items():
        prefix, _, number = key.rpartition("#")
        assert prefix == raw_key and reason.strip()
        line = case.lines[int(number) - 1]
        assert payload == line.body.rstrip(b"\r").decode("utf-8", "replace")
        if line.kind == "blank":
            assert reason == "blank line"
        numbers.add(int(number))
    staged_ids = {
        row[0] for row in con.execute(STAGED_IDS[case.entity], [done.import_id]).fetchall()
    }
    assert len(staged_ids) == done.staged
    for n, line in enumerate(case.lines, start=1):
        if line.kind in {"good", "title"}:
            assert n not in numbers, f"line {n} ({line.kind}) was quarantined"
            assert line.mbid in staged_ids
        elif line.kind == "blank" or usable(line) is False:
            assert n in numbers, f"line {n} ({line.kind}) was not quarantined"
    assert_merged_tables_sane(con)
    for line in case.lines:
        if line.kind == "title" and line.title is not None:
            (stored,) = con.execute(TITLE_SQL[case.entity], [line.mbid]).fetchone()
            assert (stored or "").strip() == line.title.strip()


@pytest.fixture(scope="module")
def database() -> Iterator[duckdb.DuckDBPyConnection]:
    """One database for every example, emptied before each (opening one costs more than an
    example)."""
    con = store.connect(":memory:")
    yield con
    con.close()


@reproducible(30)
@given(case=dump_files())
def test_dump_import_stages_good_lines_and_quarantines_bad_ones(database, case):
    check_import(database, case)


@pytest.mark.soak
@reproducible(1_500)
@given(case=dump_files())
def test_soak_dump_import(database, case):
    check_import(database, case)


def test_listed_bad_dates_in_a_dump_give_what_the_live_parser_gives(database):
    """The SQL importer applies clean_date's rules (sources/base.py): every listed bad date
    gives the same date, or none, imported from a dump as parsed from a harvest."""
    from preservation.sources.base import clean_date

    recording = json.loads(ENTITY_DOCUMENTS["recording"][0].read_text())
    artist = json.loads(ENTITY_DOCUMENTS["artist"][0].read_text())
    mbids = [str(uuid.UUID(int=n + 1)) for n in range(len(BAD_DATES))]
    lines = {
        "recording": [
            {**recording, "id": mbid, "first-release-date": bad, "releases": []}
            for mbid, bad in zip(mbids, BAD_DATES, strict=True)
        ],
        "artist": [
            {**artist, "id": mbid, "life-span": {"begin": bad, "end": bad, "ended": True}}
            for mbid, bad in zip(mbids, BAD_DATES, strict=True)
        ],
    }
    empty(database)
    with tempfile.TemporaryDirectory(prefix="bad-date-") as tmp:
        for entity, docs in lines.items():
            (Path(tmp) / entity).write_text("".join(json.dumps(d) + "\n" for d in docs))
            (done,) = import_dump(database, Path(tmp) / entity).entities
            assert (done.staged, done.quarantined) == (len(BAD_DATES), 0)
    assert_merged_tables_sane(database)
    recorded = dict(
        database.execute(
            "SELECT source_id, date FROM recordings WHERE kind = 'recording'"
        ).fetchall()
    )
    lived = {
        source_id: (begin, end)
        for source_id, begin, end in database.execute(
            "SELECT source_id, begin_date, end_date FROM artists"
        ).fetchall()
    }
    for mbid, bad in zip(mbids, BAD_DATES, strict=True):
        assert recorded[mbid] == clean_date(bad), bad
        assert lived[mbid] == (clean_date(bad), clean_date(bad)), bad


BAD_LENGTHS = [0, -1, -281000, 281000.5, 10**400, -(10**400), 1e308, True, "281000", None, [1]]


def test_listed_bad_lengths_in_a_dump_give_what_the_live_parser_gives(database):
    """Lengths that are no duration (negative, zero, NaN, infinite, too large, of another type)
    give none, imported from a dump as parsed from a harvest; the others the same seconds."""
    from preservation.sources.base import seconds

    recording = json.loads(ENTITY_DOCUMENTS["recording"][0].read_text())
    mbids = [str(uuid.UUID(int=n + 1)) for n in range(len(BAD_LENGTHS) + 3)]
    lengths = [*BAD_LENGTHS, "NaN", "Infinity", "-Infinity"]  # JSON extensions, both read
    text = "".join(
        json.dumps({**recording, "id": mbid, "length": "@@length@@", "releases": []}).replace(
            '"@@length@@"',
            length if isinstance(length, str) and length[-1] in "Ny" else json.dumps(length),
        )
        + "\n"
        for mbid, length in zip(mbids, lengths, strict=True)
    )
    empty(database)
    with tempfile.TemporaryDirectory(prefix="bad-length-") as tmp:
        (Path(tmp) / "recording").write_text(text)
        (done,) = import_dump(database, Path(tmp) / "recording").entities
    assert (done.staged, done.quarantined) == (len(lengths), 0)
    assert_merged_tables_sane(database)
    durations = dict(
        database.execute(
            "SELECT source_id, duration_s FROM recordings WHERE kind = 'recording'"
        ).fetchall()
    )
    for mbid, line in zip(mbids, text.splitlines(), strict=True):
        length = json.loads(line)["length"]  # as Python reads it: NaN and infinities too
        assert durations[mbid] == seconds(length, 1000.0), line[-60:]


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    # An exception other than the exit typer raises would be a traceback for the user.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@reproducible(6)
@given(case=dump_files())
def test_cli_import_dump_of_hostile_lines_reports_what_the_database_holds(case):
    with tempfile.TemporaryDirectory(prefix="bad-dump-cli-") as tmp:
        path = case.write(Path(tmp))
        db = str(Path(tmp) / "cli.duckdb")
        result = invoke("import-dump", str(path), "--db", db)
        assert result.exit_code == 0, result.output
        con = store.connect_read_only(db)
        try:
            lines, staged, quarantined = con.execute(
                "SELECT lines_done, rows_staged, quarantined FROM dump_imports"
            ).fetchone()
            assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (quarantined,)
        finally:
            con.close()
    member = f"mbdump/{case.entity}" if case.archive else case.entity
    assert (lines, staged + quarantined) == (len(case.lines), len(case.lines))
    assert (
        f"{member}: {lines:,} lines -> {staged:,} {case.entity}s staged, {quarantined:,} "
        "quarantined"
    ) in result.output


def unreadable_inputs(folder: Path) -> dict[str, tuple[list[str], str]]:
    """Inputs no import can read: arguments, and how the one-line error starts."""
    good = json.dumps(json.loads(ENTITY_DOCUMENTS["recording"][0].read_text())) + "\n"
    (folder / "empty").mkdir()
    (folder / "notes.txt").write_text(good)
    (folder / "recording.tar.xz").write_bytes(b"\xfd7zXZ\x00\x00" + bytes(range(256)) * 8)
    packed = folder / "packed"
    packed.mkdir()
    (packed / "recording").write_text(good * 200)
    whole = folder / "whole.tar.xz"
    with tarfile.open(whole, "w:xz") as tar:
        tar.add(packed / "recording", arcname="mbdump/recording")
    (folder / "cut.tar.xz").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return {
        "missing": ([str(folder / "nowhere")], "error: no such dump: "),
        "no entity file": ([str(folder / "empty")], "error: "),
        "unknown name": ([str(folder / "notes.txt")], "error: cannot tell which entity"),
        "garbage archive": ([str(folder / "recording.tar.xz")], "error: "),
        "cut archive": ([str(folder / "cut.tar.xz")], "error: cannot read "),
        "unknown entity": (
            [str(folder / "notes.txt"), "--entity", "label<script>"],
            "error: unknown dump entity",
        ),
    }


UNREADABLE = [
    "missing",
    "no entity file",
    "unknown name",
    "garbage archive",
    "cut archive",
    "unknown entity",
]


@pytest.mark.parametrize("name", UNREADABLE)
def test_cli_unreadable_dump_is_one_error_line_and_a_nonzero_exit(tmp_path, name):
    args, start = unreadable_inputs(tmp_path)[name]
    result = invoke("import-dump", *args, "--db", str(tmp_path / "db.duckdb"))
    assert result.exit_code == 1
    assert result.output.startswith(start), result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_the_installed_command_prints_no_traceback(tmp_path):
    """The real console script, in its own process: one line on stderr, exit status 1 for an
    unreadable dump; a summary and exit status 0 for a file of bad lines."""
    command = Path(sys.executable).parent / "preservation"
    args, _ = unreadable_inputs(tmp_path)["cut archive"]
    db = str(tmp_path / "db.duckdb")
    failed = subprocess.run(
        [command, "import-dump", *args, "--db", db], capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: cannot read ") and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    bad = tmp_path / "recording"
    good = json.loads(ENTITY_DOCUMENTS["recording"][1].read_text())
    lines = [
        json.dumps(good).encode(),
        b"\xff\xfe not json",
        json.dumps({**good, "id": "<script>alert(1)</script>".ljust(36)}).encode(),
        json.dumps({**good, "id": str(uuid.UUID(int=1)), "title": "a\ud800b"}).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b"",
    ]
    bad.write_bytes(b"".join(line + b"\n" for line in lines))
    ok = subprocess.run(
        [command, "import-dump", str(bad), "--db", db], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert "Traceback" not in ok.stderr
    assert "recording: 6 lines -> 1 recordings staged, 5 quarantined" in ok.stdout
    con = store.connect_read_only(db)
    try:
        reasons = dict(
            con.execute("SELECT key, reason FROM quarantine WHERE stage = 'import'").fetchall()
        )
    finally:
        con.close()
    assert reasons["recording#2"].startswith("invalid JSON: ")
    assert reasons["recording#3"] == "recording without a valid 'id'"
    assert "surrogate" in reasons["recording#4"]
    assert reasons["recording#5"] in {
        "invalid JSON: nested too deeply to decode",
        "expected a JSON object, got list",
    }
    assert reasons["recording#6"] == "blank line"
