"""The whole pipeline on the bundled real sample: facts an archivist could check by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from preservation import store
from preservation.pipeline import run, sample_dir
from preservation.rights import jurisdictions
from tests.conftest import AS_OF, rows
from tests.test_import_dump import assert_unique_keys

HIPPO = (
    "internetarchive:item:"
    "78_i-want-a-hippopotamus-for-christmas_vicki-dale-the-peter-pan-orchestra_gbia0000281a"
)


def cluster_of(con: duckdb.DuckDBPyConnection, record_id: str) -> str:
    return rows(con, "SELECT cluster_id FROM clusters WHERE record_id = ?", [record_id])[0][0]


def test_every_stage_wrote_its_table(sample_run):
    summary, reports = sample_run
    for table in (
        "raw_records",
        "recordings",
        "holdings",
        "clusters",
        "cluster_facts",
        "rights_verdicts",
        "risk",
    ):
        assert summary.tables[table] > 0, table
    assert summary.tables["raw_records"] == len(list(sample_dir().rglob("*.json")))
    assert {p.name for p in summary.reports} == {
        "at-risk.html",
        "acquisition-list.csv",
        "acquisition-list.json",
        "acquisition-list.parquet",
        "musicbrainz-contributions.csv",
        "search-evidence",
    }
    assert all((reports / p.name).exists() for p in summary.reports)


def test_merged_tables_keep_their_keys_unique(sample_db):
    assert_unique_keys(sample_db)


def test_rebuilt_tables_keep_their_keys_unique_without_an_index(sample_db):
    keys = {
        "clusters": "record_id",
        "links": "record_a, record_b, rule",
        "link_pairs": "record_a, record_b",
        "rights_status": "cluster_id, jurisdiction, layer",
        "risk": "cluster_id",
    }
    for table, key in keys.items():
        total, distinct = sample_db.execute(
            f"SELECT count(*), count(DISTINCT ({key})) FROM {table}"
        ).fetchall()[0]
        assert total == distinct > 0, table
    # every record has its cluster
    assert sample_db.execute(
        "SELECT count(*) FROM recordings ANTI JOIN clusters USING (record_id)"
    ).fetchall() == [(0,)]


def test_single_platform_recordings_and_why(sample_db):
    single = dict(
        rows(
            sample_db,
            "SELECT title, live_platforms[1] FROM risk "
            "WHERE single_platform AND status = 'closed_garden_only'",
        )
    )
    # recording_video.json: one live 'free streaming' link, to YouTube
    assert single["The Enemy"] == "YouTube"
    # release 6393da26: free streaming and purchase links, both to the same Bandcamp page
    assert single["Round 2"] == "Bandcamp"
    # release 83a3f2c0 is on Spotify, Deezer and Apple Music: not single-platform
    (he,) = rows(
        sample_db, "SELECT single_platform, live_platforms FROM risk WHERE title = 'He’s All I Got'"
    )
    assert he == (False, ["Apple Music", "Deezer", "Spotify"])


def test_ended_relationship_is_not_counted(sample_db):
    (holding,) = rows(
        sample_db,
        "SELECT live, access_class, status_note FROM holdings WHERE url = 'https://music.apple.com/us/album/1473205356'",
    )
    assert holding == (False, "store", "relationship ended")
    (venice,) = rows(
        sample_db, "SELECT access_classes, vanished, status FROM risk WHERE title = 'Venice'"
    )
    # the live Apple Music link is 'streaming' (nz); the ended one was the only store link
    assert venice == (["free_stream", "paid_stream"], True, "closed_garden_only")


def test_1953_great_78_side_is_not_pd_as_a_us_sound_recording(sample_db):
    cluster = cluster_of(sample_db, HIPPO)
    status = dict(
        (j, (s, y))
        for j, s, y in rows(
            sample_db,
            "SELECT jurisdiction, status, expires_year FROM rights_status "
            "WHERE cluster_id = ? AND layer = 'recording'",
            [cluster],
        )
    )
    # 17 U.S.C. 1401: published 1947-1956 -> 110 years -> protected through 2063
    assert status["US"] == ("in_copyright", 2063)
    # EU: published 1953 -> 50 years, expired end of 2003, before the 2013 extension
    assert status["EU"] == ("public_domain", 2003)
    (risk,) = rows(
        sample_db, "SELECT status, has_open_copy FROM risk WHERE cluster_id = ?", [cluster]
    )
    assert risk == ("open_public_domain", True)


def test_record_with_no_date_is_undetermined(sample_db):
    # recording_instrumental.json: 'A Taste of Honey' carries no release date at all
    cluster = cluster_of(sample_db, "musicbrainz:recording:ed23dfd5-2b52-4c38-8118-9924eeaf0025")
    found = rows(
        sample_db,
        "SELECT DISTINCT status, rule_id FROM rights_status "
        "WHERE cluster_id = ? AND layer = 'recording' ORDER BY 2",
        [cluster],
    )
    assert found == [("undetermined", f"{j}-recording-no-date") for j in sorted(jurisdictions())]


def test_composition_layer_needs_the_authors_deaths(sample_db):
    # 'A Taste of Honey' is linked to its work: Bobby Scott (composer) and Ric Marlow
    # (lyricist), whose death years the sample does not hold; the Great 78 side has no work.
    taste = cluster_of(sample_db, "musicbrainz:recording:ed23dfd5-2b52-4c38-8118-9924eeaf0025")
    ((status, rule, reasons),) = rows(
        sample_db,
        "SELECT status, rule_id, reasons FROM rights_status "
        "WHERE cluster_id = ? AND jurisdiction = 'EU' AND layer = 'composition'",
        [taste],
    )
    assert (status, rule) == ("undetermined", "EU-composition-life70")
    assert "the year the last author died is not known" in reasons
    hippo = cluster_of(sample_db, HIPPO)
    assert rows(
        sample_db,
        "SELECT layer, status, rule_id FROM rights_status "
        "WHERE cluster_id = ? AND jurisdiction = 'EU' AND layer <> 'recording' ORDER BY layer",
        [hippo],
    ) == [
        ("both", "undetermined", "both-layers"),
        ("composition", "undetermined", "EU-composition-no-work"),
    ]


def test_recording_date_only_is_not_a_confident_pd(sample_db):
    # LoC gives the 1917 recording date; US status depends on the (unknown) publication year.
    cluster = cluster_of(sample_db, "loc:item:jukebox-879940")
    (us,) = rows(
        sample_db,
        "SELECT status, reasons FROM rights_status "
        "WHERE cluster_id = ? AND jurisdiction = 'US' AND layer = 'recording'",
        [cluster],
    )
    assert us[0] == "undetermined"
    assert us[1][0] == "recorded 1917" and "what is not known leaves several rules:" in us[1]
    assert any(r.startswith("published before 1923") for r in us[1])


def test_quarantine_holds_the_trimmed_fixture(sample_db):
    assert rows(sample_db, "SELECT source, key, stage FROM quarantine") == [
        ("musicbrainz", "ws2_json_picard/label_info.json", "normalize")
    ]


def test_rerun_gives_identical_tables(tmp_path):
    db = tmp_path / "twice.duckdb"
    run(db, None, tmp_path / "r1", AS_OF)
    first = _dump(db)
    run(db, None, tmp_path / "r2", AS_OF)
    second = _dump(db)
    assert first == second
    assert (tmp_path / "r1/acquisition-list.csv").read_bytes() == (
        tmp_path / "r2/acquisition-list.csv"
    ).read_bytes()


def _dump(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        # harvest_log is the one table meant to grow: it records each run; link_model says
        # when linking ran.
        tables = [t for t in store.table_counts(con) if t != "harvest_log"]
        select = {"link_model": "SELECT * EXCLUDE (linked_at) FROM link_model"}
        return {
            t: sorted(map(repr, con.execute(select.get(t, f"SELECT * FROM {t}")).fetchall()))
            for t in tables
        }
    finally:
        con.close()


def test_malformed_payload_is_quarantined_and_the_rest_loads(tmp_path):
    folder = tmp_path / "input"
    shutil.copytree(sample_dir(), folder)
    (folder / "internetarchive" / "metadata_api" / "broken.json").write_text(
        '{"metadata": {"identifier": "x"'
    )
    (folder / "loc" / "not-utf8.json").write_bytes(b'{"title": "\xff\xfe"}')
    summary = run(tmp_path / "db.duckdb", folder, tmp_path / "reports", AS_OF)
    by_source = {h.source: h for h in summary.harvests}
    assert by_source["internetarchive"].quarantined == 1
    assert by_source["loc"].quarantined == 1
    con = duckdb.connect(str(summary.db), read_only=True)
    reasons = dict(
        ((s, k), r)
        for s, k, r in con.execute("SELECT source, key, reason FROM quarantine").fetchall()
    )
    assert reasons[("internetarchive", "metadata_api/broken.json")].startswith("invalid JSON")
    assert reasons[("loc", "not-utf8.json")].startswith("not UTF-8")
    clean = run(tmp_path / "clean.duckdb", None, tmp_path / "r2", AS_OF)
    assert summary.tables["recordings"] == clean.tables["recordings"]


def test_unknown_folders_are_skipped_and_counted(tmp_path):
    folder = tmp_path / "input"
    shutil.copytree(sample_dir() / "loc", folder / "loc")
    shutil.copytree(sample_dir() / "loc", folder / "wikimedia_commons")
    summary = run(tmp_path / "db.duckdb", folder, tmp_path / "reports", AS_OF)
    assert summary.unknown_folders == ["wikimedia_commons"]
    assert summary.tables["recordings"] == 4


def test_rights_explain_prints_each_jurisdiction_and_layer(sample_run):
    from typer.testing import CliRunner

    from preservation.cli import app

    db = str(sample_run[0].db)
    result = CliRunner().invoke(app, ["rights", "explain", HIPPO, "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # the 1953 Great 78 side: the US recording rule that decided, with its statute
    assert (
        "in_copyright: recording in US (rule US-recording-1401-1947-1956, last protected year "
        "2063)" in lines
    )
    assert (
        "  - published 1947-1956: 110 years from publication (17 U.S.C. § 1401(a)(2)(B)(iii))"
        in (lines)
    )
    assert sum(
        line.startswith(("public_domain", "in_copyright", "undetermined")) for line in lines
    ) == (3 * len(jurisdictions()))
    missing = CliRunner().invoke(app, ["rights", "explain", "no:such:record", "--db", db])
    assert missing.exit_code == 1
    assert "no cluster or record 'no:such:record'" in missing.output
