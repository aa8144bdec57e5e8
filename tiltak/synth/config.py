"""Parameters of the synthetic registers, validated on construction."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tiltak.synth.errors import SynthConfigError

MEASURES: tuple[str, ...] = ("VV", "KVL", "KVN")
"""Measure codes: Veien Videre counselling, local and national qualification course."""

DEFAULT_EFFECT_RETURN: Mapping[str, float] = MappingProxyType({"VV": 1.0, "KVL": 1.0, "KVN": 1.0})
DEFAULT_EFFECT_HSCL: Mapping[str, float] = MappingProxyType({"VV": -0.15, "KVL": 0.0, "KVN": 0.0})

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_number(name: str, value: object, low: float, high: float, integer: bool = False) -> None:
    kind = "an integer" if integer else "a number"
    ok = _is_number(value) and low <= value <= high and (not integer or isinstance(value, int))
    if not ok:
        bounds = f"{low} and {high}" if integer else f"{low:g} and {high:g}"
        raise SynthConfigError(name, f"must be {kind} between {bounds}; got {value!r}", value)


def _effects(name: str, given: Mapping[str, float] | None, defaults: Mapping[str, float],
             positive: bool) -> Mapping[str, float]:
    """Merge per-measure effects (or one number for all) over the defaults, checking them."""
    merged = dict(defaults)
    if given is None:
        return MappingProxyType(merged)
    if _is_number(given) or isinstance(given, (int, float)) and not isinstance(given, bool):
        given = {code: given for code in MEASURES}  # one number: the same for every measure
    if not isinstance(given, Mapping):
        raise SynthConfigError(name, f"must map measure codes to numbers; got {given!r}", given)
    for code, value in given.items():
        if code not in MEASURES:
            raise SynthConfigError(name, f"unknown measure {code!r}; expected one of "
                                   f"{', '.join(map(repr, MEASURES))}", code)
        bad = not _is_number(value) or (positive and value <= 0)
        if bad:
            what = "an odds ratio > 0" if positive else "a finite number"
            raise SynthConfigError(name, f"the effect for {code!r} must be {what}; got {value!r}", value)
        merged[code] = float(value)
    return MappingProxyType(merged)


@dataclass(frozen=True, kw_only=True)
class SynthConfig:
    """Parameters of :func:`tiltak.synth.generate`.

    Sizes (``opening_stock``, ``monthly_rejections``, ``centres``, ``control_sample``) are
    multiplied by ``scale``. ``effect_return`` holds the true odds ratio of assisted return
    (per month, against staying) for participants of each measure from the enrolment month
    on; ``effect_hscl`` the true change in HSCL-10 mean item score six months after
    enrolment; ``hidden_bias`` the coefficient of the unobserved motivation in the
    participation model (0: participation ignores it, so matching on observed covariates
    is unbiased).
    """

    seed: int = 1
    start: str = "2012-01"
    months: int = 36
    scale: float = 1.0
    centres: int = 30
    opening_stock: int = 5000
    monthly_rejections: float = 220.0
    control_sample: int = 1500
    effect_return: Mapping[str, float] = field(default_factory=lambda: DEFAULT_EFFECT_RETURN)
    effect_hscl: Mapping[str, float] = field(default_factory=lambda: DEFAULT_EFFECT_HSCL)
    hidden_bias: float = 0.0

    def __post_init__(self) -> None:
        _check_number("seed", self.seed, 0, 2**63 - 1, integer=True)
        _check_start(self.start)
        _check_number("months", self.months, 6, 240, integer=True)
        _check_number("scale", self.scale, 0.01, 100)
        _check_number("centres", self.centres, 3, 10_000, integer=True)
        _check_number("opening_stock", self.opening_stock, 0, 10_000_000, integer=True)
        _check_number("monthly_rejections", self.monthly_rejections, 0, 1_000_000)
        _check_number("control_sample", self.control_sample, 0, 10_000_000, integer=True)
        _check_number("hidden_bias", self.hidden_bias, -5, 5)
        _check_window(self.start, self.months)
        expected = self.n_opening + self.rejections_per_month * self.months
        if expected < 1:
            raise SynthConfigError("opening_stock", f"opening_stock ({self.opening_stock}) and "
                                   f"monthly_rejections ({self.monthly_rejections:g}) at scale "
                                   f"{self.scale:g} give {expected:.2f} people; expected at least 1 "
                                   "(raise the scale or the sizes)", self.opening_stock)
        object.__setattr__(self, "effect_return",
                           _effects("effect_return", self.effect_return, DEFAULT_EFFECT_RETURN, True))
        object.__setattr__(self, "effect_hscl",
                           _effects("effect_hscl", self.effect_hscl, DEFAULT_EFFECT_HSCL, False))

    @property
    def n_centres(self) -> int:
        """Number of centres after scaling (at least 3)."""
        return max(3, round(self.centres * self.scale))

    @property
    def n_opening(self) -> int:
        """Opening stock after scaling."""
        return round(self.opening_stock * self.scale)

    @property
    def n_control(self) -> int:
        """Size of the random HSCL-10 control sample after scaling."""
        return round(self.control_sample * self.scale)

    @property
    def rejections_per_month(self) -> float:
        """Expected new final rejections a month after scaling."""
        return self.monthly_rejections * self.scale

    def describe(self) -> str:
        """One line naming every parameter, used as the load source and in the truth."""
        ret = ",".join(f"{k}={v:g}" for k, v in self.effect_return.items())
        hscl = ",".join(f"{k}={v:g}" for k, v in self.effect_hscl.items())
        return (f"seed={self.seed} start={self.start} months={self.months} scale={self.scale:g} "
                f"effect_return={ret} effect_hscl={hscl} hidden_bias={self.hidden_bias:g}")


def _check_start(start: object) -> None:
    match = _PERIOD.match(start) if isinstance(start, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or not 1990 <= int(match.group(1)) <= 2100:
        raise SynthConfigError("start", "must be a month written YYYY-MM between 1990-01 and "
                               f"2100-12; got {start!r}", start)


LAST_MONTH = "2025-12"
"""The simulated window must end by this month, so that no generated date lies in the future."""


def _check_window(start: str, months: int) -> None:
    year, month = int(start[:4]), int(start[5:])
    last = year * 12 + month - 1 + months - 1
    if last > int(LAST_MONTH[:4]) * 12 + int(LAST_MONTH[5:]) - 1:
        raise SynthConfigError("months", f"a window of {months} months from {start} ends after {LAST_MONTH}; expected "
                               "a window that ends by then (so that no generated date lies in the "
                               "future): choose an earlier start or fewer months", months)
