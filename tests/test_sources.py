"""Each source's parser on real recorded responses from the bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preservation.errors import PreservationError
from preservation.pipeline import sample_dir
from preservation.sources import SOURCES, get_source
from preservation.sources.base import MalformedPayload, clean_date

MB = sample_dir() / "musicbrainz"
HIPPO = "78_i-want-a-hippopotamus-for-christmas_vicki-dale-the-peter-pan-orchestra_gbia0000281a"


def parse(source: str, relative: str, key: str | None = None):
    path = sample_dir() / source / relative
    return SOURCES[source].parse(json.loads(path.read_text()), key or relative)


def test_great_78_item_fields_come_from_the_real_record():
    parsed = parse("internetarchive", f"metadata_api/{HIPPO}.json")
    (record,) = parsed.records
    assert record.record_id == f"internetarchive:item:{HIPPO}"
    assert record.title == "I Want A Hippopotamus For Christmas"
    assert record.artists == ["Vicki Dale", "The Peter Pan Orchestra"]
    # publisher "Peter Pan"; urn:pubcat:peter pan:2290 A; urn:matrix_no:2290 A
    assert (record.label, record.catalog_number, record.matrix) == ("Peter Pan", "2290 A", "2290 A")
    assert record.side == "A"  # ..._gbia0000281a
    assert (record.date, record.date_kind) == ("1953", "published")
    assert record.duration_s == pytest.approx(167.25)  # the original 24bit FLAC
    assert record.medium_format == "78 rpm disc"
    (holding,) = parsed.holdings
    assert holding.url == f"https://archive.org/details/{HIPPO}" and holding.live


def test_unknown_identifier_is_a_gone_holding_not_an_error():
    # archive.org answers {} for any identifier it does not know; the request names the item.
    body = (
        sample_dir() / "internetarchive/metadata_api/mbid-8dd38d9f-eae6-47a7-baa8-eaa46687.json"
    ).read_text()
    assert json.loads(body) == {}
    parsed = SOURCES["internetarchive"].parse(
        json.loads(body), "metadata/78_some-side_gbia0000001a"
    )
    (holding,) = parsed.holdings
    assert not holding.live and "unknown identifier" in holding.status_note


def test_dark_item_is_gone_and_cover_art_items_are_skipped():
    payload = json.loads(
        (
            sample_dir()
            / "internetarchive/metadata_api/mbid-3c556c47-110d-4782-a607-c93e486bccf8.json"
        ).read_text()
    )
    assert payload["is_dark"] is True
    skipped = SOURCES["internetarchive"].parse(payload, "x")
    assert skipped.records == [] and "Cover Art Archive" in skipped.skipped
    audio = dict(payload, dir="/8/items/78_some-side_gbia0000001a")
    (holding,) = SOURCES["internetarchive"].parse(audio, "x").holdings
    assert holding.record_id == "internetarchive:item:78_some-side_gbia0000001a"
    assert not holding.live and "dark" in holding.status_note


def test_collections_and_image_items_are_skipped_with_a_reason():
    assert (
        "collection" in parse("internetarchive", "metadata_api/collection_georgeblood.json").skipped
    )
    caa = parse("internetarchive", "metadata_api/mbid-8dd38d9f-eae6-47a7-baa8-eaa467042687.json")
    assert caa.records == [] and "image" in caa.skipped


def test_ended_musicbrainz_relationship_is_not_live():
    parsed = parse(
        "musicbrainz",
        "ws2_json_url_rels/release_7d0cf748-475e-4be6-b7f2-ef2d55f3f0f5_inc-url-rels.json",
    )
    by_url = {(h.url, h.relation_type): h for h in parsed.holdings}
    ended = by_url[("https://music.apple.com/us/album/1473205356", "purchase for download")]
    assert not ended.live
    assert by_url[("https://www.deezer.com/album/103934622", "free streaming")].live
    (release,) = parsed.records
    assert (release.kind, release.title, release.date) == ("release", "Venice", "2019-08-15")


def test_release_tracks_inherit_release_links_and_catalog():
    parsed = parse("musicbrainz", "ws2_json_picard/release.json")
    titles = {r.title for r in parsed.records}
    assert {"Speak to Me", "Money", "Eclipse"} <= titles
    money = next(r for r in parsed.records if r.title == "Money")
    assert (money.label, money.catalog_number) == ("Harvest", "SHVL 804")
    assert {h.url for h in parsed.holdings if h.record_id == money.record_id} == {
        "https://www.discogs.com/release/1873013"
    }


def test_the_country_of_first_publication_is_the_earliest_releases():
    # Real lookup: the recording's first release date is also the date of its releases,
    # which say where they came out (read from the payload, not typed in).
    lookup = "ws2_json_musicbrainz_rs/lookup/recording/b9ad642e-b012-41c7-b72a-42cf4911f9ff.json"
    payload = json.loads((MB / lookup).read_text())
    (record,) = parse("musicbrainz", lookup).records
    first = min(r["date"] for r in payload["releases"] if r.get("date"))
    countries = {r["country"] for r in payload["releases"] if r.get("date") == first}
    assert record.date == first and record.country == min(countries)
    # A track inherits its release's country only when that release is the earliest.
    money = next(
        r
        for r in parse("musicbrainz", "ws2_json_picard/release.json").records
        if r.title == "Money"
    )
    release = json.loads((MB / "ws2_json_picard/release.json").read_text())
    expected = release["country"] if money.date == release["date"] else None
    assert money.country == expected


def test_loc_jukebox_item_fields():
    (record,) = parse("loc", "item/jukebox-879940.json").records
    assert record.title == "Nobody knows de trouble I've seen"
    assert (record.label, record.catalog_number, record.matrix, record.take) == (
        "Columbia",
        "A2469",
        "77522",
        "00",
    )
    assert (record.date, record.date_kind) == ("1917-11-21", "recorded")
    assert record.artists == [
        "Seagle, Oscar"
    ]  # the arranger (Burleigh) is a writer, not a performer
    assert record.duration_s == 186


def test_loc_search_results_are_sound_recordings():
    records = parse("loc", "search/steal-away_first3.json").records
    assert [(r.source_id, r.catalog_number) for r in records] == [
        ("jukebox-4649", "1716"),
        ("jukebox-187640", "17890"),
        ("jukebox-13468", "35471"),
    ]


def test_trimmed_fixture_is_malformed():
    with pytest.raises(MalformedPayload, match="release without a valid 'id'"):
        parse("musicbrainz", "ws2_json_picard/label_info.json")


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize(
    "payload", [[], "text", 3, None, {"metadata": "x"}, {"recordings": [1]}, {"results": [2]}]
)
def test_wrong_shapes_raise_malformed_or_skip(source, payload):
    try:
        result = SOURCES[source].parse(payload, "k")
    except MalformedPayload:
        return
    assert result.records == [] and result.skipped


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1953", "1953"),
        ("1917-11-21", "1917-11-21"),
        ("1925-13-45", "1925"),
        ("1925-09-45", "1925-09"),
        ("0000", None),
        ("?", None),
        ("", None),
        (None, None),
        (1953, None),
        ("2004-04-19T10:00", "2004-04-19"),
    ],
)
def test_clean_date_never_invents_precision(given, expected):
    assert clean_date(given) == expected


def test_unknown_source_is_a_clear_error():
    with pytest.raises(
        PreservationError, match="known sources: commons, internetarchive, loc, musicbrainz"
    ):
        get_source("spotify")


def test_sample_payloads_are_byte_identical_to_shared_real_data():
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
    if not shared.is_dir():
        pytest.skip("../shared is not beside this checkout")
    for path in sample_dir().rglob("*.json"):
        relative = path.relative_to(sample_dir())
        assert path.read_bytes() == (shared / relative).read_bytes(), relative
