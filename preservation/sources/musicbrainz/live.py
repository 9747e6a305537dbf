"""Fetch from the MusicBrainz web service (WS/2 JSON) through musicbrainzngs, politely.

Etiquette is enforced here, not left to the caller:
- one request per `interval` seconds across the process, retries included, never faster
  than one a second against musicbrainz.org (a mirror may go faster);
- a user agent `preservation/<version> ( <contact> )`, and no live run without a contact;
- 429/503 (and resets, timeouts, cut bodies, bodies that are not JSON): wait what
  Retry-After says, else back off, a bounded number of times, then give up with a message
  naming the request (a body not JSON at every attempt is kept, to be quarantined
  with its reason).

musicbrainzngs decides request building and includes validation; its reader
(`_safe_read`) is replaced while harvesting, because it ignores Retry-After and retries 503s
eight times with fixed delays. The replacement also hands back the raw bytes and the URL, so
`raw_records` keeps the response byte for byte.
"""

from __future__ import annotations

import email.utils
import http.client
import time
import urllib.error
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import musicbrainzngs
import musicbrainzngs.musicbrainz as ngs

from preservation import __version__
from preservation.errors import PreservationError
from preservation.sources import base
from preservation.sources.base import (
    HarvestOptions,
    Page,
    nothing_to_harvest,
    offset_key,
    offset_pages,
    read_page,
)
from preservation.sources.http import Etiquette as PoliteEtiquette
from preservation.sources.http import JsonAnswers, Pace

PUBLIC_HOST = "musicbrainz.org"
PAGE_SIZE = 100  # the web service's maximum for browse and search
RECORDING_INC = ["artist-credits", "isrcs", "releases", "url-rels", "work-rels", "work-level-rels"]
RELEASE_INC = [
    "artist-credits", "labels", "recordings", "release-groups", "media", "isrcs",
    "url-rels", "recording-level-rels", "work-level-rels", "work-rels",
]  # fmt: skip
BROWSE_RELEASE_INC = [
    "artist-credits", "labels", "recordings", "release-groups", "media", "isrcs", "url-rels",
]  # fmt: skip
SCOPE_KINDS = ("recording", "release", "artist", "label", "collection", "query")
LOOKUP_KINDS = ("recording", "release", "artist")


@dataclass(frozen=True)
class Scope(base.Scope):
    """What to harvest: one recording, release or artist, a label's or collection's
    releases, a search."""

    KINDS = SCOPE_KINDS

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind != "query" and not _is_mbid(self.value):
            raise PreservationError(f"--{self.kind} takes an MBID, got {self.value!r}")


def writer_scopes(con: duckdb.DuckDBPyConnection) -> list[Scope]:
    """Artist lookups for the writers of harvested works whose life span is not known yet.

    Reads the normalized tables: run normalize first.
    """
    rows = con.execute(
        "SELECT DISTINCT w.artist_id FROM work_writers w "
        "WHERE starts_with(w.artist_id, 'musicbrainz:artist:') "
        "AND w.artist_id NOT IN (SELECT artist_id FROM artists) ORDER BY 1"
    ).fetchall()
    return [Scope("artist", artist_id.removeprefix("musicbrainz:artist:")) for (artist_id,) in rows]


class Live:
    """MusicBrainz for `harvest musicbrainz`: --recording/--release/--artist MBID (lookups),
    --label/--collection MBID (browse), --query TEXT (search), --from-file; --writers: then
    the writers of the harvested works whose life span is unknown."""

    def scopes(self, options: HarvestOptions) -> list[Scope]:
        named = {
            "recording": options.recording,
            "release": options.release,
            "artist": options.artist,
            "label": options.label,
            "collection": options.collection,
            "query": options.query,
        }
        scopes = [Scope(kind, value) for kind, values in named.items() for value in values]
        if options.from_file is not None:
            scopes += _file_scopes(options.from_file)
        if not scopes and not options.follow_up:
            raise nothing_to_harvest(
                "--recording/--release/--artist/--label/--collection/--query/--from-file/--writers"
            )
        return scopes

    def client(self, options: HarvestOptions) -> WebService:
        base = options.base_url or f"https://{PUBLIC_HOST}"
        return WebService(Etiquette(options.contact, base, options.interval))

    def follow_up(self, con: duckdb.DuckDBPyConnection, options: HarvestOptions) -> list[Scope]:
        if not options.follow_up:
            return []
        from preservation.normalize import normalize  # normalize imports the source registry

        normalize(con)
        return writer_scopes(con)


def _file_scopes(path: Path) -> list[Scope]:
    """Scopes from a file of '<recording|release|artist> MBID' lines (# comments)."""
    scopes = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            kind, _, value = line.strip().partition(" ")
            if kind not in LOOKUP_KINDS:
                raise PreservationError(
                    f"{path}:{number}: expected '<recording|release|artist> MBID'"
                )
            scopes.append(Scope(kind, value.strip()))
    return scopes


@dataclass
class Etiquette(PoliteEtiquette):
    """The shared etiquette, with musicbrainz.org's one request a second enforced."""

    base_url: str = f"https://{PUBLIC_HOST}"
    sleep: Callable[[float], None] = time.sleep  # for the retry waits (tests count them)

    def __post_init__(self) -> None:
        super().__post_init__()
        host = urlsplit(self.base_url).hostname or ""
        if host.endswith(PUBLIC_HOST) and self.interval < 1.0:
            raise PreservationError(
                f"musicbrainz.org allows one request per second: --interval {self.interval} "
                "is only for a mirror"
            )


class WebService:
    """Pages of WS/2 JSON for a scope, from `position` on (an offset, or 0 for a lookup)."""

    def __init__(self, etiquette: Etiquette) -> None:
        self.etiquette = etiquette
        self.last_url = ""

    def pages(
        self, scope: Scope, position: int = 0, cursor: str | None = None, total: int | None = None
    ) -> Iterator[Page]:
        with self._session():
            if scope.kind in LOOKUP_KINDS:
                if position == 0:
                    yield self._lookup(scope)
                return
            read = partial(self._page, scope)
            yield from offset_pages("musicbrainz", scope, read, position, total, PAGE_SIZE)

    def _lookup(self, scope: Scope) -> Page:
        if scope.kind == "recording":
            body = musicbrainzngs.get_recording_by_id(scope.value, includes=RECORDING_INC)
        elif scope.kind == "release":
            body = musicbrainzngs.get_release_by_id(scope.value, includes=RELEASE_INC)
        else:  # an artist lookup carries the life span (for composers' death years)
            body = musicbrainzngs.get_artist_by_id(scope.value)
        return Page(scope.name, self.last_url, body, 1, 1, 1)

    def _page(self, scope: Scope, offset: int) -> tuple[Page, bool]:
        """The page at `offset`, and whether more follow."""
        if scope.kind == "query":
            body = musicbrainzngs.search_recordings(
                query=scope.value, limit=PAGE_SIZE, offset=offset
            )
            items, count = "recordings", "count"
        else:
            # The web service browses releases by label or collection alike, but
            # musicbrainzngs' browse_releases takes no `collection` (a TypeError): its browse
            # implementation does, with the same includes and paging.
            body = ngs._browse_impl(
                "release", BROWSE_RELEASE_INC, PAGE_SIZE, offset, {scope.kind: scope.value}
            )
            items, count = "releases", "release-count"
        entities, total = read_page(
            self.last_url, body, lambda decoded: (len(decoded[items]), int(decoded[count]))
        )
        key = offset_key(scope, offset)
        page = Page(key, self.last_url, body, entities, offset + entities, total)
        return page, not page.done

    @contextmanager
    def _session(self) -> Iterator[None]:
        """Configure musicbrainzngs for this harvest, and put its globals back afterwards."""
        e = self.etiquette
        parts = urlsplit(e.base_url)
        saved = (ngs.hostname, ngs.https, ngs.ws_format, ngs.parser_fun, ngs._safe_read)
        saved_limit = (ngs.limit_interval, ngs.limit_requests, ngs.do_rate_limit)
        musicbrainzngs.set_useragent("preservation", __version__, e.contact)
        musicbrainzngs.set_hostname(parts.netloc, use_https=parts.scheme == "https")
        # Our own pacing, in _read: musicbrainzngs' limiter sleeps requests/interval seconds
        # (inverted), so below one second it would wait 1/interval**2 seconds instead.
        musicbrainzngs.set_rate_limit(False)
        ngs.ws_format = "json"
        ngs.parser_fun = lambda body: body  # keep the bytes exactly as received
        ngs._safe_read = self._read
        try:
            yield
        finally:
            ngs.hostname, ngs.https, ngs.ws_format, ngs.parser_fun, ngs._safe_read = saved
            ngs.limit_interval, ngs.limit_requests, ngs.do_rate_limit = saved_limit

    def _read(self, opener: Any, req: Any, body: Any = None, *_: Any, **__: Any) -> bytes:
        """Read one response, honouring Retry-After and giving up after a bounded number."""
        e = self.etiquette
        self.last_url = req.full_url
        why, wait, answers = "", 0.0, JsonAnswers(e.retries + 1)
        for attempt in range(e.retries + 1):
            if attempt:
                e.sleep(min(wait, e.max_wait))
            wait = max(e.interval, 2.0 ** (attempt + 1))  # unless the server says otherwise
            _PACE.wait(e.interval)
            try:
                # musicbrainzngs opens with no timeout: a server that stops answering would
                # hold the harvest forever.
                with opener.open(req, body, timeout=e.timeout) as response:
                    answer = response.read()
                if answers.take(answer):
                    return answer
                why = "not JSON"
            except urllib.error.HTTPError as exc:
                if exc.code in (400, 404, 411):
                    raise PreservationError(
                        f"musicbrainz: {req.full_url} answered {exc.code} (not found or refused)"
                    ) from exc
                if exc.code not in (429, 500, 502, 503, 504):
                    raise PreservationError(
                        f"musicbrainz: {req.full_url} answered {exc.code}"
                    ) from exc
                why = f"HTTP {exc.code}"
                wait = _retry_after(exc.headers.get("Retry-After")) or wait
            except (http.client.HTTPException, urllib.error.URLError, OSError) as exc:
                # resets, timeouts (socket.timeout is an OSError) and cut bodies (IncompleteRead)
                why = type(exc).__name__
        raise PreservationError(
            f"musicbrainz: gave up on {req.full_url} after {e.retries + 1} attempts ({why}); "
            "what was stored is kept and the harvest resumes from there"
        )


_PACE = Pace()  # process-wide: every MusicBrainz harvest shares it


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_mbid(value: str) -> bool:
    parts = value.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(
        c in "0123456789abcdef" for c in value.replace("-", "").lower()
    )


LIVE = Live()
