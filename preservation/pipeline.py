"""The whole pipeline: harvest -> normalize -> link -> assess -> report, on a folder of responses.

The input folder holds one top folder per source (`musicbrainz/`, `internetarchive/`, `loc/`)
with saved API responses in any sub-folders below. Top folders that name no source are
skipped and counted. Without an input folder the bundled real sample is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from preservation import store
from preservation.assess import AssessResult, assess
from preservation.errors import PreservationError
from preservation.harvest import HarvestResult, harvest_folder
from preservation.link import LinkResult, link
from preservation.normalize import NormalizeResult, normalize
from preservation.report import write_reports
from preservation.sources import SOURCES


def sample_dir() -> Path:
    """The bundled real sample (see preservation/sample/PROVENANCE.md)."""
    return Path(str(resources.files("preservation").joinpath("sample")))


@dataclass
class RunSummary:
    db: Path
    harvests: list[HarvestResult] = field(default_factory=list)
    unknown_folders: list[str] = field(default_factory=list)
    normalized: NormalizeResult | None = None
    linked: LinkResult | None = None
    assessed: AssessResult | None = None
    reports: list[Path] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)


def run(
    db: str | Path | None = None,
    input_dir: Path | None = None,
    out_dir: Path = Path("reports"),
    as_of: date | None = None,
) -> RunSummary:
    """Run every stage on `input_dir` (default: the bundled sample) into the database `db`."""
    input_dir = input_dir or sample_dir()
    if not input_dir.is_dir():
        raise PreservationError(f"input folder {input_dir} does not exist")
    con = store.connect(db)
    try:
        summary = RunSummary(db=store.resolve_db_path(db))
        for folder in sorted(p for p in input_dir.iterdir() if p.is_dir()):
            if folder.name in SOURCES:
                summary.harvests.append(harvest_folder(con, folder.name, folder, input_dir))
            else:
                summary.unknown_folders.append(folder.name)
        if not summary.harvests:
            raise PreservationError(
                f"{input_dir} has no source folder (expected one of: {', '.join(SOURCES)})"
            )
        summary.normalized = normalize(con)
        summary.linked = link(con)
        summary.assessed = assess(con, as_of)
        summary.reports = write_reports(con, out_dir)
        summary.tables = store.table_counts(con)
    finally:
        con.close()
    return summary
