"""Why a cluster is or is not public domain: the verdicts `assess` stored, per jurisdiction
and layer, with the deciding rule and the reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from preservation.errors import PreservationError
from preservation.rights import Verdict

LAYER_ORDER = ("recording", "composition", "both")


@dataclass
class RightsExplanation:
    cluster_id: str
    title: str | None
    as_of: date | None
    verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)


def explain_rights(con: duckdb.DuckDBPyConnection, target: str) -> RightsExplanation:
    """The stored verdicts of a cluster, named by its id or by the id of a record in it."""
    found = con.execute(
        "SELECT cluster_id FROM clusters WHERE cluster_id = $t OR record_id = $t LIMIT 1",
        {"t": target},
    ).fetchall()
    if not found:
        raise PreservationError(f"no cluster or record {target!r}: run `preservation run` first")
    ((cluster_id,),) = found
    rows = con.execute(
        """
        SELECT r.jurisdiction, r.layer, r.status, r.expires_year, r.rule_id, r.reasons, r.as_of,
               k.title
        FROM rights_status r LEFT JOIN risk k USING (cluster_id)
        WHERE r.cluster_id = ?
        ORDER BY r.jurisdiction, list_position(?, r.layer)
        """,
        [cluster_id, list(LAYER_ORDER)],
    ).fetchall()
    if not rows:
        raise PreservationError(f"cluster {cluster_id} has no rights status: run `assess` first")
    explanation = RightsExplanation(cluster_id, rows[0][7], rows[0][6])
    for jurisdiction, layer, status, expires, rule_id, reasons, _, _ in rows:
        explanation.verdicts[jurisdiction, layer] = Verdict(status, expires, rule_id, reasons)
    return explanation
