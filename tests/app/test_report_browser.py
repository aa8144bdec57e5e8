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


def measure(pages: list[Path], widths=WIDTHS) -> list[dict]:
    run = subprocess.run([NODE, str(BROWSER_DIR / "check.js"), CHROMIUM, ",".join(map(str, widths)), *map(str, pages)],
                         capture_output=True, text=True, timeout=600, cwd=BROWSER_DIR)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)["results"]


BAD_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>bad</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<h1>Bad page</h1><div style="overflow-x:auto" id="box"><table><tr><td style="min-width:3000px">wide</td></tr></table></div>
<p style="color:#bbb;background:#fff">pale text</p><div style="width:2000px">too wide for the page</div></main></body></html>"""


PRINT = "print:680"  # an A4 page with 15 mm margins leaves 180 mm = 680 CSS px
PHONE = "lite:360"  # a small phone: the diagrams are measured there too (no axe-core run)
STYLE = (Path(__file__).resolve().parents[2] / "tiltak" / "report" / "report.css").read_text(encoding="utf-8")


def _page(title: str, figures: str, style: str = STYLE) -> str:
    return (f'<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{style}</style></head>'
            f"<body><main><h1>{title}</h1>{figures}</main></body></html>")


def _figure(inner: str, label: str) -> str:
    return f'<figure class="diagram" aria-label="{label}"><div class="fit">{inner}</div></figure>'


def large_models() -> list:
    """A 45-node model with verdicts and ratings, and a generated one of 48 nodes with verdicts."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diagram"))
    from diagram_samples import VERDICTS, random_layered, return_model

    generated = random_layered(48, seed=11)
    for index, (_, attrs) in enumerate(generated.nodes(data=True)):
        if attrs["level"] in ("outcome", "impact"):
            attrs["verdict"] = VERDICTS[index % len(VERDICTS)]
    return [return_model(verdicts=True, ratings=True), generated]


def large_page() -> str:
    from tiltak.report.build import diagram_html

    return _page("Store modeller", "".join(_figure(diagram_html(g, "nb"), g.graph["title"]) for g in large_models()))


def small_text_page() -> str:
    """Built to fail the diagram check: the full-size drawing scaled to the page (tiny text),
    then the same drawing at full size (past the window's edge)."""
    from logicmodel.diagram import to_svg

    graph = large_models()[0]
    scaled = to_svg(graph, direction="lr", id_suffix="scaled").replace("<svg ", '<svg style="width:100%;height:auto" ', 1)
    full = to_svg(graph, direction="lr", id_suffix="full")
    return _page("Feil", _figure(scaled[scaled.index("<svg"):], "skalert") + _figure(full[full.index("<svg"):], "full"),
                 style="")


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[tuple[str, int | str], dict]:
    """The demo's report rendered in every language, a page of large diagrams and pages built
    to fail, measured in one browser run (on screen at each width, and printed on A4)."""
    _require_browser()
    out = tmp_path_factory.mktemp("browser")
    pipeline.demo(out / "demo", seed=3, synth_options={"scale": 0.25})
    document = json.loads((out / "demo" / "evaluation.json").read_text(encoding="utf-8"))
    models = {i.model.id: i.model for i in pipeline.load_inputs([pipeline.shipped_models_dir()])}
    pages = []
    for lang in sorted(LABELS):
        page = out / f"report-{lang}.html"
        page.write_text(build_report(document, {"models": models}, lang), encoding="utf-8")
        pages.append(page)
    for name, text in (("bad", BAD_PAGE), ("large", large_page()), ("small-text", small_text_page())):
        (out / f"{name}.html").write_text(text, encoding="utf-8")
        pages.append(out / f"{name}.html")
    results = measure(pages, (PHONE, *WIDTHS, PRINT))
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


# ---- the logic-model diagrams: readable text, nothing past the edge -----------------------

MIN_TEXT_PX = 11.0
REPORTS = [f"report-{lang}" for lang in sorted(LABELS)]
DIAGRAM_CASES = [(page, width) for page in [*REPORTS, "large"] for width in (PHONE, *WIDTHS)]


def _readable_and_within(result: dict, expected: int) -> None:
    diagrams = result["diagrams"]
    assert len(diagrams) == expected, [d["id"] for d in diagrams]  # one drawing per model on show
    for d in diagrams:
        assert d["texts"] > 10, d
        assert d["minFont"] >= MIN_TEXT_PX, d
        assert d["minHeight"] >= MIN_TEXT_PX, d
        assert d["left"] >= 0 and d["right"] <= d["figureRight"] + 0.5 and d["right"] <= result["innerWidth"], d


@pytest.mark.parametrize("page, width", DIAGRAM_CASES)
def test_diagram_text_is_at_least_11px_and_nothing_overflows(measured, page, width):
    result = measured[(page, width)]
    _readable_and_within(result, 2 if page == "large" else 3)
    if page == "large" or width != PHONE:  # the report's tables at 360 px are not this test's business
        assert result["scrollWidth"] <= result["innerWidth"] and result["clipped"] == []
    assert {d["direction"] for d in result["diagrams"]} == {"tb"}  # all too wide to fit left to right


@pytest.mark.parametrize("page", [*REPORTS, "large"])
def test_printed_diagram_fits_an_a4_page_with_readable_text(measured, page):
    result = measured[(page, PRINT)]
    _readable_and_within(result, 2 if page == "large" else 3)
    assert all(d["right"] <= 680.5 for d in result["diagrams"])


@pytest.mark.parametrize("width", WIDTHS)
def test_the_large_diagrams_page_has_no_wcag_violation(measured, width):
    assert measured[("large", width)]["violations"] == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_diagram_check_can_fail(measured, width):
    scaled, full = measured[("small-text", width)]["diagrams"]
    assert scaled["minFont"] < MIN_TEXT_PX and scaled["right"] <= scaled["figureRight"] + 0.5
    assert full["minFont"] >= MIN_TEXT_PX and full["right"] > measured[("small-text", width)]["innerWidth"]
