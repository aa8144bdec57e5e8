"""tiltak.evaluation.censoring._with_baseline: a follow-up month without a panel row (a gap in
residence) keeps the trial month's covariates; the values and dtypes of the code that took
the trial month's values for every column (before round 7), whether or not a column has a gap."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tiltak.evaluation.censoring import _with_baseline

COVARIATES = ("age", "sex", "score", "dublin")


def _before(panel, trials, rows, covariates):
    take = trials.units["row"].to_numpy()[rows["unit"].to_numpy()]
    base = trials.data[list(covariates)].iloc[take].reset_index(drop=True)
    out = panel.copy()
    for column in covariates:
        missing = out[column].isna().to_numpy()
        if missing.any():
            out.loc[missing, column] = base.loc[missing, column].to_numpy()
    out["period"] = out["period"].fillna(pd.Series(rows["month"].astype(str).str[:7].to_numpy()))
    return out.rename(columns={"period": "calendar_month"})


def _case(seed: int, gaps: float):
    rng = np.random.default_rng(seed)
    n_data, n_units, n_rows = 40, 25, 120
    data = pd.DataFrame({
        "age": rng.integers(18, 70, n_data).astype("int32"),
        "sex": pd.array(rng.choice(["f", "m"], n_data), dtype="str"),
        "score": np.where(rng.random(n_data) < 0.1, np.nan, rng.normal(size=n_data)),
        "dublin": rng.random(n_data) < 0.3,
    })
    units = pd.DataFrame({"row": rng.integers(0, n_data, n_units)})
    rows = pd.DataFrame({"unit": rng.integers(0, n_units, n_rows),
                         "month": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n_rows), "D")})
    gap = rng.random(n_rows) < gaps
    panel = pd.DataFrame({
        "period": pd.array(np.where(gap, None, "2024-05"), dtype="str"),
        "age": np.where(gap, np.nan, rng.integers(18, 70, n_rows)),
        "sex": pd.array(np.where(gap, None, rng.choice(["f", "m"], n_rows)), dtype="str"),
        "score": np.where(gap, np.nan, rng.normal(size=n_rows)),
        "dublin": pd.array(np.where(gap, None, rng.random(n_rows) < 0.5), dtype=object),
    })
    return panel, SimpleNamespace(units=units, data=data), rows


@pytest.mark.parametrize("gaps", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_trial_months_values_fill_the_gaps_as_before(seed, gaps):
    panel, trials, rows = _case(seed, gaps)
    got = _with_baseline(panel, trials, rows, COVARIATES)
    want = _before(panel, trials, rows, COVARIATES)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)
    if gaps:
        gap = panel["sex"].isna().to_numpy()
        take = trials.units["row"].to_numpy()[rows["unit"].to_numpy()]
        assert list(got.loc[gap, "sex"]) == list(trials.data["sex"].to_numpy()[take][gap])


def test_a_covariate_missing_from_the_trials_is_still_an_error():
    panel, trials, rows = _case(1, 0.0)
    with pytest.raises(KeyError):
        _with_baseline(panel, trials, rows, (*COVARIATES, "not_there"))
