"""Fetch from the loc.gov JSON API (`?fo=json`), politely (sources/http.py).

- An item: `/item/<id>/`. A search (`/search/?q=`) or a collection (`/collections/<slug>/`,
  e.g. `national-jukebox`) pages by page number (`sp`) with `c` results a page; the position
  stored is the number of results read, so an interrupted harvest resumes at the next page,
  and a page unusable for good is skipped (`base.offset_pages`).
- loc.gov asks crawlers to stay under 80 search requests a minute: the default of one
  request a second keeps under it.
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
    nothing_to_harvest,
    offset_key,
    offset_pages,
    read_page,
)
from preservation.sources.http import Etiquette, PoliteSession

PUBLIC = "https://www.loc.gov"
PAGE_SIZE = 100
SCOPE_KINDS = ("collection", "search", "item")

__all__ = ["PUBLIC", "Etiquette", "LocGov", "Scope"]


@dataclass(frozen=True)
class Scope(base.Scope):
    """A loc.gov collection (by its slug), a search, or one item (by its id)."""

    KINDS = SCOPE_KINDS

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind != "search" and "/" in self.value:
            raise PreservationError(
                f"--{self.kind} takes a loc.gov {self.kind} name, got {self.value!r}"
            )


class Live:
    """loc.gov for `harvest loc`: --collection SLUG, --query TEXT, --item ID."""

    def scopes(self, options: HarvestOptions) -> list[Scope]:
        named = zip(SCOPE_KINDS, (options.collection, options.query, options.item), strict=True)
        scopes = [Scope(kind, value) for kind, values in named for value in values]
        if not scopes:
            raise nothing_to_harvest("--collection/--query/--item")
        return scopes

    def client(self, options: HarvestOptions) -> LocGov:
        return LocGov(Etiquette(options.contact, options.base_url or PUBLIC, options.interval))

    def follow_up(self, con: object, options: HarvestOptions) -> list[Scope]:
        return []


class LocGov:
    """Pages of loc.gov answers for a scope, each body kept exactly as received."""

    def __init__(self, etiquette: Etiquette) -> None:
        self.http = PoliteSession(etiquette, PUBLIC, "loc")

    def pages(
        self, scope: Scope, position: int = 0, cursor: str | None = None, total: int | None = None
    ) -> Iterator[Page]:
        if scope.kind == "item":
            if position == 0:
                answer = self.http.get(f"{PUBLIC}/item/{scope.value}/", {"fo": "json"})
                yield Page(scope.name, answer.url, answer.content, 1, 1, 1)
            return
        read = partial(self._page, scope)
        yield from offset_pages("loc", scope, read, position, total, PAGE_SIZE)

    def _page(self, scope: Scope, position: int) -> tuple[Page, bool]:
        """The page of results from `position` on, and whether more follow."""
        url = (
            f"{PUBLIC}/search/"
            if scope.kind == "search"
            else f"{PUBLIC}/collections/{scope.value}/"
        )
        params = {"fo": "json", "c": PAGE_SIZE, "sp": position // PAGE_SIZE + 1}
        if scope.kind == "search":
            params["q"] = scope.value
        answer = self.http.get(url, params)
        count, more, total = read_page(answer.url, answer.content, partial(_paging, position))
        key = offset_key(scope, position)
        return Page(key, answer.url, answer.content, count, position + count, total), more


def _paging(position: int, decoded: Any) -> tuple[int, bool, int]:
    """(results in the page, whether more follow, results in the scope) from a page's answer."""
    count = len(decoded["results"])
    pagination = decoded.get("pagination") or {}
    more = bool(pagination.get("next")) and count > 0
    # `of` is the number of results; without a pagination block, this page is all.
    total = int(pagination.get("of") or 0) or (position + count + (PAGE_SIZE if more else 0))
    return count, more, max(total, position + count)


LIVE = Live()
