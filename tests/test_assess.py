"""The assess stage on the real sample: the set-based SQL agrees with the rights engine and with
a plain reading of the holdings; demand weighting; one transaction."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from preservation import assess as assess_module
from preservation import store
from preservation.assess import RISK, RISK_JURISDICTIONS, assess
from preservation.demand import load_demand
from preservation.errors import PreservationError
from preservation.rights import Facts, jurisdictions, status, unknown_work
from tests.conftest import AS_OF, rows


def test_rights_status_view_is_the_engine_applied_to_each_cluster(sample_db) -> None:
    facts = rows(
        sample_db,
        "SELECT cluster_id, published, recorded, writers, last_died, published_by "
        "FROM cluster_facts",
    )
    stored = {
        (c, j, layer): (s, e, r, reasons)
        for c, j, layer, s, e, r, reasons in rows(
            sample_db,
            "SELECT cluster_id, jurisdiction, layer, status, expires_year, rule_id, reasons "
            "FROM rights_status",
        )
    }
    assert len(stored) == len(facts) * len(jurisdictions()) * 3
    for cluster, published, recorded, writers, died, published_by in facts:
        for j in jurisdictions():
            rec = status(j, "recording", Facts(published=published, fixed=recorded), AS_OF)
            comp = status(j, "composition", Facts(died=died), AS_OF) if writers else unknown_work(j)
            s, e, r, reasons = stored[cluster, j, "recording"]
            assert (s, e, r) == (rec.status, rec.expires_year, rec.rule_id)
            if published_by:
                assert reasons[1] == f"earliest publication: {published_by}"
            assert stored[cluster, j, "composition"][:3] == (
                comp.status,
                comp.expires_year,
                comp.rule_id,
            )
            both = stored[cluster, j, "both"]
            statuses = {rec.status, comp.status}
            if statuses == {"public_domain"}:
                assert both[0] == "public_domain"
            elif "in_copyright" in statuses:
                assert both[0] == "in_copyright"
            else:
                assert both[0] == "undetermined"
            assert both[2] == "both-layers"


def test_risk_status_follows_the_live_copies(sample_db) -> None:
    copies: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for cluster, platform, access, closed in rows(
        sample_db,
        "SELECT c.cluster_id, h.platform, h.access_class, h.closed_garden FROM holdings h "
        "JOIN clusters c USING (record_id) WHERE h.live AND h.access_class <> 'catalogue_only'",
    ):
        copies[cluster].append((platform, access, bool(closed)))
    pd = defaultdict(list)
    for cluster, j in rows(
        sample_db,
        "SELECT cluster_id, jurisdiction FROM rights_status "
        "WHERE layer = 'recording' AND status = 'public_domain' ORDER BY jurisdiction",
    ):
        if j in RISK_JURISDICTIONS:
            pd[cluster].append(j)
    risk = rows(
        sample_db,
        "SELECT cluster_id, status, risk_level, single_platform, single_open_copy, "
        "has_open_copy, closed_garden_only, pd_without_open_copy, public_domain_in, live_copies "
        "FROM risk",
    )
    assert len(risk) == int(
        store.scalar(sample_db, "SELECT count(DISTINCT cluster_id) FROM clusters")
    )
    seen = set()
    for cluster, st, level, single, single_open, has_open, closed, pd_no_open, pd_in, n in risk:
        live = copies[cluster]
        platforms = {p for p, _, _ in live}
        opened = {p for p, a, _ in live if a == "open_archive"}
        assert has_open == bool(opened)
        assert single == (len(platforms) == 1)
        assert single_open == (len(opened) == 1)
        assert n == len(live)
        assert pd_in == pd[cluster]
        assert pd_no_open == (bool(pd[cluster]) and not opened)
        assert closed == (bool(live) and all(c for _, _, c in live) and not opened)
        if opened:
            expected = "open_public_domain" if pd[cluster] else "open_unclear_rights"
        elif not live:
            expected = "catalogue_only"
        elif {a for _, a, _ in live} == {"store"}:
            expected = "store_only"
        elif closed:
            expected = "closed_garden_only"
        else:
            expected = "free_stream_only"
        assert st == expected, cluster
        assert level == RISK[st][1]
        seen.add(st)
    # the real sample has open copies, PD ones, closed gardens and catalogue-only recordings
    assert {
        "open_unclear_rights",
        "open_public_domain",
        "closed_garden_only",
        "catalogue_only",
    } <= (seen)


def test_every_score_has_its_reasons(sample_db) -> None:
    for score, level, reasons in rows(sample_db, "SELECT score, risk_level, reasons FROM risk"):
        assert reasons and all(r for r in reasons)
        assert 0 <= score <= 100 and level in ("high", "medium", "low")


@pytest.fixture
def sample_copy(sample_run, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A writable copy of the sample database."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(sample_run[0].db, path)
    con = store.connect(path)
    yield con
    con.close()


def test_demand_from_listenbrainz_raises_the_listened_and_quarantines_bad_rows(
    sample_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = sample_copy
    # two real at-risk MusicBrainz recordings of the sample, as ListenBrainz's popularity
    # API answers (recording_mbid, total_listen_count, total_user_count)
    (low, high) = rows(
        con,
        "SELECT r.source_id FROM risk k JOIN clusters c USING (cluster_id) "
        "JOIN recordings r USING (record_id) "
        "WHERE r.source = 'musicbrainz' AND r.kind = 'recording' AND k.status = 'catalogue_only' "
        "ORDER BY r.source_id LIMIT 2",
    )
    popularity = [
        {"recording_mbid": low[0], "total_listen_count": 3, "total_user_count": 1},
        {"recording_mbid": high[0].upper(), "total_listen_count": 250000, "total_user_count": 900},
        {"recording_mbid": "not-an-mbid", "total_listen_count": 5, "total_user_count": 1},
        {"recording_mbid": high[0], "total_listen_count": -4, "total_user_count": 1},
        {"recording_mbid": low[0], "total_listen_count": "many", "total_user_count": 1},
    ]
    path = tmp_path / "popularity.json"
    path.write_text(json.dumps(popularity))
    before = dict(rows(con, "SELECT cluster_id, score FROM risk"))
    loaded = load_demand(con, path)
    assert (loaded.loaded, loaded.quarantined) == (2, 3)
    reasons = rows(con, "SELECT reason FROM quarantine WHERE source = 'demand' ORDER BY key")
    assert sorted(r[0] for r in reasons) == [
        "recording_mbid is not an MBID",
        "total_listen_count is not a whole number of zero or more",
        "total_listen_count is not a whole number of zero or more",
    ]
    assess(con, AS_OF)
    after = {
        c: (score, demand, reasons)
        for c, score, demand, reasons in rows(
            con, "SELECT cluster_id, score, demand, reasons FROM risk"
        )
    }
    listened = {
        mbid: cluster
        for mbid, cluster in rows(
            con,
            "SELECT r.source_id, c.cluster_id FROM clusters c JOIN recordings r USING (record_id)",
        )
    }
    low_cluster, high_cluster = listened[low[0]], listened[high[0]]
    assert after[high_cluster][1] == 250000 and after[low_cluster][1] == 3
    assert after[high_cluster][0] == min(100.0, before[high_cluster] + assess_module.DEMAND_BONUS)
    assert before[low_cluster] < after[low_cluster][0] < after[high_cluster][0]
    assert "250,000 listens (supplied demand)" in after[high_cluster][2]
    untouched = set(before) - {low_cluster, high_cluster}
    assert all(after[c][0] == before[c] and after[c][1] is None for c in untouched)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pop.txt", "x", "must be .csv, .json or .parquet"),
        ("pop.csv", "mbid,count\nx,1\n", "needs columns recording_mbid and total_listen_count"),
    ],
)
def test_demand_file_errors_are_clear(
    sample_copy: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(PreservationError, match=message):
        load_demand(sample_copy, path)


def test_a_failing_assessment_leaves_the_previous_one_whole(
    sample_copy: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = sample_copy
    before = rows(con, "SELECT * FROM risk ORDER BY cluster_id")
    verdicts = rows(con, "SELECT count(*) FROM rights_verdicts")

    def broken(*args: object) -> None:
        raise RuntimeError("engine failure")

    monkeypatch.setattr(assess_module, "status", broken)
    with pytest.raises(RuntimeError):
        assess(con, date(2030, 1, 1))
    assert rows(con, "SELECT * FROM risk ORDER BY cluster_id") == before
    assert rows(con, "SELECT count(*) FROM rights_verdicts") == verdicts
    assert rows(con, "SELECT DISTINCT as_of FROM rights_status") == [(AS_OF,)]


FACT_COLUMNS = (
    "title, artists, year, published, published_by, recorded, sources, writers, last_died, "
    "live_platforms, open_platforms, access_classes, live_copies, all_closed, gone, demand"
)


def test_facts_do_not_depend_on_the_form_of_cluster_ids(
    sample_copy: duckdb.DuckDBPyConnection,
) -> None:
    """Link-made ids are grouped as the numbers they spell, others as text: same facts."""
    con = sample_copy
    assert assess_module._cluster_key(con)[0] != "c.cluster_id"  # the sample is link-made
    before = rows(con, f"SELECT cluster_id, {FACT_COLUMNS} FROM cluster_facts ORDER BY ALL")
    con.execute("UPDATE clusters SET cluster_id = 'cluster ' || upper(cluster_id)")
    assert assess_module._cluster_key(con)[0] == "c.cluster_id"
    assess(con, AS_OF)
    after = rows(
        con,
        f"SELECT lower(cluster_id[9:]), {FACT_COLUMNS} FROM cluster_facts ORDER BY ALL",
    )
    assert after == before


def test_live_copies_on_more_kinds_of_platform_than_a_bit_set_holds(
    sample_copy: duckdb.DuckDBPyConnection,
) -> None:
    """Hosts no platform table names each become a platform: beyond the 64 most common kinds
    of holding, a cluster's kinds are listed, and its facts still follow its holdings."""
    con = sample_copy
    record = rows(con, "SELECT min(record_id) FROM holdings WHERE live")[0][0]
    con.executemany(
        "INSERT INTO holdings (record_id, url, platform, access_class, closed_garden, live, "
        "evidence) VALUES (?, ?, ?, ?, ?, true, 'test')",
        [
            (record, f"https://host{i}.example/x", f"host{i}.example", access, i % 3 == 0)
            for i in range(70)
            for access in (("free_stream", "open_archive") if i % 7 == 0 else ("store",))
        ],
    )
    assert rows(con, "SELECT count(DISTINCT (platform, access_class)) FROM holdings")[0][0] > 64
    assess(con, AS_OF)
    copies: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for cluster, platform, access, closed in rows(
        con,
        "SELECT c.cluster_id, h.platform, h.access_class, coalesce(h.closed_garden, false) "
        "FROM holdings h JOIN clusters c USING (record_id) "
        "WHERE h.live AND h.access_class <> 'catalogue_only'",
    ):
        copies[cluster].append((platform, access, closed))
    facts = rows(
        con,
        "SELECT cluster_id, live_platforms, open_platforms, access_classes, live_copies, "
        "all_closed FROM cluster_facts",
    )
    widest = 0
    for cluster, live, opened, classes, n, all_closed in facts:
        held = copies[cluster]
        assert live == sorted({p for p, _, _ in held})
        assert opened == sorted({p for p, a, _ in held if a == "open_archive"})
        assert classes == sorted({a for _, a, _ in held})
        assert n == len(held)
        assert all_closed == (all(c for _, _, c in held) if held else None)
        widest = max(widest, len(live))
    assert widest > 64
