"""Fetch from archive.org through the `internetarchive` package, politely.

- Collections and searches go through the scrape API (`search_items`), which pages by an
  opaque cursor: each page is stored with the cursor of the next, so an interrupted harvest
  resumes at the next page. Only the fields normalizing needs are asked for.
- Items go through the metadata API (`get_item`). A dark item or an unknown identifier is
  an answer (stored, and normalized as a holding that no longer exists), not an error.

The package's own code runs unchanged; its session is wrapped in our PoliteSession
(sources/http.py: user agent, pacing, retries, mirror or loopback base URL, bodies kept).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import internetarchive

from preservation.errors import PreservationError
from preservation.sources import base
from preservation.sources.base import (
    SHAPE_ERRORS,
    HarvestOptions,
    Page,
    nothing_to_harvest,
    offset_key,
)
from preservation.sources.http import Etiquette, PoliteSession

__all__ = ["PUBLIC", "Archive", "Etiquette", "Scope", "item_scopes"]

PUBLIC = "https://archive.org"
PAGE_SIZE = 1000  # scrape API: 100 to 10000 items per page
# What normalizing reads from a search result (see parse.py); the rest is left on the server.
FIELDS = [
    "identifier", "title", "creator", "date", "year", "publisher", "external-identifier",
    "collection", "mediatype", "subject", "licenseurl", "rights", "addeddate",
]  # fmt: skip
SCOPE_KINDS = ("collection", "query", "item")


@dataclass(frozen=True)
class Scope(base.Scope):
    """A collection (optionally narrowed by a query and an added-since date), a search, or
    one item."""

    query: str | None = None
    since: str | None = None  # YYYY-MM-DD: only items added to archive.org since then
    KINDS = SCOPE_KINDS

    @property
    def name(self) -> str:
        extra = "".join(f" {k}:{v}" for k, v in (("query", self.query), ("since", self.since)) if v)
        return f"{self.kind}:{self.value}{extra}"

    @property
    def search(self) -> str:
        """The scrape query this scope stands for."""
        parts = [f"collection:{self.value}" if self.kind == "collection" else self.value]
        if self.query:
            parts.append(f"({self.query})")
        if self.since:
            parts.append(f"addeddate:[{self.since} TO 9999-12-31]")
        return " AND ".join(parts)


def item_scopes(con: duckdb.DuckDBPyConnection) -> list[Scope]:
    """Item lookups for the identifiers that harvested search pages listed and whose item
    answer is not stored yet: files (is there a lossless transfer?) and audio length are
    only in the item's metadata, not in search fields."""
    rows = con.execute(
        """
        WITH listed AS (
            SELECT DISTINCT unnest(json_extract_string(payload, '$.items[*].identifier')) AS id
            FROM raw_records
            WHERE source = 'internetarchive' AND NOT starts_with(key, 'item:')
              AND json_valid(payload)
        )
        SELECT id FROM listed
        WHERE id IS NOT NULL AND 'item:' || id NOT IN (
            SELECT key FROM raw_records WHERE source = 'internetarchive')
        ORDER BY id
        """
    ).fetchall()
    return [Scope("item", identifier) for (identifier,) in rows]


class Live:
    """archive.org for `harvest internetarchive`: --collection ID (narrowed by --query and
    --since), else --query TEXT; --item ID; --items: then the items the searches listed."""

    def scopes(self, options: HarvestOptions) -> list[Scope]:
        since = options.since
        if options.collection:
            narrowing = " AND ".join(f"({q})" for q in options.query) or None
            scopes = [Scope("collection", c, narrowing, since) for c in options.collection]
        else:
            scopes = [Scope("query", q, None, since) for q in options.query]
        scopes += [Scope("item", i) for i in options.item]
        if not scopes and not options.follow_up:
            raise nothing_to_harvest("--collection/--query/--item/--items")
        return scopes

    def client(self, options: HarvestOptions) -> Archive:
        return Archive(Etiquette(options.contact, options.base_url or PUBLIC, options.interval))

    def follow_up(self, con: duckdb.DuckDBPyConnection, options: HarvestOptions) -> list[Scope]:
        return item_scopes(con) if options.follow_up else []


class Archive:
    """Pages of archive.org answers for a scope, each body kept exactly as received."""

    def __init__(self, etiquette: Etiquette) -> None:
        self.etiquette = etiquette
        config = {"general": {"user_agent_suffix": etiquette.product}}
        session = internetarchive.get_session(config=config)
        self.http = PoliteSession(etiquette, PUBLIC, "internetarchive", session)
        self.session = session
        # The package mounts its own adapter again when a search starts; keep ours instead.
        session.mount_http_adapter = lambda *_, **__: session.mount(PUBLIC, self.http.adapter)

    def pages(
        self, scope: Scope, position: int = 0, cursor: str | None = None, total: int | None = None
    ) -> Iterator[Page]:
        # `total` is not needed: a scrape page that cannot be read holds the next cursor, so
        # it fails the scope rather than being skipped.
        if scope.kind == "item":
            if position == 0:
                yield self._item(scope)
            return
        yield from self._scrape(scope, position, cursor)

    def _item(self, scope: Scope) -> Page:
        answer = self.http.fetch(lambda: self.session.get_item(scope.value))
        return Page(scope.name, answer.url, answer.content, 1, 1, 1)

    def _scrape(self, scope: Scope, position: int, cursor: str | None) -> Iterator[Page]:
        while True:
            params = {"count": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
            # One search per page: its first item makes the package fetch that page (and
            # nothing more), so a page cut short can be asked for again from its cursor.
            search = self.session.search_items(scope.search, fields=FIELDS, params=params)
            answer = self.http.fetch(lambda s=search: next(iter(s), None))
            try:
                decoded = json.loads(answer.content)
                count, total = len(decoded["items"]), int(decoded["total"])
                cursor = decoded.get("cursor")
            except SHAPE_ERRORS as exc:
                raise PreservationError(
                    f"internetarchive: unusable scrape answer from {answer.url}: {exc}; the "
                    "cursor to go on from is in it, so it cannot be skipped: the next run asks "
                    "again"
                ) from exc
            yield Page(
                key=offset_key(scope, position),
                request=answer.url,
                body=answer.content,
                entities=count,
                next_position=position + count,
                total=total,
                next_cursor=cursor,
            )
            position += count
            if not cursor or count == 0 or position >= total:
                return  # the last page: asking again would only return nothing


LIVE = Live()
