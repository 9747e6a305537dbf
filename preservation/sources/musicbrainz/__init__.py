"""MusicBrainz: the open catalogue that says where recordings live and when they came out.

`parse` reads WS/2 JSON payloads (and dump lines, which share the shape); `live` fetches them
from the web service through musicbrainzngs, politely.
"""

from preservation.sources.musicbrainz.parse import SOURCE, MusicBrainz, entity_kind

__all__ = ["SOURCE", "MusicBrainz", "entity_kind"]
