"""The review queue as a CSV an archivist fills in, and the decisions fed back.

`export_review` writes `link_review` with both records side by side (title, performers,
date, label, catalog number, matrix and take, and a link to each record's page) and an
empty `decision` column. `import_decisions` reads the filled file back into
`link_decisions`: `same` or `different` (also yes/no, true/false, accept/reject); rows
left blank are skipped. Decisions outlive re-runs and override the model and the chaining
guards at the next `preservation link`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from preservation.errors import PreservationError
from preservation.store import transaction

SAME = {"same", "yes", "true", "accept", "y", "1"}
DIFFERENT = {"different", "no", "false", "reject", "n", "0"}
SIDES = ("title", "artists", "date", "label", "catalog_number", "matrix", "take", "page_url")
COLUMNS = [
    "record_a",
    "record_b",
    "match_probability",
    "reason",
    *(f"{column}_{side}" for column in SIDES for side in "ab"),
    "decision",
    "note",
]

EXPORT_SQL = f"""
SELECT v.record_a, v.record_b, round(v.match_probability, 4) AS match_probability, v.reason,
       {
    ", ".join(
        f"array_to_string(a.{c}, '; ') AS {c}_a, array_to_string(b.{c}, '; ') AS {c}_b"
        if c == "artists"
        else f"a.{c} AS {c}_a, b.{c} AS {c}_b"
        for c in SIDES
    )
},
       '' AS decision, '' AS note
FROM link_review v
JOIN recordings a ON a.record_id = v.record_a
JOIN recordings b ON b.record_id = v.record_b
ORDER BY v.match_probability DESC, v.record_a, v.record_b
"""


@dataclass
class ImportResult:
    rows: int
    same: int
    different: int
    blank: int


def export_review(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write the review queue to `path` as CSV; returns the number of pairs."""
    rows = con.execute(EXPORT_SQL).fetchall()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return len(rows)


def import_decisions(con: duckdb.DuckDBPyConnection, path: Path) -> ImportResult:
    """Store the decisions of a filled review CSV; nothing is stored if a row is malformed."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise PreservationError(f"cannot read review file {path}: {exc}") from exc
    decided, blank = [], 0
    now = datetime.now(UTC).replace(tzinfo=None)
    for number, row in enumerate(rows, start=2):
        a, b = (row.get("record_a") or "").strip(), (row.get("record_b") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        if not a or not b:
            raise PreservationError(f"{path}:{number}: record_a and record_b are required")
        if not decision:
            blank += 1
            continue
        if decision not in SAME | DIFFERENT:
            raise PreservationError(
                f"{path}:{number}: decision {decision!r} is neither 'same' nor 'different'"
            )
        note = (row.get("note") or "").strip() or None
        verdict = "same" if decision in SAME else "different"
        decided.append((min(a, b), max(a, b), verdict, note, now, str(path)))
    named = sorted({r for a, b, *_ in decided for r in (a, b)})
    # Only the records the file names are looked up, not the whole catalogue.
    unknown = [
        r
        for (r,) in con.execute(
            "SELECT n FROM unnest(?::VARCHAR[]) t(n) "
            "WHERE n NOT IN (SELECT record_id FROM recordings) ORDER BY n",
            [named],
        ).fetchall()
    ]
    if unknown:
        raise PreservationError(
            f"{path}: {len(unknown)} record(s) not in the database, e.g. {unknown[0]}"
        )
    with transaction(con):
        con.executemany("INSERT OR REPLACE INTO link_decisions VALUES (?, ?, ?, ?, ?, ?)", decided)
    same = sum(1 for d in decided if d[2] == "same")
    return ImportResult(rows=len(rows), same=same, different=len(decided) - same, blank=blank)
