"""The report measured in headless Chromium: it fits 500, 768 and 1280 px in every language and
axe-core (WCAG 2.1 A and AA rules) finds no violation.

The measuring script is ``tests/browser/check.js`` (puppeteer-core driving the system Chromium,
axe-core injected into the page); ``npm ci`` in ``tests/browser`` installs both from the lock
file (``.ci/run`` does it). On a developer machine without Chromium, Node.js or that install the
tests skip with a message naming what is missing; with ``TILTAK_BROWSER_REQUIRED=1`` (set by
``.ci/run``) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tiltak import pipeline
from tiltak.report.build import build_report
from tiltak.report.labels import LABELS

BROWSER_DIR = Path(__file__).resolve().parents[1] / "browser"
WIDTHS = (500, 768, 1280)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NODE = shutil.which("node")

pytestmark = pytest.mark.browser


def _missing() -> str | None:
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install chromium)"
    if NODE is None:
        return "Node.js is not installed (apt-get install nodejs npm)"
    if not (BROWSER_DIR / "node_modules" / "puppeteer-core").is_dir() or not (BROWSER_DIR / "node_modules" / "axe-core").is_dir():
        return "the browser checks' packages are not installed (cd tests/browser && npm ci)"
    return None


def _require_browser() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("TILTAK_BROWSER_REQUIRED") == "1":
        pytest.fail(f"TILTAK_BROWSER_REQUIRED=1 but {reason}")
    pytest.skip(f"{reason}; the report's browser tests need it")


def measure(pages: list[Path]) -> list[dict]:
    run = subprocess.run([NODE, str(BROWSER_DIR / "check.js"), CHROMIUM, ",".join(map(str, WIDTHS)), *map(str, pages)],
                         capture_output=True, text=True, timeout=600, cwd=BROWSER_DIR)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)["results"]


BAD_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>bad</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<h1>Bad page</h1><div style="overflow-x:auto" id="box"><table><tr><td style="min-width:3000px">wide</td></tr></table></div>
<p style="color:#bbb;background:#fff">pale text</p><div style="width:2000px">too wide for the page</div></main></body></html>"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[tuple[str, int], dict]:
    """The demo's report rendered in every language, plus a page built to fail, measured in one browser run."""
    _require_browser()
    out = tmp_path_factory.mktemp("browser")
    pipeline.demo(out / "demo", seed=3, synth_options={"scale": 0.25})
    document = json.loads((out / "demo" / "evaluation.json").read_text(encoding="utf-8"))
    views = {i.view.id: i.view for i in pipeline.load_inputs([pipeline.shipped_models_dir()])}
    pages = []
    for lang in sorted(LABELS):
        page = out / f"report-{lang}.html"
        page.write_text(build_report(document, {"views": views}, lang), encoding="utf-8")
        pages.append(page)
    bad = out / "bad.html"
    bad.write_text(BAD_PAGE, encoding="utf-8")
    results = measure([*pages, bad])
    return {(Path(r["page"]).stem, r["width"]): r for r in results}


CASES = [(f"report-{lang}", width) for lang in sorted(LABELS) for width in WIDTHS]


@pytest.mark.parametrize("page, width", CASES)
def test_the_report_fits_the_width_with_nothing_cut_off(measured, page, width):
    result = measured[(page, width)]
    assert result["innerWidth"] == width
    assert result["scrollWidth"] <= result["innerWidth"], result["scrollWidth"]
    assert result["clipped"] == []


@pytest.mark.parametrize("page, width", CASES)
def test_axe_core_finds_no_wcag_violation(measured, page, width):
    assert measured[(page, width)]["violations"] == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_measurements_can_fail(measured, width):
    result = measured[("bad", width)]
    assert result["scrollWidth"] > result["innerWidth"]
    assert [c["id"] for c in result["clipped"]] == ["box"]
    assert "color-contrast" in {v["id"] for v in result["violations"]}
