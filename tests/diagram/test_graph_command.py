"""`tiltak graph` end to end with the diagram renderers, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from diagram_geometry import boxes, check_geometry, parse

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "veien-videre.yaml"


def tiltak(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiltak", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_svg_from_the_command_is_clean_and_complete(tmp_path):
    target = tmp_path / "vv.svg"
    done = tiltak("graph", str(MODEL), "--format", "svg", "-o", str(target))
    assert done.returncode == 0, done.stderr
    svg = target.read_text(encoding="utf-8")
    check_geometry(svg)
    assert len(boxes(parse(svg))) >= 10


@pytest.mark.parametrize("fmt,marker", [("dot", "rank=same;"), ("mermaid", "flowchart")])
def test_text_formats_from_the_command(fmt, marker):
    done = tiltak("graph", str(MODEL), "--format", fmt, "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout and "Activities" in done.stdout


@pytest.mark.parametrize("args, svg, dot, mermaid", [
    ((), "tb", "rankdir=TB", "flowchart TB"),  # auto: at full size left to right it is wider than 1000 px
    (("--width", "2400"), "lr", "rankdir=LR", "flowchart LR"),  # auto: fits 2400 px left to right (2342)
    (("--direction", "lr"), "lr", "rankdir=LR", "flowchart LR"),
    (("--direction", "tb", "--width", "2400"), "tb", "rankdir=TB", "flowchart TB"),
])
def test_direction_is_chosen_or_given(args, svg, dot, mermaid):
    drawn = {fmt: tiltak("graph", str(MODEL), "--format", fmt, *args) for fmt in ("svg", "dot", "mermaid")}
    assert all(done.returncode == 0 for done in drawn.values()), [d.stderr for d in drawn.values()]
    assert f'data-direction="{svg}"' in drawn["svg"].stdout
    assert f"rankdir={dot[-2:]}," in drawn["dot"].stdout and f"\n{mermaid}\n" in drawn["mermaid"].stdout
    check_geometry(drawn["svg"].stdout)


@pytest.mark.parametrize("args, message", [
    (("--direction", "up"), "Invalid value for '--direction': 'up' is not one of 'auto', 'lr', 'tb'."),
    (("--width", "300"), "Invalid value for '--width': 300.0 is not in the range x>=320."),
    (("--width", "wide"), "Invalid value for '--width': 'wide' is not a valid float range."),
])
def test_bad_direction_or_width_is_a_usage_error(args, message):
    done = tiltak("graph", str(MODEL), *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_same_output_twice():
    first = tiltak("graph", str(MODEL), "--format", "svg")
    second = tiltak("graph", str(MODEL), "--format", "svg")
    assert first.returncode == 0 and first.stdout == second.stdout
