"""Import MusicBrainz JSON data dumps: `mbdump/<entity>` files, one entity (WS/2 JSON) per line.

The dump is read as a stream: from a `.tar.xz` archive as MusicBrainz publishes it (no full
extraction to disk), from an extracted file, or from a folder holding `mbdump/`. It is cut into
chunks of whole lines; DuckDB's JSON reader parses each chunk and dump.sql turns it into
sightings, so millions of lines never pass through Python. Memory is bounded by the chunk size.

Each chunk commits with its resume point, so an interrupted import continues where it stopped.
An import counts once complete, and then replaces the previous import of the same entity.
Lines that cannot be used are quarantined with their line number and why.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import queue
import re
import shutil
import tarfile
import tempfile
import threading
import zlib
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import BinaryIO, TypeVar

import duckdb

from preservation import progress
from preservation.errors import PreservationError
from preservation.harvest import HarvestResult, harvest_run, quarantine, utc_now
from preservation.normalize import SIGHTING_TABLES, merge_sightings
from preservation.sources.base import MalformedPayload, json_object, load_json
from preservation.sources.musicbrainz.parse import WRITER_TYPES
from preservation.store import scalar, transaction

T = TypeVar("T")
SOURCE = "musicbrainz"
CHUNK_BYTES = 256 * 2**20
# Each import stages its chunks in a temp folder named after its process id, so that the
# folder a killed import left behind can be told from a running import's.
CHUNK_FOLDER_PREFIX = "preservation-dump-"
# Linux's RAM-backed file system: a chunk written there is never flushed to the disk, which
# the database's own writes have to share (see chunk_parent).
RAM_FOLDER = Path("/dev/shm")
# DuckDB's JSON reader must be told the longest line; it sizes its buffers from it, so it is
# measured per chunk (box-set releases run to megabytes on one line) rather than set huge.
MIN_OBJECT_BYTES = 16 * 2**20

_CREDIT = "STRUCT(name VARCHAR, artist STRUCT(name VARCHAR))[]"
_ARTIST_REF = 'STRUCT(id VARCHAR, name VARCHAR, "sort-name" VARCHAR)'
_WORK_REF = (
    "STRUCT(id VARCHAR, title VARCHAR, iswcs VARCHAR[], relations "
    f'STRUCT(type VARCHAR, "target-type" VARCHAR, artist {_ARTIST_REF})[])'
)
_RELATIONS = (
    'STRUCT(type VARCHAR, "target-type" VARCHAR, ended BOOLEAN, "end" VARCHAR, '
    f"url STRUCT(resource VARCHAR), artist {_ARTIST_REF}, work {_WORK_REF})[]"
)
_RECORDING = {
    "id": "VARCHAR",
    "title": "VARCHAR",
    "length": "JSON",  # read as JSON: `true` or "281000" is no length (mb_duration in dump.sql)
    "first-release-date": "VARCHAR",
    "artist-credit": _CREDIT,
    "isrcs": "VARCHAR[]",
    "relations": _RELATIONS,
}
_TRACK_RECORDING = "STRUCT(" + ", ".join(f'"{k}" {v}' for k, v in _RECORDING.items()) + ")"

# The fields each entity's lines are read with: only what normalizing needs, so DuckDB skips
# the rest (aliases, tags, annotations ...) without building it.
COLUMNS: dict[str, dict[str, str]] = {
    "recording": _RECORDING,
    "release": {
        "id": "VARCHAR",
        "title": "VARCHAR",
        "date": "VARCHAR",
        "country": "VARCHAR",
        "artist-credit": _CREDIT,
        "label-info": 'STRUCT("catalog-number" VARCHAR, label STRUCT(name VARCHAR))[]',
        "media": "STRUCT(format VARCHAR, tracks STRUCT(title VARCHAR, length JSON, "
        f"recording {_TRACK_RECORDING})[])[]",
        "relations": _RELATIONS,
    },
    "work": {"id": "VARCHAR", "title": "VARCHAR", "iswcs": "VARCHAR[]", "relations": _RELATIONS},
    "artist": {
        "id": "VARCHAR",
        "name": "VARCHAR",
        "sort-name": "VARCHAR",
        "type": "VARCHAR",
        "country": "VARCHAR",
        "life-span": 'STRUCT(begin VARCHAR, "end" VARCHAR, ended BOOLEAN)',
    },
}
ENTITIES = tuple(COLUMNS)
# dump.sql sections run for each chunk of an entity's lines, in order.
STEPS = {
    "recording": ("stage_recording", "recordings", "works"),
    "release": ("stage_release", "recordings", "works"),
    "work": ("stage_work", "works"),
    "artist": ("stage_artist",),
}


@dataclass
class EntityImport:
    """How one entity file's import went."""

    entity: str
    member: str
    import_id: int
    resumed_at_line: int = 0
    lines: int = 0
    staged: int = 0
    quarantined: int = 0


@dataclass
class DumpImportResult:
    path: str
    run_id: int
    dump_timestamp: str | None = None
    entities: list[EntityImport] = field(default_factory=list)


@dataclass
class DumpMember:
    entity: str
    member: str  # 'mbdump/<entity>' inside an archive, or the file's name
    size: int | None
    stream: BinaryIO


def import_dump(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    entity: str | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> DumpImportResult:
    """Import a MusicBrainz JSON dump (archive, folder or extracted file) and merge it.

    `entity` restricts an archive or folder to one entity, and names it for a bare file whose
    name does not. Raises PreservationError when the path holds no dump entity file.
    """
    path = Path(path)
    if not path.exists():
        raise PreservationError(f"no such dump: {path}")
    if entity is not None and entity not in ENTITIES:
        raise PreservationError(f"unknown dump entity {entity!r}; known: {', '.join(ENTITIES)}")
    _load_sql(con)
    _remove_orphaned_chunk_folders()
    # Each chunk commits; folding the WAL into the tables after every one would rewrite the
    # same row groups again and again, so checkpoint once at the end instead.
    con.execute(f"SET checkpoint_threshold = '{4 * chunk_bytes}B'")
    try:
        return _import(con, path, entity, chunk_bytes)
    except (tarfile.TarError, lzma.LZMAError, EOFError, zlib.error) as exc:
        raise PreservationError(
            f"cannot read {path}: {exc} (what was read so far is kept; a complete file resumes)"
        ) from exc
    finally:
        con.execute("RESET checkpoint_threshold")
        con.execute("CHECKPOINT")


def _import(
    con: duckdb.DuckDBPyConnection, path: Path, entity: str | None, chunk_bytes: int
) -> DumpImportResult:
    with harvest_run(con, SOURCE, "dump", str(path)) as run:
        result = DumpImportResult(path=str(path), run_id=run.run_id)
        with closing(dump_members(path, entity, result)) as members:
            for member in members:
                done = _import_member(con, path, member, run, result.dump_timestamp, chunk_bytes)
                result.entities.append(done)
        if not result.entities:
            wanted = f"mbdump/{entity}" if entity else "mbdump/<entity> file"
            raise PreservationError(f"{path} holds no {wanted} ({', '.join(ENTITIES)})")
        merge_sightings(con)
    return result


def _load_sql(con: duckdb.DuckDBPyConnection) -> None:
    global _SECTIONS
    if not _SECTIONS:
        text = resources.files(__package__).joinpath("dump.sql").read_text()
        writer_types = "(" + ", ".join(f"'{t}'" for t in WRITER_TYPES) + ")"
        text = text.replace(":writer_types", writer_types)
        for part in re.split(r"^-- section: ", text, flags=re.M)[1:]:
            name, _, body = part.partition("\n")
            _SECTIONS[name.strip()] = body.strip()
    con.execute(_SECTIONS["macros"])


_SECTIONS: dict[str, str] = {}


def dump_members(path: Path, entity: str | None, result: DumpImportResult) -> Generator[DumpMember]:
    """The dump's entity files, opened one at a time (an archive is read once, as a stream).

    Notes the archive's or folder's TIMESTAMP in `result` when it comes across one.
    """

    def wanted(name: str) -> str | None:
        stem = name.removesuffix(".jsonl").removesuffix(".json")
        return stem if stem in ENTITIES and entity in (None, stem) else None

    if path.is_dir():
        stamp = path / "TIMESTAMP"
        if stamp.is_file():
            result.dump_timestamp = stamp.read_text().strip() or None
        folder = path / "mbdump" if (path / "mbdump").is_dir() else path
        for file in sorted(folder.iterdir()):
            if file.is_file() and (found := wanted(file.name)):
                yield from _file_member(file, found, file.relative_to(path).as_posix())
    elif tarfile.is_tarfile(path):
        with tarfile.open(path, "r|*") as archive:
            for info in archive:
                name = info.name.removeprefix("./")
                stream = archive.extractfile(info) if info.isfile() else None
                if stream is None:
                    continue
                if name == "TIMESTAMP":
                    result.dump_timestamp = stream.read().decode().strip() or None
                elif name.startswith("mbdump/") and (found := wanted(name[len("mbdump/") :])):
                    yield DumpMember(found, name, info.size, stream)
    else:
        found = entity or wanted(path.name)
        if found is None:
            raise PreservationError(
                f"cannot tell which entity {path.name} holds: name it recording, release, "
                "work or artist, or pass --entity"
            )
        yield from _file_member(path, found, path.name)


def _file_member(file: Path, entity: str, member: str) -> Generator[DumpMember]:
    with file.open("rb") as stream:
        yield DumpMember(entity, member, file.stat().st_size, stream)


def _import_member(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    member: DumpMember,
    run: HarvestResult,
    dump_timestamp: str | None,
    chunk_bytes: int,
) -> EntityImport:
    done = _open_import(con, path, member, run.run_id, dump_timestamp)
    raw_key = f"{path.name}:{member.member}" if path.name != member.member else path.name
    label = f"import {member.entity}"
    with (
        tempfile.TemporaryDirectory(
            prefix=f"{CHUNK_FOLDER_PREFIX}{os.getpid()}-", dir=chunk_parent(chunk_bytes)
        ) as tmp,
        progress.meter(label, member.size) as advance,
    ):
        chunk_path = Path(tmp) / "chunk.jsonl"
        chunks = _chunks(member.stream, chunk_bytes, done.resumed_at_line)
        for first_line, block, lines in _read_ahead(chunks):
            chunk_path.write_bytes(block)
            with transaction(con):
                staged, bad = _stage_chunk(
                    con, member.entity, chunk_path, done, raw_key, lines, _object_size(block)
                )
                for line, reason, text in _quarantine_reasons(block, first_line, bad):
                    sha = hashlib.sha256(text).hexdigest()
                    key = f"{raw_key}#{line}"
                    quarantine(con, SOURCE, key, sha, "import", reason, text, run.run_id)
                con.execute(
                    "UPDATE dump_imports SET lines_done = lines_done + ?, "
                    "rows_staged = rows_staged + ?, quarantined = quarantined + ? "
                    "WHERE import_id = ?",
                    [lines, staged, len(bad), done.import_id],
                )
            done.lines += lines
            done.staged += staged
            done.quarantined += len(bad)
            run.payloads += lines
            run.entities += staged
            run.quarantined += len(bad)
            advance(len(block), lines)
    _complete_import(con, done)
    return done


def chunk_parent(chunk_bytes: int, ram: Path | None = None) -> Path:
    """Where an import writes its chunks: the temp folder the user names (TMPDIR, TEMP or
    TMP), else `ram` when it exists and has room for two chunks, else the system's temp folder.

    Every chunk is written once and read once. On a disk-backed /tmp a chunk shares the
    disk with the database's writes: at a million lines the import took 17-20 s there and
    14-15 s with its chunks in /dev/shm (three runs each). The chunk held there is memory, as
    the one read ahead is: one chunk's worth (256 MB by default).
    """
    if any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")):
        return Path(tempfile.gettempdir())
    ram = RAM_FOLDER if ram is None else ram
    try:
        room = ram.is_dir() and shutil.disk_usage(ram).free >= 2 * chunk_bytes
        if room and os.access(ram, os.W_OK):
            return ram
    except OSError:
        pass
    return Path(tempfile.gettempdir())


def _remove_orphaned_chunk_folders() -> None:
    """Remove the chunk folders of imports whose process has died.

    A killed import (SIGKILL, power loss) runs no cleanup, so its folder stays behind with
    its last chunk in it: up to the chunk size (256 MB by default) for each kill. Both
    places chunk_parent may choose are looked in.
    """
    if os.name != "posix":  # os.kill(pid, 0) probes a process only on POSIX
        return
    parents = {Path(tempfile.gettempdir()), RAM_FOLDER}
    folders = [f for parent in parents for f in parent.glob(f"{CHUNK_FOLDER_PREFIX}*-*")]
    for folder in folders:
        pid = folder.name.removeprefix(CHUNK_FOLDER_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and is another user's
        return True
    return True


def _open_import(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    member: DumpMember,
    run_id: int,
    dump_timestamp: str | None,
) -> EntityImport:
    """Resume the unfinished import of this file, or start a new one."""
    where = [SOURCE, member.entity, str(path), member.member]
    row = con.execute(
        "SELECT import_id, lines_done FROM dump_imports WHERE source = ? AND entity = ? "
        "AND path = ? AND member = ? AND status = 'running' ORDER BY import_id DESC LIMIT 1",
        where,
    ).fetchone()
    if row is not None:
        return EntityImport(member.entity, member.member, int(row[0]), resumed_at_line=int(row[1]))
    with transaction(con):
        import_id = int(
            str(scalar(con, "SELECT coalesce(max(import_id), 0) + 1 FROM dump_imports"))
        )
        con.execute(
            "INSERT INTO dump_imports (import_id, run_id, source, entity, path, member, "
            "dump_timestamp, lines_done, rows_staged, quarantined, status, started_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 'running', ?)",
            [import_id, run_id, *where, dump_timestamp, utc_now()],
        )
    return EntityImport(member.entity, member.member, import_id)


def _complete_import(con: duckdb.DuckDBPyConnection, done: EntityImport) -> None:
    """Mark the import complete; it replaces the previous complete import of the entity."""
    with transaction(con):
        older = [
            r[0]
            for r in con.execute(
                "SELECT import_id FROM dump_imports WHERE source = ? AND entity = ? "
                "AND import_id <> ? AND status IN ('complete', 'running')",
                [SOURCE, done.entity, done.import_id],
            ).fetchall()
        ]
        for table in SIGHTING_TABLES:
            con.execute(f"DELETE FROM {table} WHERE list_contains(?, import_id)", [older])
        con.execute(
            "UPDATE dump_imports SET status = 'superseded' WHERE list_contains(?, import_id)",
            [older],
        )
        con.execute(
            "UPDATE dump_imports SET status = 'complete', finished_at = ? WHERE import_id = ?",
            [utc_now(), done.import_id],
        )


def _stage_chunk(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    chunk_path: Path,
    done: EntityImport,
    raw_key: str,
    lines: int,
    object_size: int,
) -> tuple[int, list[tuple[int, str | None]]]:
    """Stage one chunk's lines.

    Returns how many were staged, and for the others their place among the chunk's lines
    (0-based) with the problem found in SQL (None for a blank line).
    """
    reader = json_reader(entity, chunk_path, object_size)
    problem = _SECTIONS[f"problem_{entity}"]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dump_docs AS SELECT *, ({problem}) AS problem {reader}"
    )
    params = {"import_id": done.import_id, "raw_key": raw_key}
    for step in STEPS[entity]:
        for statement in _statements(_SECTIONS[step]):
            bound = {k: v for k, v in params.items() if f"${k}" in statement}
            con.execute(statement, bound)
    rows, bad = con.execute("SELECT count(*), count(problem) FROM dump_docs").fetchone() or (0, 0)
    _drop_temp_objects(con)
    if not bad and rows == lines:
        return int(rows), []
    # Rare: find which lines. DuckDB skips blank lines, so its row numbers count the others.
    return int(rows) - int(bad), _locate_bad_lines(con, entity, chunk_path, object_size)


def _drop_temp_objects(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the chunk's dump_* temp tables and views (their memory, and their names)."""
    for name, kind in con.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND "
        "starts_with(view_name, 'dump_') UNION ALL SELECT table_name, 'TABLE' FROM "
        "duckdb_tables() WHERE temporary AND starts_with(table_name, 'dump_') ORDER BY 2 DESC"
    ).fetchall():
        con.execute(f"DROP {kind} {name}")


def json_reader(entity: str, chunk_path: Path, object_size: int = MIN_OBJECT_BYTES) -> str:
    """The FROM clause that reads an entity's lines as the import reads them: only its
    COLUMNS, lines of up to `object_size` bytes (the benchmarks' parse floor uses it too)."""
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS[entity].items()) + "}"
    source = str(chunk_path).replace("'", "''")
    return (
        f"FROM read_json('{source}', format = 'newline_delimited', columns = {columns}, "
        f"ignore_errors = true, maximum_object_size = {object_size})"
    )


def _locate_bad_lines(
    con: duckdb.DuckDBPyConnection, entity: str, chunk_path: Path, object_size: int
) -> list[tuple[int, str | None]]:
    problem = _SECTIONS[f"problem_{entity}"]
    reader = json_reader(entity, chunk_path, object_size)
    bad_rows = dict(
        con.execute(
            f"SELECT ordinality, problem FROM (SELECT ordinality, ({problem}) AS problem "
            f"{reader} WITH ORDINALITY) WHERE problem IS NOT NULL"
        ).fetchall()
    )
    located: list[tuple[int, str | None]] = []
    row = 0
    with chunk_path.open("rb") as chunk:
        for index, line in enumerate(chunk):
            if not line.strip():
                located.append((index, None))
                continue
            row += 1
            if row in bad_rows:
                located.append((index, str(bad_rows[row])))
    return located


def _statements(section: str) -> list[str]:
    return [s.strip() for s in re.split(r";\s*$", section, flags=re.M) if s.strip()]


def _chunks(
    stream: BinaryIO, chunk_bytes: int, skip_lines: int
) -> Iterator[tuple[int, bytes, int]]:
    """Blocks of whole lines of about `chunk_bytes`, after skipping `skip_lines` lines.

    Yields (number of the block's first line, block, number of lines in it).
    """
    line, pending = 1, b""
    while True:
        data = stream.read(chunk_bytes)
        if not data:
            break
        data = pending + data
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            continue
        block, pending = data[: cut + 1], data[cut + 1 :]
        line, block, skip_lines = _skip(line, block, skip_lines)
        if block:
            count = _count_lines(block)
            yield line, block, count
            line += count
    line, pending, skip_lines = _skip(line, pending, skip_lines)
    if pending:
        yield line, pending, 1


def _read_ahead(chunks: Iterator[T]) -> Iterator[T]:
    """Read (and decompress) the next chunk in a thread while DuckDB stages this one.

    xz decompression is single-threaded and releases the GIL, so it overlaps with staging;
    one chunk waits in the queue, so memory grows by one chunk at most.
    """
    ahead: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(kind: str, item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put((kind, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False  # the consumer has gone

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put("chunk", chunk):
                    return
            put("end", None)
        except BaseException as exc:  # handed to the consumer, raised there
            put("error", exc)

    reader = threading.Thread(target=produce, name="dump-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            kind, item = ahead.get()
            if kind == "end":
                return
            if kind == "error":
                raise item  # type: ignore[misc]
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()


def _skip(line: int, block: bytes, skip_lines: int) -> tuple[int, bytes, int]:
    """Drop up to `skip_lines` whole lines from the start of a block."""
    at = 0
    while skip_lines and at < len(block):
        end = block.find(b"\n", at)
        at = len(block) if end < 0 else end + 1
        skip_lines -= 1
        line += 1
    return line, block[at:], skip_lines


def _object_size(block: bytes) -> int:
    """The maximum_object_size to read `block` with: MIN_OBJECT_BYTES, unless a line is longer.

    Looking at every line in Python took 0.08 s a 256 MB chunk. Instead, windows of the most
    a line may hold are looked at from their end: each one that holds a newline rules out a
    long line before that newline, usually a few hundred bytes from the window's end. Only a
    window without one (a line too long) has the lines measured.
    """
    most = MIN_OBJECT_BYTES - 2  # the newline, and DuckDB's own margin
    at = 0
    while len(block) - at > most:
        newline = block.rfind(b"\n", at, at + most + 1)
        if newline < 0:
            return _longest_line(block) + 2
        at = newline + 1
    return MIN_OBJECT_BYTES


def _longest_line(block: bytes) -> int:
    longest = start = 0
    while (end := block.find(b"\n", start)) >= 0:
        longest = max(longest, end - start)
        start = end + 1
    return max(longest, len(block) - start)


def _count_lines(block: bytes) -> int:
    return block.count(b"\n") + (0 if block.endswith(b"\n") else 1)


def _quarantine_reasons(
    block: bytes, first_line: int, bad: list[tuple[int, str | None]]
) -> Iterator[tuple[int, str, bytes]]:
    """(line number, why, text) of each bad line: blank, not JSON, or JSON an entity lacks."""
    lines = block.split(b"\n") if bad else []
    for index, problem in bad:
        text = lines[index].rstrip(b"\r")
        if problem is None:
            yield first_line + index, "blank line", text
            continue
        try:
            json_object(load_json(text))
        except MalformedPayload as exc:
            yield first_line + index, str(exc), text
        except ValueError as exc:  # not UTF-8, not JSON, or no text DuckDB can read
            yield first_line + index, f"invalid JSON: {exc}", text
        else:
            yield first_line + index, problem, text
