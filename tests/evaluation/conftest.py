"""Fixtures shared by the estimate tests: a small synthetic store and the shipped models."""

from __future__ import annotations

import pytest

from tiltak import pipeline


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A synthetic store (seed 4, scale 0.1), one per test module."""
    db = tmp_path_factory.mktemp("estimate") / "registers.duckdb"
    pipeline.write_synthetic_store(db, 4, scale=0.1)
    return db


@pytest.fixture(scope="module")
def inputs():
    """The shipped models, loaded once per test module."""
    return pipeline.load_inputs([pipeline.shipped_models_dir()])
