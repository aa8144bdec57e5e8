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


@pytest.mark.parametrize("fmt,marker", [("dot", "rank=same;"), ("mermaid", "flowchart LR")])
def test_text_formats_from_the_command(fmt, marker):
    done = tiltak("graph", str(MODEL), "--format", fmt, "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout and "Activities" in done.stdout


def test_same_output_twice():
    first = tiltak("graph", str(MODEL), "--format", "svg")
    second = tiltak("graph", str(MODEL), "--format", "svg")
    assert first.returncode == 0 and first.stdout == second.stdout
