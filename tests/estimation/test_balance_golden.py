"""balance_table against MatchIt 4.5.1's summary() (tests/golden/balance_extra, to 1e-6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation.balance import balance_table

from script_loader import load_script

golden = load_script("tests/golden/balance_extra/golden_samples.py")

R_COLUMNS = {
    "Means Treated": "mean_treated", "Means Control": "mean_control",
    "Std. Mean Diff.": "smd", "Var. Ratio": "var_ratio",
    "eCDF Mean": "ecdf_mean", "eCDF Max": "ecdf_max",
}


def _assert_close(ours: pd.Series, theirs: pd.Series, label: str) -> None:
    a, b = ours.to_numpy(dtype=float), theirs.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{label}: NA pattern {a} vs {b}"
    ok = ~np.isnan(a)
    np.testing.assert_allclose(a[ok], b[ok], rtol=1e-6, atol=1e-9, err_msg=label)


@pytest.mark.parametrize("scenario", sorted(golden.SCENARIOS))
@pytest.mark.parametrize("part,suffix", [("sum_all", "before"), ("sum_matched", "after")])
def test_balance_equals_matchit_summary(scenario, part, suffix):
    sample, _ = golden.sample(scenario)
    table = balance_table(sample)
    expected = golden.summary_part(scenario, part)
    frame = table.frame.set_index("term")
    assert list(frame.index) == list(expected.index)
    for r_name, ours in R_COLUMNS.items():
        _assert_close(frame[f"{ours}_{suffix}"], expected[r_name], f"{scenario} {r_name}")
    if suffix == "after":
        _assert_close(frame["pair_dist_after"], expected["Std. Pair Dist."], "pair dist")


@pytest.mark.parametrize("scenario", sorted(golden.SCENARIOS))
def test_sample_sizes_equal_matchit(scenario):
    sample, _ = golden.sample(scenario)
    ours = balance_table(sample).sample_sizes
    expected = golden.sample_sizes(scenario)
    assert list(ours.index) == list(expected.index)
    for column in ("Control", "Treated"):
        np.testing.assert_allclose(ours[column], expected[column], rtol=1e-9)


@pytest.mark.parametrize("scenario", ["lalonde_nn1", "lalonde_nn2_replace", "synthetic_nn2"])
@pytest.mark.parametrize("denom", ["control", "pooled"])
def test_other_sd_denominators_equal_matchit_bal1var(scenario, denom):
    sample, _ = golden.sample(scenario)
    frame = balance_table(sample, s_d_denom=denom, include_distance=False).frame
    expected = pd.read_csv(golden.HERE / f"{scenario}_smd_denoms.csv")
    expected = expected[expected["s_d_denom"] == denom].set_index("term")
    frame = frame.set_index("term").loc[expected.index]
    _assert_close(frame["smd_before"], expected["smd_all"], f"{denom} before")
    _assert_close(frame["smd_after"], expected["smd_matched"], f"{denom} after")


def test_lalonde_published_matched_means():
    """MatchIt's getting-started vignette: matched control means age 25.3027, educ 10.6054."""
    sample, _ = golden.sample("lalonde_nn1")
    frame = balance_table(sample).frame.set_index("term")
    assert frame.loc["age", "mean_control_after"] == pytest.approx(25.3027, abs=5e-5)
    assert frame.loc["educ", "mean_control_after"] == pytest.approx(10.6054, abs=5e-5)
