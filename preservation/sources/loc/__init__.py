"""Library of Congress: the National Jukebox's open streams of early discs (loc.gov JSON API).

`parse` reads item and search responses; `live` fetches them from loc.gov, politely.
"""

from preservation.sources.loc.parse import SOURCE, LibraryOfCongress

__all__ = ["SOURCE", "LibraryOfCongress"]
