"""Wikimedia Commons: freely licensed and public-domain audio files (MediaWiki API).

`parse` reads `action=query` answers (file pages with `imageinfo`); `live` fetches them from
commons.wikimedia.org, politely.
"""

from preservation.sources.commons.parse import SOURCE, WikimediaCommons

__all__ = ["SOURCE", "WikimediaCommons"]
