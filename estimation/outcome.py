"""The outcome of an effect estimate: read from a sample's column or from values given
(:func:`_outcome`) and checked on the matched units (:func:`_check_outcome`). Shared by the
effect, M-estimation, power and sensitivity modules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from estimation.matched import MatchedSample
from estimation.parameters import InvalidInputError


def _outcome(sample: MatchedSample, outcome) -> tuple[np.ndarray, str]:
    if isinstance(outcome, str):
        if outcome not in sample.covariates.columns:
            raise InvalidInputError(
                f"estimate_att: outcome '{outcome}' is not a column of the sample's covariates; "
                "pass the outcome values (one per unit, in input order) instead."
            )
        values, name = sample.covariates[outcome], outcome
    else:
        values = outcome
        name = str(getattr(outcome, "name", None) or "outcome")
    series = pd.Series(np.asarray(values, dtype=object) if not hasattr(values, "dtype") else values)
    if series.shape[0] != sample.n:
        raise InvalidInputError(
            f"estimate_att: outcome '{name}' has {series.shape[0]} values; expected one per unit "
            f"of the matched sample ({sample.n})."
        )
    try:
        y = pd.to_numeric(series.reset_index(drop=True), errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"estimate_att: outcome '{name}' must be numeric (or 0/1, True/False); {exc}."
        ) from None
    return y, name


def _check_outcome(y: np.ndarray, matched: np.ndarray, name: str, binary) -> bool:
    bad = matched & ~np.isfinite(y)
    if bad.any():
        raise InvalidInputError(
            f"estimate_att: outcome '{name}' is missing or not finite for {int(bad.sum())} "
            "matched unit(s). Drop them before matching or impute them explicitly."
        )
    values = y[matched]
    is01 = bool(np.all((values == 0) | (values == 1)))
    if binary is None:
        return is01
    if binary and not is01:
        raise InvalidInputError(
            f"estimate_att: binary=True but outcome '{name}' has values other than 0 and 1 "
            f"(e.g. {values[(values != 0) & (values != 1)][0]!r})."
        )
    return bool(binary)
