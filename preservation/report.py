"""Stage 5, report: the assessed tables -> an at-risk web page and an acquisition list.

Three files are written, all from the `risk`, `rights_status`, `clusters`, `recordings` and
`holdings` tables and nothing else:

at-risk.html
    One self-contained page (inline CSS, JS and SVG charts; a Content-Security-Policy that
    forbids every network request). Each summary figure is the result of one query in
    `FIGURES` and carries its name in a `data-figure` attribute, so a test can check every
    number against its query. The charts are Vega-Lite specs (built with altair) rendered to
    SVG by vl-convert, which runs offline. The table lists the at-risk clusters, sortable by
    clicking a column header and filterable by text.

acquisition-list.csv and acquisition-list.json
    One row per at-risk cluster (risk level high or medium), highest score first, then by
    cluster_id, with the columns of `ACQUISITION_COLUMNS`. Both files come from
    `acquisition_rows`, so they never disagree. The list columns (musicbrainz_ids, archive_ids,
    artists, holdings, reasons, evidence_urls) are real lists in JSON and ';'-joined in the
    CSV; label, catalog_number and matrix are text ('; '-joined when a cluster's records
    disagree). The CSV is UTF-8 with a header row, and any cell that a spreadsheet would read
    as a formula is neutralised with a leading apostrophe (the JSON keeps the text unchanged).
    The JSON file is one object:

        {"generated_from": "<database file name, '' for an in-memory database>",
         "as_of": "<assessment date, YYYY-MM-DD, or null before any assessment>",
         "columns": [ACQUISITION_COLUMNS ...],
         "rows": [{column: value, ...}, ...]}

    `generated_from` is the file name only, not its full path, so a report shared with others
    does not reveal local directories and is identical wherever it is built. No file holds a
    generation timestamp: the same database always gives byte-identical reports.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import altair as alt
import duckdb
import vl_convert
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from preservation.queries import run_query
from preservation.store import scalar

HTML_NAME = "at-risk.html"
CSV_NAME = "acquisition-list.csv"
JSON_NAME = "acquisition-list.json"

ACQUISITION_COLUMNS = (
    "cluster_id",
    "musicbrainz_ids",
    "archive_ids",
    "title",
    "artists",
    "label",
    "catalog_number",
    "matrix",
    "date",
    "us_recording_status",
    "us_recording_expires",
    "eu_recording_status",
    "eu_recording_expires",
    "us_composition_status",
    "us_composition_expires",
    "eu_composition_status",
    "eu_composition_expires",
    "us_free_to_share",
    "eu_free_to_share",
    "holdings",
    "status",
    "risk_level",
    "score",
    "reasons",
    "evidence_urls",
)

# Cells starting with these are run as formulas by spreadsheet programs (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# The at-risk clusters with everything the acquisition list and the HTML table show.
# label, catalog_number and matrix: the distinct values of the cluster's records, '; '-joined
# (records of one recording rarely disagree, and when they do a buyer needs to see all of them).
# date: the earliest date any record gives. holdings: live copies only, as 'Platform (class)'.
# evidence_urls: every holding URL (live or not) and every record's own page.
AT_RISK_SQL = """
WITH members AS (
    SELECT c.cluster_id, r.*
    FROM clusters AS c JOIN recordings AS r USING (record_id)
),
held AS (
    SELECT c.cluster_id, h.*
    FROM clusters AS c JOIN holdings AS h USING (record_id)
),
records AS (
    SELECT
        cluster_id,
        list(DISTINCT source_id ORDER BY source_id)
            FILTER (WHERE source = 'musicbrainz') AS musicbrainz_ids,
        list(DISTINCT source_id ORDER BY source_id)
            FILTER (WHERE source IN ('internetarchive', 'loc')) AS archive_ids,
        string_agg(DISTINCT label, '; ' ORDER BY label) AS label,
        string_agg(DISTINCT catalog_number, '; ' ORDER BY catalog_number) AS catalog_number,
        string_agg(DISTINCT matrix, '; ' ORDER BY matrix) AS matrix,
        min(date) AS date
    FROM members
    GROUP BY cluster_id
),
live AS (
    SELECT cluster_id, list(DISTINCT holding ORDER BY holding) AS holdings
    FROM (
        SELECT cluster_id, platform || ' (' || access_class || ')' AS holding FROM held WHERE live
    )
    GROUP BY cluster_id
),
evidence AS (
    SELECT cluster_id, list(DISTINCT url ORDER BY url) AS evidence_urls
    FROM (
        SELECT cluster_id, url FROM held
        UNION ALL
        SELECT cluster_id, page_url FROM members WHERE page_url IS NOT NULL
    )
    GROUP BY cluster_id
),
-- One row per cluster: us_recording_status, us_recording_expires ... eu_both_expires.
rights AS (
    PIVOT (
        SELECT cluster_id, lower(jurisdiction) || '_' || layer AS part, status, expires_year
        FROM rights_status WHERE jurisdiction IN ('US', 'EU')
    )
    ON part IN ('us_recording', 'eu_recording', 'us_composition', 'eu_composition',
                'us_both', 'eu_both')
    USING any_value(status) AS status, any_value(expires_year) AS expires
    GROUP BY cluster_id
)
SELECT
    k.cluster_id,
    coalesce(records.musicbrainz_ids, []) AS musicbrainz_ids,
    coalesce(records.archive_ids, []) AS archive_ids,
    k.title,
    coalesce(k.artists, []) AS artists,
    records.label,
    records.catalog_number,
    records.matrix,
    records.date,
    rights.us_recording_status,
    rights.us_recording_expires,
    rights.eu_recording_status,
    rights.eu_recording_expires,
    rights.us_composition_status,
    rights.us_composition_expires,
    rights.eu_composition_status,
    rights.eu_composition_expires,
    -- free to preserve and share: the recording and the work both public domain
    rights.us_both_status AS us_free_to_share,
    rights.eu_both_status AS eu_free_to_share,
    coalesce(live.holdings, []) AS holdings,
    k.status,
    k.risk_level,
    k.score,
    k.reasons,
    coalesce(evidence.evidence_urls, []) AS evidence_urls,
    k.year
FROM risk AS k
LEFT JOIN records USING (cluster_id)
LEFT JOIN live USING (cluster_id)
LEFT JOIN evidence USING (cluster_id)
LEFT JOIN rights USING (cluster_id)
WHERE k.risk_level IN ('high', 'medium')
ORDER BY k.score DESC, k.cluster_id
"""

# The summary figures of the HTML page: name -> (label, query). Each query gives one number.
FIGURES: dict[str, tuple[str, str]] = {
    "clusters": ("clusters", "SELECT count(*) FROM risk"),
    "at_risk": (
        "at risk (high or medium)",
        "SELECT count(*) FROM risk WHERE risk_level IN ('high', 'medium')",
    ),
    "high": ("high risk", "SELECT count(*) FROM risk WHERE risk_level = 'high'"),
    "medium": ("medium risk", "SELECT count(*) FROM risk WHERE risk_level = 'medium'"),
    "low": ("low risk", "SELECT count(*) FROM risk WHERE risk_level = 'low'"),
    "open_copy": ("with an open copy", "SELECT count(*) FROM risk WHERE has_open_copy"),
    "single_platform": ("on a single platform", "SELECT count(*) FROM risk WHERE single_platform"),
    "closed_garden_only": (
        "in closed gardens only",
        "SELECT count(*) FROM risk WHERE closed_garden_only",
    ),
    "vanished": ("with a vanished copy", "SELECT count(*) FROM risk WHERE vanished"),
}

STATUS_SQL = "SELECT status, count(*) AS clusters FROM risk GROUP BY status ORDER BY status"

# Fixed colours (Okabe-Ito, readable with colour-blindness), so a class keeps its colour
# from one report to the next; open to closed, then 'none'.
ACCESS_COLOURS = {
    "open_archive": "#009E73",
    "free_stream": "#56B4E9",
    "paid_stream": "#0072B2",
    "store": "#E69F00",
    "none": "#999999",
}
OTHER_COLOUR = "#555555"


def write_reports(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Write at-risk.html, acquisition-list.csv and acquisition-list.json into out_dir.

    Returns the paths written. The three files are rewritten whole on every run.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    clusters = _query(con, AT_RISK_SQL)
    rows = _acquisition(clusters)
    as_of = _as_of(con)
    html = out_dir / HTML_NAME
    html.write_text(_render_html(con, clusters, as_of), encoding="utf-8")
    return [html, _write_csv(rows, out_dir / CSV_NAME), _write_json(con, rows, as_of, out_dir)]


def acquisition_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The acquisition list: at-risk clusters, highest score first, with ACQUISITION_COLUMNS."""
    return _acquisition(_query(con, AT_RISK_SQL))


def neutralise_formula(cell: str) -> str:
    """Prefix an apostrophe to a cell a spreadsheet would run as a formula (CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def _acquisition(clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The at-risk clusters cut to ACQUISITION_COLUMNS (the query also gives the HTML's `year`)."""
    return [{c: r[c] for c in ACQUISITION_COLUMNS} for r in clusters]


def _as_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """The assessment date the risk table was computed for (None before any assessment)."""
    as_of = scalar(con, "SELECT strftime(max(as_of), '%Y-%m-%d') FROM risk")
    return None if as_of is None else str(as_of)


def _csv_cell(value: object) -> str:
    """One CSV cell: lists ';'-joined, NULL empty, formula-like text neutralised."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    return neutralise_formula(str(value))


def _write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    """The acquisition list for spreadsheets: one header row, one text cell per column."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ACQUISITION_COLUMNS)
        writer.writerows([_csv_cell(row[c]) for c in ACQUISITION_COLUMNS] for row in rows)
    return path


def _write_json(
    con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], as_of: str | None, out_dir: Path
) -> Path:
    """The acquisition list for programs, in the layout the module docstring documents."""
    db_path = scalar(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    document = {
        "generated_from": Path(str(db_path)).name if db_path else "",
        "as_of": as_of,
        "columns": list(ACQUISITION_COLUMNS),
        "rows": rows,
    }
    path = out_dir / JSON_NAME
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _render_html(
    con: duckdb.DuckDBPyConnection, clusters: list[dict[str, Any]], as_of: str | None
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
    figures = [(name, label, scalar(con, sql)) for name, (label, sql) in FIGURES.items()]
    return env.get_template("at-risk.html.j2").render(
        as_of=as_of,
        figures=figures,
        decade_chart=_svg(_decade_chart(_named(con, "coverage_by_decade"))),
        status_chart=_svg(_status_chart(_query(con, STATUS_SQL))),
        clusters=clusters,
        csv_name=CSV_NAME,
        json_name=JSON_NAME,
    )


def _is_web_url(url: str) -> bool:
    """Only http(s) URLs become links: a stored 'javascript:' URL must never be clickable."""
    return urlsplit(url).scheme in ("http", "https")


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """The rows of a query as dicts keyed by column name."""
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _named(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    """The rows of a named query from queries/, so the chart and the query cannot disagree."""
    columns, rows = run_query(con, name)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _decade_chart(data: list[dict[str, Any]]) -> alt.Chart:
    """Grouped bars: clusters per decade, one bar per access class of their live copies."""
    decades = list(dict.fromkeys(d["decade"] for d in data))
    extra = sorted({d["access_class"] for d in data} - ACCESS_COLOURS.keys())
    domain = [*ACCESS_COLOURS, *extra]
    colours = [*ACCESS_COLOURS.values(), *[OTHER_COLOUR] * len(extra)]
    return (
        alt.Chart(alt.Data(values=data))
        .mark_bar()
        .encode(
            x=alt.X("decade:N", sort=decades, title="decade", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("access_class:N", sort=domain),
            y=alt.Y("clusters:Q", title="clusters", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "access_class:N",
                title="access class",
                scale=alt.Scale(domain=domain, range=colours),
            ),
        )
        .properties(width=640, height=260)
    )


def _status_chart(data: list[dict[str, Any]]) -> alt.Chart:
    """Horizontal bars: clusters per risk status, most common first."""
    return (
        alt.Chart(alt.Data(values=data))
        .mark_bar(color="#0072B2")
        .encode(
            y=alt.Y("status:N", sort="-x", title=None),
            x=alt.X("clusters:Q", title="clusters", axis=alt.Axis(tickMinStep=1)),
        )
        .properties(width=520)
    )


def _svg(chart: alt.Chart) -> Markup:
    """Render a chart to SVG offline; vl-convert's SVG is markup with no external references."""
    readable = (
        chart.configure_axis(labelFontSize=12, titleFontSize=13)
        .configure_legend(labelFontSize=12, titleFontSize=13)
        .configure_view(stroke=None)
    )
    return Markup(vl_convert.vegalite_to_svg(readable.to_dict()))
