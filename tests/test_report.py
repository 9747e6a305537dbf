"""The report stage: acquisition lists (CSV, JSON, Parquet), the self-contained at-risk page
and the search evidence.

The database is built by hand with rows shaped like what the earlier stages make of the
bundled sample (real titles, identifiers and URLs), plus hostile values, then assessed by the
real assess stage.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from html import unescape
from pathlib import Path

import duckdb
import pytest

from preservation import store
from preservation.assess import assess
from preservation.queries import run_query
from preservation.report import HTML_TABLE_LIMIT, write_reports
from preservation.report_acquisition import ACQUISITION_COLUMNS, acquisition_rows
from preservation.report_charts import CHARTS
from preservation.report_files import copy_json_document, neutralise_formula

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
        "-2",
        "\tcmd",
        "https://musicbrainz.org/recording/00000000-0000-4000-8000-000000000002",
    ),
]

# record_id, url, platform, access_class, closed_garden, relation_type, live, status_note
APPLE = "https://music.apple.com/{}/album/1473205356"
HOLDINGS = [
    (RECORDINGS[0][0], HIPPO_URL, "Internet Archive", "open_archive", False, "archive item",
     False, "the item is dark"),
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

CLUSTERS = [("c-hippo", 0), ("c-venice", 1), ("c-loc", 2), ("c-hostile", 3), ("c-formula", 4)]
AS_OF = date(2025, 1, 1)
HIPPO_KEY = f"metadata_api/{HIPPO_ID}.json"


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The rows above, assessed by the real assess stage."""
    con = store.connect(tmp_path / "t.duckdb")
    con.executemany(
        "INSERT INTO recordings (record_id, source, kind, source_id, title, artists, date, year, "
        "label, catalog_number, matrix, page_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        RECORDINGS,
    )
    # As normalize says it: loc.gov gives session dates, the others release dates.
    con.execute(
        "UPDATE recordings SET date_kind = CASE source WHEN 'loc' THEN 'recorded' "
        "ELSE 'published' END WHERE date IS NOT NULL"
    )
    con.execute("UPDATE recordings SET raw_keys = [?] WHERE source_id = ?", [HIPPO_KEY, HIPPO_ID])
    con.executemany(
        "INSERT INTO holdings (record_id, url, platform, access_class, closed_garden, "
        "relation_type, live, status_note, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'test')",
        HOLDINGS,
    )
    con.executemany(
        "INSERT INTO clusters VALUES (?, ?)", [(c, RECORDINGS[i][0]) for c, i in CLUSTERS]
    )
    con.execute(
        "INSERT INTO harvest_log (run_id, source, transport, scope, started_at, finished_at, "
        "status, payloads) VALUES "
        "(1, 'internetarchive', 'live', '=collection:georgeblood', TIMESTAMP '2024-12-30 10:00', "
        "TIMESTAMP '2024-12-30 10:05', 'ok', 1), "
        "(2, 'musicbrainz', 'live', 'label:Peter Pan', TIMESTAMP '2024-12-31 10:00', "
        "TIMESTAMP '2024-12-31 10:01', 'ok', 3)"
    )
    con.execute(
        "INSERT INTO raw_records VALUES ('internetarchive', ?, 1, TIMESTAMP '2024-12-30 10:01', "
        "?, 'sha', '{}')",
        [HIPPO_KEY, f"https://archive.org/metadata/{HIPPO_ID}"],
    )
    assess(con, AS_OF)
    return con


@pytest.fixture
def reports(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> dict[str, Path]:
    return {p.name: p for p in write_reports(con, tmp_path / "reports")}


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def csv_dicts(path: Path) -> list[dict[str, str]]:
    header, *rows = read_csv(path)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_writes_every_report(reports: dict[str, Path]) -> None:
    assert sorted(reports) == [
        "acquisition-list.csv",
        "acquisition-list.json",
        "acquisition-list.parquet",
        "at-risk.html",
        "musicbrainz-contributions.csv",
        "search-evidence",
    ]
    assert all(p.exists() for p in reports.values())
    assert not list(reports["at-risk.html"].parent.glob(".*partial*"))


def test_csv_lists_at_risk_clusters_by_score(
    con: duckdb.DuckDBPyConnection, reports: dict[str, Path]
) -> None:
    header, *_ = read_csv(reports["acquisition-list.csv"])
    assert header == list(ACQUISITION_COLUMNS)
    rows = csv_dicts(reports["acquisition-list.csv"])
    expected = con.execute(
        "SELECT cluster_id, score FROM risk WHERE risk_level IN ('high', 'medium') "
        "ORDER BY score DESC, cluster_id"
    ).fetchall()
    assert [(r["cluster_id"], float(r["score"])) for r in rows] == expected
    # the low-risk LoC copy (open archive, public domain in the EU) is not on the list
    assert [r["cluster_id"] for r in rows] == ["c-hippo", "c-formula", "c-hostile", "c-venice"]


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
    # 17 U.S.C. § 1401(a)(2)(B)(iii): published 1947-1956, 110 years; EU: 50 years, by 2003
    assert (hippo["us_recording_status"], hippo["us_recording_expires"]) == ("in_copyright", 2063)
    assert (hippo["eu_recording_status"], hippo["eu_recording_expires"]) == ("public_domain", 2003)
    assert hippo["eu_composition_status"] == "undetermined"  # no work linked
    assert (hippo["eu_free_to_share"], hippo["us_free_to_share"]) == (
        "undetermined",
        "in_copyright",
    )
    assert hippo["holdings"] == []  # its only copy went dark
    assert hippo["status"] == "catalogue_only"
    assert any("the item is dark" in r for r in hippo["reasons"])
    assert any("public domain in EU but no open archive holds it" in r for r in hippo["reasons"])
    assert hippo["evidence_urls"] == [HIPPO_URL]

    venice = rows["c-venice"]
    assert venice["musicbrainz_ids"] == [VENICE_MBID]
    assert venice["status"] == "closed_garden_only"
    # Only live holdings are listed as holdings; the ended store link stays as evidence.
    assert venice["holdings"] == ["Apple Music (paid_stream)", "Deezer (free_stream)"]
    assert venice["evidence_urls"] == [
        APPLE.format("nz"),
        APPLE.format("us"),
        f"https://musicbrainz.org/release/{VENICE_MBID}",
        DEEZER_URL,
    ]


def test_acquisition_rights_agree_with_the_rights_status_view(
    con: duckdb.DuckDBPyConnection,
) -> None:
    for row in acquisition_rows(con):
        for j in ("us", "eu"):
            for layer, column in (
                ("recording", "recording_status"),
                ("composition", "composition_status"),
                ("both", "free_to_share"),
            ):
                status = store.scalar(
                    con,
                    "SELECT status FROM rights_status "
                    "WHERE cluster_id = ? AND jurisdiction = ? AND layer = ?",
                    [row["cluster_id"], j.upper(), layer],
                )
                assert row[f"{j}_{column}"] == status, (row["cluster_id"], j, layer)


def test_json_and_parquet_match_csv_and_documented_layout(
    con: duckdb.DuckDBPyConnection, reports: dict[str, Path]
) -> None:
    document = json.loads(reports["acquisition-list.json"].read_text(encoding="utf-8"))
    assert document["generated_from"] == "t.duckdb"
    assert document["as_of"] == "2025-01-01"
    assert document["columns"] == list(ACQUISITION_COLUMNS)
    assert document["rows"] == acquisition_rows(con)
    parquet = duckdb.connect().execute(
        "SELECT * FROM read_parquet(?)", [str(reports["acquisition-list.parquet"])]
    )
    names = [d[0] for d in parquet.description]
    assert names == list(ACQUISITION_COLUMNS)
    assert [dict(zip(names, r, strict=True)) for r in parquet.fetchall()] == document["rows"]
    csv_rows = csv_dicts(reports["acquisition-list.csv"])
    assert [r["cluster_id"] for r in csv_rows] == [r["cluster_id"] for r in document["rows"]]
    venice = next(r for r in csv_rows if r["cluster_id"] == "c-venice")
    assert venice["holdings"] == "Apple Music (paid_stream);Deezer (free_stream)"


def test_formulas_neutralised_in_csv_not_in_json(reports: dict[str, Path]) -> None:
    formula = next(
        r for r in csv_dicts(reports["acquisition-list.csv"]) if r["cluster_id"] == "c-formula"
    )
    assert formula["title"] == "'" + FORMULA
    assert formula["artists"] == "'+1"
    assert formula["label"] == "'@label"
    assert formula["catalog_number"] == "'-2"
    assert formula["matrix"] == "'\tcmd"
    for row in read_csv(reports["acquisition-list.csv"]):
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row

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
    assert 'href="search-evidence/c-hippo.json"' in html
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
    assert len(svgs) == len(CHARTS)
    svg_urls = {u for svg in svgs for u in re.findall(r"https?://[^\s\"'<>)]+", svg)}
    assert svg_urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_every_number_on_the_page_is_a_named_query(
    con: duckdb.DuckDBPyConnection, reports: dict[str, Path]
) -> None:
    html = reports["at-risk.html"].read_text(encoding="utf-8")
    shown = dict(re.findall(r'data-figure="(\w+)"><dt>[^<]*</dt><dd>(\d+)</dd>', html))
    _, figures = run_query(con, "summary_figures")
    assert shown == {figure: str(value) for figure, _, value in figures}
    assert (shown["clusters"], shown["at_risk"], shown["vanished"]) == ("5", "4", "2")
    # each chart's numbers, as the page lists them, are its query's rows
    tables = re.findall(
        r'<table class="numbers" data-query="(\w+)">.*?<tbody>(.*?)</tbody>', html, re.DOTALL
    )
    assert [name for name, _ in tables] == [query for query, *_ in CHARTS]
    for name, body in tables:
        cells = [
            [unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
        ]
        _, rows = run_query(con, name)
        assert cells == [[_cell(v) for v in row] for row in rows], name
    # the table is the at_risk query
    _, at_risk = run_query(con, "at_risk", {"limit": str(HTML_TABLE_LIMIT)})
    assert re.findall(r'<tr data-cluster="([^"]+)">', html) == [r[0] for r in at_risk]


def _cell(value: object) -> str:
    """A value as the page's number tables print it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def test_search_evidence_for_preservable_recordings(
    con: duckdb.DuckDBPyConnection, reports: dict[str, Path]
) -> None:
    folder = reports["search-evidence"]
    lines = (folder / "recordings.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    # public domain somewhere, or from before 1972: the hippo (EU) and the 1929 side;
    # the undated hostile title and the 2019 release are not candidates
    assert [r["cluster_id"] for r in records] == ["c-hippo", "c-formula"]
    hippo = records[0]
    assert hippo["why"] == "public domain as a sound recording in EU"
    assert [s["source"] for s in hippo["searched"]] == ["internetarchive", "musicbrainz"]
    assert hippo["not_found_in"] == ["musicbrainz"]
    (found,) = hippo["found"]
    assert found["record_id"] == RECORDINGS[0][0]
    assert found["read_from"] == [
        {"request": f"https://archive.org/metadata/{HIPPO_ID}", "fetched_at": "2024-12-30 10:01:00"}
    ]
    assert hippo["holdings"][0]["status_note"] == "the item is dark"
    assert hippo["commercially_available"] == []
    # the page's rows get their own indented file, the same object
    assert json.loads((folder / "c-hippo.json").read_text(encoding="utf-8")) == hippo
    searches = csv_dicts(folder / "searches.csv")
    assert [s["source"] for s in searches] == ["internetarchive", "musicbrainz"]
    assert searches[0]["scope"] == "'=collection:georgeblood"  # neutralised


def test_reports_are_identical_from_the_same_database(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    first = {p.name: p for p in write_reports(con, tmp_path / "a")}
    second = {p.name: p for p in write_reports(con, tmp_path / "b")}
    for name, path in first.items():
        if path.is_file():
            assert path.read_bytes() == second[name].read_bytes(), name


def test_empty_database_gives_empty_reports(tmp_path: Path) -> None:
    con = store.connect(tmp_path / "empty.duckdb")
    paths = {p.name: p for p in write_reports(con, tmp_path / "out")}
    assert read_csv(paths["acquisition-list.csv"]) == [list(ACQUISITION_COLUMNS)]
    document = json.loads(paths["acquisition-list.json"].read_text(encoding="utf-8"))
    assert (document["as_of"], document["rows"]) == (None, [])
    html = paths["at-risk.html"].read_text(encoding="utf-8")
    assert "No cluster is at risk." in html
    assert html.count("<svg") == len(CHARTS)


def test_json_document_keeps_every_character_of_its_values(tmp_path: Path) -> None:
    # Written by DuckDB's CSV writer with quoting off: a value holding a newline, a quote, a
    # comma or a control character must neither break its line nor the JSON around it.
    titles = ['line\nbreak, "quoted"', "tab\tcr\r\x00nul\x1f", "\u2028sep\\back", FORMULA, ""]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (id INTEGER, title VARCHAR, tags VARCHAR[])")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, t, [t]) for i, t in enumerate(titles)])
    head = '{\n  "from": "a \\"quoted\\" name, with commas",\n  "rows": ['
    tail = "]\n}\n"
    path = copy_json_document(
        con, "t", ["id", "title", "tags"], "id", tmp_path / "d.json", head=head, tail=tail
    )
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["from"] == 'a "quoted" name, with commas'
    assert document["rows"] == [{"id": i, "title": t, "tags": [t]} for i, t in enumerate(titles)]
    con.execute("DELETE FROM t")
    empty = copy_json_document(con, "t", ["id"], "id", tmp_path / "e.json", head=head, tail=tail)
    assert json.loads(empty.read_text(encoding="utf-8"))["rows"] == []
    assert not list(tmp_path.glob(".*partial"))
