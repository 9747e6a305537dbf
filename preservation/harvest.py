"""Stage 1, harvest: store responses exactly as received in `raw_records`.

Harvesting only keeps bytes; it does not interpret them (normalize does). What it checks is
that a payload is UTF-8 JSON: anything else is quarantined with its reason and counted, and so
is a live page its client could not read as a page (`Page.unusable`).
A key gets a new `raw_records` row only when its content changed, so re-harvesting the same
responses changes nothing, and a changed response keeps the earlier snapshot beside it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from preservation import progress
from preservation.errors import PreservationError
from preservation.sources import get_source
from preservation.sources.base import LiveClient, Page, load_json
from preservation.store import scalar, transaction

PAYLOAD_SUFFIXES = {".json", ".jsonl"}


def utc_now() -> datetime:
    """Now in UTC, as the naive timestamp the tables store (documented as UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class HarvestResult:
    run_id: int
    source: str
    payloads: int = 0
    new_payloads: int = 0
    quarantined: int = 0
    ignored_files: int = 0
    entities: int = 0


@dataclass
class Payload:
    """One response: where it came from and its body, before any interpretation."""

    key: str
    request: str
    body: bytes


def start_run(con: duckdb.DuckDBPyConnection, source: str, transport: str, scope: str) -> int:
    """Open a harvest_log row and return its run id.

    A run still marked running here was interrupted: its process died without closing it
    (killed, or the machine stopped), since DuckDB lets one process at a time write the
    database. It is marked failed, so that the log (and searches.csv) does not show it
    running forever; what it stored stays, and resuming is the next run's business.
    """
    with transaction(con):
        con.execute(
            "UPDATE harvest_log SET status = 'failed', message = 'interrupted: the process "
            "ended before the run did; what it stored is kept' WHERE status = 'running'"
        )
        run_id = scalar(con, "SELECT coalesce(max(run_id), 0) + 1 FROM harvest_log")
        con.execute(
            "INSERT INTO harvest_log (run_id, source, transport, scope, started_at, status) "
            "VALUES (?, ?, ?, ?, ?, 'running')",
            [run_id, source, transport, scope, utc_now()],
        )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection, result: HarvestResult, status: str, message: str | None
) -> None:
    with transaction(con):
        con.execute(
            "UPDATE harvest_log SET finished_at = ?, status = ?, payloads = ?, new_payloads = ?, "
            "quarantined = ?, entities = ?, message = ? WHERE run_id = ?",
            [
                utc_now(),
                status,
                result.payloads,
                result.new_payloads,
                result.quarantined,
                result.entities,
                message,
                result.run_id,
            ],
        )


@contextmanager
def harvest_run(
    con: duckdb.DuckDBPyConnection, source: str, transport: str, scope: str
) -> Iterator[HarvestResult]:
    """Log a harvest run: open its harvest_log row, and close it as ok, or failed with why."""
    get_source(source)
    result = HarvestResult(run_id=start_run(con, source, transport, scope), source=source)
    try:
        yield result
    except BaseException as exc:
        finish_run(con, result, "failed", str(exc) or type(exc).__name__)
        raise
    finish_run(con, result, "ok", None)


def store_payloads(
    con: duckdb.DuckDBPyConnection, source: str, run_id: int, payloads: list[Payload]
) -> tuple[int, int]:
    """Store a batch in one transaction; return (new payloads, quarantined payloads)."""
    new = quarantined = 0
    with transaction(con):
        for p in payloads:
            stored = store_payload(con, source, run_id, p)
            new += stored is True
            quarantined += stored is None
    return new, quarantined


def store_payload(
    con: duckdb.DuckDBPyConnection, source: str, run_id: int, p: Payload
) -> bool | None:
    """Store one payload inside the caller's transaction.

    True: new content stored; False: unchanged since the last snapshot; None: quarantined.
    """
    sha = hashlib.sha256(p.body).hexdigest()
    try:
        body = p.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        quarantine(con, source, p.key, sha, "harvest", f"not UTF-8: {exc}", p.body, run_id)
        return None
    try:
        load_json(body)
    except ValueError as exc:
        quarantine(con, source, p.key, sha, "harvest", f"invalid JSON: {exc}", p.body, run_id)
        return None
    latest = scalar(
        con,
        "SELECT content_sha256 FROM raw_records WHERE source = ? AND key = ? "
        "ORDER BY snapshot DESC LIMIT 1",
        [source, p.key],
    )
    if latest == sha:
        return False
    con.execute(
        "INSERT INTO raw_records VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source, p.key, run_id, utc_now(), p.request, sha, body],
    )
    return True


def quarantine(
    con: duckdb.DuckDBPyConnection,
    source: str,
    key: str,
    sha: str,
    stage: str,
    reason: str,
    body: bytes | str,
    run_id: int,
) -> None:
    """Keep a payload that could not be used, with why; the same bad content is kept once."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    con.execute(
        "INSERT OR IGNORE INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source, key, sha, stage, reason, text, run_id],
    )


def folder_payloads(folder: Path, root: Path) -> Iterator[Payload]:
    """Saved responses under `folder`: each .json file is one payload, each .jsonl line one."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix not in PAYLOAD_SUFFIXES:
            continue
        key = path.relative_to(folder).as_posix()
        request = path.relative_to(root).as_posix()
        if path.suffix == ".jsonl":
            with path.open("rb") as lines:
                for number, line in enumerate(lines, start=1):
                    if line.strip():
                        yield Payload(f"{key}#{number}", f"{request}#{number}", line.rstrip(b"\n"))
        else:
            yield Payload(key, request, path.read_bytes())


def harvest_folder(
    con: duckdb.DuckDBPyConnection, source: str, folder: Path, root: Path | None = None
) -> HarvestResult:
    """Harvest saved responses of `source` from `folder` (the folder transport).

    `root` is the folder requests are recorded relative to (default: folder's parent), so
    that the database does not depend on where a checkout lives.
    """
    get_source(source)
    if not folder.is_dir():
        raise PreservationError(f"{folder} is not a folder")
    root = root or folder.parent
    with harvest_run(con, source, "folder", folder.relative_to(root).as_posix()) as result:
        result.ignored_files = sum(
            1 for p in folder.rglob("*") if p.is_file() and p.suffix not in PAYLOAD_SUFFIXES
        )
        batch: list[Payload] = []
        for payload in progress.track(folder_payloads(folder, root), f"harvest {source}"):
            batch.append(payload)
            if len(batch) >= 500:
                _flush(con, source, result.run_id, batch, result)
        _flush(con, source, result.run_id, batch, result)
    return result


def _flush(
    con: duckdb.DuckDBPyConnection,
    source: str,
    run_id: int,
    batch: list[Payload],
    result: HarvestResult,
) -> None:
    new, bad = store_payloads(con, source, run_id, batch)
    result.payloads += len(batch)
    result.new_payloads += new
    result.quarantined += bad
    batch.clear()


def harvest_live(
    con: duckdb.DuckDBPyConnection, source: str, scopes: list[Any], client: LiveClient
) -> HarvestResult:
    """Harvest `scopes` from a live service, page by page, resumably.

    Each page is stored together with its scope's checkpoint in one transaction: a harvest
    killed at any point loses nothing it stored, and resumes after the last stored page (a
    page skipped as unusable included). If the service fails for good, the run is marked
    failed and the error raised; what was stored stays, and the next run resumes there.
    """
    with harvest_run(con, source, "live", "; ".join(s.name for s in scopes)) as result:
        for scope in scopes:
            position, cursor, total = _resume_point(con, source, scope.name)
            pages = client.pages(scope, position, cursor, total)
            for page in progress.track(pages, f"{source} {scope.name}"):
                with transaction(con):
                    stored = store_page(con, source, result.run_id, page)
                    con.execute(
                        "INSERT OR REPLACE INTO harvest_checkpoints BY NAME SELECT ? AS source, "
                        "? AS scope, ? AS position, ? AS total, ? AS done, ? AS run_id, "
                        "? AS updated_at, ? AS cursor",
                        [
                            source,
                            scope.name,
                            page.next_position,
                            page.total,
                            page.done,
                            result.run_id,
                            utc_now(),
                            page.next_cursor,
                        ],
                    )
                result.payloads += 1
                result.entities += page.entities
                result.new_payloads += stored is True
                result.quarantined += stored is None
    return result


def store_page(con: duckdb.DuckDBPyConnection, source: str, run_id: int, page: Page) -> bool | None:
    """Store one live page inside the caller's transaction, as `store_payload` does; a page its
    client could not read goes to quarantine with why, even when its bytes are valid JSON (of
    another shape): normalize must not take it for an answer."""
    if page.unusable is None:
        return store_payload(con, source, run_id, Payload(page.key, page.request, page.body))
    sha = hashlib.sha256(page.body).hexdigest()
    quarantine(con, source, page.key, sha, "harvest", page.unusable, page.body, run_id)
    return None


def _resume_point(
    con: duckdb.DuckDBPyConnection, source: str, scope: str
) -> tuple[int, str | None, int | None]:
    """Where an unfinished scope stopped (position, cursor, the scope's size as last known);
    (0, None, None) for a new or done one."""
    rows = con.execute(
        "SELECT position, cursor, total, done FROM harvest_checkpoints "
        "WHERE source = ? AND scope = ?",
        [source, scope],
    ).fetchall()
    if not rows or rows[0][3]:
        return 0, None, None
    position, cursor, total, _ = rows[0]
    return int(position), cursor, total
