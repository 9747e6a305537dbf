"""Parse MusicBrainz WS/2 JSON as `musicbrainzngs` returns it with `set_format("json")`.

The JSON data-dump lines share the same shape. A payload's kind is told from its keys,
because WS/2 JSON does not name the entity type.
"""

from __future__ import annotations

import re
from typing import Any

from preservation.sources.base import (
    Artist,
    Holding,
    MalformedPayload,
    Parsed,
    Record,
    Work,
    Writer,
    clean_date,
    json_object,
    seconds,
    text,
    text_list,
)

PAGE = "https://musicbrainz.org"
MBID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Work-artist relationship types that make the artist an author of the work.
WRITER_TYPES = ("composer", "writer", "lyricist", "librettist", "translator", "arranger")


class MusicBrainz:
    name = "musicbrainz"
    description = "MusicBrainz web service (WS/2 JSON) and JSON data dumps"

    def parse(self, payload: Any, key: str) -> Parsed:
        payload = json_object(payload)
        if "error" in payload and "id" not in payload:
            return Parsed(skipped=f"error response: {text(payload.get('error'))}")
        out = Parsed()
        if isinstance(payload.get("recordings"), list):  # search or browse
            for entity in payload["recordings"]:
                _recording(entity, out)
        elif isinstance(payload.get("releases"), list) and "title" not in payload:
            for entity in payload["releases"]:
                _release(entity, out)
        elif isinstance(payload.get("works"), list) and "title" not in payload:
            for entity in payload["works"]:
                _work(entity, out)
        else:
            kind = entity_kind(payload)
            if kind == "recording":
                _recording(payload, out)
            elif kind == "release":
                _release(payload, out)
            elif kind == "work":
                _work(payload, out)
            elif kind == "url":
                _url(payload, out)
            elif kind == "artist":
                _artist(payload, out)
            else:
                return Parsed(skipped=f"MusicBrainz {kind} (not about recordings)")
        if not (out.records or out.works or out.artists or out.skipped):
            out.skipped = "MusicBrainz answer listing no recordings, releases or works"
        return out


def entity_kind(entity: dict[str, Any]) -> str:
    """Which MusicBrainz entity a WS/2 JSON object is, from the keys only that entity has."""
    keys = entity.keys()
    if "resource" in keys:
        return "url"
    if "video" in keys or ("length" in keys and "isrcs" in keys):
        return "recording"
    if keys & {"media", "release-events", "barcode", "text-representation", "cover-art-archive"}:
        return "release"
    if "primary-type" in keys:
        return "release-group"
    if "iswcs" in keys or ("languages" in keys and "title" in keys):
        return "work"
    if "label-code" in keys:
        return "label"
    if "sort-name" in keys:
        return "artist" if "life-span" in keys or "gender" in keys else "other entity"
    return "unrecognised entity"


def _id(entity: Any, what: str) -> str:
    if not isinstance(entity, dict):
        raise MalformedPayload(f"{what} is a {type(entity).__name__}, not an object")
    mbid = entity.get("id")
    if not isinstance(mbid, str) or not MBID.fullmatch(mbid):
        raise MalformedPayload(f"{what} without a valid 'id' (got {mbid!r})")
    return mbid


def _artists(entity: dict[str, Any]) -> list[str]:
    credits = entity.get("artist-credit") or []
    if not isinstance(credits, list):
        raise MalformedPayload("artist-credit is not a list")
    names = []
    for credit in credits:
        if isinstance(credit, dict):
            artist = credit.get("artist") if isinstance(credit.get("artist"), dict) else {}
            name = text(credit.get("name")) or text(artist.get("name"))
            if name:
                names.append(name)
    return names


def _duration(ms: Any) -> float | None:
    return seconds(ms, 1000.0)


def _list(entity: dict[str, Any], key: str) -> list[Any]:
    value = entity.get(key) or []
    if not isinstance(value, list):
        raise MalformedPayload(f"'{key}' is a {type(value).__name__}, not a list")
    return value


def _label_and_catalog(release: dict[str, Any]) -> tuple[str | None, str | None]:
    for info in _list(release, "label-info"):
        if not isinstance(info, dict):
            continue
        label = info.get("label") if isinstance(info.get("label"), dict) else {}
        name, catalog = text(label.get("name")), text(info.get("catalog-number"))
        if name or catalog:
            return name, catalog
    return None, None


def _formats(release: dict[str, Any]) -> list[str]:
    return [
        f for m in _list(release, "media") if isinstance(m, dict) if (f := text(m.get("format")))
    ]


def _url_holdings(entity: dict[str, Any], record_id: str, out: Parsed) -> None:
    for rel in _list(entity, "relations"):
        if not isinstance(rel, dict) or rel.get("target-type") != "url":
            continue
        url = rel.get("url") if isinstance(rel.get("url"), dict) else {}
        resource, rel_type = text(url.get("resource")), text(rel.get("type"))
        if not resource or not rel_type:
            continue
        ended = rel.get("ended") is True
        out.holdings.append(
            Holding(
                record_id=record_id,
                url=resource,
                relation_type=rel_type,
                live=not ended,
                status_note=f"relationship ended {text(rel.get('end')) or ''}".strip()
                if ended
                else None,
            )
        )


def _works(entity: dict[str, Any], out: Parsed) -> list[str]:
    ids = []
    for rel in _list(entity, "relations"):
        if isinstance(rel, dict) and rel.get("target-type") == "work":
            work = _work(rel.get("work"), out)
            ids.append(work.work_id)
    return ids


def _recording(entity: Any, out: Parsed, release: Record | None = None) -> Record:
    mbid = _id(entity, "recording")
    record = Record(
        source="musicbrainz",
        kind="recording",
        source_id=mbid,
        title=text(entity.get("title")),
        artists=_artists(entity),
        isrcs=sorted(set(text_list(entity.get("isrcs")))),
        duration_s=_duration(entity.get("length")),
        page_url=f"{PAGE}/recording/{mbid}",
    )
    # (date, where it came from, country of that release): the earliest is the publication.
    dates: list[tuple[str, str, str | None]] = []
    if first := clean_date(entity.get("first-release-date")):
        dates.append((first, "first-release-date", None))
    for rel in _list(entity, "releases"):
        rel_id = _id(rel, "release")
        record.release_ids.append(rel_id)
        if d := clean_date(rel.get("date")):
            dates.append((d, f"release {rel_id} date", text(rel.get("country"))))
        record.medium_format = record.medium_format or next(iter(_formats(rel)), None)
        if record.label is None:
            record.label, record.catalog_number = _label_and_catalog(rel)
    if release is not None:
        record.release_ids.append(release.source_id)
        if release.date:
            dates.append((release.date, f"release {release.source_id} date", release.country))
        record.label = record.label or release.label
        record.catalog_number = record.catalog_number or release.catalog_number
        record.medium_format = record.medium_format or release.medium_format
        record.artists = record.artists or release.artists
    if dates:
        record.date, record.date_source = min((d, s) for d, s, _ in dates)
        record.date_kind = "published"
        # The country of a release out on that earliest date, when one says.
        record.country = min((c for d, _, c in dates if d == record.date and c), default=None)
    record.work_ids = _works(entity, out)
    out.records.append(record)
    _url_holdings(entity, record.record_id, out)
    return record


def _release(entity: Any, out: Parsed) -> None:
    mbid = _id(entity, "release")
    label, catalog = _label_and_catalog(entity)
    release = Record(
        source="musicbrainz",
        kind="release",
        source_id=mbid,
        title=text(entity.get("title")),
        artists=_artists(entity),
        date=clean_date(entity.get("date")),
        country=text(entity.get("country")),
        label=label,
        catalog_number=catalog,
        medium_format=next(iter(_formats(entity)), None),
        release_ids=[mbid],
        page_url=f"{PAGE}/release/{mbid}",
    )
    if release.date:
        release.date_kind, release.date_source = "published", "release date"
    tracks = [
        t
        for m in _list(entity, "media")
        if isinstance(m, dict)
        for t in _list(m, "tracks")
        if isinstance(t, dict) and isinstance(t.get("recording"), dict)
    ]
    before = len(out.holdings)
    _url_holdings(entity, release.record_id, out)
    release_holdings = out.holdings[before:]
    if not tracks:
        # The tracklist is unknown: keep the release itself so its holdings are not lost;
        # normalize hands them to the release's recordings once those are known.
        out.records.append(release)
        return
    del out.holdings[before:]
    for track in tracks:
        rec = track["recording"]
        recording = _recording(rec, out, release)
        recording.title = recording.title or text(track.get("title"))
        recording.duration_s = recording.duration_s or _duration(track.get("length"))
        out.holdings.extend(
            Holding(recording.record_id, h.url, h.relation_type, h.live, h.status_note)
            for h in release_holdings
        )


def _work(entity: Any, out: Parsed) -> Work:
    mbid = _id(entity, "work")
    work = Work(
        source="musicbrainz",
        source_id=mbid,
        title=text(entity.get("title")),
        iswcs=text_list(entity.get("iswcs")),
    )
    for rel in _list(entity, "relations"):
        if not isinstance(rel, dict) or rel.get("target-type") != "artist":
            continue
        role = text(rel.get("type"))
        if role not in WRITER_TYPES:
            continue
        artist = _id(rel.get("artist"), f"{role} of work {mbid}")
        name = text(rel["artist"].get("sort-name")) or text(rel["artist"].get("name"))
        work.writers.append(Writer(role, f"musicbrainz:artist:{artist}", name))
    out.works.append(work)
    return work


def _artist(entity: dict[str, Any], out: Parsed) -> None:
    mbid = _id(entity, "artist")
    span = entity.get("life-span") if isinstance(entity.get("life-span"), dict) else {}
    out.artists.append(
        Artist(
            source="musicbrainz",
            source_id=mbid,
            name=text(entity.get("name")),
            sort_name=text(entity.get("sort-name")),
            type=text(entity.get("type")),
            country=text(entity.get("country")),
            begin_date=clean_date(span.get("begin")),
            end_date=clean_date(span.get("end")),
            ended=span.get("ended") if isinstance(span.get("ended"), bool) else None,
        )
    )


def _url(entity: dict[str, Any], out: Parsed) -> None:
    """A url lookup with release-rels: each related release is documented at that url."""
    resource = text(entity.get("resource"))
    for rel in _list(entity, "relations"):
        if not isinstance(rel, dict) or rel.get("target-type") != "release" or not resource:
            continue
        target = dict(rel["release"]) if isinstance(rel.get("release"), dict) else {}
        target["relations"] = [
            {**rel, "target-type": "url", "url": {"resource": resource}},
        ]
        _release(target, out)
    if not out.records:
        out.skipped = "MusicBrainz url with no release relationship"


SOURCE = MusicBrainz()
