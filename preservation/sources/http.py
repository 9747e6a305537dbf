"""Polite HTTP for live sources that speak plain HTTP (through `requests`).

One `PoliteSession` per harvest enforces the etiquette, whoever builds the requests (our code
or a client package such as `internetarchive`):
- a user agent naming the project and a contact, and no live run without a contact;
- one request per `interval` seconds (requests are sequential: concurrency one);
- on 429/5xx, resets and timeouts, a bounded number of retries that wait what Retry-After
  says (capped at `max_wait`), else 1, 2, 4 ... s; a body cut short, or one that is not
  JSON (a proxy's error page, a body cut with a matching length), is asked for again;
- a server silent for `timeout` seconds counts as failed (then retried), whatever timeout
  the client package would use, so a stalled connection cannot hang a harvest;
- a mirror (or the tests' loopback server) in place of the public host, by base URL;
- every answer kept exactly as received, for `raw_records`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from preservation import __version__
from preservation.errors import PreservationError

RETRIED = [429, 500, 502, 503, 504]  # answers worth asking again (after Retry-After)


@dataclass
class Etiquette:
    contact: str
    base_url: str  # the public root (e.g. https://archive.org), or a mirror's
    interval: float = 1.0  # seconds between requests
    retries: int = 4  # further attempts after a failed one
    max_wait: float = 120.0  # longest single wait, whatever Retry-After says
    timeout: float = 60.0  # seconds without a byte from the server before a request fails

    def __post_init__(self) -> None:
        if not self.contact or ("@" not in self.contact and "://" not in self.contact):
            raise PreservationError(
                "live harvests need a contact (an e-mail address or URL) for the user agent: "
                "pass --contact or set PRESERVATION_CONTACT"
            )

    @property
    def product(self) -> str:
        """What the user agent says of us."""
        return f"preservation/{__version__} ( {self.contact} )"


class Pace:
    """At most one request per `interval` seconds among the callers sharing it (all threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = float("-inf")

    def wait(self, interval: float) -> None:
        with self.lock:
            pause = self.last + interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.last = time.monotonic()


class _Retry(Retry):
    """urllib3's retry policy with Retry-After capped, so one answer cannot stall a harvest."""

    def __init__(self, *args: Any, max_wait: float = 120.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait

    def new(self, **kwargs: Any) -> _Retry:
        # urllib3 makes a fresh Retry after each attempt; the cap goes with it.
        retry = super().new(**kwargs)
        retry.max_wait = self.max_wait
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, self.max_wait)


class _Adapter(HTTPAdapter):
    """Paces requests, and sends the public host's requests to the configured base URL."""

    def __init__(self, etiquette: Etiquette, public: str) -> None:
        retry = _Retry(
            total=etiquette.retries,
            connect=etiquette.retries,
            read=etiquette.retries,
            status=etiquette.retries,
            redirect=False,
            allowed_methods=["POST", "HEAD", "GET", "OPTIONS"],  # IA's scrape is a POST
            status_forcelist=RETRIED,
            backoff_factor=1.0,
            backoff_max=etiquette.max_wait,
            respect_retry_after_header=True,
            raise_on_status=False,
            max_wait=etiquette.max_wait,
        )
        super().__init__(max_retries=retry)
        self.etiquette, self.public = etiquette, public.rstrip("/")
        self.pace = Pace()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        base = self.etiquette.base_url.rstrip("/")
        if request.url and base != self.public:
            request.url = base + request.url.removeprefix(self.public)
        self.pace.wait(self.etiquette.interval)
        # Ours, not the client package's (internetarchive waits 300 s on a search).
        kwargs["timeout"] = self.etiquette.timeout
        return super().send(request, *args, **kwargs)


def is_json(body: bytes) -> bool:
    """Whether a body is whole JSON (what every live source answers when all is well)."""
    try:
        json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is one; nested too deep to read
        return False
    return True


class JsonAnswers:
    """Which answers a retry loop takes: a JSON body at once; a body that is not JSON only
    when every attempt gave one (it is then the answer, stored and quarantined with its
    reason).

    Every service here answers JSON: anything else (an error page, a body cut with a
    matching length) is most often passing, and taken at once it would fail a page or send a
    record to quarantine."""

    def __init__(self, attempts: int) -> None:
        self.attempts, self.garbled = attempts, 0

    def take(self, body: bytes) -> bool:
        if is_json(body):
            return True
        self.garbled += 1
        return self.garbled == self.attempts


class PoliteSession:
    """Wraps a requests session (ours or a client package's) with the etiquette above."""

    def __init__(
        self,
        etiquette: Etiquette,
        public: str,
        source: str,
        session: requests.Session | None = None,
    ) -> None:
        self.etiquette, self.source = etiquette, source
        self.session = session or requests.Session()
        if session is None:
            agent = requests.utils.default_user_agent()
            self.session.headers["User-Agent"] = f"{etiquette.product} {agent}"
        self.adapter = _Adapter(etiquette, public)
        self.session.mount(public.rstrip("/"), self.adapter)
        self.answers: list[requests.Response] = []
        self.session.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.answers.append(response)

    def fetch(self, request: Callable[[], object]) -> requests.Response:
        """Run one call that makes a request; return the answer, retrying a body cut short
        or not JSON.

        A body that is not JSON at every attempt is returned (stored, then quarantined with
        its reason); an error status after the retries raises, naming the request, and so
        does a request whose attempts all failed, some otherwise.
        """
        e = self.etiquette
        answers = JsonAnswers(e.retries + 1)
        for attempt in range(e.retries + 1):
            self.answers.clear()
            try:
                request()
            except ValueError:
                pass  # the client could not decode the body: it is still the answer
            except requests.exceptions.ChunkedEncodingError as exc:  # cut short: ask again
                if attempt == e.retries:
                    raise self._gave_up(exc) from exc
                time.sleep(min(2.0**attempt, e.max_wait))
                continue
            except requests.HTTPError:
                pass  # the client raised on an error status: _last_answer names it
            except requests.RequestException as exc:
                raise self._gave_up(exc) from exc
            answer = self._last_answer()
            if answers.take(answer.content):
                return answer
            if attempt < e.retries:
                time.sleep(min(2.0**attempt, e.max_wait))
        raise PreservationError(
            f"{self.source}: gave up on {urlsplit(answer.url).path} (cut short or not JSON "
            f"at each of {e.retries + 1} attempts); what was stored is kept and the harvest "
            "resumes from there"
        )

    def get(self, url: str, params: dict[str, Any] | None = None) -> requests.Response:
        return self.fetch(lambda: self.session.get(url, params=params))

    def _last_answer(self) -> requests.Response:
        if not self.answers:
            raise PreservationError(f"{self.source}: no answer was received")
        answer = self.answers[-1]
        if answer.status_code >= 400:
            where = f"{answer.request.method} {urlsplit(answer.url).path}"
            tries = self.etiquette.retries + 1
            after = f" after {tries} attempts" if answer.status_code in RETRIED else ""
            raise PreservationError(
                f"{self.source}: {where} answered {answer.status_code}{after}; what was stored "
                "is kept and the harvest resumes from there"
            )
        return answer

    def _gave_up(self, exc: requests.RequestException) -> PreservationError:
        where = urlsplit(str(getattr(exc.request, "url", "") or "")).path or "the service"
        return PreservationError(
            f"{self.source}: gave up on {where} ({type(exc).__name__}); what was stored is "
            "kept and the harvest resumes from there"
        )
