"""Parse MediaWiki `action=query` answers from Wikimedia Commons: one record per audio file.

A file page gives its name, duration, MIME type (so whether the copy is lossless) and, when
`extmetadata` was asked for, its licence. A page marked `missing` is a file that was deleted:
a holding that no longer exists.
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
)

FILE_PAGE = "https://commons.wikimedia.org/wiki/"
LOSSLESS = {"audio/wav", "audio/x-wav", "audio/flac", "audio/x-flac"}
AUDIO_SUFFIXES = (".ogg", ".oga", ".opus", ".flac", ".wav", ".mp3", ".mid", ".webm")
TAG = re.compile(r"<[^>]+>")


class WikimediaCommons:
    name = "commons"
    description = "Wikimedia Commons MediaWiki API (audio files and their licences)"

    def parse(self, payload: Any, key: str) -> Parsed:
        payload = json_object(payload)
        if isinstance(payload.get("error"), dict):
            return Parsed(skipped=f"MediaWiki error: {text(payload['error'].get('code'))}")
        query = payload.get("query")
        pages = query.get("pages") if isinstance(query, dict) else None
        if isinstance(pages, dict):
            pages = list(pages.values())
        if not isinstance(pages, list):
            return Parsed(skipped="not a MediaWiki query answer with pages")
        out = Parsed()
        for page in sorted(pages, key=_order):
            _file(page, out)
        if not out.records:
            out.skipped = "no audio files in this Commons answer"
        return out


def _order(page: Any) -> tuple[int, int]:
    if not isinstance(page, dict):
        raise MalformedPayload(f"a page is a {type(page).__name__}, not an object")
    index, pageid = page.get("index"), page.get("pageid")
    return (index if isinstance(index, int) else 0, pageid if isinstance(pageid, int) else 0)


def _file(page: dict[str, Any], out: Parsed) -> None:
    title = text(page.get("title"))
    if title is None or not title.startswith("File:"):
        return
    name = title.removeprefix("File:")
    info = page.get("imageinfo")
    info = info[0] if isinstance(info, list) and info and isinstance(info[0], dict) else {}
    mime = (text(info.get("mime")) or "").lower()
    is_audio = mime.startswith("audio/") or (
        mime == "application/ogg" or name.lower().endswith(AUDIO_SUFFIXES)
    )
    if "missing" not in page and not is_audio:
        return
    url = text(page.get("canonicalurl")) or f"{FILE_PAGE}{name.replace(' ', '_')}"
    meta = info.get("extmetadata") if isinstance(info.get("extmetadata"), dict) else {}
    record = Record(
        source="commons",
        kind="item",
        source_id=name,
        title=text(_value(meta, "ObjectName")) or name.rsplit(".", 1)[0],
        duration_s=seconds(info.get("duration")),
        page_url=url,
    )
    if date := clean_date(_value(meta, "DateTimeOriginal")):
        record.date, record.date_kind, record.date_source = date, "recorded", "DateTimeOriginal"
    out.records.append(record)
    missing = "missing" in page
    out.holdings.append(
        Holding(
            record.record_id,
            url,
            "archive item",
            live=not missing,
            status_note="file deleted from Commons" if missing else None,
            copy_format=None if missing else ("lossless" if mime in LOSSLESS else "lossy"),
            rights_statement=rights(meta),
        )
    )


def _value(meta: dict[str, Any], name: str) -> str | None:
    entry = meta.get(name)
    value = entry.get("value") if isinstance(entry, dict) else None
    return TAG.sub("", value).strip() or None if isinstance(value, str) else None


def rights(meta: dict[str, Any]) -> str | None:
    """'<licence short name> <licence URL>' from a file's extmetadata, as Commons states it."""
    parts = [
        _value(meta, "LicenseShortName") or _value(meta, "UsageTerms"),
        _value(meta, "LicenseUrl"),
    ]
    return " ".join(p for p in parts if p) or None


SOURCE = WikimediaCommons()
