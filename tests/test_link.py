"""Deterministic linking rules on real records (combinations made here are said so)."""

from __future__ import annotations

import json

from preservation import store
from preservation.harvest import Payload, start_run, store_payloads
from preservation.link import connected_components, link
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
    assert (result.records, result.links, result.clusters) == (2, 1, 1)
    ((rule, evidence),) = con.execute("SELECT rule, evidence FROM links").fetchall()
    assert rule == "same_78_side" and evidence == "Peter Pan 2290 A, matrix 2290 A"


def test_a_different_take_stays_apart(tmp_path):
    loc = json.loads((sample_dir() / "loc/item/jukebox-879940.json").read_text())
    other_take = json.loads(json.dumps(loc))
    other_take["item"]["url"] = "https://www.loc.gov/item/jukebox-000001/"
    other_take["item"]["recording_take_number"] = "01"
    _, result = _load(
        tmp_path,
        {
            ("loc", "a.json"): json.dumps(loc).encode(),
            ("loc", "b.json"): json.dumps(other_take).encode(),
        },
    )
    assert (result.links, result.clusters) == (0, 2)


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


def test_connected_components_are_stable():
    groups = connected_components(["d", "c", "b", "a"], [("a", "c"), ("c", "d")])
    assert groups == [["a", "c", "d"], ["b"]]


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
    assert lines[-1] == (
        f"{first_id} = {second_id}: identifier rule same_78_side, "
        "evidence Peter Pan 2290 A, matrix 2290 A"
    )

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
        "F1 0.667 (TP 1, FP 0, FN 1, TN 1)"
    )
    assert f"missed: {second_id} = loc:item:jukebox-879940" in scored.output
    bad = tmp_path / "bad.csv"
    bad.write_text("record_a,record_b,same\na,b,perhaps\n")
    refused = runner.invoke(app, ["link", "evaluate", "--gold", str(bad), "--db", db])
    assert refused.exit_code == 1
    assert refused.output.startswith(f"error: {bad}:2: expected record_a, record_b and same")
