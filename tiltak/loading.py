"""The one load path for model files: every command that reads a model comes through here.

``tiltak validate``, ``tiltak monitor check|run|show|explain``, ``tiltak estimate``,
``tiltak evaluate`` and ``tiltak demo`` all read models with :func:`check_files` (which
reports) or :func:`load_models` (which refuses on any error). Both run the same validator
(:class:`logicmodel.validation.Validator`: YAML, schema, the catalogue, two files with one
model id) with the same rules, the registry :data:`tiltak.rules.DEFAULT_RULES` (the
theory of change; every SQL expression screened and bound against the data contract,
indicator definitions, targets and thresholds), so the commands accept and refuse the
same files with the same messages. Each file is read and validated once; the loaded
model is the validated, frozen object, passed on as it is.

Only ``sqlglot`` and the contract are needed to screen expressions; types are bound in
an empty in-memory DuckDB (see :mod:`monitoring.expressions`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logicmodel.errors import UsageError
from logicmodel.loading import ModelBundle
from logicmodel.validation import Validator, expand_paths, is_catalogue_data
from tiltak.errors import TiltakError
from tiltak.rules import DEFAULT_RULES


class ModelFilesError(TiltakError):
    """Model files with errors; ``lines()`` lists every error (``file:line:col: ...``)."""

    exit_code = 2

    def __init__(self, issues: Sequence[Any]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        count = len(self.issues)
        return [*(issue.render() for issue in self.issues),
                f"{count} error{'s' if count != 1 else ''} in the model files; nothing was run "
                "(tiltak validate lists the same errors)"]


@dataclass(frozen=True)
class LoadedModel:
    """A model file that passed every check, in the forms the layers need."""

    path: Path
    bundle: Any  # logicmodel.loading.ModelBundle (model, catalogue, their files, warnings)
    monitored: Any  # monitoring.monitored.MonitoredModel

    @property
    def id(self) -> str:
        return self.bundle.model.id


@dataclass(frozen=True)
class CheckedFiles:
    """What the validator saw: its report, the model files among the paths, the validator."""

    report: Any
    model_files: tuple[str, ...]
    validator: Any

    def clean(self, file: str) -> bool:
        """No error in this file nor (for a model) in its catalogue."""
        failing = {os.path.realpath(i.file) for i in self.report.issues if i.is_error}
        if os.path.realpath(file) in failing:
            return False
        if file not in self.model_files:
            return True
        catalogue = self.validator.model_of(file).catalogue
        return os.path.realpath(self.validator.catalogue_path(file, catalogue)) not in failing

    def loaded(self, file: str) -> "LoadedModel":
        """The loaded form of a clean model file."""
        return _loaded(self, file)


def check_files(paths: Sequence[str | os.PathLike[str]]) -> CheckedFiles:
    """Validate model files, folders of models and catalogue files: every issue, nothing raised
    except for paths that cannot be used (missing, a folder without models)."""
    if not paths:
        raise UsageError("no path given; give model files or folders")
    validator = Validator(DEFAULT_RULES)
    models: list[str] = []
    for given in map(os.fspath, paths):
        files = expand_paths([given])
        kinds = [_kind(validator, file, is_catalogue_data) for file in files]
        if os.path.isdir(given) and "model" not in kinds:
            raise UsageError(f"{given}: the folder holds no logic models, only catalogues; give a folder of models")
        for file, kind in zip(files, kinds):
            validator.validate_file(file)
            if kind == "model":
                models.append(file)  # a file given twice stays twice: the caller refuses it
    return CheckedFiles(validator.report(), tuple(models), validator)


def _kind(validator: Any, file: str, is_catalogue_data: Any) -> str:
    document = validator.read(file).document
    if document is not None and is_catalogue_data(document.data):
        return "catalogue"
    return "model"


def load_models(paths: Sequence[str | os.PathLike[str]]) -> list[LoadedModel]:
    """Every model among ``paths``, fully checked; raises :class:`ModelFilesError` listing
    every error of every file (catalogue files among the paths are checked, not returned)."""
    checked = check_files(paths)
    errors = [issue for issue in checked.report.issues if issue.is_error]
    if errors:
        raise ModelFilesError(errors)
    if not checked.model_files:
        raise TiltakError("no model file among the arguments (only indicator catalogues)")
    return [_loaded(checked, file) for file in checked.model_files]


def load_catalogue(path: str | os.PathLike[str]) -> Any:
    """The catalogue of ``path`` (a catalogue file, or a model file: the catalogue it names),
    fully checked like any model file; raises :class:`ModelFilesError` on any error."""
    checked = check_files([path])
    errors = [issue for issue in checked.report.issues if issue.is_error]
    if errors:
        raise ModelFilesError(errors)
    validator = checked.validator
    if checked.model_files:
        return validator.catalogue_of(checked.model_files[0])
    return validator.catalogues[os.path.realpath(os.fspath(path))].value


def _loaded(checked: CheckedFiles, file: str) -> LoadedModel:
    from monitoring.monitored import monitored_model

    validator = checked.validator
    model, catalogue = validator.model_of(file), validator.catalogue_of(file)
    catalogue_file = validator.catalogue_path(file, model.catalogue)
    real = {os.path.realpath(file), os.path.realpath(catalogue_file)}
    warnings = tuple(i for i in checked.report.issues if not i.is_error and os.path.realpath(i.file) in real)
    monitored = monitored_model(file, model, catalogue)
    return LoadedModel(Path(file), ModelBundle(model, catalogue, file, catalogue_file, warnings), monitored)
