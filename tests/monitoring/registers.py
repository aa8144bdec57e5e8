"""The golden synthetic registers (tests/golden/monitoring) as a loaded store, shared by tests."""

from __future__ import annotations

import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "monitoring"
MODEL_NAMES = ("veien-videre", "kvalifisering-lokal", "kvalifisering-nasjonal")
MODELS = tuple(ROOT / "models" / f"{name}.yaml" for name in MODEL_NAMES)
AS_OF = "2014-01-15"
BY = ("centre", "region", "nationality", "sex", "age_band", "household", "measure")


def extract(folder: Path) -> Path:
    """Unpack the register extracts into ``folder``; returns the extract folder."""
    with tarfile.open(GOLDEN / "registers.tgz") as archive:
        archive.extractall(folder, filter="data")
    return folder / "csv"


def loaded_store(folder: Path) -> Path:
    """A store with the golden registers loaded (``tiltak load``)."""
    from monitoring.load import load_directory

    store = folder / "registers.duckdb"
    load_directory(store, extract(folder))
    return store


def monitored_models():
    from tiltak.loading import load_models

    return [loaded.monitored for loaded in load_models([str(p) for p in MODELS])]


def shown_json(store: Path, model) -> str:
    """``tiltak monitor show MODEL --format json --by ...`` of one model."""
    from monitoring.runs import open_store
    from monitoring.show import render_json, value_table

    opened = open_store(store, 0.0, read_only=True)
    try:
        return render_json(value_table(opened.connect(), model, by=BY))
    finally:
        opened.close()
