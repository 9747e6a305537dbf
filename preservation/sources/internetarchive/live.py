"""Fetch from archive.org through the `internetarchive` package, politely.

- Collections and searches go through the scrape API (`search_items`), which pages by an
  opaque cursor: each page is stored with the cursor of the next, so an interrupted harvest
  resumes at the next page. Only the fields normalizing needs are asked for.
- Items go through the metadata API (`get_item`). A dark item or an unknown identifier is
  an answer (stored, and normalized as a holding that no longer exists), not an error.
- Etiquette is enforced here: a user agent naming the project and a contact, one request
  per `interval` seconds (requests are sequential: concurrency one), and on 429/5xx a
  bounded number of retries that wait what Retry-After says (else 1, 2, 4 ... s, capped).

The package's own code runs unchanged. Its session gets our retry policy, and, for a mirror
or the tests' loopback server, an adapter that sends archive.org requests there instead.
A response hook keeps each body exactly as received, for `raw_records`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import internetarchive
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from preservation import __version__
from preservation.errors import PreservationError
from preservation.sources.base import Page

PUBLIC = "https://archive.org"
PAGE_SIZE = 1000  # scrape API: 100 to 10000 items per page
# What normalizing reads from a search result (see parse.py); the rest is left on the server.
FIELDS = [
    "identifier", "title", "creator", "date", "year", "publisher", "external-identifier",
    "collection", "mediatype", "subject", "licenseurl", "rights", "addeddate",
]  # fmt: skip
SCOPE_KINDS = ("collection", "query", "item")


@dataclass(frozen=True)
class Scope:
    """A collection (optionally narrowed by a query and an added-since date), a search, or
    one item."""

    kind: str
    value: str
    query: str | None = None
    since: str | None = None  # YYYY-MM-DD: only items added to archive.org since then

    def __post_init__(self) -> None:
        if self.kind not in SCOPE_KINDS:
            raise PreservationError(f"unknown scope {self.kind!r}; use {', '.join(SCOPE_KINDS)}")
        if not self.value.strip():
            raise PreservationError(f"--{self.kind} needs a value")

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


@dataclass
class Etiquette:
    contact: str
    base_url: str = PUBLIC
    interval: float = 1.0  # seconds between requests
    retries: int = 4  # further attempts after a failed one
    max_wait: float = 120.0  # longest single wait, whatever Retry-After says

    def __post_init__(self) -> None:
        if not self.contact or ("@" not in self.contact and "://" not in self.contact):
            raise PreservationError(
                "live Internet Archive harvests need a contact (an e-mail address or URL): "
                "pass --contact or set PRESERVATION_CONTACT"
            )


class _Retry(Retry):
    """urllib3's retry policy with Retry-After capped, so one answer cannot stall a harvest."""

    max_wait: float = 120.0

    def get_retry_after(self, response: Any) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, self.max_wait)


class _Adapter(HTTPAdapter):
    """Paces requests, and sends archive.org requests to a mirror (or a test server)."""

    def __init__(self, etiquette: Etiquette, retry: Retry) -> None:
        super().__init__(max_retries=retry)
        self.etiquette = etiquette
        self.lock = threading.Lock()
        self.last = float("-inf")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        base = self.etiquette.base_url.rstrip("/")
        if request.url and base != PUBLIC:
            request.url = base + request.url.removeprefix(PUBLIC)
        with self.lock:
            pause = self.last + self.etiquette.interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.last = time.monotonic()
        return super().send(request, *args, **kwargs)


@dataclass
class Archive:
    """Pages of archive.org answers for a scope, each body kept exactly as received."""

    etiquette: Etiquette
    answers: list[requests.Response] = field(default_factory=list)

    def __post_init__(self) -> None:
        e = self.etiquette
        config = {"general": {"user_agent_suffix": f"preservation/{__version__} ( {e.contact} )"}}
        self.session = internetarchive.get_session(config=config)
        _Retry.max_wait = e.max_wait
        retry = _Retry(
            total=e.retries,
            connect=e.retries,
            read=e.retries,
            status=e.retries,
            redirect=False,
            allowed_methods=["POST", "HEAD", "GET", "OPTIONS"],  # scrape is a POST
            status_forcelist=[429, 500, 502, 503, 504],
            backoff_factor=1.0,
            backoff_max=e.max_wait,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = _Adapter(e, retry)
        self.session.mount(PUBLIC, adapter)
        # The package mounts its own adapter again when a search starts; keep ours instead.
        self.session.mount_http_adapter = lambda *_, **__: self.session.mount(PUBLIC, adapter)
        self.session.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.answers.append(response)

    def pages(self, scope: Scope, position: int = 0, cursor: str | None = None) -> Iterator[Page]:
        if scope.kind == "item":
            if position == 0:
                yield self._item(scope)
            return
        yield from self._scrape(scope, position, cursor)

    def _item(self, scope: Scope) -> Page:
        answer = self._fetch(lambda: self.session.get_item(scope.value))
        return Page(scope.name, answer.url, answer.content, 1, 1, 1)

    def _scrape(self, scope: Scope, position: int, cursor: str | None) -> Iterator[Page]:
        while True:
            params = {"count": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
            # One search per page: its first item makes the package fetch that page (and
            # nothing more), so a page cut short can be asked for again from its cursor.
            search = self.session.search_items(scope.search, fields=FIELDS, params=params)
            answer = self._fetch(lambda s=search: next(iter(s), None))
            try:
                decoded = json.loads(answer.content)
                count, total = len(decoded["items"]), int(decoded["total"])
            except (ValueError, KeyError, TypeError) as exc:
                raise PreservationError(
                    f"internetarchive: unusable scrape answer from {answer.url}: {exc}"
                ) from exc
            cursor = decoded.get("cursor")
            yield Page(
                key=f"{scope.name}#offset={position}",
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

    def _fetch(self, request: Callable[[], object]) -> requests.Response:
        """Run one package call, retrying a body cut short (urllib3 retries the rest)."""
        e = self.etiquette
        for attempt in range(e.retries + 1):
            self.answers.clear()
            try:
                request()
            except ValueError:
                pass  # a body that is not JSON: stored anyway, and quarantined with its reason
            except requests.exceptions.ChunkedEncodingError as exc:  # cut short: ask again
                if attempt == e.retries:
                    raise _gave_up(exc) from exc
                time.sleep(min(2.0**attempt, e.max_wait))
                continue
            except requests.RequestException as exc:
                raise _gave_up(exc) from exc
            return self._last_answer()
        raise AssertionError("unreachable")

    def _last_answer(self) -> requests.Response:
        if not self.answers:
            raise PreservationError("internetarchive: no answer was received")
        answer = self.answers[-1]
        if answer.status_code >= 400:
            where = f"{answer.request.method} {urlsplit(answer.url).path}"
            raise PreservationError(
                f"internetarchive: {where} answered {answer.status_code} after "
                f"{self.etiquette.retries + 1} attempts at most; what was stored is kept and "
                "the harvest resumes from there"
            )
        return answer


def _gave_up(exc: requests.RequestException) -> PreservationError:
    where = urlsplit(str(getattr(exc.request, "url", "") or "")).path or "archive.org"
    return PreservationError(
        f"internetarchive: gave up on {where} ({type(exc).__name__}); what was stored is kept "
        "and the harvest resumes from there"
    )
