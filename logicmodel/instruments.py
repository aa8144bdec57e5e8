"""Survey instruments: the built-in ones, and the scale every instrument declares.

A survey instrument is a questionnaire whose responses the ``surveys`` register holds:
a ``total`` on a known scale and, for some, item scores. The six instruments tiltak
knows (:data:`BUILTIN_INSTRUMENTS`) need no declaration; a catalogue declares any other
in its ``instruments`` section (``logicmodel.catalogue.InstrumentDefinition``), and then
the data contract, the loads and the synthetic registers accept it too. This module is
the one definition of the built-in instruments; it imports nothing, so the contract of
``monitoring`` can use it cheaply.

>>> BUILTIN_INSTRUMENTS["phq9"]
InstrumentScale(total_min=0.0, total_max=27.0, items=9, item_min=0.0, item_max=3.0, total_meaning='sum score')
>>> instrument_scales({"return_knowledge": InstrumentScale(0, 8, 8, 0, 1, "number right")})["return_knowledge"].items
8
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

MAX_ITEMS = 25


@dataclass(frozen=True)
class InstrumentScale:
    """The valid range of an instrument's total and of its items (``items`` 0: none)."""

    total_min: float
    total_max: float
    items: int
    item_min: float
    item_max: float
    total_meaning: str

    def __post_init__(self) -> None:
        for name in ("total_min", "total_max", "item_min", "item_max"):
            object.__setattr__(self, name, float(getattr(self, name)))


BUILTIN_INSTRUMENTS: Mapping[str, InstrumentScale] = MappingProxyType({
    "hscl10": InstrumentScale(1, 4, 10, 1, 4, "mean item score"),
    "hscl25": InstrumentScale(1, 4, 25, 1, 4, "mean item score"),
    "rhs13": InstrumentScale(0, 52, 13, 0, 4, "sum score"),
    "phq9": InstrumentScale(0, 27, 9, 0, 3, "sum score"),
    "mi_importance": InstrumentScale(0, 10, 0, 0, 0, "ruler value"),
    "mi_confidence": InstrumentScale(0, 10, 0, 0, 0, "ruler value"),
})


def instrument_scales(declared: Mapping[str, InstrumentScale] | None = None) -> Mapping[str, InstrumentScale]:
    """The built-in instruments followed by the ``declared`` ones (ids must not clash)."""
    clash = sorted(set(declared or {}) & set(BUILTIN_INSTRUMENTS))
    if clash:
        raise ValueError(f"{', '.join(clash)}: already a built-in instrument; declare only new instruments")
    return MappingProxyType({**BUILTIN_INSTRUMENTS, **(declared or {})})
