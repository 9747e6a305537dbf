"""The source registry: one module per source, one line here to register it."""

from __future__ import annotations

from preservation.errors import PreservationError
from preservation.sources import commons, internetarchive, loc, musicbrainz
from preservation.sources.base import LiveSource, Source
from preservation.sources.commons import live as commons_live
from preservation.sources.internetarchive import live as internetarchive_live
from preservation.sources.loc import live as loc_live
from preservation.sources.musicbrainz import live as musicbrainz_live

SOURCES: dict[str, Source] = {
    s.name: s for s in (musicbrainz.SOURCE, internetarchive.SOURCE, loc.SOURCE, commons.SOURCE)
}


# Sources that can be harvested live (the others are read from saved responses only).
LIVE: dict[str, LiveSource] = {
    "musicbrainz": musicbrainz_live.LIVE,
    "internetarchive": internetarchive_live.LIVE,
    "loc": loc_live.LIVE,
    "commons": commons_live.LIVE,
}


def get_live(name: str) -> LiveSource:
    """How to harvest `name` live, or a clear error."""
    get_source(name)
    if name not in LIVE:
        raise PreservationError(f"live harvesting of {name} is not available: use --input DIR")
    return LIVE[name]


def get_source(name: str) -> Source:
    """The registered source called `name`, or a clear error listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise PreservationError(
            f"unknown source {name!r}; known sources: {', '.join(sorted(SOURCES))}"
        ) from None
