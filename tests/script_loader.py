"""Load a script of the project that is not a package module (a benchmark, a golden-file generator).

The tests run with ``--import-mode=importlib``, so a test file cannot import its neighbours; this
module is on the path through ``pythonpath = ["tests"]`` in pyproject.toml. A script is loaded once
per run and registered in ``sys.modules`` under its name, so that its dataclasses and pickles resolve.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_script(path: str | Path, name: str | None = None) -> ModuleType:
    """The module of ``path`` (relative to the project root, or absolute), loaded once."""
    path = (ROOT / path).resolve()
    name = name or path.stem
    known = sys.modules.get(name)
    if known is not None and Path(getattr(known, "__file__", "") or "").resolve() == path:
        return known
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_benchmark(name: str) -> ModuleType:
    """A script of ``benchmarks/`` by its name without ``.py``."""
    return load_script(Path("benchmarks") / f"{name}.py")
