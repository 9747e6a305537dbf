"""Splink's Spark backend on the project's model: the sample's real records (and two derived
here from real ones, said so below) scored on Spark give the same candidate pairs, match
weights and clusters as the DuckDB backend that `preservation link` uses.

Optional: needs pyspark (`pip install -e '.[spark]'`) and a Java runtime (17 or newer for
Spark 4). Spark starts a JVM and runs on loopback only: a minute and a half here.

The model's comparisons are written in DuckDB's SQL (link_probabilistic.COMPARISONS); Splink
translates blocking rules between dialects itself, but not the comparisons of a settings
dictionary, so `spark_settings` translates them with sqlglot (which Splink already uses) and
maps the three functions that have no direct counterpart.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
if shutil.which("java") is None:
    pytest.skip("no Java runtime on PATH: Spark needs one", allow_module_level=True)

import sqlglot  # after the skips: a dependency of splink, there only with it
from sqlglot import exp

from preservation import store
from preservation.link import DEFAULT_ACCEPT, weight
from preservation.link_clusters import cluster
from preservation.link_probabilistic import (
    _VETOED,
    FEATURES_SQL,
    PAIRS_SQL,
    SCORED_SQL,
    score,
    settings,
)
from tests.test_pipeline import HIPPO

# Every candidate pair, not only those above the review threshold: more levels compared.
ALL_PAIRS = -1000.0

# Records derived here from real ones of the sample: another transfer of a 78 side whose
# title carries a decoration and whose numbers were not recorded (same title once cleaned),
# and a catalogue entry of a real MusicBrainz recording with a typo in its title.
DERIVED_SQL = f"""
INSERT INTO recordings BY NAME
SELECT * REPLACE (replace(record_id, 'gbia0000281a', 'gbia0099999b') AS record_id,
                  title || ' (From the 78 rpm side)' AS title,
                  NULL AS catalog_number, NULL AS matrix)
FROM recordings WHERE record_id = '{HIPPO}';
INSERT INTO recordings BY NAME
SELECT * REPLACE ('loc:item:derived-blow-your-mind' AS record_id, 'loc' AS source,
                  'item' AS kind, 'derived-blow-your-mind' AS source_id,
                  'Blow Your Mnd (Mwah)' AS title)
FROM recordings WHERE title = 'Blow Your Mind (Mwah)';
"""


def to_spark(sql: str) -> str:
    """A comparison condition in DuckDB's SQL, in Spark's."""

    def functions(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.JarowinklerSimilarity):  # Splink's Scala UDF on Spark
            return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
        if isinstance(node, exp.Anonymous) and node.name.lower() == "list_intersect":
            return exp.ArrayIntersect(expressions=node.expressions)
        return node

    def sizes(node: exp.Expression) -> exp.Expression:
        # the model takes len() of lists only: Spark's length() is of strings
        return exp.ArraySize(this=node.this) if isinstance(node, exp.Length) else node

    tree = sqlglot.parse_one(sql, read="duckdb").transform(functions).transform(sizes)
    return tree.sql(dialect="spark")


def spark_settings(records: int) -> dict[str, Any]:
    """The project's Splink settings with the comparisons in Spark's SQL."""
    translated = settings(records)
    for comparison in translated["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level["sql_condition"] != "ELSE":
                level["sql_condition"] = to_spark(level["sql_condition"])
    return translated


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local Spark with Splink's similarity functions, bound to loopback, writing only
    under a temporary folder."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    base = tmp_path_factory.mktemp("spark")
    before = os.environ.get("SPARK_LOCAL_IP")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (
        SparkSession.builder.master("local[1]")
        .appName("preservation-test")
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.local.dir", str(base / "local"))
        .config("spark.sql.warehouse.dir", str(base / "warehouse"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(base / "checkpoints"))
    yield session
    session.stop()
    if before is None:
        os.environ.pop("SPARK_LOCAL_IP", None)
    else:
        os.environ["SPARK_LOCAL_IP"] = before


def test_spark_backend_gives_the_duckdb_pairs_and_clusters(spark, sample_run, tmp_path: Path):
    from splink import Linker
    from splink.backends.spark import SparkAPI

    db = tmp_path / "sample.duckdb"
    shutil.copy(sample_run[0].db, db)
    with store.connect(db) as con:
        con.execute(DERIVED_SQL)
        on_duckdb = score(con, review_weight=ALL_PAIRS)
        features = con.sql(FEATURES_SQL).to_arrow_table()
    with store.scratch() as work:
        # numbered as score() numbers them; handed to Spark as Parquet, as a catalogue would be
        work.register("features", features)
        work.execute(
            "CREATE TABLE link_input AS SELECT row_number() OVER (ORDER BY record_id) "
            "AS unique_id, * FROM features"
        )
        (records,) = work.execute("SELECT count(*) FROM link_input").fetchall()[0]
        work.execute(f"COPY link_input TO '{tmp_path / 'link_input.parquet'}' (FORMAT parquet)")
        api = SparkAPI(
            spark_session=spark, break_lineage_method="persist", num_partitions_on_repartition=1
        )
        table = api.register(
            spark.read.parquet(str(tmp_path / "link_input.parquet")), table_name="link_input"
        )
        linker = Linker(
            table, spark_settings(records), log_level=logging.ERROR, validate_settings=False
        )
        predicted = linker.inference.predict(threshold_match_weight=ALL_PAIRS)
        predicted.as_spark_dataframe().write.parquet(str(tmp_path / "predicted"))
        # the same vetoes and naming as score(), on Spark's predictions
        work.execute(
            SCORED_SQL.format(
                predicted=f"read_parquet('{tmp_path / 'predicted'}/*.parquet')", vetoed=_VETOED
            )
        )
        on_spark = work.sql(PAIRS_SQL).pl()
        titles, dates = work.execute(
            "SELECT list(DISTINCT gamma_title ORDER BY gamma_title), "
            "list(DISTINCT gamma_date ORDER BY gamma_date) FROM scored"
        ).fetchall()[0]

    # a case worth comparing: hundreds of pairs; every title level (the translated
    # Jaro-Winkler and number conditions decide two of them) and most date levels
    assert on_duckdb.pairs.height > 500
    assert set(titles) >= {0, 1, 2, 3} and len(dates) >= 4
    both = on_duckdb.pairs.join(
        on_spark, on=["record_a", "record_b"], how="full", suffix="_spark", coalesce=True
    )
    assert both.height == on_duckdb.pairs.height == on_spark.height  # the same pairs
    gap = both.select((pl.col("match_weight") - pl.col("match_weight_spark")).abs().max()).item()
    assert gap < 1e-9

    def clusters(pairs: pl.DataFrame) -> list[tuple[str, str]]:
        links = pairs.filter(pl.col("match_weight") >= weight(DEFAULT_ACCEPT)).select(
            "record_a", "record_b", guarded=pl.lit(True)
        )
        return sorted(cluster(links, on_duckdb.traits).members.iter_rows())

    joined = clusters(on_duckdb.pairs)
    # the derived transfer and typo join their originals; so does the sample's own pair
    assert {r for r, _ in joined} >= {HIPPO, "loc:item:derived-blow-your-mind"}
    assert clusters(on_spark) == joined
