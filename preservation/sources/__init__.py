"""The source registry: one module per source, one line here to register it."""

from __future__ import annotations

from preservation.errors import PreservationError
from preservation.sources import commons, internetarchive, loc, musicbrainz
from preservation.sources.base import Source

SOURCES: dict[str, Source] = {
    s.name: s for s in (musicbrainz.SOURCE, internetarchive.SOURCE, loc.SOURCE, commons.SOURCE)
}


def get_source(name: str) -> Source:
    """The registered source called `name`, or a clear error listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise PreservationError(
            f"unknown source {name!r}; known sources: {', '.join(sorted(SOURCES))}"
        ) from None
