"""The report stage: acquisition list (CSV + JSON) and the self-contained at-risk page.

The database is built by hand with rows shaped like what the earlier stages make of the
bundled sample (real titles, identifiers and URLs), plus hostile titles.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest

from preservation import store
from preservation.queries import run_query
from preservation.report import (
    ACQUISITION_COLUMNS,
    FIGURES,
    STATUS_SQL,
    acquisition_rows,
    neutralise_formula,
    write_reports,
)

HIPPO_ID = "78_i-want-a-hippopotamus-for-christmas_vicki-dale-the-peter-pan-orchestra_gbia0000281a"
HIPPO_URL = f"https://archive.org/details/{HIPPO_ID}"
VENICE_MBID = "7d0cf748-475e-4be6-b7f2-ef2d55f3f0f5"
DEEZER_URL = "https://www.deezer.com/album/103934622"
HOSTILE = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x")'

# record_id, source, kind, source_id, title, artists, date, year, label, catalog, matrix, page
RECORDINGS = [
    (
        f"internetarchive:item:{HIPPO_ID}",
        "internetarchive",
        "item",
        HIPPO_ID,
        "I Want A Hippopotamus For Christmas",
        ["Vicki Dale", "The Peter Pan Orchestra"],
        "1953",
        1953,
        "Peter Pan",
        "2290 A",
        "2290 A",
        HIPPO_URL,
    ),
    (
        f"musicbrainz:release:{VENICE_MBID}",
        "musicbrainz",
        "release",
        VENICE_MBID,
        "Venice",
        [],
        "2019-08-15",
        2019,
        None,
        None,
        None,
        f"https://musicbrainz.org/release/{VENICE_MBID}",
    ),
    (
        "loc:item:jukebox-879940",
        "loc",
        "item",
        "jukebox-879940",
        "Nobody knows de trouble I've seen",
        ["Seagle, Oscar"],
        "1917-11-21",
        1917,
        "Columbia",
        None,
        None,
        "https://www.loc.gov/item/jukebox-879940/",
    ),
    (
        "musicbrainz:recording:00000000-0000-4000-8000-000000000001",
        "musicbrainz",
        "recording",
        "00000000-0000-4000-8000-000000000001",
        HOSTILE,
        ["Mallory"],
        None,
        None,
        None,
        None,
        None,
        "https://musicbrainz.org/recording/00000000-0000-4000-8000-000000000001",
    ),
    (
        "musicbrainz:recording:00000000-0000-4000-8000-000000000002",
        "musicbrainz",
        "recording",
        "00000000-0000-4000-8000-000000000002",
        FORMULA,
        ["+1"],
        "1929",
        1929,
        "@label",
        None,
        None,
        "https://musicbrainz.org/recording/00000000-0000-4000-8000-000000000002",
    ),
]

# record_id, url, platform, access_class, closed_garden, relation_type, live, status_note
APPLE = "https://music.apple.com/{}/album/1473205356"
HOLDINGS = [
    (RECORDINGS[0][0], HIPPO_URL, "Internet Archive", "open_archive", False, "archive item",
     True, None),
    (RECORDINGS[1][0], DEEZER_URL, "Deezer", "free_stream", True, "free streaming", True, None),
    (RECORDINGS[1][0], APPLE.format("nz"), "Apple Music", "paid_stream", True, "streaming",
     True, None),
    (RECORDINGS[1][0], APPLE.format("us"), "Apple Music", "store", True, "purchase for download",
     False, "relationship ended"),
    (RECORDINGS[2][0], "https://www.loc.gov/item/jukebox-879940/", "Library of Congress",
     "open_archive", False, "archive item", True, None),
    (RECORDINGS[3][0], "javascript:alert(2)", "Spotify", "free_stream", True, "free streaming",
     True, None),
]  # fmt: skip

# cluster_id, title, artists, year, status, risk_level, score, platforms, classes,
# single_platform, closed_garden_only, has_open_copy, vanished, reasons
RISK = [
    ("c-hippo", *RECORDINGS[0][4:6], 1953, "open_unclear_rights", "medium", 45.0,
     ["Internet Archive"], ["open_archive"], True, False, True, False,
     ["one live copy only, at Internet Archive"]),
    ("c-venice", "Venice", [], 2019, "closed_garden_only", "high", 80.0,
     ["Apple Music", "Deezer"], ["free_stream", "paid_stream"], False, True, False, True,
     ["only in closed gardens", "a store listing has ended"]),
    ("c-loc", *RECORDINGS[2][4:6], 1917, "open_public_domain", "low", 5.0,
     ["Library of Congress"], ["open_archive"], True, False, True, False,
     ["public domain and held by an open archive"]),
    ("c-hostile", HOSTILE, ["Mallory"], None, "free_stream_only", "high", 90.0,
     ["Spotify"], ["free_stream"], True, True, False, False, ["=1+1"]),
    ("c-formula", FORMULA, ["+1"], 1929, "catalogue_only", "medium", 50.0,
     [], [], False, False, False, False, ["no live copy is known"]),
]  # fmt: skip

CLUSTERS = [("c-hippo", 0), ("c-venice", 1), ("c-loc", 2), ("c-hostile", 3), ("c-formula", 4)]


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = store.connect(tmp_path / "t.duckdb")
    con.executemany(
        "INSERT INTO recordings (record_id, source, kind, source_id, title, artists, date, year, "
        "label, catalog_number, matrix, page_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        RECORDINGS,
    )
    con.executemany(
        "INSERT INTO holdings (record_id, url, platform, access_class, closed_garden, "
        "relation_type, live, status_note, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'test')",
        HOLDINGS,
    )
    con.executemany(
        "INSERT INTO clusters VALUES (?, ?)", [(c, RECORDINGS[i][0]) for c, i in CLUSTERS]
    )
    con.executemany(
        "INSERT INTO risk VALUES (?, DATE '2025-01-01', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        RISK,
    )
    con.executemany(
        "INSERT INTO rights_status VALUES (?, ?, ?, DATE '2025-01-01', ?, ?, ?, ?)",
        [
            ("c-hippo", "US", "recording", "in_copyright", 2063, "us_mma_1947_1956", ["1953"]),
            ("c-hippo", "EU", "recording", "public_domain", 2023, "eu_70_published", ["1953"]),
            ("c-hippo", "EU", "composition", "public_domain", 1990, "EU-composition-life70", []),
            ("c-hippo", "EU", "both", "public_domain", 2023, "both-layers", []),
        ],
    )
    return con


@pytest.fixture
def reports(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> dict[str, Path]:
    return {p.name: p for p in write_reports(con, tmp_path / "reports")}


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_writes_the_three_files(reports: dict[str, Path]) -> None:
    assert sorted(reports) == ["acquisition-list.csv", "acquisition-list.json", "at-risk.html"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in reports.values())


def test_csv_lists_at_risk_clusters_by_score(reports: dict[str, Path]) -> None:
    header, *rows = read_csv(reports["acquisition-list.csv"])
    assert header == list(ACQUISITION_COLUMNS)
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["cluster_id"] for r in by_name] == ["c-hostile", "c-venice", "c-formula", "c-hippo"]
    assert {r["risk_level"] for r in by_name} == {"high", "medium"}
    scores = [float(r["score"]) for r in by_name]
    assert scores == sorted(scores, reverse=True)


def test_acquisition_row_gathers_the_cluster(con: duckdb.DuckDBPyConnection) -> None:
    rows = {r["cluster_id"]: r for r in acquisition_rows(con)}
    hippo = rows["c-hippo"]
    assert hippo["archive_ids"] == [HIPPO_ID]
    assert hippo["musicbrainz_ids"] == []
    assert (hippo["label"], hippo["catalog_number"], hippo["matrix"]) == (
        "Peter Pan",
        "2290 A",
        "2290 A",
    )
    assert hippo["date"] == "1953"
    assert (hippo["us_recording_status"], hippo["us_recording_expires"]) == ("in_copyright", 2063)
    assert (hippo["eu_recording_status"], hippo["eu_recording_expires"]) == ("public_domain", 2023)
    assert (hippo["eu_composition_status"], hippo["eu_composition_expires"]) == (
        "public_domain",
        1990,
    )
    assert (hippo["eu_free_to_share"], hippo["us_free_to_share"]) == ("public_domain", None)
    assert hippo["holdings"] == ["Internet Archive (open_archive)"]
    assert hippo["evidence_urls"] == [HIPPO_URL]

    venice = rows["c-venice"]
    assert venice["musicbrainz_ids"] == [VENICE_MBID]
    assert venice["us_recording_status"] is None
    # Only live holdings are listed as holdings; the ended store link stays as evidence.
    assert venice["holdings"] == ["Apple Music (paid_stream)", "Deezer (free_stream)"]
    assert venice["evidence_urls"] == [
        APPLE.format("nz"),
        APPLE.format("us"),
        f"https://musicbrainz.org/release/{VENICE_MBID}",
        DEEZER_URL,
    ]


def test_json_matches_csv_and_documented_layout(
    con: duckdb.DuckDBPyConnection, reports: dict[str, Path]
) -> None:
    document = json.loads(reports["acquisition-list.json"].read_text(encoding="utf-8"))
    assert document["generated_from"] == "t.duckdb"
    assert document["as_of"] == "2025-01-01"
    assert document["columns"] == list(ACQUISITION_COLUMNS)
    assert document["rows"] == acquisition_rows(con)
    _, *csv_rows = read_csv(reports["acquisition-list.csv"])
    assert [r[0] for r in csv_rows] == [r["cluster_id"] for r in document["rows"]]
    venice = next(r for r in csv_rows if r[0] == "c-venice")
    assert venice[ACQUISITION_COLUMNS.index("holdings")] == (
        "Apple Music (paid_stream);Deezer (free_stream)"
    )


def test_formulas_neutralised_in_csv_not_in_json(reports: dict[str, Path]) -> None:
    header, *rows = read_csv(reports["acquisition-list.csv"])
    formula = dict(zip(header, next(r for r in rows if r[0] == "c-formula"), strict=True))
    assert formula["title"] == "'" + FORMULA
    assert formula["artists"] == "'+1"
    assert formula["label"] == "'@label"
    hostile = dict(zip(header, next(r for r in rows if r[0] == "c-hostile"), strict=True))
    assert hostile["reasons"] == "'=1+1"

    document = json.loads(reports["acquisition-list.json"].read_text(encoding="utf-8"))
    row = next(r for r in document["rows"] if r["cluster_id"] == "c-formula")
    assert (row["title"], row["artists"], row["label"]) == (FORMULA, ["+1"], "@label")


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_formula_prefixes_an_apostrophe(cell: str) -> None:
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "Venice", "1953", "2290 A", "a=b"])
def test_neutralise_formula_leaves_plain_text(cell: str) -> None:
    assert neutralise_formula(cell) == cell


def test_html_escapes_hostile_text(reports: dict[str, Path]) -> None:
    html = reports["at-risk.html"].read_text(encoding="utf-8")
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # A stored javascript: URL is shown, never made a link.
    assert 'href="javascript:' not in html
    assert "javascript:alert(2)" in html


def test_html_links_rows_to_evidence(reports: dict[str, Path]) -> None:
    html = reports["at-risk.html"].read_text(encoding="utf-8")
    assert f'href="{DEEZER_URL}"' in html
    assert f'href="{HIPPO_URL}"' in html
    assert "https://www.loc.gov/item/jukebox-879940/" not in html  # low risk: not listed


def test_html_is_self_contained(reports: dict[str, Path]) -> None:
    html = reports["at-risk.html"].read_text(encoding="utf-8")
    lowered = html.lower()
    assert "<link" not in lowered
    assert " src=" not in lowered
    assert "@import" not in lowered
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", lowered)
    assert "default-src 'none'" in html
    # The only http(s) URLs outside the table's evidence links are SVG namespaces.
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)
    assert svgs
    svg_urls = {u for svg in svgs for u in re.findall(r"https?://[^\s\"'<>)]+", svg)}
    assert svg_urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_html_has_both_charts(reports: dict[str, Path]) -> None:
    html = reports["at-risk.html"].read_text(encoding="utf-8")
    assert html.count("<svg") == 2
    assert "open_archive" in html and "closed_garden_only" in html


def test_html_figures_match_their_queries(
    con: duckdb.DuckDBPyConnection, reports: dict[str, Path]
) -> None:
    html = reports["at-risk.html"].read_text(encoding="utf-8")
    shown = dict(re.findall(r'data-figure="(\w+)"><dt>[^<]*</dt><dd>(\d+)</dd>', html))
    expected = {name: str(store.scalar(con, sql)) for name, (_, sql) in FIGURES.items()}
    assert shown == expected
    assert (shown["clusters"], shown["at_risk"], shown["high"], shown["vanished"]) == (
        "5",
        "4",
        "2",
        "1",
    )


def test_charts_count_as_the_named_queries_do(con: duckdb.DuckDBPyConnection) -> None:
    _, coverage = run_query(con, "coverage_by_decade")
    assert ("unknown", "free_stream", 1) in coverage  # the undated hostile title
    _, statuses = run_query(con, "status_summary")
    per_status: dict[str, int] = {}
    for status, _, clusters in statuses:
        per_status[status] = per_status.get(status, 0) + clusters
    assert dict(con.execute(STATUS_SQL).fetchall()) == per_status


def test_empty_database_gives_empty_reports(tmp_path: Path) -> None:
    con = store.connect(tmp_path / "empty.duckdb")
    paths = {p.name: p for p in write_reports(con, tmp_path / "out")}
    assert read_csv(paths["acquisition-list.csv"]) == [list(ACQUISITION_COLUMNS)]
    document = json.loads(paths["acquisition-list.json"].read_text(encoding="utf-8"))
    assert (document["as_of"], document["rows"]) == (None, [])
    html = paths["at-risk.html"].read_text(encoding="utf-8")
    assert "No cluster is at risk." in html
    assert html.count("<svg") == 2
