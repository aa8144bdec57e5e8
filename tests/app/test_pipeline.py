"""Finding and loading models for the pipeline."""

import shutil

import pytest

from logicmodel.errors import FileUnreadableError, UsageError
from tiltak import pipeline
from tiltak.pipeline import PipelineError, load_inputs


def test_folders_and_globs_give_the_models_without_the_catalogue():
    shipped = pipeline.shipped_models_dir()
    names = [i.path.name for i in load_inputs([shipped])]
    assert names == ["kvalifisering-lokal.yaml", "kvalifisering-nasjonal.yaml", "veien-videre.yaml"]
    assert [i.path.name for i in load_inputs(sorted(shipped.glob("*.yaml")))] == names


def test_missing_paths_and_empty_folders_are_named(tmp_path):
    with pytest.raises(FileUnreadableError, match="nope.yaml: no such file or directory"):
        load_inputs([tmp_path / "nope.yaml"])
    with pytest.raises(UsageError, match="the folder holds no logic models"):
        load_inputs([tmp_path])
    shutil.copy(pipeline.shipped_models_dir() / "indicators.yaml", tmp_path)
    with pytest.raises(UsageError, match="the folder holds no logic models, only catalogues"):
        load_inputs([tmp_path])


def test_the_same_model_twice_is_refused():
    path = pipeline.shipped_models_dir() / "veien-videre.yaml"
    with pytest.raises(PipelineError, match="given twice: veien-videre"):
        load_inputs([path, path])


def test_loaded_inputs_carry_the_catalogue_outcomes_and_indicators():
    item = load_inputs([pipeline.shipped_models_dir() / "veien-videre.yaml"])[0]
    assert item.model.id == "veien-videre" and item.model.measure == "VV"
    assert item.model.evaluation is not None and "hscl_down" in item.model.evaluation.tests
    assert item.outcomes["hscl10_change_6m"].kind == "survey_change"
    assert item.catalogue.indicator("participants") is not None
