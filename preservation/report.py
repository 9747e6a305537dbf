"""Stage 5, report: the assessed tables -> the files people look at and load.

`write_reports(con, out_dir)` writes, from the database's tables and nothing else:

at-risk.html
    One self-contained page (inline CSS, JS and SVG charts; a Content-Security-Policy that
    forbids every network request). Every number on it comes from a named query in queries/:
    each summary figure is a row of `summary_figures` (its name in a `data-figure`
    attribute), and each chart comes with a table of its numbers marked with the query that
    gives them (`data-query`), so a test can check every number against its query. The charts
    are Vega-Lite specs (built with altair) rendered to SVG by vl-convert, which runs offline
    (preservation/report_charts.py).
    The table lists the most urgent at-risk clusters (at most HTML_TABLE_LIMIT; all of them
    are in the acquisition list), sortable by clicking a column header and filterable by text.
acquisition-list.csv, .json, .parquet
    Every at-risk cluster: see preservation/report_acquisition.py.
musicbrainz-contributions.csv
    Gaps a MusicBrainz editor could fill: see preservation/report_contributions.py.
search-evidence/
    What was searched for each at-risk recording that may lawfully be preserved: see
    preservation/report_search_evidence.py.

The same database always gives identical files: none holds a generation timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from preservation import progress
from preservation.queries import run_query
from preservation.report_acquisition import (
    CSV_NAME,
    JSON_NAME,
    PARQUET_NAME,
    TABLE,
    gather,
    release,
    write_acquisition,
)
from preservation.report_contributions import write_contributions
from preservation.report_search_evidence import write_search_evidence
from preservation.store import scalar

HTML_NAME = "at-risk.html"
# The page stays light enough for a browser whatever the catalogue's size.
HTML_TABLE_LIMIT = 1000


def write_reports(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Write every report into out_dir; returns the paths written (files rewritten whole)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    as_of = _as_of(con)
    with progress.step("report: gathering the at-risk clusters"):
        gather(con)
    with progress.step("report: acquisition lists"):
        written = write_acquisition(con, out_dir, as_of)
    with progress.step("report: contributions and search evidence"):
        written.append(write_contributions(con, out_dir))
        shown = _query(con, f"SELECT * FROM {TABLE} LIMIT {HTML_TABLE_LIMIT}")
        searches = write_search_evidence(con, out_dir, [r["cluster_id"] for r in shown])
    with progress.step("report: at-risk page"):
        html = out_dir / HTML_NAME
        html.write_text(_render_html(con, shown, searches, as_of), encoding="utf-8")
    release(con)
    return [html, *written, out_dir / "search-evidence"]


def _as_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """The assessment date the risk table was computed for (None before any assessment)."""
    as_of = scalar(con, "SELECT strftime(max(as_of), '%Y-%m-%d') FROM risk")
    return None if as_of is None else str(as_of)


@dataclass
class Chart:
    """One chart of the page and the named query its numbers come from."""

    query: str
    title: str
    caption: str
    svg: Markup
    columns: list[str]
    rows: list[dict[str, Any]]


def _render_html(
    con: duckdb.DuckDBPyConnection,
    clusters: list[dict[str, Any]],
    searches: dict[str, str],
    as_of: str | None,
) -> str:
    """The at-risk page. Autoescape is on: titles and URLs come from outside sources."""
    env = Environment(
        loader=PackageLoader("preservation", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.tests["web_url"] = _is_web_url
    env.filters["host"] = lambda url: urlsplit(url).hostname or url
    return env.get_template("at-risk.html.j2").render(
        as_of=as_of,
        figures=_named(con, "summary_figures")[1],
        at_risk=scalar(con, f"SELECT count(*) FROM {TABLE}"),
        charts=_charts(con),
        clusters=clusters,
        searches=searches,
        files={"csv": CSV_NAME, "json": JSON_NAME, "parquet": PARQUET_NAME},
    )


def _charts(con: duckdb.DuckDBPyConnection) -> list[Chart]:
    """The page's charts, each drawn from the rows of its named query."""
    # Imported here: altair takes half a second to import, and only the page needs it.
    from preservation.report_charts import CHARTS, svg

    charts = []
    for query, title, caption, draw in CHARTS:
        columns, rows = _named(con, query)
        charts.append(Chart(query, title, caption, svg(draw(rows)), columns, rows))
    return charts


def _is_web_url(url: str) -> bool:
    """Only http(s) URLs become links: a stored 'javascript:' URL must never be clickable."""
    return urlsplit(url).scheme in ("http", "https")


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """The rows of a query as dicts keyed by column name."""
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _named(con: duckdb.DuckDBPyConnection, name: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of a named query from queries/: the page shows what it gives."""
    columns, rows = run_query(con, name)
    return columns, [dict(zip(columns, row, strict=True)) for row in rows]
