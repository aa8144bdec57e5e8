"""What monitoring needs from a logic model file: its indicators, targets and thresholds.

Loads the model and its catalogue with the position-aware loader of :mod:`logicmodel`
(schema errors come back as ``file:line:col`` issues), then compiles the model's
monitored indicators into :class:`IndicatorSpec` values and checks their filters against
the data contract. Anything wrong is raised as one :class:`ModelInputError` listing
every problem.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from monitoring.disclosure import Thresholds
from monitoring.errors import MonitoringError
from monitoring.indicators import IndicatorSpec, indicator_spec
from monitoring.targets import TargetLine, target_line


class ModelInputError(MonitoringError):
    """A model or catalogue monitoring cannot use; one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class MonitoredModel:
    """A model as monitoring sees it."""

    id: str
    path: str
    measure: str
    start_month: int  # month index (year * 12 + month - 1) of the model's period start
    end_month: int | None  # last month of the model's period, None while it runs
    specs: tuple[IndicatorSpec, ...]
    targets: dict[str, TargetLine]
    thresholds: Thresholds

    def spec(self, indicator_id: str) -> IndicatorSpec:
        return next(s for s in self.specs if s.id == indicator_id)

    def definition_hash(self, spec: IndicatorSpec) -> str:
        """Hash of everything that defines the values of one indicator in this model."""
        from monitoring.sqlcompile import COMPILER_VERSION

        payload = {"spec": asdict(spec), "measure": self.measure if spec.measure_scoped else None,
                   "start": self.start_month, "compiler": COMPILER_VERSION}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def is_catalogue_file(path: str | Path) -> bool:
    """True when a YAML file is an indicator catalogue (top-level ``indicators``, no ``nodes``)."""
    from logicmodel.errors import LogicModelError
    from logicmodel.validation import is_catalogue_data
    from logicmodel.yamlsource import load_yaml

    try:
        data = load_yaml(path).data
    except LogicModelError:
        return False
    return isinstance(data, dict) and is_catalogue_data(data)


def check_catalogue_file(path: str | Path) -> list:
    """Every issue of a catalogue file (schema, catalogue rules, expressions)."""
    from logicmodel.validation import Validator
    from monitoring.model_checks import CHECKERS

    validator = Validator(CHECKERS)
    validator.catalogue_file(str(path), display=str(path))
    return [issue for issue in validator.report().issues]


def thresholds_of(model: Any) -> Thresholds:
    """The disclosure thresholds of a validated model (ValueError when unusable)."""
    disclosure = model.monitoring.disclosure
    return Thresholds(int(disclosure.min_count), int(disclosure.min_denominator),
                      int(disclosure.dominance_contributors), float(disclosure.dominance_share))


def load_monitored_model(path: str | Path) -> MonitoredModel:
    """Load a model file and its catalogue with every check; raise on any error (all listed).

    The checks are those of every command (:data:`monitoring.model_checks.CHECKERS` run by
    the validator of :mod:`logicmodel`); applications load models through
    ``tiltak.loading.load_models``, which runs the same checks over several files.
    """
    from logicmodel.validation import Validator
    from monitoring.model_checks import CHECKERS

    path = Path(path)
    if not path.is_file():
        what = "no such model file" if not path.exists() else "not a regular file; expected a model file"
        raise ModelInputError([f"{path}: {what}"])
    validator = Validator(CHECKERS)
    validator.validate_file(str(path))
    errors = [issue.render() for issue in validator.report().issues if issue.is_error]
    if errors:
        raise ModelInputError(errors)
    return monitored_from_validator(validator, str(path))


def monitored_from_validator(validator: Any, path: str) -> MonitoredModel:
    """The MonitoredModel of a model file a validator has checked without errors."""
    import os

    from logicmodel.model import LogicModel

    document = validator.read(path).document
    model = LogicModel.model_validate(document.data)
    catalogue_path = os.path.normpath(os.path.join(os.path.dirname(path), model.catalogue))
    catalogue = validator.catalogues[os.path.realpath(catalogue_path)].value
    return monitored_model(path, model, catalogue)


def monitored_model(path: str, model: Any, catalogue: Any) -> MonitoredModel:
    """Build the monitoring view of a validated model and its catalogue."""
    from logicmodel.fields import last_month_index, month_index

    specs = tuple(indicator_spec(catalogue.indicator(i)) for i in dict.fromkeys(model.monitoring.indicators))
    by_id = {s.id: s for s in specs}
    targets = {str(t.indicator): target_line(t, by_id[str(t.indicator)].grain)
               for t in model.monitoring.targets if str(t.indicator) in by_id}
    return MonitoredModel(
        id=model.id, path=str(path), measure=model.measure, start_month=month_index(model.period.start),
        end_month=last_month_index(model.period.end) if model.period.end else None,
        specs=specs, targets=targets, thresholds=thresholds_of(model),
    )
