"""Person-level outcomes of the indicator catalogue, as the evaluation reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiltak.evaluation.model_reads import model_text


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome: what is measured from the index month, over how many months.

    * ``exit_within``: 1 when the person exits by one of ``exit_types`` in the ``months``
      months starting with the index month, else 0 (competing exits end follow-up, so they
      count as 0: the cumulative incidence of the exit type);
    * ``application_within``: 1 when an application to ``programme`` is registered in the
      same window;
    * ``survey_change``: the ``instrument`` total at ``months`` after the index month
      (window +-1 month) minus the baseline in the index month or the month before.
    """

    id: str
    kind: str
    months: int
    title: dict[str, str]
    unit: str = "share"
    direction: str = "higher_is_better"
    exit_types: tuple[str, ...] = ()
    programme: str | None = None
    instrument: str | None = None

    @property
    def binary(self) -> bool:
        return self.kind in ("exit_within", "application_within")

    @classmethod
    def of(cls, outcome: Any) -> OutcomeSpec:
        """The spec of a validated catalogue outcome (:mod:`logicmodel.catalogue`)."""
        return cls(
            id=outcome.id, kind=outcome.kind, months=outcome.months, title=model_text(outcome.title, outcome.id),
            unit=outcome.unit, direction=outcome.direction, exit_types=tuple(getattr(outcome, "exit_types", ())),
            programme=getattr(outcome, "programme", None), instrument=getattr(outcome, "instrument", None),
        )
