"""The recording layer in the US and the EU at its boundaries (statutes cited in
preservation/data/rights_rules.toml); tests/test_rights_cases.py has every jurisdiction."""

from __future__ import annotations

from datetime import date

import pytest

from preservation.rights import Facts
from preservation.rights import status as rights_status

# (jurisdiction, published, recorded, as_of, status, expires_year, why)
CASES = [
    # 17 U.S.C. 1401(a)(2)(B)(i): published before 1923 -> protection ended 31 Dec 2021
    ("US", 1922, None, date(2021, 12, 31), "in_copyright", 2021, "last day in"),
    ("US", 1922, None, date(2022, 1, 1), "public_domain", 2021, "first day out"),
    # (ii) 1923-1946: 100 years after publication
    ("US", 1925, None, date(2025, 12, 31), "in_copyright", 2025, "1925 + 100, last day"),
    ("US", 1925, None, date(2026, 1, 1), "public_domain", 2025, "1925 + 100, first day out"),
    (
        "US",
        1946,
        None,
        date(2046, 12, 31),
        "in_copyright",
        2046,
        "last year of the 100-year bracket",
    ),
    # (iii) 1947-1956: 110 years
    (
        "US",
        1947,
        None,
        date(2026, 11, 23),
        "in_copyright",
        2057,
        "first year of the 110-year bracket",
    ),
    ("US", 1953, None, date(2064, 1, 1), "public_domain", 2063, "the 1953 Great 78 side"),
    # (iv) after 1956 and fixed before 15 Feb 1972: ends 15 Feb 2067
    ("US", 1957, None, date(2067, 2, 15), "in_copyright", 2067, "transition end, last day"),
    ("US", 1957, None, date(2067, 2, 16), "public_domain", 2067, "transition end, next day"),
    # unpublished or unknown publication, fixed 1917: PD only if first published before 1923
    ("US", None, 1917, date(2026, 11, 23), "undetermined", None, "publication decides"),
    (
        "US",
        None,
        1917,
        date(2067, 2, 16),
        "public_domain",
        2067,
        "every pre-1972 recording is PD by then",
    ),
    (
        "US",
        None,
        1960,
        date(2026, 11, 23),
        "in_copyright",
        2067,
        "fixed 1957-1971: 2067 whatever the publication",
    ),
    # federal copyright for later recordings: no date of expiry can be given without authors
    ("US", 2014, None, date(2026, 11, 23), "in_copyright", None, "post-1972"),
    ("US", None, None, date(2026, 11, 23), "undetermined", None, "no date"),
    ("US", 1930, 1935, date(2026, 11, 23), "undetermined", None, "published before recorded"),
    # Directive 2006/116/EC Art. 3(2) as amended by 2011/77/EU
    (
        "EU",
        1962,
        None,
        date(2013, 1, 1),
        "public_domain",
        2012,
        "expired before the 2013 extension",
    ),
    ("EU", 1963, 1962, date(2026, 11, 23), "in_copyright", 2033, "extended to 70 years"),
    # with no recording date, a 1963 release may be of a recording made before 1913, which
    # was free 50 years after it was made: the engine does not presume
    ("EU", 1963, None, date(2026, 11, 23), "undetermined", None, "fixation not known"),
    ("EU", 1963, None, date(2034, 1, 1), "public_domain", 2033, "70 years, first day out"),
    ("EU", 1953, None, date(2026, 11, 23), "public_domain", 2003, "the 1953 Great 78 side"),
    (
        "EU",
        2000,
        1940,
        date(2026, 11, 23),
        "public_domain",
        1990,
        "published over 50 years after fixation",
    ),
    (
        "EU",
        None,
        1902,
        date(2026, 11, 23),
        "public_domain",
        2002,
        "any publication by 1952 expired by 2002",
    ),
    (
        "EU",
        None,
        1917,
        date(2026, 11, 23),
        "undetermined",
        None,
        "published 1963-67 would still be protected",
    ),
    ("EU", None, None, date(2026, 11, 23), "undetermined", None, "no date"),
]


@pytest.mark.parametrize(
    ("jurisdiction", "published", "recorded", "as_of", "status", "expires", "why"), CASES
)
def test_recording_status(jurisdiction, published, recorded, as_of, status, expires, why):
    verdict = rights_status(jurisdiction, "recording", Facts(published, recorded), as_of)
    assert (verdict.status, verdict.expires_year) == (status, expires), why
    assert verdict.rule_id.startswith(jurisdiction) and verdict.reasons
