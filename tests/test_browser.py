"""at-risk.html in a real headless browser: it renders and asks the network for nothing.

Needs Chromium (Debian package `chromium`); skipped where it is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from preservation.report_charts import CHARTS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def page_requests(page: Path, tmp_path: Path) -> tuple[str, list[str], list[str]]:
    """Load `page` headless; return its rendered DOM, the network URLs the page asked for, and
    what it wrote to the browser console (script errors land there).

    Chromium's own background traffic has no page initiator ('not an origin'); what a file://
    page requests carries the initiator 'null'.
    """
    netlog = tmp_path / "netlog.json"
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--log-net-log={netlog}",
            "--virtual-time-budget=3000",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    events = json.loads(netlog.read_text())["events"]
    urls = {
        e["params"]["url"]
        for e in events
        if isinstance(e.get("params"), dict)
        and isinstance(e["params"].get("url"), str)
        and e["params"].get("initiator") not in (None, "not an origin")
    }
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    requested = sorted(u for u in urls if not u.startswith(("file:", "data:")))
    return result.stdout, requested, console


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@needs_chromium
def test_report_renders_without_network_requests(sample_run, tmp_path: Path):
    summary, reports = sample_run
    dom, requested, console = page_requests(reports / "at-risk.html", tmp_path)
    assert "At-risk recordings" in dom and dom.count("<svg") == len(CHARTS)
    # the sort/filter script ran: it writes how many rows are shown
    con = duckdb.connect(str(summary.db), read_only=True)
    (at_risk,) = con.execute(
        "SELECT count(*) FROM risk WHERE risk_level IN ('high', 'medium')"
    ).fetchone()
    con.close()
    assert f"{at_risk} of {at_risk} shown" in dom
    assert requested == []
    assert console == []


@needs_chromium
def test_the_check_sees_a_page_that_does_request(tmp_path: Path):
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    _, requested, _ = page_requests(page, tmp_path)
    assert requested == ["http://127.0.0.1:9/x.png"]


@needs_chromium
def test_the_check_sees_a_script_error(tmp_path: Path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    _, _, console = page_requests(page, tmp_path)
    assert len(console) == 1 and "undefinedFunction" in console[0]
