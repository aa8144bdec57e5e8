"""What monitoring needs from a logic model: its indicators, targets and thresholds.

:func:`monitored_model` builds a :class:`MonitoredModel` from a validated model and its
catalogue (the typed objects of :mod:`logicmodel`); the checks monitoring needs are rules
(:mod:`monitoring.rules`) that run when the model is loaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from logicmodel.fields import last_month_index, month_index
from logicmodel.rules import RULES as MODEL_RULES
from logicmodel.validation import Validator
from monitoring.disclosure import Thresholds
from monitoring.errors import MonitoringError
from monitoring.indicators import IndicatorSpec, indicator_spec
from monitoring.rules import RULES
from monitoring.sqlcompile import COMPILER_VERSION
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

        payload = {"spec": asdict(spec), "measure": self.measure if spec.measure_scoped else None,
                   "start": self.start_month, "compiler": COMPILER_VERSION}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_monitored_model(path: str | Path) -> MonitoredModel:
    """Load a model file and its catalogue with the rules of logicmodel and monitoring;
    raise on any error (all listed).

    Applications load models through ``tiltak.loading.load_models``, which runs the
    rules of every layer (``tiltak.rules.DEFAULT_RULES``) over several files.
    """

    path = Path(path)
    if not path.is_file():
        what = "no such model file" if not path.exists() else "not a regular file; expected a model file"
        raise ModelInputError([f"{path}: {what}"])
    validator = Validator((*MODEL_RULES, *RULES))
    validator.validate_file(str(path))
    errors = [issue.render() for issue in validator.report().issues if issue.is_error]
    if errors:
        raise ModelInputError(errors)
    return monitored_model(str(path), validator.model_of(str(path)), validator.catalogue_of(str(path)))


def monitored_model(path: str, model: Any, catalogue: Any) -> MonitoredModel:
    """Build the monitoring view of a validated model and its catalogue."""

    specs = tuple(indicator_spec(catalogue.indicator(i)) for i in dict.fromkeys(model.monitoring.indicators))
    by_id = {s.id: s for s in specs}
    targets = {str(t.indicator): target_line(t, by_id[str(t.indicator)].grain)
               for t in model.monitoring.targets if str(t.indicator) in by_id}
    return MonitoredModel(
        id=model.id, path=str(path), measure=model.measure, start_month=month_index(model.period.start),
        end_month=last_month_index(model.period.end) if model.period.end else None,
        specs=specs, targets=targets, thresholds=Thresholds.of_model(model),
    )
