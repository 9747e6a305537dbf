"""Clusters: connected components over accepted links, guarded against chaining.

Links are added strongest first. A probabilistic link that would put two records that
cannot be one recording into one cluster (different matrices, different takes of one
matrix, different issues with no matrix to tie them, years far apart, or a pair an
archivist called different) is refused, with the reason, and goes to review; the cluster
stays split. Identifier links and archivists' "same" decisions are not second-guessed,
except by an archivist's "different".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Reissues keep a recording's first year in MusicBrainz and a transfer's disc year in the
# archives; beyond this gap two records are more likely two recordings of one song.
MAX_YEAR_GAP = 10


@dataclass(frozen=True)
class Traits:
    """What can make two records incompatible (normalized as link_input has them)."""

    year: int | None = None
    label: str | None = None
    catalog: str | None = None
    matrix: str | None = None
    take: str | None = None


def conflict(x: Traits, y: Traits) -> str | None:
    """Why records with these traits cannot be one recording, or None."""
    if x.matrix and y.matrix:
        if x.matrix != y.matrix:
            return f"matrices {x.matrix} and {y.matrix}"
        if x.take and y.take and x.take != y.take:
            return f"takes {x.take} and {y.take} of matrix {x.matrix}"
    elif _differ(x.label, y.label) and _differ(x.catalog, y.catalog):
        return f"issues {x.label} {x.catalog} and {y.label} {y.catalog}"
    if x.year and y.year and abs(x.year - y.year) > MAX_YEAR_GAP:
        return f"years {x.year} and {y.year}"
    return None


def _differ(x: str | None, y: str | None) -> bool:
    return bool(x and y and x != y)


class Clusters:
    """Union-find whose unions can be refused by the members they would bring together."""

    def __init__(self, traits: dict[str, Traits], apart: Iterable[tuple[str, str]] = ()) -> None:
        self.traits = traits
        self.apart = {tuple(sorted(pair)) for pair in apart}
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}

    def find(self, n: str) -> str:
        parent = self.parent
        if n not in parent:
            parent[n] = n
            self.members[n] = [n]
            return n
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    def join(self, a: str, b: str, guarded: bool) -> str | None:
        """Put a and b in one cluster; returns why not when refused (and changes nothing)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        reason = self._refusal(self.members[ra], self.members[rb], guarded)
        if reason:
            return reason
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        return None

    def _refusal(self, xs: list[str], ys: list[str], guarded: bool) -> str | None:
        none = Traits()
        for x in xs:
            for y in ys:
                if (min(x, y), max(x, y)) in self.apart:
                    return f"an archivist decided {x} and {y} are different recordings"
                if guarded:
                    why = conflict(self.traits.get(x, none), self.traits.get(y, none))
                    if why:
                        return f"would put {x} and {y} in one cluster: {why}"
        return None

    def groups(self) -> Iterable[tuple[str, str]]:
        """(record_id, smallest record id of its cluster) for every record ever joined."""
        smallest = {root: min(members) for root, members in self.members.items()}
        for n in self.parent:
            yield n, smallest[self.find(n)]
