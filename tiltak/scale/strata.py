"""Greedy nearest-neighbour matching in parallel within exact strata, and balance from sums.

Within exact strata (e.g. trial = enrolment month, x nationality) the greedy search of
:class:`estimation.NearestNeighborMatching` never looks across strata: a control of one
stratum can never be the match of a treated unit of another. Each stratum is therefore an
independent problem and is matched on the executor that holds it (``applyInPandas``), with
the same rows in the same order as on one machine, so the matches are *identical* to
``NearestNeighborMatching(exact=strata)`` on all the data, provided the quantities that
span strata are computed once, on all rows, and passed in:

* the caliper in standard deviations of the distance (``std_caliper``) is the SD over all
  units: :func:`match_in_strata` computes it in the engine and matches with the absolute
  caliper;
* a random order (``order="random"``) draws one permutation of all treated units on one
  machine; per stratum it would be a different draw: refused here;
* common-support discarding (``discard``) uses the range over all units: not offered.

Issue 9's register design matches trials independently (a comparison person may serve in
several trials, at most once per trial): trials are strata of this kind. Exact columns
*inside* a trial without replacement are strata of this kind too (no control is shared
between its strata). What is not independent is matching *without replacement across
trials* (one control used at most once in all trials): that is one problem over all
trials and is not distributed here.

A stratum larger than ``max_rows`` is refused before anything runs, naming the stratum's
size (never its values): one executor holds a stratum in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from estimation import NearestNeighborMatching
from tiltak.scale.errors import ScaleError

DEFAULT_MAX_ROWS = 2_000_000


@dataclass(frozen=True)
class StratumMatches:
    """Pairs (treated row, control row, distance difference) per stratum, as a pandas frame."""

    pairs: Any  # pandas.DataFrame: strata columns, treated, control, pass
    caliper: float | None  # the absolute caliper used
    strata: int
    largest: int


def match_in_strata(frame: Any, strata: Sequence[str], treatment: str, distance: str, row: str, *,
                    ratio: int = 1, replace: bool = False, caliper: float | None = None, std_caliper: bool = True,
                    order: str = "largest", ties: str = "matchit", max_rows: int = DEFAULT_MAX_ROWS) -> StratumMatches:
    """Match treated to control rows within ``strata`` (columns of ``frame``), in parallel.

    ``distance`` is the column of propensity scores (e.g. from :func:`tiltak.scale.irls.fit_logit`),
    ``row`` a column with a unique, ordered row number (the order of the single-machine data)."""
    from pyspark.sql import functions as F

    if order == "random":
        raise ScaleError("order='random' draws one permutation of all treated units; per stratum it would be "
                         "another draw, so it is not distributed: use 'largest', 'smallest' or 'data'")
    sizes = frame.groupBy(*strata).count()
    largest = sizes.agg(F.max("count")).collect()[0][0] or 0
    if largest > max_rows:
        raise ScaleError(f"a stratum of {', '.join(strata)} has {largest:,} rows; one executor matches at most "
                         f"{max_rows:,} (max_rows): add an exact column to split it, or raise max_rows if the "
                         "executors have the memory")
    absolute = caliper
    if caliper is not None and std_caliper:
        absolute = caliper * float(frame.agg(F.stddev_samp(distance)).collect()[0][0])
    schema = (", ".join(f"`{s}` {t}" for s, t in _types(frame, strata)) +
              ", treated LONG, control LONG, pass INT")
    settings = dict(ratio=ratio, replace=replace, caliper=absolute, order=order, ties=ties)
    pairs = (frame.select(*strata, treatment, distance, row)
             .groupBy(*strata)
             .applyInPandas(_stratum_matcher(list(strata), treatment, distance, row, settings), schema=schema)
             .toPandas())
    count = sizes.count()
    pairs = pairs.sort_values([*strata, "pass", "treated"], kind="stable").reset_index(drop=True)
    return StratumMatches(pairs, absolute, int(count), int(largest))


def _types(frame: Any, names: Sequence[str]) -> list[tuple[str, str]]:
    fields = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    return [(n, fields[n]) for n in names]


def _stratum_matcher(strata: list[str], treatment: str, distance: str, row: str, settings: dict):
    def run(part):
        import pandas as pd

        part = part.sort_values(row, kind="stable").reset_index(drop=True)
        found = match_arrays(part[treatment].to_numpy(bool), part[distance].to_numpy(float), **settings)
        out = pd.DataFrame({"treated": part[row].to_numpy()[found[:, 0]] if len(found) else [],
                            "control": part[row].to_numpy()[found[:, 1]] if len(found) else [],
                            "pass": found[:, 2] if len(found) else []})
        for s in strata:
            out.insert(len(out.columns) - 3, s, part[s].iloc[0] if len(part) else None)
        return out.astype({"treated": "int64", "control": "int64", "pass": "int32"})

    return run


def match_arrays(treat: np.ndarray, distance: np.ndarray, *, ratio: int, replace: bool, caliper: float | None,
                 order: str, ties: str) -> np.ndarray:
    """Rows (treated, control, pass) of :class:`estimation.NearestNeighborMatching` on one stratum."""

    if treat.all() or not treat.any():
        return np.empty((0, 3), dtype=np.int64)
    matcher = NearestNeighborMatching(ratio=ratio, replace=replace, caliper=caliper, std_caliper=False,
                                      distance=distance, order=order, ties=ties)
    sample = matcher.fit(None, treat).result_
    treated_rows = np.flatnonzero(sample.treat)
    out = [(treated_rows[i], c, k) for i, row in enumerate(sample.match_matrix) for k, c in enumerate(row) if c >= 0]
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


@dataclass(frozen=True)
class Balance:
    """Standardised mean differences (treated SD) and the difference in means of an outcome."""

    smd: dict[str, float]
    effect: float | None


def balance_from_moments(moments: dict[str, tuple[float, float, float, float, float, float]],
                         outcome: tuple[float, float, float, float] | None = None) -> Balance:
    """Balance from engine sums: per covariate (n_t, sum_t, sumsq_t, w_c, wsum_c, wsumsq_c) of the
    treated and of the matched controls weighted by their matching weights; ``outcome``
    (n_t, sum_t, w_c, wsum_c) gives the effect on the treated (difference in means)."""
    smd = {}
    for name, (n_t, s_t, q_t, w_c, s_c, _q_c) in moments.items():
        mean_t, mean_c = s_t / n_t, s_c / w_c
        var_t = (q_t - n_t * mean_t ** 2) / (n_t - 1) if n_t > 1 else float("nan")
        smd[name] = (mean_t - mean_c) / np.sqrt(var_t) if var_t > 0 else float("nan")
    effect = None
    if outcome is not None:
        n_t, s_t, w_c, s_c = outcome
        effect = s_t / n_t - s_c / w_c
    return Balance(smd, effect)
