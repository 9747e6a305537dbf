"""Probabilistic matching: a Fellegi-Sunter model (Splink on DuckDB) for records that share
no identifier.

Records are reduced to comparable features (`FEATURES_SQL`): titles without punctuation,
accents and the decorations transfers add ("(From ...)", "- Side A", "(Take 2)"); names as
sorted word sets, so "Seagle, Oscar" and "Oscar Seagle" agree; label, catalog number and
matrix as bare letters and digits. Candidate pairs come from blocking rules that keep them
bounded on catalogues of millions (label + catalog number, matrix, title + year, performer
+ year ...), and each candidate gets a match weight per field and in total.

Parameters: m (how often the same recording agrees) and u (how often unrelated records
agree) start from the priors in COMPARISONS. On a collection big enough to learn from, u is
estimated by random sampling and m trained by expectation maximisation; on a small one the
priors stand. `link_model` says which was used.

MusicBrainz recordings are never matched with each other: MusicBrainz editors merge
duplicates, so two MBIDs are two recordings by that source's own account.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from preservation.progress import step
from preservation.store import scratch

# Sources whose own ids are distinct recordings: no within-source probabilistic pairs.
DISTINCT_WITHIN = ("musicbrainz",)
# Below this many records the model keeps its m priors instead of training them.
MIN_RECORDS_TO_TRAIN = 5_000
U_SAMPLE_PAIRS = 2e6
SEED = 1917

_WORD = "[^a-z0-9]+"
_APOSTROPHES = "[''’`]"  # quoted for SQL
_DECORATION = (
    r"\s*[\(\[](from|take|side|matrix|mx|vocal|instrumental|recorded|with|featuring|feat)\b"
    r"[^\)\]]*[\)\]]"
)
_SIDE_SUFFIX = r"\s+-\s+side\s+[a-d12]\s*$"
_LABEL_WORDS = r"\b(the|records?|recordings?|company|co|inc|ltd|corp|corporation)\b"


def _words(expr: str) -> str:
    """Lower-case words of `expr`, accents and apostrophes dropped, one space between."""
    return (
        f"trim(regexp_replace(regexp_replace(lower(strip_accents({expr})), "
        f"'{_APOSTROPHES}', '', 'g'), '{_WORD}', ' ', 'g'))"
    )


def _bare(expr: str) -> str:
    """Only the letters and digits of `expr`, lower-case: 'A-2469' and 'a 2469' agree."""
    return f"nullif(regexp_replace(lower(strip_accents({expr})), '{_WORD}', '', 'g'), '')"


# Not array_to_string: it is a macro that names its list twice (an empty-list test, then the
# join), and inside a lambda that sorts every name's words twice. string_split never yields an
# empty list, so string_agg alone gives the same strings.
_NAME = f"list_aggregate(list_sort(string_split({_words('n')}, ' ')), 'string_agg', ' ')"

FEATURES_SQL = f"""
WITH writers AS (
    SELECT rw.record_id, list(DISTINCT ww.name) AS names
    FROM recording_works rw JOIN work_writers ww USING (work_id)
    WHERE ww.name IS NOT NULL
    GROUP BY rw.record_id
), features AS (
    SELECT r.record_id, r.source,
           nullif({
    _words(
        f"regexp_replace(regexp_replace(r.title, '{_DECORATION}', '', 'gi'), "
        f"'{_SIDE_SUFFIX}', '', 'i')"
    )
}, '') AS title_key,
           list_filter(list_distinct(list_transform(
               list_concat(coalesce(r.artists, []), coalesce(w.names, [])), lambda n: {_NAME})),
               lambda n: n <> '') AS people,
           nullif(replace(regexp_replace({_words("r.label")}, '{_LABEL_WORDS}', '', 'g'),
                          ' ', ''), '') AS label_key,
           {_bare("r.catalog_number")} AS catalog_key,
           {_bare("r.matrix")} AS matrix_key,
           {_bare("r.take")} AS take_key,
           r.year, CASE WHEN length(r.date) = 10 THEN r.date END AS day, r.duration_s
    FROM recordings r LEFT JOIN writers w USING (record_id)
)
SELECT *,
       list_filter(list_distinct(flatten(list_transform(people, lambda n: string_split(n, ' ')))),
                   lambda t: length(t) >= 3) AS people_words,
       list_min(people) AS first_person,
       split_part(title_key, ' ', 1) AS title_first_word,
       string_split(title_key, ' ')[-1] AS title_last_word
FROM features
"""

_CROSS = " AND NOT (l.source = r.source AND l.source IN ({}))".format(
    ", ".join(f"'{s}'" for s in DISTINCT_WITHIN)
)
BLOCKING_RULES = [
    "l.label_key = r.label_key AND l.catalog_key = r.catalog_key",
    "l.matrix_key = r.matrix_key",
    "l.title_key = r.title_key AND l.year = r.year",
    "l.title_key = r.title_key AND l.first_person = r.first_person",
    # a typo in the title and no year: one of the title's end words is usually intact
    "l.first_person = r.first_person AND l.title_first_word = r.title_first_word",
    "l.first_person = r.first_person AND l.title_last_word = r.title_last_word",
]


def _level(sql: str, label: str, m: float, u: float) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}


def _comparison(name: str, description: str, null_sql: str, levels: list) -> dict[str, Any]:
    return {
        "output_column_name": name,
        "comparison_description": description,
        "comparison_levels": [
            {"sql_condition": null_sql, "label_for_charts": "missing", "is_null_level": True},
            *levels,
        ],
    }


def _missing(column: str) -> str:
    return f'"{column}_l" IS NULL OR "{column}_r" IS NULL'


# Titles that differ in a number ("No. 5" and "No. 6", "Op. 67" and "Op. 68", a concert's
# date) are different works or performances however alike they read.
_SAME_NUMBERS = (
    "list_sort(regexp_extract_all(\"title_key_l\", '[0-9]+')) = "
    "list_sort(regexp_extract_all(\"title_key_r\", '[0-9]+'))"
)
_JW = 'jaro_winkler_similarity("title_key_l", "title_key_r")'

# Priors, per level: m, the share of true matches at that level, from how catalogues and
# transfers of one disc side differ in practice (typos, decorations, re-ordered names); u,
# the share of unrelated records at that level in a catalogue of millions. On a collection
# of MIN_RECORDS_TO_TRAIN records or more, u is estimated from the data and m trained.
COMPARISONS = [
    _comparison("title", "title words", _missing("title_key"), [
        _level('"title_key_l" = "title_key_r"', "same title", 0.85, 2e-4),
        _level(f"{_JW} >= 0.95 AND {_SAME_NUMBERS}",
               "title nearly the same (Jaro-Winkler >= 0.95)", 0.08, 1e-4),
        _level(f"{_JW} >= 0.85 AND {_SAME_NUMBERS}",
               "title similar (Jaro-Winkler >= 0.85)", 0.04, 3e-3),
        # Rare for one recording: retitled transfers still read alike. Low enough that the
        # two sides of one disc (same label, number, performers, year) stay apart.
        _level("ELSE", "different titles", 0.002, 0.9967),
    ]),
    _comparison(
        "people", "performers and writers",
        'len("people_l") = 0 OR len("people_r") = 0 OR "people_l" IS NULL OR "people_r" IS NULL',
        [
            _level('len(list_intersect("people_l", "people_r")) > 0', "a name in common",
                   0.85, 1e-3),
            _level('len(list_intersect("people_words_l", "people_words_r")) > 0',
                   "a name word in common", 0.1, 0.05),
            _level("ELSE", "no name in common", 0.05, 0.949),
        ],
    ),
    # Label and catalog number name one issue together; counted as one piece of evidence, not
    # two, since a catalog number is only meaningful within its label.
    _comparison("issue", "label and catalog number", _missing("catalog_key"), [
        _level('"catalog_key_l" = "catalog_key_r" AND "label_key_l" IS NOT DISTINCT FROM '
               '"label_key_r"', "same label and catalog number", 0.85, 1e-5),
        _level('"catalog_key_l" = "catalog_key_r"', "same catalog number, label differs or "
               "unknown", 0.1, 1e-4),
        _level("ELSE", "different catalog numbers", 0.05, 0.99989),
    ]),
    _comparison("matrix", "matrix and take", _missing("matrix_key"), [
        _level('"matrix_key_l" = "matrix_key_r" AND "take_key_l" = "take_key_r"',
               "same matrix and take", 0.75, 1e-6),
        _level('"matrix_key_l" = "matrix_key_r" AND ("take_key_l" IS NULL OR '
               '"take_key_r" IS NULL)', "same matrix, take unknown", 0.2, 5e-6),
        _level('"matrix_key_l" = "matrix_key_r"', "same matrix, different takes", 0.02, 1e-6),
        _level("ELSE", "different matrices", 0.03, 0.999993),
    ]),
    _comparison("date", "date", _missing("year"), [
        # A day is a recording session or a concert: two records of it are rarely apart.
        _level('"day_l" = "day_r"', "same day", 0.3, 1e-5),
        _level('"year_l" = "year_r"', "same year", 0.6, 0.02),
        _level('abs("year_l" - "year_r") <= 1', "a year apart", 0.08, 0.04),
        _level('abs("year_l" - "year_r") <= 5', "up to five years apart", 0.015, 0.15),
        _level("ELSE", "more than five years apart", 0.005, 0.78999),
    ]),
    _comparison("duration", "duration", _missing("duration_s"), [
        _level('abs("duration_s_l" - "duration_s_r") <= 3', "within 3 s", 0.8, 0.1),
        _level('abs("duration_s_l" - "duration_s_r") <= 10', "within 10 s", 0.15, 0.2),
        _level("ELSE", "more than 10 s apart", 0.05, 0.7),
    ]),
]  # fmt: skip
# The compared fields, as link_evidence.field names them.
FIELDS = [comparison["output_column_name"] for comparison in COMPARISONS]

# What the model cannot see, since it adds up fields as if they were independent: the two
# sides of one disc agree on label, number, performers and year, and differ only in title.
VETOES = {
    "another side of the same disc": (
        '"catalog_key_l" = "catalog_key_r" AND "label_key_l" IS NOT DISTINCT FROM "label_key_r" '
        'AND jaro_winkler_similarity("title_key_l", "title_key_r") < 0.85'
    ),
    "another take of the same matrix": (
        '"matrix_key_l" = "matrix_key_r" AND "take_key_l" <> "take_key_r"'
    ),
}
_VETOED = " OR ".join(f"coalesce({sql}, false)" for sql in VETOES.values())

# EM trains m on pairs that agree on title and a performer (mostly true matches), so it
# estimates every field but those two, which keep their priors: trained on blocks of one
# disc, EM takes the two sides of a disc (same label, number, performers and year) for one
# recording and learns that titles do not matter.
TRAINING_BLOCK = "l.title_key = r.title_key AND l.first_person = r.first_person"


def settings(records: int) -> dict[str, Any]:
    """The Splink settings: blocking rules, comparisons with their m priors, the prior."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior_probability(records),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule + _CROSS, "sql_dialect": "duckdb"} for rule in BLOCKING_RULES
        ],
        "comparisons": json.loads(json.dumps(COMPARISONS)),
        "retain_intermediate_calculation_columns": True,  # the per-field weights, mw_*
        "retain_matching_columns": True,  # the features, for the vetoes and evidence levels
        "additional_columns_to_retain": [],
    }


def prior_probability(records: int) -> float:
    """About one counterpart per record: the chance that two random records match. A small
    collection is taken as a sample of a catalogue of at least MIN_RECORDS_TO_TRAIN records,
    whose matches are no likelier."""
    return 1 / max(records - 1, MIN_RECORDS_TO_TRAIN)


@dataclass
class Scored:
    """The model's candidate pairs at or above the review threshold, with their evidence."""

    pairs: pl.DataFrame  # record_a, record_b, match_weight, match_probability; strongest first
    evidence: pl.DataFrame  # record_a, record_b, <field>_level, <field>_weight per comparison
    traits: pl.DataFrame  # record_id and TRAITS of the records in pairs and those asked for
    records: int
    candidate_pairs: int
    trained: str  # 'em' | 'priors'
    prior_weight: float
    settings_json: str


def score(
    con: duckdb.DuckDBPyConnection, review_weight: float, also: list[str] | None = None
) -> Scored:
    """Train the model on `recordings` and score the candidate pairs; keep those at or above
    `review_weight`. `also`: records whose traits are wanted even if no pair has them.

    Splink works in a private in-memory database, so that its many intermediate tables
    never touch the user's file; features go in and results come out as Arrow. Inside, a
    record is a row number: Splink's joins on integers are faster than on record ids."""
    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI
    from splink.internals.exceptions import EMTrainingException

    with scratch(beside=con) as work:
        # Streamed in batches: ten million records' features never sit whole in Python.
        work.register("features_in", con.sql(FEATURES_SQL).fetch_record_batch())
        work.execute("CREATE TABLE features AS SELECT * FROM features_in")
        work.unregister("features_in")
        # Numbered in record id order: a record keeps its number from run to run, and
        # Splink's u sampling, a function of that number, is reproducible. Sorting the
        # narrow ids and joining back is cheaper than sorting the features.
        work.execute(
            "CREATE TABLE ids AS "
            "SELECT record_id, row_number() OVER (ORDER BY record_id) AS unique_id FROM features;"
            "CREATE TABLE link_input AS "
            "SELECT i.unique_id, f.* FROM features f JOIN ids i USING (record_id);"
            "DROP TABLE features"
        )
        (records,) = work.execute("SELECT count(*) FROM link_input").fetchall()[0]
        api = DuckDBAPI(connection=work).register("link_input", table_name="__link_input")
        linker = Linker(api, settings(records), log_level=logging.ERROR, validate_settings=False)
        trained = "priors"
        if records >= MIN_RECORDS_TO_TRAIN:
            with step("link: estimating u by random sampling"):
                linker.training.estimate_u_using_random_sampling(
                    max_pairs=U_SAMPLE_PAIRS, seed=SEED
                )
            with step("link: training m by expectation maximisation"):
                before_em = linker.misc.save_model_to_json()
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        TRAINING_BLOCK + _CROSS, fix_u_probabilities=True
                    )
                    trained = "em"
                except EMTrainingException:
                    # No pair to learn from (a catalogue of one source, say): the m priors
                    # stand, as for a small catalogue. The failed session leaves the linker
                    # without the comparisons it blocked on, so it is made again.
                    linker = Linker(api, before_em, log_level=logging.ERROR)
        with step("link: blocking"):
            blocked = linker.inference.compute_blocked_pairs_for_predict()
            (candidates,) = work.execute(
                f"SELECT count(*) FROM {blocked.physical_name}"
            ).fetchall()[0]
        with step(f"link: scoring {candidates:,} candidate pairs"):
            predicted = linker.inference.predict(threshold_match_weight=review_weight)
            work.execute(SCORED_SQL.format(predicted=predicted.physical_name, vetoed=_VETOED))
        pairs = work.sql(PAIRS_SQL).pl()
        evidence = work.sql(_evidence_sql()).pl()
        wanted = pl.DataFrame({"record_id": also or []}, schema={"record_id": pl.Utf8})
        work.register("wanted", wanted.to_arrow())
        traits = work.sql(TRAITS_SQL).pl()
        saved = linker.misc.save_model_to_json()
        saved.pop("linker_uid", None)  # a random id per Linker: the model is the same
        model_json = json.dumps(saved)
    return Scored(
        pairs=pairs,
        evidence=evidence,
        traits=traits,
        records=records,
        candidate_pairs=candidates,
        trained=trained,
        prior_weight=math.log2(prior_probability(records) / (1 - prior_probability(records))),
        settings_json=model_json,
    )


# Scored pairs not vetoed, named by record ids (record_a < record_b).
SCORED_SQL = """
CREATE TABLE scored AS
SELECT least(l.record_id, r.record_id) AS record_a, greatest(l.record_id, r.record_id) AS record_b,
       p.*
FROM {predicted} p
JOIN link_input l ON l.unique_id = p.unique_id_l
JOIN link_input r ON r.unique_id = p.unique_id_r
WHERE NOT ({vetoed})
"""
PAIRS_SQL = """
SELECT record_a, record_b, match_weight, match_probability
FROM scored ORDER BY match_weight DESC, record_a, record_b
"""
TRAITS_SQL = """
SELECT record_id, year, label_key AS label, catalog_key AS catalog, matrix_key AS matrix,
       take_key AS take
FROM link_input
WHERE record_id IN (SELECT record_a FROM scored UNION SELECT record_b FROM scored
                    UNION SELECT record_id FROM wanted)
"""


def _evidence_sql() -> str:
    """One row per scored pair: per comparison, the level's label and its weight.

    Wide, and each label an ENUM, because the evidence is held in memory until the link is
    written: a row per pair and comparison repeats both record ids six times (at 2.1 million
    records and 6 million candidate pairs, the link's peak RSS was 5.3 GB that way, 3.2 GB
    this way)."""
    columns = []
    for comparison in COMPARISONS:
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        cases = " ".join(
            f"WHEN {level['sql_condition']} THEN '{level['label_for_charts']}'"
            for level in levels
            if level["sql_condition"] != "ELSE"
        )
        labels = ", ".join(dict.fromkeys(f"'{level['label_for_charts']}'" for level in levels))
        columns.append(
            f"CAST(CASE {cases} ELSE '{levels[-1]['label_for_charts']}' END AS ENUM({labels})) "
            f"AS {name}_level, mw_{name} AS {name}_weight"
        )
    return f"SELECT record_a, record_b, {', '.join(columns)} FROM scored"


# Scored.evidence as link_evidence's rows: one per pair and comparison.
EVIDENCE_INSERT_SQL = "INSERT INTO link_evidence " + " UNION ALL ".join(
    f"SELECT record_a, record_b, '{name}', {name}_level::VARCHAR, {name}_weight FROM new_rows"
    for name in FIELDS
)
