"""Fetch audio file pages from the Wikimedia Commons MediaWiki API, politely.

Wikimedia asks API clients for a user agent with a contact (sources/http.py sends one), one
request at a time, and `maxlag` so that a lagged database is given room. A search pages by
`gsroffset`, a category by its `gcmcontinue` cursor; both are checkpointed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from preservation.errors import PreservationError
from preservation.sources import base
from preservation.sources.base import SHAPE_ERRORS, HarvestOptions, Page, nothing_to_harvest
from preservation.sources.http import Etiquette, PoliteSession, is_json

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

    def pages(self, scope: Scope, position: int = 0, cursor: str | None = None) -> Iterator[Page]:
        while True:
            answer = self.http.get(API, {**PAGE_PROPS, **scope.params(position, cursor)})
            if scope.kind == "file" and not is_json(answer.content):
                # One answer, nothing to page through: stored as it came (and quarantined
                # with its reason), as the other sources' lookups are, rather than failing
                # every run at this file and never reaching the scopes after it.
                key = f"{scope.name}#offset={position}"
                yield Page(key, answer.url, answer.content, 0, position + 1, position + 1)
                return
            try:
                decoded = json.loads(answer.content)
                if "error" in decoded:
                    error = decoded["error"]
                    raise PreservationError(
                        f"commons: the API refused {scope.name}: {error.get('code')}: "
                        f"{error.get('info')}"
                    )
                pages = (decoded.get("query") or {}).get("pages") or {}
                count = len(pages)
                more = decoded.get("continue") or {}
                next_position = int(more.get("gsroffset", position + count))
                cursor = more.get("gcmcontinue")
                hits = (decoded.get("query") or {}).get("searchinfo", {}).get("totalhits")
                total = next_position
                if more:
                    total = int(hits) if hits else next_position + PAGE_SIZE
            except SHAPE_ERRORS as exc:
                raise PreservationError(
                    f"commons: unusable answer from {answer.url}: {exc}"
                ) from exc
            yield Page(
                key=f"{scope.name}#offset={position}",
                request=answer.url,
                body=answer.content,
                entities=count,
                next_position=next_position,
                total=max(total, next_position),
                next_cursor=cursor,
            )
            if not more or count == 0 or scope.kind == "file":
                return  # a file lookup is one answer, whatever `continue` it carries
            position = next_position


LIVE = Live()
