"""The probabilistic model, the review round trip and the real gold set, on real records
(records derived here from real ones are said so)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from preservation import store
from preservation.cli import app
from preservation.errors import PreservationError
from preservation.link import LinkOptions, link
from preservation.link_evaluate import evaluate, read_gold
from preservation.link_probabilistic import FIELDS, MIN_RECORDS_TO_TRAIN, score
from preservation.link_review import export_review, import_decisions
from preservation.pipeline import run, sample_dir
from tests.conftest import AS_OF
from tests.test_link import HIPPO, _load

GOLD = Path(__file__).parent / "data" / "gold" / "real_pairs.csv"
TWINS = (
    "internetarchive:item:oar2008-04-24",
    "internetarchive:item:oar2008-04-24.oar2008-04-24.flac",
)


def test_real_gold_set_on_the_sample(sample_db):
    result = evaluate(sample_db, read_gold(GOLD))
    assert result.unusable == 0
    assert (result.true_positives, result.false_negatives) == (1, 0)
    assert (result.false_positives, result.true_negatives) == (0, 8)
    ((method, rule),) = sample_db.execute(
        "SELECT method, rule FROM links WHERE record_a = ? AND record_b = ?", list(TWINS)
    ).fetchall()
    assert (method, rule) == ("probabilistic", "model")
    # why: the same day and band outweigh the different venue wording, and the evidence adds
    # up to the stored weight
    levels = dict(
        sample_db.execute(
            "SELECT field, level FROM link_evidence WHERE record_a = ? AND record_b = ?",
            list(TWINS),
        ).fetchall()
    )
    assert levels["date"] == "same day" and levels["people"] == "a name in common"
    assert levels["title"] == "title similar (Jaro-Winkler >= 0.85)"


def test_concerts_on_other_dates_stay_apart_though_their_titles_read_alike(sample_db):
    # "... Live at House of Blues on 2001-02-04" and "... on 2002-01-18": near-identical
    # titles whose numbers differ are different titles to the model. Scored here with no
    # threshold, to see the weights of a pair that stays far below review.
    scored = score(sample_db, review_weight=-100.0)
    pair = ("internetarchive:item:oar2001-02-04.shnf", "internetarchive:item:oar2002-01-18.shnf")
    (row,) = scored.evidence.filter(
        (pl.col("record_a") == pair[0]) & (pl.col("record_b") == pair[1])
    ).iter_rows(named=True)
    levels = {name: (row[f"{name}_level"], row[f"{name}_weight"]) for name in FIELDS}
    assert levels["title"][0] == "different titles" and levels["title"][1] < -8
    assert levels["people"][0] == "a name in common"
    (probability,) = [p for a, b, _, p in scored.pairs.iter_rows() if (a, b) == pair]
    assert probability < 0.001
    clusters = sample_db.execute(
        "SELECT count(DISTINCT cluster_id) FROM clusters WHERE record_id IN (?, ?)", list(pair)
    ).fetchall()
    assert clusters == [(2,)]


def test_model_links_a_transfer_that_shares_no_identifier(tmp_path):
    real = json.loads((sample_dir() / f"internetarchive/metadata_api/{HIPPO}.json").read_text())
    # Another transfer of the side, built here from the real item: its catalogue and matrix
    # numbers were not recorded and its title carries a decoration, so no identifier rule
    # can join the two.
    other = json.loads(json.dumps(real))
    other["metadata"]["identifier"] = HIPPO.replace("gbia0000281a", "gbia0099999b")
    other["metadata"]["title"] += " (From the 78 rpm side)"
    other["metadata"].pop("external-identifier", None)
    for entry in other["files"]:
        entry.pop("matrix_number", None)
        entry.pop("collection-catalog-number", None)
    con, result = _load(
        tmp_path,
        {
            ("internetarchive", "a.json"): json.dumps(real).encode(),
            ("internetarchive", "b.json"): json.dumps(other).encode(),
        },
    )
    assert result.by_method == {"probabilistic": 1}
    assert result.clusters == 1
    fields = dict(con.execute("SELECT field, level FROM link_evidence").fetchall())
    assert fields["title"] == "same title"  # the decoration is not part of the title
    assert fields["matrix"] == "missing"


def test_review_round_trip_overrides_the_model(tmp_path):
    db = tmp_path / "review.duckdb"
    run(db, None, tmp_path / "reports", AS_OF)
    con = store.connect(db)
    # A low review threshold sends the sample's unsure pairs (concerts of one band) to review.
    options = LinkOptions(accept=0.95, review=0.005)
    first = link(con, options)
    assert first.review > 0
    sheet = tmp_path / "review.csv"
    assert export_review(con, sheet) == first.review
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    assert rows[0]["title_a"] and rows[0]["decision"] == ""
    # The archivist: the first pair is one recording; the twin uploads are not, after all.
    rows[0]["decision"] = "same"
    rows[0]["note"] = "checked the setlists"
    rows.append({**{k: "" for k in rows[0]}, "record_a": TWINS[1], "record_b": TWINS[0],
                 "decision": "different"})  # fmt: skip
    with sheet.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = import_decisions(con, sheet)
    assert (imported.same, imported.different, imported.blank) == (1, 1, len(rows) - 2)

    second = link(con, options)
    a, b = rows[0]["record_a"], rows[0]["record_b"]
    assert con.execute(
        "SELECT method, evidence FROM links WHERE record_a = ? AND record_b = ?", [a, b]
    ).fetchall() == [("archivist", "checked the setlists")]
    assert con.execute(
        "SELECT outcome FROM link_pairs WHERE record_a = ? AND record_b = ?", [a, b]
    ).fetchall() == [("decided",)]
    assert second.review == first.review - 1
    twins = con.execute(
        "SELECT count(DISTINCT cluster_id) FROM clusters WHERE record_id IN (?, ?)", list(TWINS)
    ).fetchall()
    assert twins == [(2,)]
    con.close()


def test_review_cli_refuses_an_unknown_decision(tmp_path):
    db = tmp_path / "cli.duckdb"
    run(db, None, tmp_path / "reports", AS_OF)
    sheet = tmp_path / "bad.csv"
    sheet.write_text(f"record_a,record_b,decision\n{TWINS[0]},{TWINS[1]},maybe\n")
    result = CliRunner().invoke(app, ["link", "review", "--import", str(sheet), "--db", str(db)])
    assert result.exit_code == 1
    assert "decision 'maybe' is neither 'same' nor 'different'" in result.output
    with store.connect_read_only(db) as con:
        assert con.execute("SELECT count(*) FROM link_decisions").fetchall() == [(0,)]


def test_review_import_refuses_a_record_not_in_the_database(sample_run, tmp_path):
    db = tmp_path / "copy.duckdb"
    db.write_bytes(sample_run[0].db.read_bytes())
    sheet = tmp_path / "unknown.csv"
    sheet.write_text(f"record_a,record_b,decision\n{TWINS[0]},loc:item:jukebox-0,same\n")
    con = store.connect(db)
    try:
        import_decisions(con, sheet)
    except PreservationError as exc:
        assert str(exc) == f"{sheet}: 1 record(s) not in the database, e.g. loc:item:jukebox-0"
    else:
        raise AssertionError("an unknown record was accepted")
    assert con.execute("SELECT count(*) FROM link_decisions").fetchall() == [(0,)]
    con.close()


def test_a_catalogue_of_one_source_links_on_the_priors(sample_db, tmp_path):
    """Enough records to train, but the training blocks pair records of different sources
    only: with MusicBrainz alone there is nothing to learn from, and linking still runs."""
    con = store.connect(tmp_path / "one-source.duckdb")
    real = sample_db.sql(
        "SELECT * FROM recordings WHERE source = 'musicbrainz' AND kind = 'recording'"
    ).to_arrow_table()
    con.register("real", real)
    copies = -(-MIN_RECORDS_TO_TRAIN // real.num_rows)
    # copies of the real recordings, each its own recording: new ids, numbered titles
    con.execute(
        "INSERT INTO recordings BY NAME "
        "SELECT real.* REPLACE (record_id || '-' || n AS record_id,"
        " source_id || '-' || n AS source_id, title || ' ' || n AS title)"
        " FROM real, range(?) AS t(n)",
        [copies],
    )
    scored = score(con, review_weight=6.0)
    assert scored.records >= MIN_RECORDS_TO_TRAIN
    assert scored.trained == "priors"
    result = link(con)
    assert (result.trained, result.records) == ("priors", scored.records)
    placed = con.execute("SELECT count(*), count(DISTINCT record_id) FROM clusters").fetchall()
    assert placed == [(result.records, result.records)]
