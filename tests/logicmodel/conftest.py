"""Fixtures: a valid model with its catalogue copied into a temporary folder, and a way
to break one thing in it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def run_tiltak(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tiltak`` in a subprocess, from the repository root by default."""
    return subprocess.run(
        [sys.executable, "-m", "tiltak", *args], capture_output=True, text=True, cwd=cwd or REPO, timeout=120
    )


@pytest.fixture
def cli():
    """The ``run_tiltak`` function: ``cli("validate", path)``."""
    return run_tiltak


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding ``valid.yaml`` and ``catalogue.yaml``."""
    for name in ("valid.yaml", "catalogue.yaml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def mutate(workdir: Path):
    """``mutate(old, new, file='valid.yaml')`` replaces text once and returns the path."""

    def apply(old: str, new: str, file: str = "valid.yaml") -> Path:
        path = workdir / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) >= 1, f"fixture text not found: {old!r}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    return apply
