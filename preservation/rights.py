"""Public-domain status of a sound recording (the phonogram layer), per jurisdiction, as of a date.

This is a first, deliberately cautious engine for the recording layer in the US and the EU.
It never guesses: when the known dates do not settle the question it answers `undetermined`
and says what is missing. Compositions and more jurisdictions come with the full rights engine.

Inputs are years: `published` (first publication, e.g. the earliest release date) and
`recorded` (fixation). When only the recording year is known, every publication year the law
allows is considered; the verdict is firm only if all of them agree.

Sources:
- US: 17 U.S.C. § 1401(a)(2) (Music Modernization Act, 2018) for recordings fixed before
  15 Feb 1972; 17 U.S.C. §§ 302-304 for later ones. Terms run to the end of the calendar year.
- EU: Directive 2006/116/EC Art. 3(2) as amended by Directive 2011/77/EU (50 -> 70 years from
  publication, for phonograms still protected on 1 Nov 2013, Art. 10(5)); unpublished
  phonograms: 50 years from fixation.

This is information, not legal advice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

JURISDICTIONS = ("US", "EU")
PRE_1972_END = date(2067, 2, 15)  # 17 U.S.C. § 1401(a)(2)(B)(iv): the transition period's end


@dataclass(frozen=True)
class Term:
    """When protection ends: known exactly (low == high), or a range (high None: open-ended)."""

    low: date
    high: date | None
    rule_id: str
    why: str


@dataclass
class Verdict:
    status: str  # public_domain | in_copyright | undetermined
    expires_year: int | None
    rule_id: str
    reasons: list[str] = field(default_factory=list)


def _year_end(year: int) -> date:
    return date(year, 12, 31)


def _exact(year: int, rule_id: str, why: str) -> Term:
    return Term(_year_end(year), _year_end(year), rule_id, why)


def us_term(published: int | None, recorded: int | None) -> Term | None:
    """The US term of a sound recording, or None when there is no date at all."""
    pre_1972 = recorded is not None and recorded < 1972
    if published is not None:
        if published < 1923:
            return _exact(2021, "US-1401-pre1923", "published before 1923: term ended 2021")
        if published < 1947:
            return _exact(published + 100, "US-1401-1923-1946", "published 1923-1946: 100 years")
        if published < 1957:
            return _exact(published + 110, "US-1401-1947-1956", "published 1947-1956: 110 years")
        if pre_1972 or published < 1972:
            return Term(PRE_1972_END, PRE_1972_END, "US-1401-1957-1972", _PRE_1972_WHY)
        if recorded is not None and recorded > 1972 and published < 1978:
            return _exact(
                published + 95, "US-304-1972-1977", "federal, published before 1978: 95 years"
            )
        return Term(
            min(PRE_1972_END, _year_end(max(published, 1978) + 70)),
            None,
            "US-302-post1972",
            "fixed after 1972 (or not known to be earlier): life + 70 or 95/120 years for hire",
        )
    if recorded is None:
        return None
    if recorded < 1972:
        # Unpublished or published at an unknown date at or after fixation: the term is the one
        # for the earliest possible publication at least, and 15 Feb 2067 at most.
        earliest = us_term(recorded, recorded)
        assert earliest is not None
        return Term(earliest.low, PRE_1972_END, "US-1401-unknown-publication", _UNKNOWN_PUB_WHY)
    return Term(
        _year_end(recorded + 70),
        None,
        "US-302-post1972",
        "fixed in or after 1972: life of the authors (alive at fixation) + 70 at least",
    )


def eu_term(published: int | None, recorded: int | None) -> Term | None:
    """The EU term of a phonogram, or None when there is no date at all."""
    if published is not None:
        if recorded is not None and published > recorded + 50:
            return _exact(
                recorded + 50,
                "EU-phonogram-fixation",
                "published over 50 years after fixation: 50 years from fixation",
            )
        if published + 50 <= 2012:
            return _exact(
                published + 50,
                "EU-phonogram-50",
                "published by 1962: 50 years, expired before the 2013 extension",
            )
        return _exact(
            published + 70, "EU-phonogram-70", "published 1963 or later: 70 years from publication"
        )
    if recorded is None:
        return None
    earliest, latest = eu_term(recorded, recorded), eu_term(recorded + 50, recorded)
    assert earliest is not None and latest is not None
    return Term(earliest.low, latest.high, "EU-phonogram-unknown-publication", _UNKNOWN_PUB_WHY)


_PRE_1972_WHY = "fixed before 15 Feb 1972 and published 1957 or later: protected until 15 Feb 2067"
_UNKNOWN_PUB_WHY = (
    "only the recording date is known: the term depends on when it was first published"
)
TERMS = {"US": us_term, "EU": eu_term}


def recording_status(
    jurisdiction: str, published: int | None, recorded: int | None, as_of: date
) -> Verdict:
    """Is the sound recording public domain in `jurisdiction` on `as_of`? With the reasons."""
    if published is not None and recorded is not None and published < recorded:
        return Verdict(
            "undetermined",
            None,
            f"{jurisdiction}-contradictory-dates",
            [f"published {published} before it was recorded {recorded}: dates contradict"],
        )
    term = TERMS[jurisdiction](published, recorded)
    if term is None:
        return Verdict(
            "undetermined",
            None,
            f"{jurisdiction}-no-date",
            ["no publication or recording date known"],
        )
    known = [
        f"published {published}" if published else "",
        f"recorded {recorded}" if recorded else "",
    ]
    reasons = [", ".join(k for k in known if k), term.why]
    if term.high is not None and as_of > term.high:
        return Verdict("public_domain", term.high.year, term.rule_id, reasons)
    if as_of <= term.low:
        exact = term.high == term.low
        if not exact:
            reasons.append(f"protected at least until {term.low.isoformat()}")
        return Verdict("in_copyright", term.low.year if exact else None, term.rule_id, reasons)
    reasons.append(
        f"public domain if protection ended by {as_of.isoformat()}; "
        f"it ends between {term.low.isoformat()} and "
        f"{term.high.isoformat() if term.high else 'an unknown date'}"
    )
    return Verdict("undetermined", None, term.rule_id, reasons)
