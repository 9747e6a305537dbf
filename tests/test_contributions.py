"""Contributions back to MusicBrainz (musicbrainz-contributions.csv).

The bundled sample links no MusicBrainz record to an archive item, so each test builds a
small database whose recordings and holdings rows are copied from the real sample (after the
whole pipeline) and put into clusters by hand, with the `links` rows that would join them.
Every file written is also checked against `expected_rows`, an independent computation in
Python over the same tables.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

import preservation.report_contributions as contributions
from preservation import store
from preservation.report_contributions import (
    CONTRIBUTION_COLUMNS,
    CONTRIBUTIONS_NAME,
    write_contributions,
)
from preservation.report_files import neutralise_formula

# Real records of the bundled sample.
HIPPO_ID = "78_i-want-a-hippopotamus-for-christmas_vicki-dale-the-peter-pan-orchestra_gbia0000281a"
HIPPO = f"internetarchive:item:{HIPPO_ID}"  # a Great 78 item, dated 1953 ('metadata date')
HIPPO_URL = f"https://archive.org/details/{HIPPO_ID}"
JUKEBOX = "loc:item:jukebox-879940"  # National Jukebox, recorded 1917-11-21 ('recording_date')
JUKEBOX_URL = "https://www.loc.gov/item/jukebox-879940/"
CONCERT = "internetarchive:item:oar00-09-27"  # an etree concert, 2000-09-27 ('metadata date')
HONEY_MBID = "ed23dfd5-2b52-4c38-8118-9924eeaf0025"
HONEY = f"musicbrainz:recording:{HONEY_MBID}"  # 'A Taste of Honey', no date
ANGEL_MBID = "b9ad642e-b012-41c7-b72a-42cf4911f9ff"
ANGEL = f"musicbrainz:recording:{ANGEL_MBID}"  # 'LAST ANGEL', 2007-11-07
VENICE_MBID = "7d0cf748-475e-4be6-b7f2-ef2d55f3f0f5"
VENICE = f"musicbrainz:release:{VENICE_MBID}"  # release 'Venice', with Deezer/Apple links
# The evidence the model wrote for the sample's one real link.
MODEL_EVIDENCE = "match weight 16.1, probability 1.0"

ARCHIVE_RELATIONSHIPS = {"internetarchive": "download for free", "loc": "free streaming"}


def build(
    sample: duckdb.DuckDBPyConnection,
    path: Path,
    clusters: Sequence[Sequence[str]],
    *,
    holdings: Iterable[tuple[str, str, str]] = (),
    links: Iterable[tuple[str, str, str, str, str]] = (),
    titles: dict[str, str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A fresh database holding the given sample records, clustered as given.

    holdings: (MusicBrainz record, url, relation_type) url relationships to add, shaped like
    the sample's archive holding of the item the URL names. links: (record, record, method,
    rule, evidence). titles: record_id -> a title replacing the real one.
    """
    con = store.connect(path)
    ids = [record for members in clusters for record in members]
    records = sample.sql(
        "SELECT * FROM recordings WHERE list_contains(?, record_id)", params=[ids]
    ).to_arrow_table()
    assert records.num_rows == len(ids), "a record these tests use left the sample"
    held = sample.sql(
        "SELECT * FROM holdings WHERE list_contains(?, record_id)", params=[ids]
    ).to_arrow_table()
    con.register("sample_recordings", records)
    con.register("sample_holdings", held)
    con.execute("INSERT INTO recordings BY NAME SELECT * FROM sample_recordings")
    con.execute("INSERT INTO holdings BY NAME SELECT * FROM sample_holdings")
    for record_id, title in (titles or {}).items():
        con.execute("UPDATE recordings SET title = ? WHERE record_id = ?", [title, record_id])
    for record_id, url, relation_type in holdings:
        con.execute(
            "INSERT INTO holdings (record_id, url, platform, access_class, closed_garden, "
            "relation_type, live, evidence) "
            "VALUES (?, ?, 'Internet Archive', 'open_archive', false, ?, true, 'test')",
            [record_id, url, relation_type],
        )
    con.executemany(
        "INSERT INTO clusters VALUES (?, ?)",
        [(f"cluster-{min(members)}", record) for members in clusters for record in members],
    )
    for a, b, method, rule, evidence in links:
        con.execute(
            "INSERT INTO links VALUES (?, ?, ?, ?, ?)",
            [min(a, b), max(a, b), method, rule, evidence],
        )
    return con


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write(con: duckdb.DuckDBPyConnection, out: Path) -> list[dict[str, str]]:
    """Write the file, check it against the independent computation, return its rows."""
    path = write_contributions(con, out)
    assert path == out / CONTRIBUTIONS_NAME
    header, *rows = read_csv(path)
    assert header == list(CONTRIBUTION_COLUMNS)
    assert rows == expected_rows(con)
    return [dict(zip(header, row, strict=True)) for row in rows]


# --- the independent computation --------------------------------------------------------


def url_key(url: str) -> str:
    """What names an archive item in a URL, per the module docstring (with urllib)."""
    url = url.strip()
    parts = urlsplit(url if urlsplit(url).scheme.lower() in ("http", "https") else "//" + url)
    host = parts.netloc.lower().removeprefix("www.")
    segments = parts.path.split("/")
    named = len(segments) > 2 and segments[1] in ("details", "download")
    if host == "archive.org" and named and segments[2]:
        return f"archive.org/details/{segments[2]}"
    return host + parts.path.rstrip("/")


def expected_rows(con: duckdb.DuckDBPyConnection) -> list[list[str]]:
    """The contributions the documented rules give, row by row in Python."""
    cols = "record_id, source, kind, source_id, title, date, year, date_source, page_url"
    records = {
        r[0]: dict(zip(cols.split(", "), r, strict=True))
        for r in con.execute(f"SELECT {cols} FROM recordings").fetchall()
    }
    cluster_of = dict(con.execute("SELECT record_id, cluster_id FROM clusters").fetchall())
    members: dict[str, list[dict]] = {}
    for record_id, cluster_id in cluster_of.items():
        members.setdefault(cluster_id, []).append(records[record_id])
    urls: dict[str, set[str]] = {}
    live: set[str] = set()
    for record_id, url, is_live in con.execute(
        "SELECT record_id, url, live FROM holdings"
    ).fetchall():
        urls.setdefault(record_id, set()).add(url_key(url))
        if is_live:
            live.add(record_id)
    matched: dict[tuple[str, str], list[str]] = {}
    for a, b, method, rule, evidence in con.execute("SELECT * FROM links").fetchall():
        matched.setdefault((a, b), []).append(f"{method}: {rule} ({evidence})")

    def row(kind: str, mb: dict, other: dict, add: str, rel: str, date_source: str) -> list[str]:
        pair = (min(mb["record_id"], other["record_id"]), max(mb["record_id"], other["record_id"]))
        cells = [
            kind,
            mb["kind"],
            mb["source_id"],
            f"https://musicbrainz.org/{mb['kind']}/{mb['source_id']}",
            mb["title"] or "",
            add,
            rel,
            other["record_id"],
            other["page_url"] or "",
            date_source,
            cluster_of[mb["record_id"]],
            "; ".join(sorted(matched.get(pair, []))) or "same cluster",
        ]
        return [neutralise_formula(c) for c in cells]

    rows = []
    for cluster in members.values():
        entities = [
            r
            for r in cluster
            if r["source"] == "musicbrainz" and r["kind"] in ("recording", "release")
        ]
        items = [
            r
            for r in cluster
            if r["source"] in ARCHIVE_RELATIONSHIPS
            and r["kind"] == "item"
            and r["page_url"]
            and r["record_id"] in live
        ]
        dated = [r for r in cluster if r["year"] is not None and r["date"] is not None]
        for mb in entities:
            for item in items:
                if url_key(item["page_url"]) not in urls.get(mb["record_id"], set()):
                    rel = ARCHIVE_RELATIONSHIPS[item["source"]]
                    rows.append(row("url_relationship", mb, item, item["page_url"], rel, ""))
            if mb["kind"] == "recording" and mb["year"] is None and dated:
                first = min(dated, key=lambda r: (r["year"], r["date"], r["record_id"]))
                rows.append(row("date", mb, first, first["date"], "", first["date_source"] or ""))
    return sorted(rows, key=lambda r: (r[0], r[2], r[5], r[1], r[7]))


# --- tests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "related", "relation"),
    [
        (HIPPO, HIPPO_URL, "download for free"),
        (HIPPO, f"http://archive.org/details/{HIPPO_ID}", "download for free"),
        (HIPPO, f"https://www.archive.org/details/{HIPPO_ID}/", "download for free"),
        (HIPPO, f"HTTP://WWW.Archive.org/details/{HIPPO_ID}", "download for free"),
        (HIPPO, f"https://archive.org/download/{HIPPO_ID}/{HIPPO_ID}.mp3", "download for free"),
        (HIPPO, f"https://archive.org/details/{HIPPO_ID}?tab=about#reviews", "download for free"),
        (HIPPO, f" {HIPPO_URL} ", "download for free"),
        (JUKEBOX, JUKEBOX_URL, "free streaming"),
        (JUKEBOX, "http://www.loc.gov/item/jukebox-879940/", "free streaming"),
        (JUKEBOX, "https://loc.gov/item/jukebox-879940", "free streaming"),
        (JUKEBOX, "http://loc.gov/item/jukebox-879940//", "free streaming"),
    ],
)
def test_item_already_related_gives_no_row(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path, item: str, related: str, relation: str
) -> None:
    con = build(
        sample_db, tmp_path / "t.duckdb", [[ANGEL, item]], holdings=[(ANGEL, related, relation)]
    )
    assert write(con, tmp_path / "out") == []


@pytest.mark.parametrize(
    "near_miss",
    [
        f"https://archive.org/details/{HIPPO_ID}_take2",  # another item, same prefix
        f"https://web.archive.org/web/2020/{HIPPO_URL}",  # the Wayback Machine, not the item
        "https://archive.org/details/oar00-09-27",  # another item
        "https://www.loc.gov/item/jukebox-87994/",  # another jukebox item, same prefix
    ],
)
def test_other_urls_do_not_count_as_related(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path, near_miss: str
) -> None:
    con = build(
        sample_db,
        tmp_path / "t.duckdb",
        [[ANGEL, HIPPO]],
        holdings=[(ANGEL, near_miss, "download for free")],
    )
    assert [r["add"] for r in write(con, tmp_path / "out")] == [HIPPO_URL]


def test_unrelated_items_get_one_row_each_with_their_archive_relationship(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = build(
        sample_db,
        tmp_path / "t.duckdb",
        [[ANGEL, HIPPO, JUKEBOX]],
        links=[
            (ANGEL, HIPPO, "archivist", "review", "same"),
            (ANGEL, JUKEBOX, "probabilistic", "model", MODEL_EVIDENCE),
        ],
    )
    rows = write(con, tmp_path / "out")
    assert rows == [
        {
            "contribution": "url_relationship",
            "entity_type": "recording",
            "mbid": ANGEL_MBID,
            "musicbrainz_url": f"https://musicbrainz.org/recording/{ANGEL_MBID}",
            "title": "LAST ANGEL",
            "add": HIPPO_URL,
            "relationship_type": "download for free",
            "source_record": HIPPO,
            "evidence_url": HIPPO_URL,
            "date_source": "",
            "cluster_id": f"cluster-{HIPPO}",
            "matched_by": "archivist: review (same)",
        },
        {
            "contribution": "url_relationship",
            "entity_type": "recording",
            "mbid": ANGEL_MBID,
            "musicbrainz_url": f"https://musicbrainz.org/recording/{ANGEL_MBID}",
            "title": "LAST ANGEL",
            "add": JUKEBOX_URL,
            "relationship_type": "free streaming",
            "source_record": JUKEBOX,
            "evidence_url": JUKEBOX_URL,
            "date_source": "",
            "cluster_id": f"cluster-{HIPPO}",
            "matched_by": f"probabilistic: model ({MODEL_EVIDENCE})",
        },
    ]


def test_release_in_the_cluster_gets_its_own_row(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # The recording already points at the item; the release (with its real Deezer and Apple
    # links, none to the archive) does not.
    con = build(
        sample_db,
        tmp_path / "t.duckdb",
        [[ANGEL, VENICE, HIPPO]],
        holdings=[(ANGEL, HIPPO_URL, "download for free")],
    )
    rows = write(con, tmp_path / "out")
    assert [(r["entity_type"], r["mbid"], r["musicbrainz_url"], r["title"]) for r in rows] == [
        ("release", VENICE_MBID, f"https://musicbrainz.org/release/{VENICE_MBID}", "Venice")
    ]
    assert (rows[0]["add"], rows[0]["relationship_type"]) == (HIPPO_URL, "download for free")


def test_dark_item_is_not_proposed(sample_db: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con = build(sample_db, tmp_path / "t.duckdb", [[ANGEL, HIPPO]])
    con.execute(
        "UPDATE holdings SET live = false, status_note = 'dark' WHERE record_id = ?", [HIPPO]
    )
    assert write(con, tmp_path / "out") == []


def test_undated_recording_gets_the_earliest_date(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = build(
        sample_db,
        tmp_path / "t.duckdb",
        [[HONEY, HIPPO, JUKEBOX], [ANGEL, CONCERT]],
        links=[(HONEY, JUKEBOX, "identifier", "shared_isrc", "USRC17607839")],
    )
    rows = write(con, tmp_path / "out")
    dates = [r for r in rows if r["contribution"] == "date"]
    # LAST ANGEL has its own date: only A Taste of Honey gets one, the Jukebox's 1917
    # recording date (earlier than the 78's 1953).
    assert dates == [
        {
            "contribution": "date",
            "entity_type": "recording",
            "mbid": HONEY_MBID,
            "musicbrainz_url": f"https://musicbrainz.org/recording/{HONEY_MBID}",
            "title": "A Taste of Honey",
            "add": "1917-11-21",
            "relationship_type": "",
            "source_record": JUKEBOX,
            "evidence_url": JUKEBOX_URL,
            "date_source": "recording_date",
            "cluster_id": f"cluster-{HIPPO}",
            "matched_by": "identifier: shared_isrc (USRC17607839)",
        }
    ]
    # Both clusters' MusicBrainz recordings also get the url rows; sorted contribution, mbid.
    assert [(r["contribution"], r["mbid"], r["source_record"]) for r in rows] == [
        ("date", HONEY_MBID, JUKEBOX),
        ("url_relationship", ANGEL_MBID, CONCERT),
        ("url_relationship", HONEY_MBID, HIPPO),
        ("url_relationship", HONEY_MBID, JUKEBOX),
    ]


def test_date_from_a_transitively_linked_record_says_same_cluster(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # Honey -- Hippo (model) and Hippo -- Concert (model): Honey and Concert share no link.
    con = build(
        sample_db,
        tmp_path / "t.duckdb",
        [[HONEY, HIPPO, CONCERT]],
        links=[
            (HONEY, HIPPO, "probabilistic", "model", MODEL_EVIDENCE),
            (HIPPO, CONCERT, "probabilistic", "model", MODEL_EVIDENCE),
        ],
    )
    con.execute("UPDATE recordings SET date = '1950', year = 1950 WHERE record_id = ?", [CONCERT])
    rows = write(con, tmp_path / "out")
    by_source = {(r["contribution"], r["source_record"]): r for r in rows}
    assert by_source["date", CONCERT]["add"] == "1950"
    assert by_source["date", CONCERT]["date_source"] == "metadata date"
    assert by_source["date", CONCERT]["matched_by"] == "same cluster"
    assert by_source["url_relationship", CONCERT]["matched_by"] == "same cluster"
    assert by_source["url_relationship", HIPPO]["matched_by"] == (
        f"probabilistic: model ({MODEL_EVIDENCE})"
    )


def test_several_links_between_two_records_are_all_named(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = build(
        sample_db,
        tmp_path / "t.duckdb",
        [[ANGEL, HIPPO]],
        links=[
            (HIPPO, ANGEL, "probabilistic", "model", MODEL_EVIDENCE),
            (ANGEL, HIPPO, "identifier", "shared_isrc", "JPB600760301"),
        ],
    )
    [row] = write(con, tmp_path / "out")
    assert row["matched_by"] == (
        f"identifier: shared_isrc (JPB600760301); probabilistic: model ({MODEL_EVIDENCE})"
    )


HOSTILE = ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(1)", "\tx", "\rx"]


def test_formula_cells_are_neutralised(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # Six real MusicBrainz recordings, each clustered with a real archive item, retitled.
    mb = [
        r[0]
        for r in sample_db.execute(
            "SELECT record_id FROM recordings WHERE source = 'musicbrainz' AND kind = 'recording' "
            "AND year IS NOT NULL ORDER BY record_id LIMIT ?",
            [len(HOSTILE) + 1],
        ).fetchall()
    ]
    items = [
        r[0]
        for r in sample_db.execute(
            "SELECT record_id FROM recordings WHERE source = 'internetarchive' "
            "ORDER BY record_id LIMIT ?",
            [len(mb)],
        ).fetchall()
    ]
    titles = dict(zip(mb, [*HOSTILE, "a=b"], strict=True))
    con = build(
        sample_db,
        tmp_path / "t.duckdb",
        list(zip(mb, items, strict=True)),
        links=[(mb[0], items[0], "archivist", "review", "-1 = same")],
        titles=titles,
    )
    rows = write(con, tmp_path / "out")
    shown = {r["mbid"]: r for r in rows}
    for record_id, title in titles.items():
        cell = shown[record_id.rsplit(":", 1)[1]]["title"]
        assert cell == neutralise_formula(title)
        assert cell == (title if title == "a=b" else "'" + title)
    assert shown[mb[0].rsplit(":", 1)[1]]["matched_by"] == "archivist: review (-1 = same)"
    # No cell of any row is left as a formula; the hostile titles cover every prefix.
    assert all(neutralise_formula(cell) == cell for row in rows for cell in row.values())
    assert all(neutralise_formula(t) == "'" + t for t in HOSTILE)
    assert {t[0] for t in HOSTILE} == {"=", "+", "-", "@", "\t", "\r"}


def test_sample_gives_what_its_tables_give(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # The real sample links no MusicBrainz record to an archive item and its one undated
    # recording is alone in its cluster: the header alone, as the Python computation says.
    path = write_contributions(sample_db, tmp_path / "out")
    assert read_csv(path)[1:] == expected_rows(sample_db) == []
    assert path.read_text(encoding="utf-8") == ",".join(CONTRIBUTION_COLUMNS) + "\n"


def test_empty_database_gives_the_header(tmp_path: Path) -> None:
    con = store.connect(tmp_path / "empty.duckdb")
    path = write_contributions(con, tmp_path / "out")
    assert read_csv(path) == [list(CONTRIBUTION_COLUMNS)]


def test_rewrites_whole_and_keeps_the_old_file_on_failure(
    sample_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / CONTRIBUTIONS_NAME).write_text("stale\n" * 1000, encoding="utf-8")
    con = build(sample_db, tmp_path / "t.duckdb", [[ANGEL, HIPPO]])
    assert len(write(con, out)) == 1
    assert sorted(p.name for p in out.iterdir()) == [CONTRIBUTIONS_NAME]
    written = (out / CONTRIBUTIONS_NAME).read_bytes()

    con.execute("DROP TABLE links")
    with pytest.raises(duckdb.Error):
        write_contributions(con, out)
    assert (out / CONTRIBUTIONS_NAME).read_bytes() == written
    assert sorted(p.name for p in out.iterdir()) == [CONTRIBUTIONS_NAME]
    # the steps' temporary tables are gone, after a failure as after success
    steps = "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'contribution_%'"
    assert con.execute(steps).fetchall() == [(0,)]


def test_every_column_is_documented() -> None:
    doc = contributions.__doc__ or ""
    for column in CONTRIBUTION_COLUMNS:
        assert re.search(rf"^    {column} +\S", doc, flags=re.MULTILINE), column
