"""The runnable examples in the docstrings of the issue-9 estimation modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["estimation.incidence", "estimation.incidence_effects", "estimation.variance",
           "estimation.censoring", "estimation.mstatistic", "estimation.sensitivity",
           "estimation.calibration"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
