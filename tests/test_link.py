"""Deterministic linking rules on real records (combinations made here are said so)."""

from __future__ import annotations

import json
from contextlib import closing

import polars as pl

from preservation import store
from preservation.harvest import Payload, start_run, store_payloads
from preservation.link import link
from preservation.link_clusters import TRAITS_SCHEMA, Clusters, Traits, cluster, components
from preservation.normalize import normalize
from preservation.pipeline import sample_dir

HIPPO = "78_i-want-a-hippopotamus-for-christmas_vicki-dale-the-peter-pan-orchestra_gbia0000281a"


def _load(tmp_path, payloads: dict[tuple[str, str], bytes]):
    con = store.connect(tmp_path / "link.duckdb")
    for (source, key), body in payloads.items():
        run_id = start_run(con, source, "test", key)
        store_payloads(con, source, run_id, [Payload(key, key, body)])
    normalize(con)
    return con, link(con)


def test_two_transfers_of_one_78_side_join_one_cluster(tmp_path):
    real = (sample_dir() / f"internetarchive/metadata_api/{HIPPO}.json").read_bytes()
    # A second transfer of the same disc side: the real record under another identifier
    # (the Great 78 Project digitises some sides twice), built here for the test.
    second = json.loads(real)
    second["metadata"]["identifier"] = HIPPO.replace("gbia0000281a", "gbia0099999a")
    con, result = _load(
        tmp_path,
        {
            ("internetarchive", "a.json"): real,
            ("internetarchive", "b.json"): json.dumps(second).encode(),
        },
    )
    assert (result.records, result.clusters) == (2, 1)
    # the identifier rule joins them, and the model, scoring the pair on its own, agrees
    assert result.by_method == {"identifier": 1, "probabilistic": 1}
    ((rule, evidence),) = con.execute(
        "SELECT rule, evidence FROM links WHERE method = 'identifier'"
    ).fetchall()
    assert rule == "same_78_side" and evidence == "Peter Pan 2290 A, matrix 2290 A"


def test_a_different_take_stays_apart(tmp_path):
    loc = json.loads((sample_dir() / "loc/item/jukebox-879940.json").read_text())
    other_take = json.loads(json.dumps(loc))
    other_take["item"]["url"] = "https://www.loc.gov/item/jukebox-000001/"
    other_take["item"]["recording_take_number"] = "01"
    con, result = _load(
        tmp_path,
        {
            ("loc", "a.json"): json.dumps(loc).encode(),
            ("loc", "b.json"): json.dumps(other_take).encode(),
        },
    )
    assert (result.links, result.clusters) == (0, 2)
    # Same disc, performers and day: the model alone would join them; the take veto does not
    # let the pair through at all.
    assert con.execute("SELECT count(*) FROM link_pairs").fetchall() == [(0,)]


def test_musicbrainz_link_to_an_archive_item_joins_them(tmp_path):
    real = (sample_dir() / f"internetarchive/metadata_api/{HIPPO}.json").read_bytes()
    recording = json.loads(
        (sample_dir() / "musicbrainz/ws2_json_picard/recording_video.json").read_text()
    )
    # The real recording, given a url relationship to the real item (as an editor would add).
    recording["relations"].append(
        {
            "type": "download for free",
            "target-type": "url",
            "ended": False,
            "url": {"resource": f"https://archive.org/details/{HIPPO}"},
        }
    )
    con, result = _load(
        tmp_path,
        {
            ("internetarchive", "item.json"): real,
            ("musicbrainz", "rec.json"): json.dumps(recording).encode(),
        },
    )
    assert result.clusters == 1
    ((rule,),) = con.execute("SELECT rule FROM links").fetchall()
    assert rule == "url_to_record"


def test_clusters_refuse_a_chain_across_two_sides_of_one_disc():
    # Columbia A2469, both sides, as the real Jukebox record jukebox-879940 lists them:
    # matrix 77522 ("Nobody knows de trouble I've seen") and 77523 ("I don't feel no ways
    # tired"); a catalogue record with no matrix is what could chain them.
    side_1 = Traits(year=1917, label="columbia", catalog="a2469", matrix="77522", take="3")
    side_2 = Traits(year=1917, label="columbia", catalog="a2469", matrix="77523", take="3")
    traits = {"loc:1": side_1, "loc:2": side_2, "mb:x": Traits(year=1917, label="columbia")}
    clusters = Clusters(traits)
    assert clusters.join("loc:1", "mb:x", guarded=True) is None
    refused = clusters.join("mb:x", "loc:2", guarded=True)
    assert refused == "would put loc:1 and loc:2 in one cluster: matrices 77522 and 77523"
    assert dict(clusters.groups()) == {"loc:1": "loc:1", "mb:x": "loc:1", "loc:2": "loc:2"}
    # identifier links are not second-guessed, an archivist's "different" is obeyed
    assert clusters.join("mb:x", "loc:2", guarded=False) is None
    apart = Clusters(traits, apart=[("loc:2", "loc:1")])
    assert apart.join("loc:1", "loc:2", guarded=False) == (
        "an archivist decided loc:1 and loc:2 are different recordings"
    )


def test_cluster_at_scale_gives_what_joining_each_link_in_turn_gives():
    # The Columbia A2469 chain above, a second disc whose transfers agree (Victor 16031,
    # matrix B-4853, as the Great 78 items have it), and an identifier-joined pair an
    # archivist called different: `cluster` finds components in SQL and replays only those
    # that could hold a conflict, which must not change the outcome.
    traits = {
        "loc:1": Traits(year=1917, label="columbia", catalog="a2469", matrix="77522", take="3"),
        "loc:2": Traits(year=1917, label="columbia", catalog="a2469", matrix="77523", take="3"),
        "mb:x": Traits(year=1917, label="columbia"),
        "ia:1": Traits(year=1907, label="victor", catalog="16031", matrix="b4853", take="1"),
        "ia:2": Traits(year=1907, label="victor", catalog="16031", matrix="b4853"),
        "mb:y": Traits(year=1908, label="victor"),
        "ia:3": Traits(year=1920, label="victor"),
        "ia:4": Traits(year=1920, label="victor"),
    }
    links = [
        ("ia:3", "ia:4", False),  # an identifier ...
        ("loc:1", "mb:x", True),
        ("ia:1", "ia:2", True),
        ("ia:2", "mb:y", True),
        ("loc:2", "mb:x", True),  # refused: would chain two matrices
        ("ia:1", "mb:y", True),  # already one cluster
    ]
    apart = [("ia:3", "ia:4")]  # ... which an archivist overrules
    frame = pl.DataFrame(links, schema=["record_a", "record_b", "guarded"], orient="row")
    trait_rows = pl.DataFrame(
        [(record, *vars(t).values()) for record, t in traits.items()],
        schema=TRAITS_SCHEMA,
        orient="row",
    )
    found = cluster(
        frame, trait_rows, pl.DataFrame(apart, schema=["record_a", "record_b"], orient="row")
    )

    replayed = Clusters(traits, apart)
    refused = {(a, b): why for a, b, g in links if (why := replayed.join(a, b, g)) is not None}
    assert {(a, b): why for a, b, why in found.refused.iter_rows()} == refused
    assert set(refused) == {("loc:2", "mb:x"), ("ia:3", "ia:4")}
    assert dict(found.members.iter_rows()) == dict(replayed.groups())
    assert dict(found.members.iter_rows())["mb:y"] == "ia:1"


def test_components_of_a_chain_and_a_star():
    # 0-1-2-3 a chain joined from its far end, 4 alone, 5 the hub of 6 and 7
    assert components(8, [2, 1, 0, 5, 7], [3, 2, 1, 6, 5]) == [0, 0, 0, 0, 4, 5, 5, 5]


def test_explain_and_evaluate_on_real_records(tmp_path):
    from typer.testing import CliRunner

    from preservation.cli import app

    real = (sample_dir() / f"internetarchive/metadata_api/{HIPPO}.json").read_bytes()
    second = json.loads(real)  # a second transfer of the same side, built here (as above)
    second["metadata"]["identifier"] = HIPPO.replace("gbia0000281a", "gbia0099999a")
    loc = (sample_dir() / "loc/item/jukebox-879940.json").read_bytes()
    con, _ = _load(
        tmp_path,
        {
            ("internetarchive", "a.json"): real,
            ("internetarchive", "b.json"): json.dumps(second).encode(),
            ("loc", "c.json"): loc,
        },
    )
    con.close()
    first_id, second_id = (
        f"internetarchive:item:{HIPPO}",
        "internetarchive:item:" + (second["metadata"]["identifier"]),
    )
    db = str(tmp_path / "link.duckdb")
    runner = CliRunner()
    shown = runner.invoke(app, ["link", "explain", second_id, "--db", db])
    assert shown.exit_code == 0, shown.output
    lines = [line.strip() for line in shown.output.splitlines()]
    assert lines[0].endswith(": 2 record(s)")
    assert (
        f"{first_id} = {second_id}: identifier rule same_78_side, "
        "evidence Peter Pan 2290 A, matrix 2290 A"
    ) in lines
    # The model's link: one line per field with its level and weight, then prior and total.
    model_at = next(i for i, line in enumerate(lines) if "probabilistic rule model" in line)
    rows = {line.split()[0]: line for line in lines[model_at + 1 :]}
    assert set(rows) == {"title", "people", "issue", "matrix", "date", "duration", "prior", "total"}
    assert "same title" in rows["title"] and "same label and catalog number" in rows["issue"]
    assert "same matrix, take unknown" in rows["matrix"]
    weights = {name: float(line.split()[-1]) for name, line in rows.items()}
    total = weights.pop("total")
    assert abs(sum(weights.values()) - total) < 0.05
    with closing(store.connect_read_only(db)) as check:
        ((stored,),) = check.execute("SELECT match_weight FROM link_pairs").fetchall()
    assert abs(stored - total) < 0.01

    # Gold: the two transfers are one recording (true), the Jukebox side is another (false),
    # and a pair the linker cannot know (a Jukebox record said to equal a 78 side) is missed.
    gold = tmp_path / "gold.csv"
    gold.write_text(
        "record_a,record_b,same,note\n"
        f"{first_id},{second_id},true,two transfers\n"
        f"{first_id},loc:item:jukebox-879940,false,different discs\n"
        f"{second_id},loc:item:jukebox-879940,true,deliberately wrong: must be missed\n"
        "internetarchive:item:nowhere,loc:item:jukebox-879940,true,not in the database\n"
    )
    scored = runner.invoke(app, ["link", "evaluate", "--gold", str(gold), "--db", db])
    assert scored.exit_code == 0, scored.output
    assert scored.output.splitlines()[0] == (
        "4 gold pairs (1 with a record not in the database): precision 1.000, recall 0.500, "
        "F1 0.667 (TP 1, FP 0, FN 1, TN 1); "
        # the gold joins both transfers and the Jukebox record into one recording
        "0 of 1 gold recordings whole in one cluster"
    )
    assert f"missed: {second_id} = loc:item:jukebox-879940" in scored.output
    bad = tmp_path / "bad.csv"
    bad.write_text("record_a,record_b,same\na,b,perhaps\n")
    refused = runner.invoke(app, ["link", "evaluate", "--gold", str(bad), "--db", db])
    assert refused.exit_code == 1
    assert refused.output.startswith(f"error: {bad}:2: expected record_a, record_b and same")
