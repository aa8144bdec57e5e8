"""Writing the registers as CSV extract files (one per table) that ``tiltak load`` reads.

Every file is written to a temporary folder first and moved into place only when all
files are written, so a failure leaves no half-written extract behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from tiltak.synth.errors import SynthError
from tiltak.synth.registers import SyntheticRegisters

TRUTH_FOLDER = "truth"
"""Sub-folder of the ground-truth files, kept apart from the contract tables."""


def csv_text(frame: pd.DataFrame) -> str:
    """Deterministic CSV: ISO dates, lower-case booleans, empty cells for nulls."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            out[name] = column.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(column):
            out[name] = column.map({True: "true", False: "false"}).astype(object)
    return out.to_csv(index=False, lineterminator="\n")


def extract_files(registers: SyntheticRegisters) -> dict[str, str]:
    """Relative file name -> CSV text for the tables and the ground truth."""
    files = {f"{name}.csv": csv_text(frame) for name, frame in registers.tables.items()}
    files[f"{TRUTH_FOLDER}/truth_effects.csv"] = csv_text(registers.truth_effects)
    files[f"{TRUTH_FOLDER}/truth_outcomes.csv"] = csv_text(registers.truth_outcomes)
    return files


def write_csv(registers: SyntheticRegisters, directory: str | Path) -> list[Path]:
    """Write the extract files into ``directory`` (created if needed); returns their paths."""
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise SynthError(f"--csv {target}: expected a folder; got an existing file")
    files = extract_files(registers)
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".synth-", dir=target))
    except OSError as exc:
        raise SynthError(f"--csv {target}: cannot create the folder: {exc.strerror or exc}") from None
    try:
        for name, text in files.items():
            (staging / name).parent.mkdir(exist_ok=True)
            (staging / name).write_text(text, encoding="utf-8")
        (target / TRUTH_FOLDER).mkdir(exist_ok=True)
        for name in files:
            os.replace(staging / name, target / name)
    except OSError as exc:
        raise SynthError(f"--csv {target}: cannot write the extract files: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [target / name for name in files]
