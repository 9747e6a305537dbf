"""The charts of at-risk.html: Vega-Lite specs built with altair from the rows of their named
query, rendered to SVG by vl-convert, which runs offline. Imported only when a page is drawn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import vl_convert
from markupsafe import Markup

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
STATUS_COLOURS = {"public_domain": "#009E73", "in_copyright": "#D55E00", "undetermined": "#999999"}


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
            x=alt.X("sum(clusters):Q", title="clusters", axis=alt.Axis(tickMinStep=1)),
        )
        .properties(width=520)
    )


def _platform_chart(data: list[dict[str, Any]]) -> alt.Chart:
    """Horizontal bars: live copies per platform, closed commercial platforms marked."""
    rows = [{**d, "kind": "closed" if d["closed_garden"] else "open or free"} for d in data]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("platform:N", sort="-x", title=None),
            x=alt.X("live_copies:Q", title="live copies", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "kind:N",
                title="platform",
                scale=alt.Scale(domain=["open or free", "closed"], range=["#009E73", "#D55E00"]),
            ),
        )
        .properties(width=520)
    )


def _rights_chart(data: list[dict[str, Any]]) -> alt.Chart:
    """Stacked bars per jurisdiction, one row of bars per layer: clusters by rights status."""
    return (
        alt.Chart(alt.Data(values=data))
        .mark_bar()
        .encode(
            y=alt.Y("jurisdiction:N", title=None),
            x=alt.X("clusters:Q", title="clusters", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "status:N",
                title="status",
                scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
            ),
            order=alt.Order("status_order:Q"),
        )
        .transform_calculate(
            status_order="indexof(['public_domain', 'in_copyright', 'undetermined'], datum.status)"
        )
        .properties(width=420, height=150)
        .facet(row=alt.Row("layer:N", title=None, sort=["recording", "composition", "both"]))
    )


# query, title, caption, how to draw its rows
CHARTS: list[tuple[str, str, str, Callable[[list[dict[str, Any]]], alt.TopLevelMixin]]] = [
    (
        "coverage_by_decade",
        "Coverage by decade and access class",
        "Clusters per decade of recording, by the access class of their live copies (none: no "
        "live copy is known; a catalogue entry is not a copy). A cluster with live copies of "
        "several classes counts once in each.",
        _decade_chart,
    ),
    (
        "platform_concentration",
        "Platform concentration",
        "Live copies per platform: how much of what survives depends on each one. Closed "
        "commercial platforms decide alone what stays.",
        _platform_chart,
    ),
    (
        "rights_by_jurisdiction",
        "Rights status per jurisdiction",
        "Clusters public domain, in copyright or undetermined, as sound recordings, as musical "
        "works, and both together (free to preserve and share). Information, not legal advice.",
        _rights_chart,
    ),
    (
        "status_summary",
        "Clusters by risk status",
        "How many clusters are in each risk status.",
        _status_chart,
    ),
]


def svg(chart: alt.TopLevelMixin) -> Markup:
    """Render a chart to SVG offline; vl-convert's SVG is markup with no external references."""
    readable = (
        chart.configure_axis(labelFontSize=12, titleFontSize=13)
        .configure_legend(labelFontSize=12, titleFontSize=13)
        .configure_view(stroke=None)
    )
    return Markup(vl_convert.vegalite_to_svg(readable.to_dict()))
