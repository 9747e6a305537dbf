"""Internet Archive: open copies of 78s, cylinders and other recordings (Great 78 Project ...).

`parse` reads metadata-API, advanced-search and scrape responses; `live` fetches them through
the `internetarchive` package, politely.
"""

from preservation.sources.internetarchive.parse import SOURCE, InternetArchive

__all__ = ["SOURCE", "InternetArchive"]
