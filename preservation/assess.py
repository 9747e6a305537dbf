"""Stage 4, assess: where each recording's copies live, its rights status, and its risk of loss.

The risk model is deliberately simple and explainable; every parameter is in RISK below, and
every score comes with the reasons that produced it, in words.

Status of a cluster, by its live copies (a holding is live unless its relationship ended or
its item went dark; catalogue entries are not copies):
- open_public_domain: an open archive holds a copy and the recording is PD in the US or EU;
- open_unclear_rights: an open archive holds a copy; PD status not established;
- store_only: every live copy is for sale;
- closed_garden_only: every live copy is on a closed commercial platform;
- free_stream_only: live copies exist, none in an open archive, not all closed;
- catalogue_only: no live copy is known anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from preservation import progress
from preservation.rights import Facts, Verdict, jurisdictions, status, unknown_work
from preservation.sources import SOURCES
from preservation.store import scalar, transaction

# status -> (base score, risk level). Higher scores are more urgent.
RISK: dict[str, tuple[float, str]] = {
    "catalogue_only": (90.0, "high"),
    "closed_garden_only": (80.0, "high"),
    "store_only": (75.0, "high"),
    "free_stream_only": (60.0, "medium"),
    "open_unclear_rights": (30.0, "low"),
    "open_public_domain": (10.0, "low"),
}
SINGLE_PLATFORM_BONUS = 8.0  # one platform deciding alone is a single point of failure
VANISHED_BONUS = 5.0  # a copy already went away once
PD_WITHOUT_OPEN_COPY_BONUS = 2.0  # lawfully preservable: acting on it is possible
SINGLE_OPEN_COPY_BONUS = 4.0  # one archive's fate decides whether any open copy survives
# At most this much for demand (listens, when supplied), on a log scale up to the most listened.
DEMAND_BONUS = 10.0
# Where "public domain somewhere" counts for the risk status (the recording layer).
RISK_JURISDICTIONS = ("US", "EU")

# What assess knows about each cluster, in parts, each one aggregate over the cluster's
# records, holdings or works, grouped by `cluster_key` (`_cluster_key`) and kept in a
# temporary table; then joined into cluster_facts. Set-based, with aggregate states of
# integers only: at ten million clusters string states (a min over text, a list of
# platform names) cost several times more than the joins themselves, and one statement
# joining the parts as CTEs was planned worse than the parts one by one.
# `holding_kinds` numbers the (platform, access class, closed) kinds of holdings, the most
# common first: a cluster's live kinds are a bit set of the first 64 codes (`live_kinds`) plus
# a list of any rarer ones (`rare_kinds`, hosts no platform table names), and each distinct
# set is spelled out in names once (`facts_kind_sets`), not once per cluster.
CLUSTER_FACT_PARTS: dict[str, str] = {
    "facts_records": """
SELECT {cluster_key} AS cluster_key,
       -- the record naming the cluster: a MusicBrainz recording first, then items, then
       -- releases, titled before untitled, then by a hash of the record id (a fixed
       -- choice among equals); its row number, to fetch its title and artists
       arg_min(r.rowid,
               (CASE r.kind WHEN 'recording' THEN 0 WHEN 'item' THEN 2 ELSE 4 END
                + CASE WHEN r.title IS NULL THEN 1 ELSE 0 END)::UBIGINT << 60
               | hash(r.record_id) >> 4) AS naming_row,
       min(r.year) AS year,
       min(r.year) FILTER (WHERE r.date_kind = 'published' AND r.year >= 0) AS published,
       -- the record giving the earliest publication (ties: as above), its row number
       arg_min(r.rowid, r.year::UBIGINT << 40 | hash(r.record_id) >> 24)
           FILTER (WHERE r.date_kind = 'published' AND r.year >= 0) AS published_row,
       min(r.year) FILTER (WHERE r.date_kind = 'recorded') AS recorded,
       -- bit i set: a record comes from source i of $sources
       bit_or(1 << (list_position($sources, r.source) - 1)) AS source_bits
FROM clusters AS c JOIN recordings AS r USING (record_id)
GROUP BY cluster_key
""",
    # Its title and artists, and the id of the record published first, by row number: joined
    # here, on the narrow table of numbers, this is cheap; in the final join, with every
    # other fact along, it spilled to disk at ten million clusters (10x slower). The record
    # published first is mostly the naming one (95% at ten million clusters): only the others
    # are looked up again (8.9 s -> 6.6 s).
    "facts_named": """
SELECT r.*, n.title, n.artists,
       CASE WHEN r.published_row = r.naming_row THEN n.record_id ELSE p.record_id END
           AS published_by
FROM facts_records AS r
JOIN recordings AS n ON n.rowid = r.naming_row
LEFT JOIN (
    SELECT f.cluster_key, p.record_id
    FROM facts_records AS f JOIN recordings AS p ON p.rowid = f.published_row
    WHERE f.published_row <> f.naming_row
) AS p USING (cluster_key)
""",
    "facts_copies": """
SELECT {cluster_key} AS cluster_key,
       -- least(): the shift is computed before the filter applies, so kept in range
       coalesce(bit_or(1::UBIGINT << least(k.code, 63)::UBIGINT)
                FILTER (WHERE h.is_copy AND k.code < 64), 0) AS live_kinds,
       coalesce(list(k.code) FILTER (WHERE h.is_copy AND k.code >= 64), []) AS rare_kinds,
       count(*) FILTER (WHERE h.is_copy) AS live_copies
FROM clusters AS c
JOIN (SELECT *, live AND access_class <> 'catalogue_only' AS is_copy FROM holdings) AS h
  USING (record_id)
JOIN holding_kinds AS k
  ON  k.platform = h.platform AND k.access_class = h.access_class
  AND k.closed = coalesce(h.closed_garden, false)
GROUP BY cluster_key
""",
    "facts_kind_sets": """
SELECT live_kinds, rare_kinds,
       list_sort(list_distinct(list_transform(codes, lambda c: $platforms[c + 1])))
           AS live_platforms,
       list_sort(list_distinct(list_transform(
           list_filter(codes, lambda c: $classes[c + 1] = 'open_archive'),
           lambda c: $platforms[c + 1]))) AS open_platforms,
       list_sort(list_distinct(list_transform(codes, lambda c: $classes[c + 1])))
           AS access_classes,
       CASE WHEN len(codes) > 0
            THEN list_bool_and(list_transform(codes, lambda c: $closed[c + 1])) END
           AS all_closed
FROM (
    SELECT live_kinds, rare_kinds,
           list_concat(
               list_filter(range(64), lambda i: (live_kinds >> i::UBIGINT) & 1 = 1),
               list_sort(list_distinct(rare_kinds))) AS codes
    FROM (SELECT DISTINCT live_kinds, rare_kinds FROM facts_copies)
)
""",
    # Holdings no longer live are few: gathered apart from the live ones.
    "facts_gone": """
SELECT {cluster_key} AS cluster_key,
       list_sort(list_distinct(
           list(h.url || ' (' || coalesce(h.status_note, 'not live') || ')'))) AS gone
FROM clusters AS c JOIN (SELECT * FROM holdings WHERE NOT live) AS h USING (record_id)
GROUP BY cluster_key
""",
    # The authors of the works recorded: the composition layer runs from the last one's death.
    # A person with no death date may be alive; a group has no life to count from.
    "facts_writers": """
SELECT cluster_key, count(*) AS writers, count(*) FILTER (WHERE undated) AS undated,
       max(died) AS last_died
FROM (
    SELECT DISTINCT {cluster_key} AS cluster_key, ww.artist_id,
           a.end_date IS NULL OR coalesce(a.type, 'Person') <> 'Person' AS undated,
           TRY_CAST(a.end_date[:4] AS INTEGER) AS died
    FROM clusters AS c
    JOIN recording_works AS rw USING (record_id)
    JOIN work_writers AS ww USING (work_id)
    LEFT JOIN artists AS a USING (artist_id)
    WHERE ww.role IN ('composer', 'writer', 'lyricist', 'librettist')
)
GROUP BY cluster_key
""",
    "facts_listened": """
SELECT {cluster_key} AS cluster_key, sum(d.listens) AS demand
FROM clusters AS c
JOIN recordings AS r USING (record_id)
JOIN demand AS d ON d.recording_mbid = r.source_id
WHERE r.source = 'musicbrainz' AND r.kind = 'recording'
GROUP BY cluster_key
""",
}

CLUSTER_FACTS_SQL = """
SELECT {cluster_id} AS cluster_id, r.title, r.artists, r.year, r.published, r.published_by,
       r.recorded,
       list_filter($sources, lambda source, i: (r.source_bits >> (i - 1)) & 1 = 1) AS sources,
       coalesce(w.writers, 0) AS writers,
       CASE WHEN w.undated = 0 THEN w.last_died END AS last_died,
       coalesce(s.live_platforms, []) AS live_platforms,
       coalesce(s.open_platforms, []) AS open_platforms,
       coalesce(s.access_classes, []) AS access_classes,
       coalesce(k.live_copies, 0) AS live_copies,
       s.all_closed,
       coalesce(g.gone, []) AS gone,
       l.demand
FROM facts_named AS r
LEFT JOIN facts_copies AS k USING (cluster_key)
LEFT JOIN facts_kind_sets AS s USING (live_kinds, rare_kinds)
LEFT JOIN facts_gone AS g USING (cluster_key)
LEFT JOIN facts_writers AS w USING (cluster_key)
LEFT JOIN facts_listened AS l USING (cluster_key)
"""

HOLDING_KINDS_SQL = """
CREATE OR REPLACE TEMP TABLE holding_kinds AS
SELECT (row_number() OVER (ORDER BY holdings DESC, platform, access_class, closed) - 1)::INTEGER
           AS code,
       platform, access_class, closed
FROM (
    SELECT platform, access_class, coalesce(closed_garden, false) AS closed, count(*) AS holdings
    FROM holdings GROUP BY ALL
)
"""

# Cluster ids as `link` makes them ('c' and 12 hex digits) are numbers in disguise: grouping
# by the number is several times faster than by the text. Other ids are grouped as text.
LINK_CLUSTER_ID = "c[0-9a-f]{12}"

# Every verdict for every combination of facts present: the recording and composition layers
# from the engine (layer_verdicts), and `both`, free to preserve and share, from the two.
RIGHTS_VERDICTS_SQL = """
WITH facts AS (
    SELECT DISTINCT published, recorded, writers > 0 AS work_known, last_died
    FROM cluster_facts
),
rec AS (
    SELECT f.*, v.jurisdiction, v.status, v.expires_year, v.rule_id, v.reasons
    FROM facts AS f JOIN layer_verdicts AS v
      ON v.layer = 'recording'
     AND v.published IS NOT DISTINCT FROM f.published
     AND v.recorded IS NOT DISTINCT FROM f.recorded
),
comp AS (
    SELECT f.*, v.jurisdiction, v.status, v.expires_year, v.rule_id, v.reasons
    FROM facts AS f JOIN layer_verdicts AS v
      ON v.layer = 'composition'
     AND v.work_known = f.work_known
     AND v.last_died IS NOT DISTINCT FROM f.last_died
)
SELECT *, 'recording' AS layer FROM rec
UNION ALL
SELECT *, 'composition' AS layer FROM comp
UNION ALL
SELECT r.published, r.recorded, r.work_known, r.last_died, r.jurisdiction,
       CASE WHEN r.status = 'public_domain' AND c.status = 'public_domain' THEN 'public_domain'
            WHEN 'in_copyright' IN (r.status, c.status) THEN 'in_copyright'
            ELSE 'undetermined' END AS status,
       -- protected until the later layer is free: known only when both ends are
       CASE WHEN r.status = 'public_domain' AND c.status = 'public_domain'
                THEN greatest(r.expires_year, c.expires_year)
            WHEN 'in_copyright' IN (r.status, c.status)
                THEN CASE WHEN r.expires_year IS NOT NULL AND c.expires_year IS NOT NULL
                          THEN greatest(r.expires_year, c.expires_year) END
       END AS expires_year,
       'both-layers' AS rule_id,
       ['recording: ' || r.status || ' (' || r.rule_id || ')',
        'composition: ' || c.status || ' (' || c.rule_id || ')'] AS reasons,
       'both' AS layer
FROM rec AS r JOIN comp AS c
  ON  c.jurisdiction = r.jurisdiction
  AND c.published IS NOT DISTINCT FROM r.published
  AND c.recorded IS NOT DISTINCT FROM r.recorded
  AND c.work_known = r.work_known
  AND c.last_died IS NOT DISTINCT FROM r.last_died
"""

# The risk of every cluster from its facts and where its recording is public domain
# (recording_public_domain: per publication and recording year). Parameters: RISK
# (risk_levels), the bonuses, and the largest demand (to scale the demand bonus).
RISK_SQL = """
WITH flagged AS (
    SELECT f.*,
           coalesce(p.public_domain_in, []) AS public_domain_in,
           list_contains(f.access_classes, 'open_archive') AS has_open_copy,
           len(f.live_platforms) = 1 AS single_platform,
           len(f.open_platforms) = 1 AS single_open_copy,
           len(f.gone) > 0 AS vanished
    FROM cluster_facts AS f
    LEFT JOIN recording_public_domain AS p
      ON  p.published IS NOT DISTINCT FROM f.published
      AND p.recorded IS NOT DISTINCT FROM f.recorded
),
classified AS (
    SELECT *,
           CASE WHEN has_open_copy AND len(public_domain_in) > 0 THEN 'open_public_domain'
                WHEN has_open_copy THEN 'open_unclear_rights'
                WHEN len(live_platforms) = 0 THEN 'catalogue_only'
                WHEN access_classes = ['store'] THEN 'store_only'
                WHEN all_closed THEN 'closed_garden_only'
                ELSE 'free_stream_only' END AS status,
           len(public_domain_in) > 0 AND NOT has_open_copy AS pd_without_open_copy,
           -- an archive's only copy counts apart from a single platform, not on top of it
           single_open_copy AND NOT single_platform AS only_archive,
           array_to_string(live_platforms, ', ') AS platform_list
    FROM flagged
)
SELECT c.cluster_id, $as_of AS as_of, c.title, coalesce(c.artists, []) AS artists, c.year,
       c.status, l.risk_level,
       least(100.0, l.base_score
                    + CASE WHEN c.single_platform THEN $single_platform ELSE 0 END
                    + CASE WHEN c.only_archive THEN $single_open_copy ELSE 0 END
                    + CASE WHEN c.vanished THEN $vanished ELSE 0 END
                    + CASE WHEN c.pd_without_open_copy THEN $pd_without_open_copy ELSE 0 END
                    + CASE WHEN c.demand > 0
                           THEN $demand * ln(1 + c.demand) / ln(1 + $max_demand) ELSE 0 END
       ) AS score,
       c.live_platforms, c.access_classes, c.single_platform,
       -- also when the closed platforms are stores (status store_only)
       len(c.live_platforms) > 0 AND c.all_closed AND NOT c.has_open_copy AS closed_garden_only,
       c.has_open_copy, c.vanished, c.single_open_copy, c.pd_without_open_copy,
       c.public_domain_in, c.live_copies, c.demand,
       list_filter([
           CASE WHEN c.has_open_copy
                THEN 'an open archive holds a copy (' || c.platform_list || ')' END,
           CASE WHEN c.status = 'open_unclear_rights'
                THEN 'public-domain status not established in ' || $jurisdictions END,
           CASE c.status
                WHEN 'catalogue_only' THEN 'no live copy known in the harvested sources ('
                    || array_to_string(c.sources, ', ') || ')'
                WHEN 'store_only'
                    THEN 'every live copy is for sale only (' || c.platform_list || ')'
                WHEN 'closed_garden_only' THEN 'every live copy is on closed commercial '
                    || 'platforms (' || c.platform_list || ')'
                WHEN 'free_stream_only'
                    THEN 'live copies only outside open archives (' || c.platform_list || ')'
           END,
           CASE WHEN c.single_platform
                THEN 'only one platform holds a copy: ' || c.live_platforms[1] END,
           CASE WHEN c.only_archive
                THEN 'only one archive holds an open copy: ' || c.open_platforms[1] END,
           CASE WHEN c.vanished
                THEN 'a known copy is gone: ' || array_to_string(c.gone, '; ') END,
           CASE WHEN c.pd_without_open_copy
                THEN 'public domain in ' || array_to_string(c.public_domain_in, ', ')
                     || ' but no open archive holds it' END,
           CASE WHEN c.demand > 0
                THEN format('{:,d} listens (supplied demand)', c.demand) END
       ], lambda reason: reason IS NOT NULL) AS reasons
FROM classified AS c JOIN risk_levels AS l USING (status)
"""


@dataclass
class AssessResult:
    clusters: int
    at_risk: int
    as_of: date


def assess(
    con: duckdb.DuckDBPyConnection, as_of: date | None = None, demand_scale: int | None = None
) -> AssessResult:
    """Rebuild `cluster_facts`, `rights_verdicts` and `risk` as of `as_of` (default: today).

    `demand_scale`: the listens that earn the whole demand bonus; by default the largest
    demand of a cluster in this database. A part of a catalogue is assessed with the whole
    catalogue's (`demand_scale_of`), so that its scores are the whole's.

    One transaction: a failure leaves the previous assessment whole.
    """
    as_of = as_of or date.today()
    with transaction(con):
        with progress.step("assess: gathering facts per cluster"):
            con.execute("DELETE FROM cluster_facts")
            _insert_cluster_facts(con)
        with progress.step("assess: rights"):
            verdicts = _layer_verdicts(con, as_of)
            con.execute("DELETE FROM rights_verdicts")
            con.register("layer_verdicts", verdicts.to_arrow())
            try:
                con.execute(
                    f"INSERT INTO rights_verdicts BY NAME SELECT *, ?::DATE AS as_of "
                    f"FROM ({RIGHTS_VERDICTS_SQL})",
                    [as_of],
                )
            finally:
                con.unregister("layer_verdicts")
        with progress.step("assess: risk"):
            con.execute("DELETE FROM risk")
            _insert_risk(con, verdicts, as_of, demand_scale)
    clusters, at_risk = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE risk_level IN ('high', 'medium')) FROM risk"
    ).fetchall()[0]
    return AssessResult(clusters=clusters, at_risk=at_risk, as_of=as_of)


def _insert_cluster_facts(con: duckdb.DuckDBPyConnection) -> None:
    """cluster_facts from the clusters, their records, holdings, works and demand."""
    # Temporary tables inside assess's transaction: gone with it on failure.
    con.execute(HOLDING_KINDS_SQL)
    kinds = con.execute(
        "SELECT platform, access_class, closed FROM holding_kinds ORDER BY code"
    ).fetchall()
    params = {
        "sources": sorted(SOURCES),
        "platforms": [k[0] for k in kinds],
        "classes": [k[1] for k in kinds],
        "closed": [k[2] for k in kinds],
    }
    cluster_key, cluster_id = _cluster_key(con)
    for table, part in CLUSTER_FACT_PARTS.items():
        sql = part.replace("{cluster_key}", cluster_key)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}", _used(params, sql))
    sql = CLUSTER_FACTS_SQL.replace("{cluster_id}", cluster_id)
    con.execute(f"INSERT INTO cluster_facts BY NAME {sql}", _used(params, sql))
    for table in ("holding_kinds", *CLUSTER_FACT_PARTS):
        con.execute(f"DROP TABLE {table}")


def _used(params: dict[str, object], sql: str) -> dict[str, object]:
    """The parameters `sql` names (DuckDB refuses any it does not)."""
    return {name: value for name, value in params.items() if f"${name}" in sql}


def _cluster_key(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """SQL for the key to group a cluster's rows by (over `clusters AS c`), and for its id
    from that key: the number a link-made id spells, or else the id itself."""
    other = scalar(
        con,
        "SELECT count(*) FROM clusters WHERE NOT regexp_full_match(cluster_id, ?)",
        [LINK_CLUSTER_ID],
    )
    if other:
        return "c.cluster_id", "r.cluster_key"
    return "('0x' || c.cluster_id[2:])::UBIGINT", "printf('c%012x', r.cluster_key)"


def _layer_verdicts(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """The engine's verdict for each distinct recording fact pair and each distinct work fact
    pair in cluster_facts, per jurisdiction: a few thousand, whatever the catalogue's size."""
    rows: list[dict[str, object]] = []
    recordings = con.execute("SELECT DISTINCT published, recorded FROM cluster_facts").fetchall()
    works = con.execute("SELECT DISTINCT writers > 0, last_died FROM cluster_facts").fetchall()
    for j in jurisdictions():
        for published, recorded in recordings:
            v = status(j, "recording", Facts(published=published, fixed=recorded), as_of)
            rows.append(_verdict_row(j, "recording", v, published=published, recorded=recorded))
        for work_known, died in works:
            # The works' own publication years are not in the data: only the authors' deaths.
            v = status(j, "composition", Facts(died=died), as_of) if work_known else unknown_work(j)
            rows.append(_verdict_row(j, "composition", v, work_known=work_known, last_died=died))
    return pl.DataFrame(rows, schema=_LAYER_VERDICT_SCHEMA)


_LAYER_VERDICT_SCHEMA = {
    "jurisdiction": pl.String,
    "layer": pl.String,
    "published": pl.Int32,
    "recorded": pl.Int32,
    "work_known": pl.Boolean,
    "last_died": pl.Int32,
    "status": pl.String,
    "expires_year": pl.Int32,
    "rule_id": pl.String,
    "reasons": pl.List(pl.String),
}


def _verdict_row(j: str, layer: str, v: Verdict, **facts: object) -> dict[str, object]:
    return {
        "jurisdiction": j,
        "layer": layer,
        **facts,
        "status": v.status,
        "expires_year": v.expires_year,
        "rule_id": v.rule_id,
        "reasons": list(v.reasons),
    }


def demand_scale_of(con: duckdb.DuckDBPyConnection) -> int:
    """The largest demand of any cluster (the default `demand_scale`), from the clusters,
    records and demand tables, before any assessment."""
    listened = CLUSTER_FACT_PARTS["facts_listened"].replace("{cluster_key}", "c.cluster_id")
    return int(str(scalar(con, f"SELECT coalesce(max(demand), 0) FROM ({listened})")))


def _insert_risk(
    con: duckdb.DuckDBPyConnection,
    verdicts: pl.DataFrame,
    as_of: date,
    demand_scale: int | None,
) -> None:
    """risk from cluster_facts, with RISK's parameters and where each recording is PD."""
    public_domain = (
        verdicts.filter(
            (pl.col("layer") == "recording")
            & pl.col("jurisdiction").is_in(RISK_JURISDICTIONS)
            & (pl.col("status") == "public_domain")
        )
        .group_by("published", "recorded")
        .agg(pl.col("jurisdiction").sort().alias("public_domain_in"))
    )
    levels = pl.DataFrame(
        [{"status": s, "base_score": b, "risk_level": lvl} for s, (b, lvl) in RISK.items()]
    )
    if demand_scale is None:
        demand_scale = int(str(scalar(con, "SELECT coalesce(max(demand), 0) FROM cluster_facts")))
    con.register("recording_public_domain", public_domain.to_arrow())
    con.register("risk_levels", levels.to_arrow())
    try:
        con.execute(
            f"INSERT INTO risk BY NAME {RISK_SQL}",
            {
                "as_of": as_of,
                "single_platform": SINGLE_PLATFORM_BONUS,
                "single_open_copy": SINGLE_OPEN_COPY_BONUS,
                "vanished": VANISHED_BONUS,
                "pd_without_open_copy": PD_WITHOUT_OPEN_COPY_BONUS,
                "demand": DEMAND_BONUS,
                "max_demand": demand_scale,
                "jurisdictions": "the " + " or ".join(RISK_JURISDICTIONS),
            },
        )
    finally:
        con.unregister("recording_public_domain")
        con.unregister("risk_levels")
