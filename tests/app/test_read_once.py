"""Every command reads each model file (and its catalogue) once: the loaded, frozen object
is passed down, never read again from the path."""

from __future__ import annotations

import collections
import os
import shutil
from pathlib import Path

import pytest

from tiltak import pipeline

SHIPPED = pipeline.shipped_models_dir()


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """A copy of the shipped models (made before the reads are counted)."""
    folder = tmp_path / "models"
    shutil.copytree(SHIPPED, folder)
    return folder


@pytest.fixture
def reads(monkeypatch, models):
    """How often each YAML file is opened (by real path): by the one reader of logicmodel
    or by anything else."""
    counts: collections.Counter[str] = collections.Counter()
    real_open = open

    def counting_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file).endswith((".yaml", ".yml")):
            counts[os.path.realpath(file)] += 1
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: counting_open(self, *a, **k))
    return counts


def test_the_pipeline_reads_each_file_once_and_monitoring_uses_the_same_objects(reads, models):
    inputs = pipeline.load_inputs([models])
    assert sorted(Path(p).name for p in reads) == ["indicators.yaml", "kvalifisering-lokal.yaml",
                                                    "kvalifisering-nasjonal.yaml", "veien-videre.yaml"]
    assert set(reads.values()) == {1}
    assert all(i.monitored is not None and i.monitored.id == i.model.id for i in inputs)


@pytest.mark.parametrize("command", [
    ("validate", "{models}"),
    ("graph", "{models}/veien-videre.yaml", "--format", "json"),
    ("monitor", "check", "{models}/veien-videre.yaml", "{models}/kvalifisering-lokal.yaml",
     "{models}/kvalifisering-nasjonal.yaml"),
])
def test_a_command_reads_each_model_file_once(reads, models, tiltak_main, command):
    code, _, err = tiltak_main(*(part.format(models=models) for part in command))
    assert code == 0, err
    assert reads and set(reads.values()) == {1}, dict(reads)


@pytest.mark.slow
def test_evaluate_reads_each_model_file_once(reads, models, tmp_path, tiltak_main):
    db = tmp_path / "registers.duckdb"
    pipeline.write_synthetic_store(db, 3, scale=0.1)
    code, out, err = tiltak_main("evaluate", str(models / "veien-videre.yaml"), "--db", str(db),
                                 "--out", str(tmp_path / "out"))
    assert code == 0, err
    model_files = {Path(p).name: n for p, n in reads.items() if Path(p).parent == models.resolve()}
    assert model_files == {"indicators.yaml": 1, "veien-videre.yaml": 1}, dict(reads)
