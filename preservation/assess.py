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
from preservation.rights import Facts, Verdict, combined, jurisdictions, status, unknown_work
from preservation.store import frame, insert_frame, transaction

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
# Where "public domain somewhere" counts for the risk status (the recording layer).
RISK_JURISDICTIONS = ("US", "EU")

_CLUSTER_FACTS = """
WITH rec AS (
    SELECT c.cluster_id, r.*,
           -- which record names the cluster: a MusicBrainz recording first, then items, then
           -- releases; ties by the record id so the choice is stable
           row_number() OVER (
               PARTITION BY c.cluster_id
               ORDER BY CASE r.kind WHEN 'recording' THEN 0 WHEN 'item' THEN 1 ELSE 2 END,
                        (r.title IS NULL), r.record_id) AS pick
    FROM clusters c JOIN recordings r USING (record_id)
),
facts AS (
    SELECT cluster_id,
           arg_min(title, pick) AS title,
           arg_min(artists, pick) AS artists,
           min(year) AS year,
           min(year) FILTER (WHERE date_kind = 'published') AS published,
           arg_min(record_id, year) FILTER (WHERE date_kind = 'published') AS published_by,
           min(year) FILTER (WHERE date_kind = 'recorded') AS recorded,
           list_sort(list_distinct(list(source))) AS sources
    FROM rec GROUP BY cluster_id
),
copies AS (
    SELECT c.cluster_id,
           list_sort(list_distinct(list(h.platform) FILTER (WHERE is_copy))) AS platforms,
           list_sort(list_distinct(list(h.access_class) FILTER (WHERE is_copy))) AS classes,
           bool_and(coalesce(h.closed_garden, false)) FILTER (WHERE is_copy) AS all_closed,
           list_sort(list_distinct(
               list(h.url || ' (' || coalesce(h.status_note, 'not live') || ')')
               FILTER (WHERE NOT h.live))) AS gone
    FROM clusters c
    JOIN (SELECT *, live AND access_class <> 'catalogue_only' AS is_copy FROM holdings) h
      USING (record_id)
    GROUP BY c.cluster_id
),
-- The authors of the works recorded: the composition layer runs from the last one's death.
-- A person with no death date may be alive; a group has no life to count from.
writers AS (
    SELECT c.cluster_id,
           count(DISTINCT ww.artist_id) AS writers,
           count(DISTINCT ww.artist_id) FILTER (
               WHERE a.end_date IS NULL OR coalesce(a.type, 'Person') <> 'Person') AS undated,
           max(TRY_CAST(a.end_date[:4] AS INTEGER)) AS last_died
    FROM clusters c
    JOIN recording_works rw USING (record_id)
    JOIN work_writers ww USING (work_id)
    LEFT JOIN artists a USING (artist_id)
    WHERE ww.role IN ('composer', 'writer', 'lyricist', 'librettist')
    GROUP BY c.cluster_id
)
SELECT f.*, c.platforms, c.classes, c.all_closed, c.gone,
       coalesce(w.writers, 0) AS writers,
       CASE WHEN w.undated = 0 THEN w.last_died END AS last_died
FROM facts f LEFT JOIN copies c USING (cluster_id) LEFT JOIN writers w USING (cluster_id)
ORDER BY f.cluster_id
"""


@dataclass
class AssessResult:
    clusters: int
    at_risk: int
    as_of: date


def assess(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> AssessResult:
    """Rebuild `rights_status` and `risk` for every cluster, as of `as_of` (default: today)."""
    as_of = as_of or date.today()
    facts = frame(con, _CLUSTER_FACTS)
    rights_rows: list[dict[str, object]] = []
    risk_rows: list[dict[str, object]] = []
    for row in progress.track(facts.iter_rows(named=True), "assess", facts.height):
        verdicts = cluster_rights(row, as_of)
        for (j, layer), v in verdicts.items():
            rights_rows.append(
                {
                    "cluster_id": row["cluster_id"],
                    "jurisdiction": j,
                    "layer": layer,
                    "as_of": as_of,
                    "status": v.status,
                    "expires_year": v.expires_year,
                    "rule_id": v.rule_id,
                    "reasons": v.reasons,
                }
            )
        pd_somewhere = [
            j
            for (j, layer), v in verdicts.items()
            if layer == "recording" and j in RISK_JURISDICTIONS and v.status == "public_domain"
        ]
        risk_rows.append(
            {**_risk(row, pd_somewhere), "cluster_id": row["cluster_id"], "as_of": as_of}
        )
    with transaction(con):
        con.execute("DELETE FROM rights_status")
        con.execute("DELETE FROM risk")
        if rights_rows:
            insert_frame(con, "rights_status", pl.DataFrame(rights_rows))
        if risk_rows:
            insert_frame(con, "risk", pl.DataFrame(risk_rows))
    at_risk = sum(1 for r in risk_rows if r["risk_level"] in ("high", "medium"))
    return AssessResult(clusters=len(risk_rows), at_risk=at_risk, as_of=as_of)


def cluster_rights(row: dict[str, object], as_of: date) -> dict[tuple[str, str], Verdict]:
    """Per jurisdiction: the recording, the composition and both (free to preserve and share),
    from a cluster's facts: earliest publication, recording date, the works' authors."""
    recording = Facts(published=row["published"], fixed=row["recorded"])  # type: ignore[arg-type]
    # The works' own publication years are not in the data: only the authors' deaths count.
    work = Facts(died=row["last_died"])  # type: ignore[arg-type]
    found: dict[tuple[str, str], Verdict] = {}
    for j in jurisdictions():
        found[j, "recording"] = status(j, "recording", recording, as_of)
        if row["published_by"]:
            found[j, "recording"].reasons.insert(1, f"earliest publication: {row['published_by']}")
        found[j, "composition"] = (
            status(j, "composition", work, as_of) if row["writers"] else unknown_work(j)
        )
        found[j, "both"] = combined(found[j, "recording"], found[j, "composition"])
    return found


def _risk(row: dict[str, object], pd_somewhere: list[str]) -> dict[str, object]:
    platforms: list[str] = list(row["platforms"] or [])  # type: ignore[call-overload]
    classes: list[str] = list(row["classes"] or [])  # type: ignore[call-overload]
    gone: list[str] = list(row["gone"] or [])  # type: ignore[call-overload]
    has_open = "open_archive" in classes
    closed_only = bool(platforms) and bool(row["all_closed"]) and not has_open
    reasons: list[str] = []
    if has_open:
        status = "open_public_domain" if pd_somewhere else "open_unclear_rights"
        reasons.append(f"an open archive holds a copy ({', '.join(platforms)})")
        if not pd_somewhere:
            reasons.append("public-domain status not established in the US or EU")
    elif not platforms:
        status = "catalogue_only"
        reasons.append(
            f"no live copy known in the harvested sources ({', '.join(row['sources'])})"  # type: ignore[arg-type]
        )
    elif classes == ["store"]:
        status = "store_only"
        reasons.append(f"every live copy is for sale only ({', '.join(platforms)})")
    elif closed_only:
        status = "closed_garden_only"
        reasons.append(
            f"every live copy is on closed commercial platforms ({', '.join(platforms)})"
        )
    else:
        status = "free_stream_only"
        reasons.append(f"live copies only outside open archives ({', '.join(platforms)})")
    score, level = RISK[status]
    single = len(platforms) == 1
    if single:
        score += SINGLE_PLATFORM_BONUS
        reasons.append(f"only one platform holds a copy: {platforms[0]}")
    if gone:
        score += VANISHED_BONUS
        reasons.append("a known copy is gone: " + "; ".join(gone))
    if pd_somewhere and not has_open:
        score += PD_WITHOUT_OPEN_COPY_BONUS
        reasons.append(f"public domain in {', '.join(pd_somewhere)} but no open archive holds it")
    return {
        "title": row["title"],
        "artists": row["artists"] or [],
        "year": row["year"],
        "status": status,
        "risk_level": level,
        "score": min(score, 100.0),
        "live_platforms": platforms,
        "access_classes": classes,
        "single_platform": single,
        "closed_garden_only": closed_only,
        "has_open_copy": has_open,
        "vanished": bool(gone),
        "reasons": reasons,
    }
