"""What the evaluation derives from a logic model.

A model has one shape: the validated, frozen :class:`logicmodel.LogicModel`, loaded once
(:func:`tiltak.loading.load_models`) and passed down as it is; the evaluation reads its
typed attributes. The few values it needs in another form are derived here, each by one
small function: a model's text as the document stores it, an expected change as the
verdict rules read it, the (from, to) pairs of the many-to-many links, the estimand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from logicmodel.fields import LocalizedText
from logicmodel.model import DEFAULT_ESTIMAND, ExpectedChange, Link, LogicModel, Matching
from tiltak.evaluation.verdicts import ChangeSpec

Title = dict[str, str] | str
"""A model's text as the document stores it: a mapping of the languages the model wrote, or
one plain string. The report picks the language (:func:`tiltak_base.catalogue.pick`), so
the evaluation document never holds a language the model did not write."""


def model_text(value: Any, fallback: str = "") -> Title:
    """A model's or catalogue's text as a :data:`Title` (``fallback`` when it has none).

    >>> model_text(LocalizedText(nb="Samtaler", en="Talks")), model_text(None, "talks")
    ({'nb': 'Samtaler', 'en': 'Talks'}, 'talks')
    """
    if isinstance(value, LocalizedText):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v} or fallback
    return str(value) if value else fallback


def change_spec(change: ExpectedChange) -> ChangeSpec:
    """An expected change as the verdict rules read it."""
    return ChangeSpec(id=change.id, direction=change.direction, min_change=change.min_change, node=change.node,
                      outcome=change.outcome, indicator=change.indicator, horizon_months=change.horizon_months,
                      balance_threshold=change.balance_threshold)


def link_pairs(model: LogicModel) -> list[tuple[str, str, Link]]:
    """Every (from, to) pair of the model's links with its link, in model order (a link
    from or to several nodes gives one pair each)."""
    return [(source, target, link) for link in model.links for source in link.sources for target in link.targets]


def model_estimand(model: LogicModel) -> str:
    """The estimand of the model's verdicts (``evaluation.estimand``, default enrol_vs_not)."""
    return model.evaluation.estimand if model.evaluation is not None else DEFAULT_ESTIMAND


def model_title(model: LogicModel) -> Title:
    """The model's title as the document stores it."""
    return model_text(model.title, model.id)


def node_titles(model: LogicModel) -> dict[str, Title]:
    """Each node's title by node id, as the document stores them."""
    return {n.id: model_text(n.title, n.id) for n in model.nodes}


def with_design(model: LogicModel, tests: Sequence[str] | None = None,
                matching: Mapping[str, Any] | None = None) -> LogicModel:
    """The model with other tested changes and/or another ``evaluation.matching`` section
    (validated as a model file's is), for what-if runs of one model: the known-truth tests
    and the pipeline validation (``benchmarks/validate_pipeline.py``)."""
    if model.evaluation is None:
        raise ValueError(f"model {model.id!r} has no evaluation design")
    changes: dict[str, Any] = {}
    if tests is not None:
        changes["tests"] = tuple(tests)
    if matching is not None:
        changes["matching"] = Matching.model_validate(dict(matching))
    return model.model_copy(update={"evaluation": model.evaluation.model_copy(update=changes)})
