"""The report of qingyuan opened in a real browser (headless Chromium).

The page must load with no network and no error, show the headline, the county table
with the Chinese county names and the SVG plots, and draw them (the screenshot has the
colours of the plots). Chromium is a Debian package (``apt-get install chromium``);
``.ci/run`` installs it. Without it the test fails: a skipped browser test would hide
a page nobody has opened.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import talentplan as tp

pytestmark = pytest.mark.slow

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(String(e.message || (e.target && e.target.outerHTML) || e));
}, true);
var shown = console.error;
console.error = function () {
  window.__errors.push(Array.prototype.join.call(arguments, " "));
  shown.apply(console, arguments);
};
window.addEventListener("load", function () {
  document.body.setAttribute("data-errors", JSON.stringify(window.__errors));
});
</script>"""
"""Injected into a copy of the page: every error event (scripts, resources that fail to
load) and console error is written into the DOM, where ``--dump-dom`` shows it."""


def chromium() -> str:
    """The Chromium executable, or a failure that says how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium is missing: install it with `apt-get install -y chromium "
            "fonts-noto-cjk` (.ci/run does) to run the browser test of report.html"
        )
    return found


def browse(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium, offline, with its console on stderr."""
    command = [
        chromium(),
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: a fetch would fail loudly
        "--enable-logging=stderr",
        "--v=0",
        *flags,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


class Page(HTMLParser):
    """What the browser's DOM holds: tables by class, svg elements, text and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs = 0
        self.tables: dict[str, list[str]] = {}
        self.body: dict[str, str | None] = {}
        self.h2: list[str] = []
        self._table: str | None = None
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        elif tag == "body":
            self.body = attributes
        elif tag == "table":
            self._table = attributes.get("class") or ""
            self.tables[self._table] = []
        elif tag == "h2":
            self._in_h2 = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._table is not None and data.strip():
            self.tables[self._table].append(data.strip())
        if self._in_h2:
            self.h2.append(data.strip())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[tp.Instance, Path]:
    instance = tp.load_instance("qingyuan")
    result = tp.solve(instance, mip_gap=1e-2, compare=True)
    assert result.summary["comparisons"]["skipped"] is None
    folder = result.to_dir(tmp_path_factory.mktemp("qingyuan"))
    return instance, folder / "report.html"


def test_the_report_opens_without_errors_and_shows_headline_table_and_plots(report, tmp_path):
    instance, page = report
    text = page.read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    run = browse(probe, tmp_path / "profile", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    logged = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert logged == [], logged
    dom = Page()
    dom.feed(run.stdout)
    assert dom.body.get("data-errors") == "[]", dom.body
    assert "What the plan buys" in dom.h2
    counties = dom.tables["dataframe by-county-comparison"]
    for name in instance.counties["name"]:
        assert name in counties
    assert "useful talent: doing nothing" in counties
    assert "useful talent: subsidies only" in counties
    assert dom.svgs >= 5
    assert "dataframe allocation" in dom.tables


def test_the_report_draws_its_plots(report, tmp_path):
    _, page = report
    shot = tmp_path / "report.png"
    run = browse(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2400")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    from matplotlib.image import imread

    pixels = np.asarray(imread(shot))[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    spread = pixels.max(axis=-1) - pixels.min(axis=-1)
    coloured = float((spread > 0.3).mean())  # the heatmap and the bars, not text or rules
    assert coloured > 0.01, f"only {coloured:.2%} of the screenshot is in colour"


def test_a_missing_chromium_fails_and_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        chromium()
