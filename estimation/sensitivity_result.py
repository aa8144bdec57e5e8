"""The result of a Rosenbaum sensitivity analysis (:class:`SensitivityResult`) and what
its tests share: the Gamma grid and its check, the critical Gamma, the choice of the
alternative. Used by :mod:`estimation.sensitivity` (which re-exports them) and
:mod:`estimation.mstatistic`."""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from estimation.parameters import InvalidParameterError, check_choice
from estimation.summary import Summary, SummaryMethods

DEFAULT_GAMMAS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
GAMMA_SEARCH_MAX = 1e6


@dataclass(frozen=True, eq=False, repr=False)
class SensitivityResult(SummaryMethods):
    """Rosenbaum bounds on the one-sided p-value for a grid of Gamma; immutable."""

    method: str
    alternative: str
    gammas: tuple[float, ...]
    p_lower: tuple[float, ...]
    p_upper: tuple[float, ...]
    alpha: float
    gamma_critical: float
    n_pairs: int
    statistic: float
    notes: tuple[str, ...] = ()

    @property
    def significant_without_bias(self) -> bool:
        """Whether the test rejects at Gamma = 1 (no hidden bias)."""
        return bool(_p_at_one(self) <= self.alpha)

    @property
    def first_gamma_on_grid(self) -> float:
        """The smallest Gamma of the grid whose upper-bound p-value exceeds alpha (NaN if
        not significant at Gamma = 1, inf if none on the grid)."""
        if not self.significant_without_bias:
            return float("nan")
        above = [g for g, p in zip(self.gammas, self.p_upper) if p > self.alpha]
        return min(above) if above else float("inf")

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"gamma": self.gammas, "p_lower": self.p_lower, "p_upper": self.p_upper}
        )

    def conclusion(self) -> str:
        """One sentence for a report."""
        if not self.significant_without_bias:
            return (f"Not significant at alpha = {self.alpha:g} even without hidden bias "
                    "(Gamma = 1); a sensitivity bound adds nothing.")
        if math.isinf(self.gamma_critical):
            return (f"Significant at alpha = {self.alpha:g} for every Gamma up to "
                    f"{GAMMA_SEARCH_MAX:g}.")
        return (f"Significant at alpha = {self.alpha:g} unless hidden bias multiplies the odds "
                f"of taking part by Gamma = {self.gamma_critical:.3f} or more.")

    def _headline(self) -> str:
        return f"Rosenbaum bounds ({self.method}, {self.n_pairs} sets): {self.conclusion()}"

    def summary(self) -> Summary:
        label = {"mcnemar": "McNemar (binary outcome)", "wilcoxon": "Wilcoxon signed rank",
                 "mstatistic": "M-statistic for matched sets (sensitivitymv::senmv)"}
        units = "matched sets" if self.method == "mstatistic" else "matched pairs"
        notes = (
            f"Rosenbaum bounds, {label.get(self.method, self.method)}, {self.n_pairs} {units}, "
            f"one-sided alternative: treated outcome {self.alternative} than control.",
            self.conclusion(),
            "Gamma: the odds ratio of taking part between two matched people that an "
            "unmeasured confounder could create.",
            *self.notes,
        )
        return Summary("Sensitivity to hidden bias", (("Bounds on the p-value", self.frame()),),
                       notes)


def _p_at_one(result: SensitivityResult) -> float:
    return result.p_upper[result.gammas.index(1.0)] if 1.0 in result.gammas else float("nan")


def _check_gammas(gammas: Sequence[float], alpha: float, owner: str) -> tuple[float, ...]:
    values = tuple(float(g) for g in gammas)
    if not values or any(not math.isfinite(g) or g < 1 for g in values):
        raise InvalidParameterError(owner, "gammas", "a non-empty sequence of numbers >= 1",
                                    list(gammas))
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InvalidParameterError(owner, "alpha", "a float in (0, 1)", alpha)
    return tuple(sorted(set(values) | {1.0}))


def _critical_gamma(p_upper, alpha: float) -> float:
    """The Gamma at which the upper-bound p-value reaches alpha (NaN if above at Gamma 1)."""
    if p_upper(1.0) > alpha:
        return float("nan")
    if p_upper(GAMMA_SEARCH_MAX) <= alpha:
        return float("inf")
    root = brentq(lambda lg: p_upper(math.exp(lg)) - alpha, 0.0, math.log(GAMMA_SEARCH_MAX),
                  xtol=1e-12, rtol=1e-12)
    return float(math.exp(root))


BRENTQ_MAXITER = 100
"""``scipy.optimize.brentq``'s default ``maxiter``."""


class _NaNValue(Exception):
    pass


def brentq(f, a: float, b: float, *, xtol: float, rtol: float) -> float:
    """``scipy.optimize.brentq(f, a, b, xtol=xtol, rtol=rtol)``, the same root to the bit: SciPy's
    compiled solver called as that function calls it, loaded without importing
    ``scipy.optimize`` (which imports SciPy's linear algebra, sparse matrices and the other
    solvers: 0.4 CPU s, the only use of it in ``tiltak estimate``). Should the solver not be
    found, take other arguments, or ``f`` give NaN, ``scipy.optimize.brentq`` itself is called
    (its checks and messages)."""
    kernel = _brentq_kernel()
    if kernel is not None:
        def checked(x: float) -> float:
            value = f(x)
            if math.isnan(value):
                raise _NaNValue
            return value

        try:
            return kernel(checked, a, b, xtol, rtol, BRENTQ_MAXITER, (), False, True)
        except (_NaNValue, TypeError):
            pass
    from scipy.optimize import brentq as scipy_brentq

    return scipy_brentq(f, a, b, xtol=xtol, rtol=rtol)


@functools.cache
def _brentq_kernel():
    """``scipy.optimize._zeros._brentq`` (a C extension that needs nothing of its package), or None."""
    name = "scipy.optimize._zeros"
    if name in sys.modules or "scipy.optimize" in sys.modules:
        return getattr(sys.modules.get(name), "_brentq", None)
    try:
        module = _scipy_extension("optimize", "_zeros")
    except (ImportError, OSError):
        return None
    return getattr(module, "_brentq", None)


def _scipy_extension(package: str, module: str):
    """SciPy's compiled module ``scipy.<package>.<module>`` loaded from its file without
    importing ``scipy.<package>``, or None where there is no such file. It is not left in
    ``sys.modules``: a later import of the package loads it as its own."""
    name = f"scipy.{package}.{module}"
    spec = importlib.util.find_spec("scipy")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / package / f"{module}{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader(name, str(path))
                try:
                    loaded = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
                    loader.exec_module(loaded)
                finally:
                    sys.modules.pop(name, None)
                return loaded
    return None


def ndtr(x):
    """``scipy.special.ndtr(x)``: the same ufunc (:func:`_ndtr_ufunc`)."""
    return _ndtr_ufunc()(x)


@functools.cache
def _ndtr_ufunc():
    """SciPy's standard normal CDF ``ndtr``: the ufunc of its compiled module
    ``scipy.special._special_ufuncs``, which ``scipy.special`` itself exports, loaded without
    importing ``scipy.special`` (whose array-API machinery costs 0.15 to 0.25 CPU s a process,
    the only use of it in ``tiltak estimate``). The module is not left in ``sys.modules``: a
    later ``import scipy.special`` loads it as its own. Should it not be found or not hold a
    ufunc ``ndtr``, ``scipy.special.ndtr`` itself."""
    if "scipy.special" not in sys.modules and "scipy.special._special_ufuncs" not in sys.modules:
        try:
            found = getattr(_scipy_extension("special", "_special_ufuncs"), "ndtr", None)
        except (ImportError, OSError):
            found = None
        if isinstance(found, np.ufunc):
            return found
    from scipy.special import ndtr as scipy_ndtr

    return scipy_ndtr


def _alternative(alternative: str, differences: np.ndarray, owner: str) -> str:
    check_choice(owner, "alternative", alternative, ("auto", "greater", "less"))
    if alternative == "auto":
        return "less" if float(np.mean(differences)) < 0 else "greater"
    return alternative
