"""Library of Congress (loc.gov JSON API): the National Jukebox's open streams of early discs.

Parses an item response (`/item/<id>/?fo=json`) and search results (`/search/?fo=json`).
Jukebox records carry label, catalog number, matrix and take, and the recording date
(a fixation date: the disc was published on or after it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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

ITEM_ID = re.compile(r"/item/([^/]+)/?$")
WRITER_ROLES = {"composer", "lyricist", "arranger", "author"}


class LibraryOfCongress:
    name = "loc"
    description = "Library of Congress loc.gov JSON API (National Jukebox)"

    def parse(self, payload: Any, key: str) -> Parsed:
        payload = json_object(payload)
        out = Parsed()
        if isinstance(payload.get("item"), dict):
            _result(payload["item"], payload["item"], payload.get("resources"), out)
        elif isinstance(payload.get("results"), list):
            for result in payload["results"]:
                if not isinstance(result, dict):
                    raise MalformedPayload("search result is not an object")
                details = result.get("item") if isinstance(result.get("item"), dict) else {}
                _result(result, details, result.get("resources"), out)
        else:
            return Parsed(skipped="not a loc.gov item or search response")
        if not out.records:
            out.skipped = "no sound recordings in this loc.gov response"
        return out


def _result(top: dict[str, Any], details: dict[str, Any], resources: Any, out: Parsed) -> None:
    formats = {f.lower() for f in text_list(top.get("original_format"))}
    if "sound recording" not in formats and not details.get("recording_label"):
        return
    url = text(top.get("url")) or text(top.get("id"))
    match = ITEM_ID.search(url or "")
    if not match:
        raise MalformedPayload(f"loc.gov result without an item URL (got {url!r})")
    item_id = match.group(1)
    page = f"https://www.loc.gov/item/{item_id}/"
    matrix = text(details.get("recording_matrix_number"))
    record = Record(
        source="loc",
        kind="item",
        source_id=item_id,
        title=text(top.get("title")),
        artists=_performers(top.get("contributor_names") or details.get("contributors")),
        label=text(details.get("recording_label")),
        catalog_number=text(details.get("recording_catalog_number")),
        matrix=matrix.removesuffix("(Matrix ID)").strip() if matrix else None,
        take=text(details.get("recording_take_number")),
        duration_s=_duration(resources),
        page_url=page,
    )
    date = clean_date(text(details.get("recording_date")))
    if date:
        record.date, record.date_kind, record.date_source = date, "recorded", "recording_date"
    out.records.append(record)
    restricted = top.get("access_restricted") is True
    out.holdings.append(
        Holding(
            record.record_id,
            page,
            "archive item",
            live=not restricted,
            status_note="access restricted at loc.gov" if restricted else None,
            copy_format=_copy_format(resources),
            rights_statement=text(details.get("rights_advisory")),
        )
    )


def _performers(contributors: Any) -> list[str]:
    """Names from 'Seagle, Oscar -- Vocalist -- Baritone Vocal', writers left out."""
    names = []
    entries = contributors if isinstance(contributors, list) else [contributors]
    for entry in (e for e in entries if isinstance(e, str)):
        parts = [p.strip() for p in entry.split(" -- ")]
        role = parts[1].lower() if len(parts) > 1 else ""
        if role not in WRITER_ROLES and parts[0]:
            names.append(parts[0])
    return names


def _files(resources: Any) -> Iterator[dict[str, Any]]:
    for resource in resources if isinstance(resources, list) else []:
        files = resource.get("files") if isinstance(resource, dict) else None
        for group in files if isinstance(files, list) else []:
            yield from (
                f for f in (group if isinstance(group, list) else []) if isinstance(f, dict)
            )


def _copy_format(resources: Any) -> str | None:
    """'lossless' when a WAV or FLAC is offered, 'lossy' when only MP3; None: no audio listed."""
    types = {str(f.get("mimetype", "")).lower() for f in _files(resources)}
    if types & {"audio/wav", "audio/x-wav", "audio/flac", "audio/x-flac"}:
        return "lossless"
    if any(t.startswith("audio/") for t in types):
        return "lossy"
    return None


def _duration(resources: Any) -> float | None:
    for f in _files(resources):
        if (duration := seconds(f.get("duration"))) is not None:
            return duration
    return None


SOURCE = LibraryOfCongress()
