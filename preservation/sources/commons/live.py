"""Fetch audio file pages from the Wikimedia Commons MediaWiki API, politely.

Wikimedia asks API clients for a user agent with a contact (sources/http.py sends one), one
request at a time, and `maxlag` so that a lagged database is given room. A search pages by
`gsroffset` (a page unusable for good is skipped: `base.offset_pages`), a category by its
`gcmcontinue` cursor (an unusable page fails it: the next cursor is in that page); both are
checkpointed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from preservation.errors import PreservationError
from preservation.sources import base
from preservation.sources.base import (
    HarvestOptions,
    Page,
    Stalled,
    UnusableAnswer,
    nothing_to_harvest,
    offset_key,
    offset_pages,
    read_page,
)
from preservation.sources.http import Etiquette, PoliteSession

PUBLIC = "https://commons.wikimedia.org"
API = f"{PUBLIC}/w/api.php"
PAGE_SIZE = 50  # the API's limit for generators with imageinfo, for clients without bot rights
SCOPE_KINDS = ("search", "category", "file")
PAGE_PROPS = {
    "action": "query",
    "format": "json",
    "maxlag": "5",
    "prop": "info|imageinfo",
    "inprop": "url",
    "iiprop": "url|size|mime|extmetadata",
    "iiextmetadatafilter": "ObjectName|DateTimeOriginal|LicenseShortName|LicenseUrl|UsageTerms",
}

__all__ = ["PUBLIC", "Commons", "Etiquette", "Scope"]


@dataclass(frozen=True)
class Scope(base.Scope):
    """Audio files found by a search, the files of a category, or one file (by name)."""

    KINDS = SCOPE_KINDS

    def params(self, position: int, cursor: str | None) -> dict[str, Any]:
        if self.kind == "file":
            return {"titles": f"File:{self.value.removeprefix('File:')}"}
        if self.kind == "search":
            return {
                "generator": "search",
                "gsrnamespace": "6",
                "gsrsearch": f"filetype:audio {self.value}",
                "gsrlimit": PAGE_SIZE,
                "gsroffset": position,
                "gsrinfo": "totalhits",
            }
        return {
            "generator": "categorymembers",
            "gcmtitle": f"Category:{self.value.removeprefix('Category:')}",
            "gcmtype": "file",
            "gcmlimit": PAGE_SIZE,
            **({"gcmcontinue": cursor} if cursor else {}),
        }


class Live:
    """Commons for `harvest commons`: --collection CATEGORY, --query TEXT, --item FILE."""

    def scopes(self, options: HarvestOptions) -> list[Scope]:
        named = zip(SCOPE_KINDS, (options.query, options.collection, options.item), strict=True)
        scopes = [Scope(kind, value) for kind, values in named for value in values]
        if not scopes:
            raise nothing_to_harvest("--collection/--query/--item")
        return scopes

    def client(self, options: HarvestOptions) -> Commons:
        return Commons(Etiquette(options.contact, options.base_url or PUBLIC, options.interval))

    def follow_up(self, con: object, options: HarvestOptions) -> list[Scope]:
        return []


class Commons:
    """Pages of Commons answers for a scope, each body kept exactly as received."""

    def __init__(self, etiquette: Etiquette) -> None:
        self.http = PoliteSession(etiquette, PUBLIC, "commons")

    def pages(
        self, scope: Scope, position: int = 0, cursor: str | None = None, total: int | None = None
    ) -> Iterator[Page]:
        if scope.kind == "search":
            read = partial(self._page, scope, cursor=None)
            yield from offset_pages("commons", scope, read, position, total, PAGE_SIZE)
        elif scope.kind == "category":
            yield from self._category(scope, position, cursor)
        elif position == 0:
            yield self._file(scope)

    def _file(self, scope: Scope) -> Page:
        """A file's answer: one page, whatever `continue` it carries. Unusable, it is stored
        and quarantined with its reason, as the other sources' lookups are, rather than
        failing every run at this file and never reaching the scopes after it."""
        answer = self.http.get(API, {**PAGE_PROPS, **scope.params(0, None)})
        key = offset_key(scope, 0)
        try:
            found = read_page(answer.url, answer.content, partial(_read, scope))
        except UnusableAnswer as exc:
            return Page(key, answer.url, answer.content, 0, 1, 1, unusable=exc.reason)
        return Page(key, answer.url, answer.content, found.count, 1, 1)

    def _category(self, scope: Scope, position: int, cursor: str | None) -> Iterator[Page]:
        """A category's pages, each from the cursor the one before handed out: an unusable
        page holds the next cursor, so it cannot be skipped, and fails the scope."""
        while True:
            try:
                page, more = self._page(scope, position, cursor)
            except UnusableAnswer as exc:
                raise PreservationError(
                    f"commons: unusable answer to {exc.request} ({exc.reason}); {scope.name} "
                    "goes on only from the cursor in that answer, so it cannot be skipped: the "
                    "next run asks again"
                ) from None
            except Stalled as exc:
                yield exc.page
                raise PreservationError(f"commons: {exc.reason}") from None
            yield page
            if not more:
                return
            position, cursor = page.next_position, page.next_cursor

    def _page(self, scope: Scope, position: int, cursor: str | None) -> tuple[Page, bool]:
        """The search's page at `position`, or the category's at `cursor`, and whether more
        follow; Stalled if the answer says the scope goes on but not from where."""
        answer = self.http.get(API, {**PAGE_PROPS, **scope.params(position, cursor)})
        found = read_page(answer.url, answer.content, partial(_read, scope))
        key, end = offset_key(scope, position), position + found.count
        if not (found.more and found.count):
            return Page(key, answer.url, answer.content, found.count, end, end), False
        if scope.kind == "search":
            next_position, next_cursor = found.offset or position, None
            advanced = next_position > position
        else:
            next_position, next_cursor = end, found.more.get("gcmcontinue")
            advanced = next_cursor not in (None, cursor)
        if not advanced:
            # MediaWiki leaves the generator's key out of `continue` when a prop module (say
            # imageinfo) has more to give for the same batch of files. Passing every key back
            # would follow it, but would answer one batch in several pages that normalize
            # reads one at a time; stopping here, saying why, is the honest end. The page is
            # stored where the scope stands, so the next run asks for it again.
            total = max(found.hits or 0, position + PAGE_SIZE)  # not done: it stops
            stalled = Page(key, answer.url, answer.content, found.count, position, total, cursor)
            raise Stalled(stalled, _stalled(scope, position, found.more))
        total = max(found.hits or next_position + PAGE_SIZE, next_position)
        page = Page(key, answer.url, answer.content, found.count, next_position, total, next_cursor)
        return page, True


@dataclass(frozen=True)
class _Answer:
    """What paging needs of an `action=query` answer."""

    count: int  # file pages in it
    more: dict[str, Any]  # its `continue` block ({}: the scope ends here)
    offset: int | None  # continue.gsroffset: where a search goes on
    hits: int | None  # a search's total hits


def _read(scope: Scope, decoded: Any) -> _Answer:
    if "error" in decoded:
        error = decoded["error"]
        raise PreservationError(
            f"commons: the API refused {scope.name}: {error.get('code')}: {error.get('info')}"
        )
    query = decoded.get("query") or {}
    more = decoded.get("continue") or {}
    offset, hits = more.get("gsroffset"), query.get("searchinfo", {}).get("totalhits")
    return _Answer(
        count=len(query.get("pages") or {}),
        more=more,
        offset=None if offset is None else int(offset),
        hits=int(hits) if hits else None,
    )


def _stalled(scope: Scope, position: int, more: dict[str, Any]) -> str:
    wanted = "gsroffset" if scope.kind == "search" else "gcmcontinue"
    return (
        f"the answer for {scope.name} at offset {position} says it goes on (continue: "
        f"{', '.join(sorted(more))}) but gives no new {wanted}: asking on would fetch the same "
        "page forever, so the scope stops here; the answer is stored"
    )


LIVE = Live()
