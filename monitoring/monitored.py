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
from monitoring.indicators import IndicatorSpec, field, indicator_spec
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
    from logicmodel.yamlsource import load_yaml

    try:
        data = load_yaml(path).data
    except LogicModelError:
        return False
    return isinstance(data, dict) and "indicators" in data and "nodes" not in data


def check_catalogue_file(path: str | Path) -> list:
    """Issues of every indicator of a catalogue file (schema errors raise InvalidDocumentError)."""
    from logicmodel.catalogue import Catalogue
    from monitoring.filters import check_catalogue

    catalogue, document = _load_document(Path(path), Catalogue)

    def locate(key_path: tuple) -> tuple[str, int, int]:
        pos = document.position(key_path)
        return document.file, pos.line, pos.column

    return check_catalogue(catalogue, locate)


def _load_document(path: Path, root: type) -> tuple[Any, Any]:
    from pydantic import ValidationError

    from logicmodel.errors import InvalidDocumentError
    from logicmodel.schema_errors import schema_issues
    from logicmodel.yamlsource import load_yaml

    document = load_yaml(path)
    try:
        return root.model_validate(document.data), document
    except ValidationError as exc:
        raise InvalidDocumentError(schema_issues(exc, document, root)) from None


def load_monitored_model(path: str | Path) -> MonitoredModel:
    """Load a model file and its catalogue; raise on any problem (every problem listed)."""
    from logicmodel.catalogue import Catalogue
    from logicmodel.fields import last_month_index, month_index
    from logicmodel.model import LogicModel

    path = Path(path)
    if not path.is_file():
        what = "no such model file" if not path.exists() else "not a regular file; expected a model file"
        raise ModelInputError([f"{path}: {what}"])
    model, model_doc = _load_document(path, LogicModel)
    catalogue_path = path.parent / model.catalogue
    if not catalogue_path.is_file():
        raise ModelInputError([f"{path}: catalogue: no such file '{catalogue_path}'"])
    catalogue, cat_doc = _load_document(catalogue_path, Catalogue)
    problems = _filter_problems(catalogue, cat_doc, model.monitoring.indicators)
    specs, targets = _specs_and_targets(model_doc, model, catalogue, problems)
    if problems:
        raise ModelInputError(problems)
    disclosure = model.monitoring.disclosure
    return MonitoredModel(
        id=model.id, path=str(path), measure=model.measure, start_month=month_index(model.period.start),
        end_month=last_month_index(model.period.end) if model.period.end else None,
        specs=specs, targets=targets,
        thresholds=Thresholds(int(disclosure.min_count), int(disclosure.min_denominator),
                              int(disclosure.dominance_contributors), float(disclosure.dominance_share)),
    )


def _filter_problems(catalogue: Any, document: Any, wanted: tuple[str, ...]) -> list[str]:
    from monitoring.filters import check_catalogue

    def locate(path: tuple) -> tuple[str, int, int]:
        pos = document.position(path)
        return document.file, pos.line, pos.column

    ids = set(wanted)
    issues = check_catalogue(catalogue, locate, only=ids)
    return [issue.render() for issue in issues]


def _at(document: Any, *path: Any) -> str:
    pos = document.position(path)
    return f"{document.file}:{pos.line}:{pos.column}: " + ".".join(map(str, path))


def _specs_and_targets(doc: Any, model: Any, catalogue: Any, problems: list[str]) -> tuple[tuple, dict]:
    specs = []
    for k, ind_id in enumerate(model.monitoring.indicators):
        if ind_id in model.monitoring.indicators[:k]:
            problems.append(f"{_at(doc, 'monitoring', 'indicators', k)}: indicator {ind_id!r} is listed twice; "
                            "expected each indicator once")
            continue
        ind = catalogue.indicator(ind_id)
        if ind is None:
            problems.append(f"{_at(doc, 'monitoring', 'indicators', k)}: unknown indicator {ind_id!r}; expected one of "
                            + ", ".join(map(repr, catalogue.indicator_ids)))
            continue
        try:
            specs.append(indicator_spec(ind))
        except MonitoringError as exc:
            if not any(f"indicator '{ind_id}'" in p for p in problems):
                problems.append(f"{_at(doc, 'monitoring', 'indicators', k)}: {exc}")
    return tuple(specs), _targets(doc, model, {s.id: s for s in specs}, problems)


def _targets(doc: Any, model: Any, by_id: dict[str, IndicatorSpec], problems: list[str]) -> dict[str, TargetLine]:
    targets: dict[str, TargetLine] = {}
    for n, target in enumerate(model.monitoring.targets):
        spec = by_id.get(str(field(target, "indicator")))
        if spec is None:
            problems.append(f"{_at(doc, 'monitoring', 'targets', n, 'indicator')}: {target.indicator!r} is not among "
                            "monitoring.indicators; expected one of " + ", ".join(map(repr, by_id)))
            continue
        if spec.id in targets:
            problems.append(f"{_at(doc, 'monitoring', 'targets', n, 'indicator')}: {spec.id!r} has targets twice; "
                            "expected one entry per indicator (list several values instead)")
            continue
        try:
            targets[spec.id] = target_line(target, spec.grain)
        except ValueError as exc:
            problems.append(f"{_at(doc, 'monitoring', 'targets', n)}: {exc}")
    return targets
