"""Loading a model or a catalogue for use: everything validated, or an error raised.

These are the entry points for code that needs a model (``tiltak graph``, monitoring,
the pipeline). They raise :class:`~logicmodel.errors.SourceError` subclasses for files
that cannot be read or parsed, and :class:`~logicmodel.errors.InvalidDocumentError`
(carrying every issue) when a schema or rule error remains. Warnings do not stop loading.

They run this package's rules (:data:`logicmodel.rules.RULES`) unless given others; the
commands of tiltak load through ``tiltak.loading``, which runs the application's registry
(the rules of every layer).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from logicmodel.catalogue import Catalogue
from logicmodel.errors import FileUnreadableError, InvalidDocumentError, UsageError
from logicmodel.issues import Issue
from logicmodel.model import LogicModel
from logicmodel.rules import RULES, Rule
from logicmodel.validation import Validator, is_catalogue_data


@dataclass(frozen=True)
class ModelBundle:
    """A validated model with its catalogue and the files they came from.

    >>> bundle = load_bundle("models/veien-videre.yaml")
    >>> bundle.model.id, bundle.catalogue_file, bundle.warnings
    ('veien-videre', 'models/indicators.yaml', ())
    """

    model: LogicModel
    catalogue: Catalogue
    model_file: str
    catalogue_file: str
    warnings: tuple[Issue, ...] = ()


def _raise_errors(issues: list[Issue] | tuple[Issue, ...]) -> None:
    errors = [issue for issue in issues if issue.is_error]
    if errors:
        raise InvalidDocumentError(errors)


def _require_file(path: str | os.PathLike[str]) -> str:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileUnreadableError(path, 0, 0, "no such file")
    return path


def load_catalogue(path: str | os.PathLike[str], rules: Sequence[Rule] = RULES) -> Catalogue:
    """The catalogue in ``path``, checked by the schema and the catalogue rules.

    >>> catalogue = load_catalogue("models/indicators.yaml")
    >>> catalogue.indicator("participants").type, "hscl10_change_6m" in catalogue.outcome_ids
    ('count', True)
    """
    path = _require_file(path)
    validator = Validator(rules)
    loaded = validator.catalogue_file(path, display=path)
    _raise_errors(validator.report().issues)
    assert loaded.value is not None  # no errors means the schema accepted it
    return loaded.value


def load_bundle(path: str | os.PathLike[str], rules: Sequence[Rule] = RULES) -> ModelBundle:
    """The model in ``path`` and its catalogue, both fully validated.

    Raises :class:`~logicmodel.errors.InvalidDocumentError` listing every error.

    >>> bundle = load_bundle("models/veien-videre.yaml")
    >>> bundle.model.measure, len(bundle.catalogue.indicators) > 10
    ('VV', True)
    >>> load_bundle("models/indicators.yaml")
    Traceback (most recent call last):
      ...
    logicmodel.errors.UsageError: models/indicators.yaml: this is an indicator catalogue; expected a logic model (a file with nodes)
    """
    path = _require_file(path)
    validator = Validator(rules)
    loaded = validator.read(path)
    if loaded.document is not None and is_catalogue_data(loaded.document.data):
        raise UsageError(f"{path}: this is an indicator catalogue; expected a logic model (a file with nodes)")
    validator.validate_file(path)
    report = validator.report()
    _raise_errors(report.issues)
    model, catalogue = validator.model_of(path), validator.catalogue_of(path)
    catalogue_file = validator.catalogue_path(path, model.catalogue)
    return ModelBundle(model, catalogue, path, catalogue_file, tuple(i for i in report.issues if not i.is_error))


def load_model(path: str | os.PathLike[str], rules: Sequence[Rule] = RULES) -> LogicModel:
    """The model in ``path``, validated together with its catalogue.

    >>> model = load_model("models/veien-videre.yaml")
    >>> model.node("counselling").level, model.evaluation.treatment.measure
    ('activity', 'VV')
    """
    return load_bundle(path, rules).model
