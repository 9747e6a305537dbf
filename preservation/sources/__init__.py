"""The source registry: one module per source, one line here to register it."""

from __future__ import annotations

import importlib

from preservation.errors import PreservationError
from preservation.sources import commons, internetarchive, loc, musicbrainz
from preservation.sources.base import LiveSource, Source

SOURCES: dict[str, Source] = {
    s.name: s for s in (musicbrainz.SOURCE, internetarchive.SOURCE, loc.SOURCE, commons.SOURCE)
}


# Sources that can be harvested live, by the module holding their LIVE object (imported when
# a live harvest asks for it: the HTTP clients stay out of every other command's start-up).
LIVE = {
    "musicbrainz": "preservation.sources.musicbrainz.live",
    "internetarchive": "preservation.sources.internetarchive.live",
    "loc": "preservation.sources.loc.live",
    "commons": "preservation.sources.commons.live",
}


def get_live(name: str) -> LiveSource:
    """How to harvest `name` live, or a clear error."""
    get_source(name)
    if name not in LIVE:
        raise PreservationError(f"live harvesting of {name} is not available: use --input DIR")
    live: LiveSource = importlib.import_module(LIVE[name]).LIVE
    return live


def get_source(name: str) -> Source:
    """The registered source called `name`, or a clear error listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise PreservationError(
            f"unknown source {name!r}; known sources: {', '.join(sorted(SOURCES))}"
        ) from None
