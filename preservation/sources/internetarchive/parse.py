"""Internet Archive: open copies of 78s, cylinders and other recordings (Great 78 Project ...).

Parses the metadata API (`/metadata/<identifier>`, what `internetarchive.get_item` reads),
advanced-search and scrape results. A dark item (`is_dark`) and an unknown identifier (`{}`)
are holdings that no longer exist, not errors.
"""

from __future__ import annotations

import re
from typing import Any

from preservation.sources.base import (
    Holding,
    MalformedPayload,
    Parsed,
    Record,
    clean_date,
    json_object,
    seconds,
    text,
    text_list,
)

DETAILS = "https://archive.org/details"
AUDIO_MEDIATYPES = {"audio", "etree"}
# The Cover Art Archive names its items mbid-<release MBID>; they hold images, never audio.
COVER_ART_PREFIX = "mbid-"
SIDE = re.compile(r"_gbia\d+([a-z])$")
URN_PREFIXES = {
    "urn:mb_release_id:": "mb_release:",
    "urn:mb_recording_id:": "mb_recording:",
    "urn:mb_artist_id:": "mb_artist:",
    "urn:isrc:": "isrc:",
    "urn:upc:": "upc:",
    "urn:asin:": "asin:",
}
AUDIO_FORMATS = ("flac", "mp3", "ogg", "wav", "aiff", "shorten")


class InternetArchive:
    name = "internetarchive"
    description = "Internet Archive metadata API, advanced search and scrape API"

    def parse(self, payload: Any, key: str) -> Parsed:
        payload = json_object(payload)
        if payload == {}:
            # archive.org answers {} for an identifier it does not know: the request names it.
            return _gone(_identifier_from_key(key), "unknown identifier: archive.org answered {}")
        if payload.get("is_dark") is True:
            return _gone(_identifier_from_dir(payload, key), "item is dark (withdrawn from view)")
        if isinstance(payload.get("metadata"), dict):
            return _items([(payload["metadata"], payload.get("files"))])
        response = payload.get("response")
        if isinstance(response, dict) and isinstance(response.get("docs"), list):
            return _items([(doc, None) for doc in response["docs"]])
        if isinstance(payload.get("items"), list) and ("count" in payload or "total" in payload):
            return _items([(doc, None) for doc in payload["items"]])
        return Parsed(skipped="not an Internet Archive item, search or scrape response")


def _identifier_from_key(key: str) -> str:
    """The identifier a request asked for: a live key is 'item:<id>', a saved one a path."""
    name = key.rstrip("/").rsplit("/", 1)[-1]
    return name.removeprefix("item:").removesuffix(".json")


def _identifier_from_dir(payload: dict[str, Any], key: str) -> str:
    directory = text(payload.get("dir"))
    return directory.rstrip("/").rsplit("/", 1)[-1] if directory else _identifier_from_key(key)


def _gone(identifier: str, why: str) -> Parsed:
    if identifier.startswith(COVER_ART_PREFIX):
        return Parsed(skipped=f"Cover Art Archive item (cover images, not audio): {why}")
    record = Record(
        source="internetarchive",
        kind="item",
        source_id=identifier,
        page_url=f"{DETAILS}/{identifier}",
    )
    holding = Holding(
        record.record_id, record.page_url, "archive item", live=False, status_note=why
    )
    return Parsed(records=[record], holdings=[holding])


def _items(docs: list[tuple[Any, Any]]) -> Parsed:
    out = Parsed()
    skipped: list[str] = []
    for metadata, files in docs:
        if not isinstance(metadata, dict):
            raise MalformedPayload(f"item metadata is a {type(metadata).__name__}, not an object")
        identifier = text(metadata.get("identifier"))
        mediatype = text(metadata.get("mediatype"))
        if identifier is None:
            skipped.append("search result without identifiers")
            continue
        if mediatype not in AUDIO_MEDIATYPES and mediatype is not None:
            skipped.append(f"Internet Archive {mediatype} item (not audio)")
            continue
        record = _record(identifier, metadata, files)
        out.records.append(record)
        out.holdings.append(
            Holding(
                record.record_id,
                record.page_url,
                "archive item",
                copy_format=_copy_format(files),
                rights_statement=text(metadata.get("licenseurl")) or text(metadata.get("rights")),
            )
        )
    if not out.records:
        out.skipped = "; ".join(sorted(set(skipped))) or "no items"
    return out


def _record(identifier: str, metadata: dict[str, Any], files: Any) -> Record:
    collections = set(text_list(metadata.get("collection")))
    is_78 = text(metadata.get("source")) == "78" or bool(collections & {"78rpm", "georgeblood"})
    urns = text_list(metadata.get("external-identifier"))
    record = Record(
        source="internetarchive",
        kind="item",
        source_id=identifier,
        title=text(metadata.get("title")),
        artists=text_list(metadata.get("creator")),
        # A 78's publisher is its record label; elsewhere (etree) it is often the taper.
        label=text(metadata.get("publisher")) if is_78 else None,
        medium_format="78 rpm disc" if is_78 else None,
        page_url=f"{DETAILS}/{identifier}",
    )
    date = clean_date(text(metadata.get("date"))) or clean_date(text(metadata.get("year")))
    if date:
        record.date = date
        record.date_source = "metadata date" if metadata.get("date") else "metadata year"
        # etree items are dated by the concert (fixation); other items by publication.
        record.date_kind = "recorded" if "etree" in collections else "published"
    for urn in urns:
        lower = urn.lower()
        if lower.startswith("urn:matrix_no:"):
            record.matrix = record.matrix or urn.split(":", 2)[2].strip() or None
        elif lower.startswith("urn:pubcat:"):
            # urn:pubcat:<label>:<catalog number>; the label may itself hold no colon.
            parts = urn.split(":", 3)
            if len(parts) == 4:
                record.label = record.label or parts[2].strip() or None
                record.catalog_number = parts[3].strip() or None
        for prefix, name in URN_PREFIXES.items():
            if lower.startswith(prefix):
                record.external_ids.append(name + urn[len(prefix) :].strip())
                if name == "isrc:":
                    record.isrcs.append(urn[len(prefix) :].strip())
    if side := SIDE.search(identifier):
        record.side = side.group(1).upper()
    record.duration_s = _duration(files)
    return record


LOSSLESS = ("flac", "wave", "wav", "aiff", "shorten")
LOSSY = ("mp3", "ogg", "vorbis", "m4a", "opus")


def _copy_format(files: Any) -> str | None:
    """'lossless' when an audio file is FLAC, WAV, AIFF or Shorten; 'lossy' when only MP3,
    Ogg ... are there; None when the answer lists no files (a search result)."""
    if not isinstance(files, list):
        return None
    formats = [str(f.get("format", "")).lower() for f in files if isinstance(f, dict)]
    if any(any(k in fmt for k in LOSSLESS) for fmt in formats):
        return "lossless"
    if any(any(k in fmt for k in LOSSY) for fmt in formats):
        return "lossy"
    return None


def _duration(files: Any) -> float | None:
    """Length of the first original audio file, in seconds ('167.25' or '02:47')."""
    if not isinstance(files, list):
        return None
    for f in files:
        if not isinstance(f, dict) or f.get("source") != "original":
            continue
        name = str(f.get("name", "")).lower()
        if not name.endswith(AUDIO_FORMATS):
            continue
        length = text(f.get("length"))
        if length is None:
            continue
        try:
            if ":" in length:
                minutes, secs = length.rsplit(":", 1)
                value = seconds(int(minutes) * 60 + float(secs))
            else:
                value = seconds(float(length))
        except (ValueError, OverflowError):  # not a number, or too large for a float
            continue
        if value is not None:
            return value
    return None


SOURCE = InternetArchive()
