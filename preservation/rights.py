"""Public-domain status per jurisdiction, for the sound recording and the musical work, as of
a date.

The rules are data (`data/rights_rules.toml`, each citing its statute); this module is the
small engine that applies them. It never guesses. What is not known (the publication year of
a recording known only by its session date, the year a work's last author died) is taken as
everything it could be, consistent with what is known: publication is at or after fixation,
and may not have happened at all; an author of unknown death may still be alive. Where every
possibility gives the same answer the answer is firm; otherwise it is `undetermined`, with
the rules that could apply.

This is information, not legal advice.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, lru_cache
from importlib import resources
from typing import Any

LAYERS = ("recording", "composition")


@dataclass(frozen=True)
class Facts:
    """What the data says, as years; None when not known."""

    published: int | None = None  # first publication (of the recording, or of the work)
    fixed: int | None = None  # recording (fixation)
    died: int | None = None  # death of the last surviving author of the work


@dataclass
class Verdict:
    status: str  # public_domain | in_copyright | undetermined
    expires_year: int | None  # the last protected year, when it is known
    rule_id: str  # the rule that decided (or, undetermined, one that could apply)
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    id: str
    jurisdiction: str
    layer: str
    cite: str
    why: str
    when: dict[str, Any]  # the conditions, as in the file
    term: dict[str, Any]  # what the rule gives, as in the file


_CONDITIONS = (
    "published_from",
    "published_to",
    "unpublished",
    "not_published_within",
    "fixed_from",
    "fixed_to",
    "died_from",
    "died_to",
)
_TERMS = (
    "until",
    "years",
    "after",
    "renewed_years",
    "capped_years_after_fixed",
    "not_before",
    "open",
    "at_least",
    "undetermined",
)


@cache
def rules() -> tuple[Rule, ...]:
    """Every rule in the package's rules file, in file order."""
    text = resources.files("preservation").joinpath("data/rights_rules.toml").read_text()
    loaded = []
    for entry in tomllib.loads(text)["rule"]:
        unknown = set(entry) - {*_CONDITIONS, *_TERMS, "id", "jurisdiction", "layer", "cite", "why"}
        if unknown:
            raise ValueError(f"rule {entry.get('id')}: unknown keys {sorted(unknown)}")
        loaded.append(
            Rule(
                id=entry["id"],
                jurisdiction=entry["jurisdiction"],
                layer=entry["layer"],
                cite=entry["cite"],
                why=entry["why"],
                when={k: entry[k] for k in _CONDITIONS if k in entry},
                term={k: entry[k] for k in _TERMS if k in entry},
            )
        )
    return tuple(loaded)


def jurisdictions() -> tuple[str, ...]:
    """The jurisdictions the rules cover, in file order."""
    return tuple(dict.fromkeys(r.jurisdiction for r in rules()))


def rules_for(jurisdiction: str, layer: str) -> tuple[Rule, ...]:
    return tuple(r for r in rules() if r.jurisdiction == jurisdiction and r.layer == layer)


# ---------------------------------------------------------------- what may be true
# Years a fact may take: lo..hi inclusive, None for no bound.
Span = tuple[int | None, int | None]
ANY: Span = (None, None)


@dataclass(frozen=True)
class World:
    """One set of possibilities: publication (a span, or never), fixation, last death."""

    published: Span | None  # None: never published
    fixed: Span
    died: Span


def _highest_low(*lows: int | None) -> int | None:
    """The tightest of lower bounds, None being no bound."""
    known = [b for b in lows if b is not None]
    return max(known) if known else None


def _lowest_high(*highs: int | None) -> int | None:
    """The tightest of upper bounds, None being no bound."""
    known = [b for b in highs if b is not None]
    return min(known) if known else None


def _meet(a: Span, b: Span) -> Span | None:
    lo, hi = _highest_low(a[0], b[0]), _lowest_high(a[1], b[1])
    return None if lo is not None and hi is not None and lo > hi else (lo, hi)


def _outside(span: Span, cut: Span) -> list[Span]:
    """The parts of `span` outside `cut`."""
    parts: list[Span | None] = []
    if cut[0] is not None:
        parts.append(_meet(span, (None, cut[0] - 1)))
    if cut[1] is not None:
        parts.append(_meet(span, (cut[1] + 1, None)))
    return [p for p in parts if p is not None]


def _split(world: World, name: str, cut: Span) -> tuple[World | None, list[World]]:
    """The world where fact `name` lies within `cut`, and those where it does not."""
    span = getattr(world, name)
    inside = _meet(span, cut)
    return (
        replace(world, **{name: inside}) if inside is not None else None,
        [replace(world, **{name: part}) for part in _outside(span, cut)],
    )


def _late_publication(world: World, years: int) -> tuple[World | None, list[World]]:
    """Split on "published more than `years` after fixation" (never published counts)."""
    if world.published is None:
        return world, []
    (p_lo, p_hi), (f_lo, f_hi) = world.published, world.fixed
    if p_lo is not None and f_hi is not None and p_lo > f_hi + years:
        return world, []
    if p_hi is not None and f_lo is not None and p_hi <= f_lo + years:
        return None, [world]
    # Either may hold: each side narrows what the other allows.
    late_published = _meet(world.published, (None if f_lo is None else f_lo + years + 1, None))
    late_fixed = _meet(world.fixed, (None, None if p_hi is None else p_hi - years - 1))
    timely_published = _meet(world.published, (None, None if f_hi is None else f_hi + years))
    assert late_published and late_fixed and timely_published  # non-empty, by the tests above
    return (
        replace(world, published=late_published, fixed=late_fixed),
        [replace(world, published=timely_published)],
    )


def _matching(rule: Rule, world: World) -> tuple[World | None, list[World]]:
    """The part of `world` where `rule` applies, and the parts where it does not."""
    when = rule.when
    inside: World | None = world
    rest: list[World] = []
    if when.get("unpublished") and world.published is not None:
        return None, [world]
    if ("published_from" in when or "published_to" in when) and world.published is None:
        return None, [world]
    checks: list[tuple[str, Span]] = [
        (name, (when.get(f"{name}_from"), when.get(f"{name}_to")))
        for name in ("published", "fixed", "died")
        if f"{name}_from" in when or f"{name}_to" in when
    ]
    for name, cut in checks:
        assert inside is not None
        inside, outside = _split(inside, name, cut)
        rest.extend(outside)
        if inside is None:
            return None, rest
    if "not_published_within" in when:
        assert inside is not None
        inside, outside = _late_publication(inside, when["not_published_within"])
        rest.extend(outside)
    return inside, rest


# ---------------------------------------------------------------- what a rule gives
@dataclass(frozen=True)
class Ending:
    """When protection ends in one world: between `low` and `high` (None: unbounded)."""

    rule: Rule
    low: date | None
    high: date | None
    unknown: str | None = None  # the rule does not say (not modelled)


def _end_of(year: int | None) -> date | None:
    return None if year is None else date(year, 12, 31)


def _plus(span: Span, years: int) -> Span:
    return (
        None if span[0] is None else span[0] + years,
        None if span[1] is None else span[1] + years,
    )


def _ending(rule: Rule, world: World) -> Ending:
    term = rule.term
    if "undetermined" in term:
        return Ending(rule, None, None, term["undetermined"])
    if "until" in term:
        day = date.fromisoformat(term["until"])
        return Ending(rule, day, day)
    base = {"published": world.published, "fixed": world.fixed, "died": world.died}[term["after"]]
    assert base is not None, f"rule {rule.id}: {term['after']} is never known here"
    low, high = _plus(base, term["years"])
    if "renewed_years" in term:
        high = _plus(base, term["renewed_years"])[1]
    if "capped_years_after_fixed" in term:
        # The earlier of the two ends: unbounded below if either is.
        cap_low, cap_high = _plus(world.fixed, term["capped_years_after_fixed"])
        low = None if low is None or cap_low is None else min(low, cap_low)
        high = _lowest_high(high, cap_high)
    if "not_before" in term:
        floor = term["not_before"]
        low = _highest_low(low, floor)
        high = None if high is None else max(high, floor)
    if term.get("open"):
        low, high = (low if low is not None else term.get("at_least")), None
    return Ending(rule, _end_of(low), _end_of(high))


def _endings(jurisdiction: str, layer: str, world: World) -> list[Ending]:
    """How protection ends in each part of `world`, by the first rule that applies there."""
    found: list[Ending] = []
    pending = [world]
    for rule in rules_for(jurisdiction, layer):
        left: list[World] = []
        for part in pending:
            inside, outside = _matching(rule, part)
            if inside is not None:
                found.append(_ending(rule, inside))
            left.extend(outside)
        pending = left
        if not pending:
            break
    if pending:
        raise ValueError(f"no {jurisdiction} {layer} rule covers every case: check the rules file")
    return found


# ---------------------------------------------------------------- the verdict
def _world(facts: Facts, as_of: date) -> World:
    fixed: Span = (facts.fixed, facts.fixed) if facts.fixed is not None else ANY
    if facts.published is not None:
        if facts.fixed is None:
            fixed = (None, facts.published)  # recorded by the time it was published
        return World(published=(facts.published, facts.published), fixed=fixed, died=_died(facts))
    # Not known to be published: maybe published since fixation (by the date asked about),
    # maybe never. The "never" world is kept apart by `_worlds`.
    return World(published=(facts.fixed, as_of.year), fixed=fixed, died=_died(facts))


def _died(facts: Facts) -> Span:
    return (facts.died, facts.died) if facts.died is not None else ANY


def _worlds(facts: Facts, as_of: date) -> list[World]:
    known = _world(facts, as_of)
    if facts.published is not None:
        return [known]
    return [known, replace(known, published=None)]


def status(jurisdiction: str, layer: str, facts: Facts, as_of: date) -> Verdict:
    """Is the recording (layer "recording") or the work ("composition") public domain in
    `jurisdiction` on `as_of`? With the deciding rule and the reasons."""
    verdict = _status(jurisdiction, layer, facts, as_of)
    return replace(verdict, reasons=list(verdict.reasons))


# Catalogues repeat the same few thousand combinations of years millions of times.
@lru_cache(maxsize=65536)
def _status(jurisdiction: str, layer: str, facts: Facts, as_of: date) -> Verdict:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; known: {', '.join(LAYERS)}")
    if jurisdiction not in jurisdictions():
        raise ValueError(
            f"unknown jurisdiction {jurisdiction!r}; known: {', '.join(jurisdictions())}"
        )
    known = _known(facts, layer, _asks_publication(jurisdiction, layer))
    if facts.published is not None and facts.fixed is not None and facts.published < facts.fixed:
        return Verdict(
            "undetermined",
            None,
            f"{jurisdiction}-contradictory-dates",
            [*known, "published before it was recorded: the dates contradict each other"],
        )
    if layer == "recording" and facts.published is None and facts.fixed is None:
        return Verdict(
            "undetermined",
            None,
            f"{jurisdiction}-recording-no-date",
            ["no publication or recording date known"],
        )
    endings = [e for world in _worlds(facts, as_of) for e in _endings(jurisdiction, layer, world)]
    return _verdict(endings, known, as_of)


def _asks_publication(jurisdiction: str, layer: str) -> bool:
    return any(
        {"published_from", "published_to", "unpublished"} & set(r.when)
        for r in rules_for(jurisdiction, layer)
    )


def _known(facts: Facts, layer: str, asks_publication: bool) -> list[str]:
    said = []
    if facts.published is not None:
        said.append(f"published {facts.published}")
    elif layer == "composition" and asks_publication:
        said.append("the work's publication year is not known")
    if layer == "recording":
        said.append(f"recorded {facts.fixed}" if facts.fixed is not None else "")
    else:
        said.append(
            f"last author died {facts.died}"
            if facts.died is not None
            else "the year the last author died is not known"
        )
    return [", ".join(s for s in said if s)]


def _verdict(endings: list[Ending], known: list[str], as_of: date) -> Verdict:
    why = [f"{e.rule.why} ({e.rule.cite})" for e in _distinct(endings)]
    several = len(why) > 1
    reasons = [*known, *(["what is not known leaves several rules:"] if several else []), *why]
    if all(e.unknown is None and e.high is not None and as_of > e.high for e in endings):
        last = max(endings, key=lambda e: e.high or date.min)
        assert last.high is not None
        return Verdict("public_domain", last.high.year, last.rule.id, reasons)
    if all(e.unknown is None and e.low is not None and as_of <= e.low for e in endings):
        first = min(endings, key=lambda e: e.low or date.max)
        assert first.low is not None
        # A term may end on a day other than 31 December (15 Feb 2067): the year is the answer.
        last_years = {e.high.year if e.high else None for e in endings}
        if last_years == {first.low.year}:
            return Verdict("in_copyright", first.low.year, first.rule.id, reasons)
        reasons.append(f"protected at least until {first.low.isoformat()}")
        return Verdict("in_copyright", None, first.rule.id, reasons)
    open_ = next(e for e in endings if not (e.high is not None and as_of > e.high))
    for e in endings:
        if e.unknown:
            reasons.append(e.unknown)
    low = min((e.low for e in endings), key=lambda d: d or date.min)
    highs = [e.high for e in endings]
    high = None if None in highs else max(h for h in highs if h is not None)
    reasons.append(
        f"public domain on {as_of.isoformat()} only if protection had ended by then; it ends "
        f"between {low.isoformat() if low else 'an unknown date'} and "
        f"{high.isoformat() if high else 'an unknown date'}"
    )
    return Verdict("undetermined", None, open_.rule.id, reasons)


def _distinct(endings: list[Ending]) -> list[Ending]:
    seen: dict[str, Ending] = {}
    for e in endings:
        seen.setdefault(e.rule.id, e)
    return list(seen.values())


def unknown_work(jurisdiction: str) -> Verdict:
    """The composition layer of a recording linked to no musical work."""
    return Verdict(
        "undetermined",
        None,
        f"{jurisdiction}-composition-no-work",
        ["no musical work is linked to this recording, so its authors are not known"],
    )
