"""Love and overlap plots: valid, accessible SVG, identical bytes for identical input."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from estimation.balance import balance_table
from estimation.errors import EstimationError
from estimation.plots import love_plot_svg, overlap_plot_svg

from script_loader import load_script

ROOT = Path(__file__).parents[2]
golden = load_script("tests/golden/balance_extra/golden_samples.py")
NS = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())


def test_love_plot_is_accessible_svg_naming_terms_and_threshold():
    sample, _ = golden.sample("lalonde_nn1")
    svg = love_plot_svg(balance_table(sample))
    root = _parse(svg)
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert root.find(f"{NS}title").text == "Covariate balance"
    desc = root.find(f"{NS}desc").text
    assert "reference line at 0.1" in desc and "racewhite" in desc
    for term in ("age", "educ", "raceblack", "re75", "distance"):
        assert f">{term}<" in svg


def test_overlap_plot_is_accessible_svg():
    sample, _ = golden.sample("lalonde_nn2_replace")
    root = _parse(overlap_plot_svg(sample, bins=20))
    assert "Mirrored histograms" in root.find(f"{NS}desc").text
    assert "Matched: 185 treated" in root.find(f"{NS}desc").text


def test_plots_are_identical_across_calls_and_processes():
    sample, _ = golden.sample("lalonde_nn1")
    table = balance_table(sample)
    assert love_plot_svg(table) == love_plot_svg(table)
    assert overlap_plot_svg(sample) == overlap_plot_svg(sample)
    script = (
        "import importlib.util, sys, hashlib\n"
        f"spec = importlib.util.spec_from_file_location('g', r'{golden.__file__}')\n"
        "g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)\n"
        "from estimation.balance import balance_table\n"
        "from estimation.plots import love_plot_svg, overlap_plot_svg\n"
        "s, _ = g.sample('lalonde_nn1')\n"
        "print(hashlib.sha256((love_plot_svg(balance_table(s)) + overlap_plot_svg(s)).encode())"
        ".hexdigest())\n"
    )
    import hashlib

    here = hashlib.sha256((love_plot_svg(table) + overlap_plot_svg(sample)).encode()).hexdigest()
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == here


def test_plot_errors_are_named():
    sample, _ = golden.sample("lalonde_nn1")
    with pytest.raises(EstimationError, match="love_plot_svg expects a BalanceTable"):
        love_plot_svg(sample)
    with pytest.raises(EstimationError, match="'threshold' parameter of love_plot_svg"):
        love_plot_svg(balance_table(sample), threshold=-1)
    with pytest.raises(EstimationError, match="'bins' parameter of overlap_plot_svg"):
        overlap_plot_svg(sample, bins=1)


def test_plots_do_not_depend_on_global_matplotlib_settings():
    import matplotlib

    sample, _ = golden.sample("lalonde_nn1")
    table = balance_table(sample)
    reference = love_plot_svg(table) + overlap_plot_svg(sample)
    with matplotlib.rc_context({"font.size": 23, "lines.linewidth": 7, "axes.grid": True}):
        changed = love_plot_svg(table) + overlap_plot_svg(sample)
    assert changed == reference
