"""Person-level outcomes of the indicator catalogue, as the evaluation reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiltak.errors import TiltakError
from tiltak.evaluation.model_view import model_text

OUTCOME_KINDS = ("exit_within", "application_within", "survey_change")


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
    def from_mapping(cls, raw: dict[str, Any]) -> OutcomeSpec:
        kind = str(raw.get("kind"))
        oid = str(raw.get("id"))
        if kind not in OUTCOME_KINDS:
            raise TiltakError(f"outcome '{oid}': unknown kind {kind!r}; expected one of {', '.join(OUTCOME_KINDS)}")
        months = raw.get("months")
        if not isinstance(months, int) or isinstance(months, bool) or months < 1:
            raise TiltakError(f"outcome '{oid}': months must be a whole number >= 1; got {months!r}")
        title = raw.get("title") or oid
        titles = model_text(title, oid)
        return cls(
            id=oid, kind=kind, months=months, title=titles,
            unit=str(raw.get("unit") or ("share" if kind != "survey_change" else "score")),
            direction=str(raw.get("direction") or "higher_is_better"),
            exit_types=tuple(str(t) for t in raw.get("exit_types") or ()),
            programme=None if raw.get("programme") is None else str(raw.get("programme")),
            instrument=None if raw.get("instrument") is None else str(raw.get("instrument")),
        )
