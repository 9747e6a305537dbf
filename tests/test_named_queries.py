"""The named queries of queries/, each checked against the same answer computed in Python
from the base tables (recordings, holdings, clusters, works, work_writers, artists).

Two databases: the bundled real sample after the whole pipeline (`sample_db`), and a small
database holding the sample's base rows with a few changes for what the sample does not
have (labels on closed-garden releases, artists' death dates, links that vanished since an
earlier snapshot, an undated MusicBrainz recording joined to dated records); its risk and
rights_status are made by the real `assess`.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict

import duckdb
import pytest
from typer.testing import CliRunner

from preservation import store
from preservation.assess import assess
from preservation.cli import app
from preservation.queries import load_queries, queries_dir, run_query
from tests.conftest import AS_OF

NEW_QUERIES = {
    "closed_garden_only",
    "closed_garden_by_label",
    "single_platform_by_decade",
    "vanished",
    "platform_concentration",
    "unlinked_archive_items",
    "missing_dates",
    "public_domain_entrants",
    "rights_by_jurisdiction",
    "holdings_of_cluster",
}
BASE_TABLES = ("recordings", "holdings", "clusters", "works", "work_writers", "artists")
BASE_TABLES += ("recording_works",)
AUTHOR_ROLES = {"composer", "writer", "lyricist", "librettist"}
GONE_NOTE = "no longer listed by the source (listed in the response stored 2025-01-01)"

# Real records of the sample the small database changes.
ENEMY = "musicbrainz:recording:370889ee-7a70-4d0a-8f4d-e514e0494d7e"  # YouTube only
ROUND_2 = "musicbrainz:release:6393da26-1c2a-491c-8149-3ddaf5cc0d89"  # Bandcamp only
VENICE = "musicbrainz:release:7d0cf748-475e-4be6-b7f2-ef2d55f3f0f5"  # Apple Music ended
HES_ALL_I_GOT = "musicbrainz:release:83a3f2c0-3ca7-4e6e-9de8-f740a1eb8990"
BECOME_DESERT = "musicbrainz:recording:d90bc0ff-c7d9-4c09-a12b-d46f46f7281d"  # Cantaloupe
LAST_ANGEL = "musicbrainz:recording:b9ad642e-b012-41c7-b72a-42cf4911f9ff"
US_AND_THEM = "musicbrainz:recording:2d1201cf-59bb-4ffa-9f52-f5b3afa13346"  # 1973-03-24
SPEAK_TO_ME = "musicbrainz:recording:bef3fddb-5aca-49f5-b2fd-d56a23268d63"  # 1972-02-23
NOBODY_KNOWS = "loc:item:jukebox-879940"  # its one holding
SPOTIFY_URL = "https://open.spotify.com/album/1eyWP34kB2qZ1CrH5LGTmp"
TCHAIKOVSKY = "musicbrainz:artist:9ddd7abc-9e1b-471d-8031-583bc6bc8be9"
BOBBY_SCOTT = "musicbrainz:artist:009a9fa1-c002-4fd5-a3e0-bc39a33bb07b"  # A Taste of Honey, music
RIC_MARLOW = "musicbrainz:artist:ada8702e-38a9-4ab1-a286-8846de76ddc9"  # ... and its lyrics
DIED = {TCHAIKOVSKY: "1893-11-06", BOBBY_SCOTT: "1990-11-05", RIC_MARLOW: "2016-11-30"}

runner = CliRunner()


def query(con: duckdb.DuckDBPyConnection, name: str, **params: str) -> list[dict]:
    columns, rows = run_query(con, name, params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def table(con: duckdb.DuckDBPyConnection, name: str) -> list[dict]:
    cursor = con.execute(f"SELECT * FROM {name}")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


class Base:
    """The base tables as Python rows, and what the queries ask of them, computed here."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.records = {r["record_id"]: r for r in table(con, "recordings")}
        self.holdings = table(con, "holdings")
        self.cluster_of = {r["record_id"]: r["cluster_id"] for r in table(con, "clusters")}
        self.members: dict[str, list[str]] = defaultdict(list)
        for record_id, cluster_id in self.cluster_of.items():
            self.members[cluster_id].append(record_id)
        self.risk = {r["cluster_id"]: r for r in table(con, "risk")}
        self.copies: dict[str, list[dict]] = defaultdict(list)  # live copies per cluster
        for h in self.holdings:
            if h["live"] and h["access_class"] != "catalogue_only":
                self.copies[self.cluster_of[h["record_id"]]].append(h)

    def platforms(self, cluster_id: str) -> set[str]:
        return {h["platform"] for h in self.copies[cluster_id]}

    def closed_garden_only(self, cluster_id: str) -> bool:
        copies = self.copies[cluster_id]
        return bool(copies) and all(
            h["closed_garden"] and h["access_class"] != "open_archive" for h in copies
        )

    def labels(self, cluster_id: str) -> list[str]:
        return sorted({self.records[r]["label"] for r in self.members[cluster_id]} - {None})

    def year(self, cluster_id: str) -> int | None:
        years = [self.records[r]["year"] for r in self.members[cluster_id]]
        return min((y for y in years if y is not None), default=None)

    def decade(self, cluster_id: str) -> str:
        year = self.year(cluster_id)
        return "unknown" if year is None else f"{year // 10 * 10}s"


@pytest.fixture(scope="module")
def small_db(sample_run, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """The sample's base rows, changed where the sample has no case, then assessed."""
    base = tmp_path_factory.mktemp("named_queries")
    copy = base / "sample-copy.duckdb"
    shutil.copy(sample_run[0].db, copy)  # never open the session's database for writing
    con = store.connect(base / "small.duckdb")
    con.execute(f"ATTACH '{copy}' AS sample (READ_ONLY)")
    for name in BASE_TABLES:
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM sample.{name}")
    con.execute("DETACH sample")
    cluster = dict(con.execute("SELECT record_id, cluster_id FROM clusters").fetchall())
    # Labels on closed-garden releases (the sample's have none), one of them in a cluster
    # with a record of another label, as if an archivist had joined the two.
    con.execute(
        "UPDATE recordings SET label = 'Harvest' WHERE record_id IN (?, ?, ?)",
        [ENEMY, VENICE, HES_ALL_I_GOT],
    )
    con.execute("UPDATE recordings SET label = 'Cantaloupe Music' WHERE record_id = ?", [ROUND_2])
    con.execute(
        "UPDATE clusters SET cluster_id = ? WHERE record_id = ?",
        [cluster[HES_ALL_I_GOT], BECOME_DESERT],
    )
    # Links gone since an earlier snapshot, as normalize marks them: one recording keeps
    # other live copies, the other has none left.
    con.execute(
        "UPDATE holdings SET live = false, status_note = ? WHERE url = ? OR record_id = ?",
        [GONE_NOTE, SPOTIFY_URL, NOBODY_KNOWS],
    )
    # An undated MusicBrainz recording in a cluster whose other records have dates.
    con.execute(
        "UPDATE recordings SET date = NULL, year = NULL, date_kind = NULL, date_source = NULL "
        "WHERE record_id = ?",
        [LAST_ANGEL],
    )
    con.execute(
        "UPDATE clusters SET cluster_id = ? WHERE record_id IN (?, ?)",
        [cluster[US_AND_THEM], LAST_ANGEL, SPEAK_TO_ME],
    )
    # Death dates of three of the sample's real writers (the sample's artists table has none).
    for artist_id, died in DIED.items():
        name = con.execute(
            "SELECT any_value(name) FROM work_writers WHERE artist_id = ?", [artist_id]
        ).fetchone()[0]
        con.execute(
            "INSERT INTO artists (artist_id, source, source_id, name, sort_name, type, "
            "end_date, ended, raw_keys) VALUES (?, 'musicbrainz', ?, ?, ?, 'Person', ?, true, [])",
            [artist_id, artist_id.rsplit(":", 1)[1], name, name, died],
        )
    assess(con, AS_OF)
    yield con
    con.close()


@pytest.fixture(scope="module", params=["sample", "small"])
def db(request) -> duckdb.DuckDBPyConnection:
    """Each query runs on both databases."""
    if request.param == "small":
        yield request.getfixturevalue("small_db")
        return
    con = duckdb.connect(str(request.getfixturevalue("sample_run")[0].db), read_only=True)
    yield con
    con.close()


# -- the files ---------------------------------------------------------------------------


def test_every_query_file_has_its_name_a_question_and_its_columns(sample_db):
    queries = load_queries()
    assert set(queries) >= NEW_QUERIES
    for path in sorted(queries_dir().glob("*.sql")):
        assert path.stem in queries, path
        named = queries[path.stem]
        assert "?" in named.question and named.columns, path
        given = {"cluster": "c65e97708f155"} if named.name == "holdings_of_cluster" else {}
        columns, _ = run_query(sample_db, named.name, given)
        # the header names exactly the columns, in order (a parenthesis explains one)
        assert [c.strip().split(" ")[0] for c in named.columns.split(", ")] == columns, path


# -- closed gardens ----------------------------------------------------------------------


@pytest.mark.parametrize("label", ["", "harvest", "HARVEST", "cantaloupe", "music; har", "x"])
def test_closed_garden_only_with_labels(db, label):
    base = Base(db)
    expected = []
    for cluster_id in base.members:
        labels = base.labels(cluster_id)
        if base.closed_garden_only(cluster_id) and (
            not label or any(label.lower() in x.lower() for x in labels)
        ):
            joined = "; ".join(labels) or None
            expected.append((joined is None, joined, -base.risk[cluster_id]["score"], cluster_id))
    got = query(db, "closed_garden_only", label=label)
    assert [(r["cluster_id"], r["label"]) for r in got] == [(e[3], e[1]) for e in sorted(expected)]
    assert all(r["title"] == base.risk[r["cluster_id"]]["title"] for r in got)
    if not label:
        assert got, "the case is in the data"


def test_closed_garden_only_labels_in_the_small_db(small_db):
    got = {r["label"] for r in query(small_db, "closed_garden_only", label="harvest")}
    assert got == {"Harvest", "Cantaloupe Music; Harvest"}
    assert query(small_db, "closed_garden_only", label="music; har") == []


def test_closed_garden_by_label(db):
    base = Base(db)
    per_label: dict[str, list[str]] = defaultdict(list)
    for cluster_id in base.members:
        for label in base.labels(cluster_id) or ["(no label)"]:
            per_label[label].append(cluster_id)
    expected = []
    for label, clusters in per_label.items():
        closed = [c for c in clusters if base.closed_garden_only(c)]
        if closed:
            platforms = sorted(set().union(*(base.platforms(c) for c in closed)))
            share = round(len(closed) / len(clusters), 3)
            expected.append((-len(closed), label, len(clusters), share, platforms))
    got = query(db, "closed_garden_by_label")
    assert [
        (-r["closed_garden_clusters"], r["label"], r["clusters"], r["share"], r["platforms"])
        for r in got
    ] == sorted(expected)
    assert got


def test_closed_garden_by_label_cli_json(sample_run):
    db = str(sample_run[0].db)
    result = runner.invoke(app, ["query", "closed_garden_by_label", "--db", db, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and rows[0]["label"] == "(no label)" and rows[0]["closed_garden_clusters"] > 0


# -- platforms ---------------------------------------------------------------------------


def test_single_platform_by_decade(db):
    base = Base(db)
    totals = Counter(base.decade(c) for c in base.members)
    single = Counter(
        (base.decade(c), next(iter(base.platforms(c))))
        for c in base.members
        if len(base.platforms(c)) == 1
    )
    expected = sorted(
        (decade, -n, platform, totals[decade], round(n / totals[decade], 3))
        for (decade, platform), n in single.items()
    )
    got = query(db, "single_platform_by_decade")
    assert [
        (r["decade"], -r["clusters"], r["platform"], r["decade_clusters"], r["share"]) for r in got
    ] == expected
    assert got


def test_platform_concentration(db):
    base = Base(db)
    copies = [(c, h) for c, hs in base.copies.items() for h in hs]
    with_copy = [c for c in base.members if base.copies[c]]
    expected = []
    for platform in {h["platform"] for _, h in copies}:
        here = [(c, h) for c, h in copies if h["platform"] == platform]
        clusters = {c for c, _ in here}
        only = sum(1 for c in with_copy if base.platforms(c) == {platform})
        expected.append(
            (
                -len(here),
                platform,
                len(clusters),
                round(len(here) / len(copies), 3),
                round(len(clusters) / len(with_copy), 3),
                only,
                all(h["closed_garden"] for _, h in here),
                sorted({h["access_class"] for _, h in here}),
            )
        )
    got = query(db, "platform_concentration")
    assert [
        (
            -r["live_copies"],
            r["platform"],
            r["clusters"],
            r["share_of_copies"],
            r["share_of_clusters"],
            r["only_platform"],
            r["closed_garden"],
            r["access_classes"],
        )
        for r in got
    ] == sorted(expected)
    assert sum(r["only_platform"] for r in got) == sum(
        1 for c in with_copy if len(base.platforms(c)) == 1
    )


# -- vanished copies ---------------------------------------------------------------------


@pytest.mark.parametrize("since", ["no", "yes"])
def test_vanished(db, since):
    base = Base(db)
    expected = []
    for h in base.holdings:
        if h["live"] or (
            since == "yes"
            and not (h["status_note"] or "").startswith("no longer listed by the source")
        ):
            continue
        cluster_id = base.cluster_of[h["record_id"]]
        other = bool(base.copies[cluster_id])
        key = (other, cluster_id, h["record_id"], h["url"], h["relation_type"])
        expected.append((key, (h["platform"], h["status_note"], h["evidence"])))
    got = query(db, "vanished", since_snapshot_only=since)
    assert [(r["cluster_id"], r["record_id"], r["url"], r["has_other_live_copy"]) for r in got] == [
        (k[1], k[2], k[3], k[0]) for k, _ in sorted(expected)
    ]
    assert [(r["platform"], r["status_note"], r["evidence"]) for r in got] == [
        v for _, v in sorted(expected)
    ]
    assert all(r["title"] == base.risk[r["cluster_id"]]["title"] for r in got)


def test_vanished_cases_in_the_small_db(small_db):
    everything = query(small_db, "vanished")
    assert {r["status_note"] for r in everything} == {"relationship ended", GONE_NOTE}
    gone = query(small_db, "vanished", since_snapshot_only="yes")
    assert {(r["record_id"], r["has_other_live_copy"]) for r in gone} == {
        (HES_ALL_I_GOT, True),  # Apple Music and Deezer still hold it
        (NOBODY_KNOWS, False),  # its only copy
    }
    assert gone[0]["record_id"] == NOBODY_KNOWS  # nothing left comes first


# -- cataloguing gaps --------------------------------------------------------------------


def test_unlinked_archive_items(db):
    base = Base(db)
    known = {
        base.cluster_of[r] for r, rec in base.records.items() if rec["source"] == "musicbrainz"
    }
    expected = sorted(
        (rec["source"], rec["date"] is None, rec["date"] or "", r)
        for r, rec in base.records.items()
        if rec["source"] in ("internetarchive", "loc")
        and rec["kind"] == "item"
        and base.cluster_of[r] not in known
    )
    got = query(db, "unlinked_archive_items")
    assert [r["record_id"] for r in got] == [e[3] for e in expected]
    for r in got:
        rec = base.records[r["record_id"]]
        assert r["cluster_id"] == base.cluster_of[r["record_id"]]
        assert (r["title"], r["label"], r["page_url"]) == (
            rec["title"],
            rec["label"],
            rec["page_url"],
        )
    assert {"internetarchive", "loc"} <= {r["source"] for r in got}


def test_missing_dates(db):
    base = Base(db)
    expected = []
    for cluster_id, members in base.members.items():
        if base.year(cluster_id) is None:
            for r in members:
                expected.append(("no date anywhere", cluster_id, r, None, None))
            continue
        dated = sorted((base.records[r]["date"], r) for r in members if base.records[r]["date"])
        for r in members:
            rec = base.records[r]
            if rec["source"] == "musicbrainz" and rec["kind"] == "recording" and not rec["date"]:
                gap = "date known elsewhere in the cluster"
                expected.append((gap, cluster_id, r, *dated[0]))
    got = query(db, "missing_dates")
    assert [
        (r["gap"], r["cluster_id"], r["record_id"], r["known_date"], r["known_from"]) for r in got
    ] == sorted(expected, key=lambda e: e[:3])
    assert got


def test_missing_dates_supplied_from_the_cluster(small_db):
    got = [r for r in query(small_db, "missing_dates") if r["record_id"] == LAST_ANGEL]
    assert [(r["gap"], r["known_date"], r["known_from"]) for r in got] == [
        ("date known elsewhere in the cluster", "1972-02-23", SPEAK_TO_ME)
    ]


# -- rights ------------------------------------------------------------------------------


def test_rights_by_jurisdiction(db):
    counts = Counter(
        (r["jurisdiction"], r["layer"], r["status"]) for r in table(db, "rights_status")
    )
    got = query(db, "rights_by_jurisdiction")
    jurisdictions = sorted({j for j, _, _ in counts})
    layers = ["recording", "composition", "both"]
    statuses = ["public_domain", "in_copyright", "undetermined"]
    assert [(r["jurisdiction"], r["layer"], r["status"]) for r in got] == [
        (j, la, s) for j in jurisdictions for la in layers for s in statuses
    ]
    assert {(r["jurisdiction"], r["layer"], r["status"]): r["clusters"] for r in got} == {
        (j, la, s): counts[j, la, s] for j in jurisdictions for la in layers for s in statuses
    }
    assert sum(r["clusters"] for r in got) == 3 * len(jurisdictions) * len(Base(db).members)


def expected_entrants(con: duckdb.DuckDBPyConnection, year: int, term: int) -> dict[str, tuple]:
    """Authors of works whose recordings' last author died `year` - `term` - 1: life + term."""
    base = Base(con)
    died = {a["artist_id"]: a["end_date"] for a in table(con, "artists")}
    works = {w["work_id"]: w["title"] for w in table(con, "works")}
    writers: dict[str, list[dict]] = defaultdict(list)
    for w in table(con, "work_writers"):
        if w["role"] in AUTHOR_ROLES:
            writers[w["work_id"]].append(w)
    per_cluster: dict[str, list[dict]] = defaultdict(list)
    for rw in table(con, "recording_works"):
        for w in writers[rw["work_id"]]:
            per_cluster[base.cluster_of[rw["record_id"]]].append({**w, "work": works[w["work_id"]]})
    found: dict[str, tuple] = {}
    for cluster_id, authors in per_cluster.items():
        deaths = [died.get(a["artist_id"]) for a in authors]
        if None in deaths or max(int(d[:4]) for d in deaths) + term + 1 != year:
            continue  # someone may be alive, or the last author died another year
        for a in authors:
            roles, titles, clusters = found.get(a["artist_id"], ("", (), (), ()))[1:]
            found[a["artist_id"]] = (
                a["name"],
                tuple(sorted({*roles, a["role"]})),
                tuple(sorted({*titles, a["work"]})),
                tuple(sorted({*clusters, cluster_id})),
            )
    return found


@pytest.mark.parametrize(
    ("jurisdiction", "year", "term", "who"),
    [
        ("EU", 1964, 70, {TCHAIKOVSKY}),  # died 1893: life + 70
        ("JP", 1944, 50, {TCHAIKOVSKY}),  # died by 1967: life + 50
        ("EU", 2061, 70, set()),  # Bobby Scott's own term, but Ric Marlow lived to 2016
        ("EU", 2087, 70, {BOBBY_SCOTT, RIC_MARLOW}),  # A Taste of Honey, both authors
        ("EU", 2027, 70, set()),
    ],
)
def test_public_domain_entrants(small_db, jurisdiction, year, term, who):
    expected = expected_entrants(small_db, year, term)
    assert set(expected) == who  # the Python reading agrees on the case
    got = query(small_db, "public_domain_entrants", jurisdiction=jurisdiction, year=str(year))
    assert [r["artist_id"] for r in got] == sorted(expected, key=lambda a: (expected[a][0], a))
    for r in got:
        name, roles, titles, clusters = expected[r["artist_id"]]
        assert (r["composer"], tuple(r["roles"]), tuple(r["works"])) == (name, roles, titles)
        assert r["clusters"] == len(clusters)
        assert (r["died"], r["jurisdiction"]) == (DIED[r["artist_id"]], jurisdiction)
        assert r["entering"] == f"{year}-01-01"


def test_public_domain_entrants_defaults_on_the_sample(sample_db):
    # No writer of the sample has a death date: nothing enters, in the EU, in 2027.
    assert query(sample_db, "public_domain_entrants") == []
    assert load_queries()["public_domain_entrants"].parameters["jurisdiction"][1] == "EU"


# -- drill-down --------------------------------------------------------------------------


def test_holdings_of_cluster(db):
    base = Base(db)
    for cluster_id in (base.cluster_of[HES_ALL_I_GOT], base.cluster_of[NOBODY_KNOWS]):
        expected = []
        for r in sorted(base.members[cluster_id]):
            held = sorted(
                (h["url"], h["relation_type"], h["live"], h["status_note"], h["evidence"])
                for h in base.holdings
                if h["record_id"] == r
            )
            expected += [(r, *h) for h in held] or [(r, None, None, None, None, None)]
        by_cluster = query(db, "holdings_of_cluster", cluster=cluster_id)
        assert [
            (
                r["record_id"],
                r["url"],
                r["relation_type"],
                r["live"],
                r["status_note"],
                r["evidence"],
            )
            for r in by_cluster
        ] == expected
        assert {r["cluster_id"] for r in by_cluster} == {cluster_id}
        for r in by_cluster:
            live_copy = r["live"] and r["access_class"] != "catalogue_only" if r["url"] else None
            assert r["live_copy"] == live_copy
        # a record id of the cluster finds the same rows
        for record_id in base.members[cluster_id]:
            assert query(db, "holdings_of_cluster", cluster=record_id) == by_cluster
    assert query(db, "holdings_of_cluster", cluster="no-such-cluster") == []


def test_holdings_of_cluster_shows_records_without_holdings(small_db):
    rows = query(small_db, "holdings_of_cluster", cluster=HES_ALL_I_GOT)
    assert {r["record_id"] for r in rows} == {HES_ALL_I_GOT, BECOME_DESERT}
    assert [r["url"] for r in rows if r["record_id"] == BECOME_DESERT] == [None]
    assert {(r["platform"], r["live"]) for r in rows if r["record_id"] == HES_ALL_I_GOT} == {
        ("Apple Music", True),
        ("Deezer", True),
        ("Spotify", False),
    }
