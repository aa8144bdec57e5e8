"""The examples in the docstrings of the libraries run, and every public function and
estimator of ``logicmodel`` and ``estimation`` has one (as networkx documents its API).

The examples read the shipped models by their path from the repository root, as a user
who follows docs/logic-models.md would.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("logicmodel", "estimation", "tiltak_base")
EXTRA = ("tiltak.rules", "tiltak.loading", "monitoring.contract")


def _modules() -> list[str]:
    names = list(EXTRA)
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        names += [info.name for info in pkgutil.walk_packages(module.__path__, f"{package}.")]
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_the_examples_run(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0


def _public(package: str) -> list[tuple[str, object]]:
    module = importlib.import_module(package)
    found = []
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) and issubclass(obj, (Exception, Warning)):
            continue  # errors and warnings are shown where they are raised
        if inspect.isfunction(obj) or (inspect.isclass(obj) and hasattr(obj, "fit")):
            found.append((name, obj))
    return found


@pytest.mark.parametrize("package", ["logicmodel", "estimation"])
def test_every_public_function_and_estimator_has_an_example(package):
    missing = [name for name, obj in _public(package) if ">>>" not in (inspect.getdoc(obj) or "")]
    assert missing == [], f"{package}: no example in the docstring of {', '.join(missing)}"
