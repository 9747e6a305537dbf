"""The interface every source implements, and the rows a source's parser produces.

A source knows how to turn one response payload into normalized rows. How the payload got
here (a live HTTP request, or a file of saved responses) is the transport's business, not the
parser's: the same `parse` serves both, so the bundled sample exercises the live parsers.
"""

from __future__ import annotations

import calendar
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from preservation.errors import PreservationError


class MalformedPayload(ValueError):
    """The payload claims to be of a kind this source knows, but its content is unusable."""


@dataclass
class Record:
    """One source record (a recording, a release whose tracks are unknown, an archive item)."""

    source: str
    kind: str  # recording | release | item
    source_id: str
    title: str | None = None
    artists: list[str] = field(default_factory=list)
    date: str | None = None
    date_kind: str | None = None  # published | recorded
    date_source: str | None = None
    country: str | None = None  # where it was first published (ISO 3166, or XW worldwide ...)
    label: str | None = None
    catalog_number: str | None = None
    matrix: str | None = None
    take: str | None = None
    side: str | None = None
    isrcs: list[str] = field(default_factory=list)
    duration_s: float | None = None
    medium_format: str | None = None
    release_ids: list[str] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    page_url: str | None = None
    work_ids: list[str] = field(default_factory=list)

    @property
    def record_id(self) -> str:
        return f"{self.source}:{self.kind}:{self.source_id}"


@dataclass
class Holding:
    """A place where a copy of the record can be heard or obtained, as the source states it."""

    record_id: str
    url: str
    relation_type: str  # MusicBrainz url-relationship type, or 'archive item'
    live: bool = True
    status_note: str | None = None
    copy_format: str | None = None  # lossless | lossy: the best audio the holding offers
    rights_statement: str | None = None  # licence URL or rights text, as the source gives it


@dataclass
class Work:
    """A musical work and its writers, as a source states them."""

    source: str
    source_id: str
    title: str | None = None
    iswcs: list[str] = field(default_factory=list)
    writers: list[Writer] = field(default_factory=list)

    @property
    def work_id(self) -> str:
        return f"{self.source}:work:{self.source_id}"


@dataclass
class Writer:
    """Who wrote a work, in which role (the source's relationship type: composer, lyricist ...)."""

    role: str
    artist_id: str  # '<source>:artist:<id>'
    name: str | None


@dataclass
class Artist:
    """A person or group with a life span (composers' death years decide composition rights)."""

    source: str
    source_id: str
    name: str | None = None
    sort_name: str | None = None
    type: str | None = None
    country: str | None = None
    begin_date: str | None = None
    end_date: str | None = None
    ended: bool | None = None

    @property
    def artist_id(self) -> str:
        return f"{self.source}:artist:{self.source_id}"


@dataclass
class Parsed:
    """What one payload yielded. `skipped` names why a payload yielded nothing on purpose."""

    records: list[Record] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    works: list[Work] = field(default_factory=list)
    artists: list[Artist] = field(default_factory=list)
    skipped: str | None = None


@dataclass
class Page:
    """One live response: its key and URL, the raw body, and where its scope goes next."""

    key: str
    request: str
    body: bytes
    entities: int  # entities the response carries (for etiquette: as many per request as allowed)
    next_position: int  # offset (or index) the next request of this scope starts from
    total: int  # entities the scope holds, as the service says
    next_cursor: str | None = None  # for cursor-paged services: what the next request sends
    # Why the answer could not be read as a page (None: it could). Such a page is quarantined
    # with this reason, whatever its bytes: JSON of another shape is no answer either.
    unusable: str | None = None

    @property
    def done(self) -> bool:
        """Whether the scope ends with this page: its end is reached, or a readable page came
        back empty (an unusable page carries no entities, and says nothing of the rest)."""
        return self.next_position >= self.total or (self.entities == 0 and self.unusable is None)


@dataclass(frozen=True)
class Scope:
    """What one live harvest asks a source for: a kind (item, search, collection ...) and a
    value. Each source subclasses it with its KINDS (and checks of its own)."""

    kind: str
    value: str
    KINDS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise PreservationError(f"unknown scope {self.kind!r}; use {', '.join(self.KINDS)}")
        if not self.value.strip():
            raise PreservationError(f"--{self.kind} needs a value")

    @property
    def name(self) -> str:
        """The scope's key in harvest_checkpoints (and the prefix of its payloads' keys)."""
        return f"{self.kind}:{self.value}"


def offset_key(scope: Scope, position: int) -> str:
    """The key of the scope's page that starts at `position` (in raw_records, quarantine)."""
    return f"{scope.name}#offset={position}"


class LiveClient(Protocol):
    """Fetches a scope's pages from a live service."""

    def pages(
        self, scope: Any, position: int = 0, cursor: str | None = None, total: int | None = None
    ) -> Iterator[Page]:
        """Pages from `position` on (0: the start); a cursor-paged service also gets the
        cursor it handed out for that position, and an offset-paged one the scope's size as
        last known (None: not known), which it needs to skip an unusable page on resuming."""
        ...


# Unusable pages in a row an offset-paged scope skips. One more, and it is not a broken page
# but the service (or a captive portal, or an outage) answering garbage to everything.
UNUSABLE_IN_A_ROW = 3

T = TypeVar("T")


class UnusableAnswer(Exception):
    """An answer that arrived (HTTP 200, and the same through every retry) but is not a page
    of its scope: not JSON, or JSON of another shape. `reason` says which."""

    def __init__(self, request: str, body: bytes, reason: str) -> None:
        super().__init__(reason)
        self.request, self.body, self.reason = request, body, reason


class Stalled(Exception):
    """An answer that says its scope goes on, but not from where: following it would ask for
    the same page again, forever. `page` is that answer, to store before the scope fails."""

    def __init__(self, page: Page, reason: str) -> None:
        super().__init__(reason)
        self.page, self.reason = page, reason


def read_page(request: str, body: bytes, read: Callable[[Any], T]) -> T:
    """What `read` takes from the decoded answer to `request`; UnusableAnswer, saying why, when
    it cannot. (Decoding is lenient here: what can be paged through but not stored as text,
    an unpaired surrogate escape, is for storing to quarantine, not for paging to refuse.)"""
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise UnusableAnswer(request, body, f"invalid JSON: {exc}") from None
    try:
        return read(decoded)
    except SHAPE_ERRORS as exc:
        reason = f"JSON, but not a page of this scope ({type(exc).__name__}: {exc})"
        raise UnusableAnswer(request, body, reason) from None


def offset_pages(
    source: str,
    scope: Scope,
    read: Callable[[int], tuple[Page, bool]],
    position: int,
    total: int | None,
    page_size: int,
) -> Iterator[Page]:
    """An offset-paged scope's pages from `position` on. `read(offset)` fetches the page there
    and says whether more follow; it raises UnusableAnswer for an answer it cannot read, and
    Stalled for one that does not say where the scope goes on.

    An unusable page does not end its scope: the offsets after it still answer. Once the
    scope's size is known (from an earlier page, or the checkpoint's `total` when resuming),
    the page is yielded to be quarantined (`Page.unusable`) and paging goes on `page_size` (what
    each request asks for) further. Skipped pages are held back until a readable page follows,
    or the scope ends: more than UNUSABLE_IN_A_ROW in a row are an outage, not broken pages,
    and fail the run with none of them skipped, so that the next run asks for them again.
    The first page cannot be skipped: until it is read, nothing says how far the scope goes.
    """
    held: list[Page] = []
    while True:
        try:
            page, more = read(position)
        except UnusableAnswer as exc:
            if total is None or len(held) == UNUSABLE_IN_A_ROW:
                raise PreservationError(_unusable(source, scope, exc, total, len(held))) from None
            page = _skipped(scope, position, position + page_size, total, exc)
            more = page.next_position < total
        except Stalled as exc:
            yield from [*held, exc.page]
            raise PreservationError(f"{source}: {exc.reason}") from None
        held.append(page)
        if page.unusable is None or not more:
            yield from held
            held.clear()
        if not more:
            return
        position, total = page.next_position, page.total


def _skipped(
    scope: Scope, position: int, next_position: int, total: int, exc: UnusableAnswer
) -> Page:
    after = f"went on at offset {next_position}" if next_position < total else "ended there"
    reason = f"{exc.reason} (page skipped: the scope {after})"
    key = offset_key(scope, position)
    return Page(key, exc.request, exc.body, 0, next_position, total, unusable=reason)


def _unusable(source: str, scope: Scope, exc: UnusableAnswer, total: int | None, held: int) -> str:
    """Why an unusable answer fails its scope, in one line."""
    if total is None:
        return (
            f"{source}: unusable answer to {exc.request} ({exc.reason}); it is the first page "
            f"of {scope.name}, and nothing read yet says how large the scope is, so it cannot "
            "be skipped: the next run asks again"
        )
    return (
        f"{source}: unusable answer to {exc.request} ({exc.reason}), {held + 1} in a row for "
        f"{scope.name}: an outage rather than broken pages, so none of them was skipped: "
        "the next run asks again"
    )


@dataclass
class HarvestOptions:
    """What `preservation harvest SOURCE` was asked for; each live source reads its part."""

    contact: str = ""
    base_url: str | None = None  # None: the public service
    interval: float = 1.0
    collection: list[str] = field(default_factory=list)
    query: list[str] = field(default_factory=list)
    item: list[str] = field(default_factory=list)
    since: str | None = None  # YYYY-MM-DD
    recording: list[str] = field(default_factory=list)
    release: list[str] = field(default_factory=list)
    artist: list[str] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    from_file: Any = None  # a Path of '<kind> <id>' lines
    follow_up: bool = False  # --writers (musicbrainz), --items (internetarchive)


class LiveSource(Protocol):
    """How a source is harvested live. Register it in preservation/sources/__init__.py."""

    def scopes(self, options: HarvestOptions) -> list[Any]:
        """The scopes the options name; raise PreservationError when they name none (and no
        follow-up was asked for)."""
        ...

    def client(self, options: HarvestOptions) -> LiveClient:
        """A client with the etiquette the options and the service call for."""
        ...

    def follow_up(self, con: Any, options: HarvestOptions) -> list[Any]:
        """Scopes to harvest after the first pass, from what it stored ([] for none)."""
        ...


def nothing_to_harvest(flags: str) -> PreservationError:
    return PreservationError(f"nothing to harvest: give --input DIR, or {flags}")


class Source(Protocol):
    """A source plugin. Register an instance in preservation/sources/__init__.py."""

    name: str
    description: str

    def parse(self, payload: Any, key: str) -> Parsed:
        """Normalize one decoded JSON payload; raise MalformedPayload when it is unusable."""
        ...


# What reading a decoded answer of an unexpected shape raises: not JSON, a key missing, a
# wrong type, a number too large for what it counts, nesting too deep to decode.
SHAPE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, RecursionError)


def json_object(payload: Any) -> dict[str, Any]:
    """The payload, if it is a JSON object, as every source's answers are; else malformed."""
    if not isinstance(payload, dict):
        raise MalformedPayload(f"expected a JSON object, got {type(payload).__name__}")
    return payload


# ASCII digits only (Python's \d also matches other scripts' digits, which SQL cannot cast), after
# ASCII whitespace only: dump.sql's mb_date reads the same prefix, so both parsers agree.
_DATE = re.compile(r"^[\t\n\v\f\r ]*([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def clean_date(value: Any) -> str | None:
    """A partial ISO date ('1953', '1953-10', '1953-10-11') from a source's date text, or None.

    Only a plausible calendar prefix is kept: '0000', month 13 or day 45 (or 30 February) give
    None or the coarser date, so a bad date never becomes a confident one.
    """
    if not isinstance(value, str):
        return None
    m = _DATE.match(value)
    if not m:
        return None
    year, month, day = m.group(1), m.group(2), m.group(3)
    if not 1000 <= int(year) <= 2999:
        return None
    if month is None:
        return year
    if not 1 <= int(month) <= 12:
        return year
    if day is None or not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        return f"{year}-{month}"
    return f"{year}-{month}-{day}"


def seconds(value: Any, per_second: float = 1.0) -> float | None:
    """A duration in seconds from a count of 1/`per_second` s: positive and finite, else None.

    A boolean, a string, NaN, an infinity or an integer too large for a float is no duration.
    """
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        result = float(value) / per_second
    except OverflowError:
        return None
    return result if math.isfinite(result) and result > 0 else None


# An escaped UTF-16 surrogate (\ud800-\udfff): paired, it is one character; alone, not text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def load_json(body: str | bytes) -> Any:
    """Decode a payload as JSON text, or raise ValueError saying why it is not.

    Beyond `json.loads`: bytes must be UTF-8; an unpaired surrogate escape ("\\ud800") is
    refused, since it decodes to no Unicode text (nothing downstream could store it); and a
    document nested deeper than Python can follow is refused, not a crash.
    """
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        decoded = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply to decode") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(decoded, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("holds an unpaired UTF-16 surrogate escape (not text)") from None
        except RecursionError:
            raise ValueError("nested too deeply to decode") from None
    return decoded


def text(value: Any) -> str | None:
    """A stripped non-empty string, or None; lists give their first element."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise MalformedPayload(f"expected text, got {type(value).__name__}")
    s = str(value).strip()
    return s or None


def text_list(value: Any) -> list[str]:
    """A list of stripped non-empty strings from a string, a list, or None."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [t for t in (text(v) for v in items) if t]
