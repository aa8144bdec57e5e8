"""A working copy of a constructed store for one test: the store, the shipped catalogue and
a model file beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def working_copy(folder: Path, template: Path, model_text: str) -> tuple[Path, Path]:
    """(store, model) in ``folder``: a copy of ``template``, models/indicators.yaml and the model."""
    db = folder / "store.duckdb"
    shutil.copy(template, db)
    shutil.copy(ROOT / "models" / "indicators.yaml", folder / "indicators.yaml")
    model = folder / "model.yaml"
    model.write_text(model_text, encoding="utf-8")
    return db, model
