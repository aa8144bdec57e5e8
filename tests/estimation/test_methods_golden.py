"""Subclassification and CEM against MatchIt (tests/golden/methods, made by make_golden.R).

Each case gives MatchIt's subclasses, weights, summary() tables and the robust (HC1) effect
of the weighted regression. The tests require the same partition into subclasses, the
same weights to 1e-12, the balance tables to 1e-6 and the effect and its SE to 1e-8.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation.balance import balance_table
from estimation.cem import CoarsenedExactMatching
from estimation.effects import estimate_att
from estimation.subclassification import Subclassification

GOLDEN = Path(__file__).parents[1] / "golden" / "methods"
CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))
COVARIATES = {
    "lalonde": ["age", "educ", "race", "married", "nodegree", "re74", "re75"],
    "sim": ["x1", "x2", "x3", "g", "age"],
    "small": ["x1", "x2", "x3", "g", "age"],
}
FORMULA_COVARIATES = {  # cases whose matchit() formula names fewer covariates
    "lalonde_cem_rules": ["age", "educ", "re74", "re75"],
    "sim_cem_ate": ["x1", "x3", "g"],
}
OUTCOME = {"lalonde": "re78", "sim": "y", "small": "y"}
R_COLUMNS = {
    "Means Treated": "mean_treated", "Means Control": "mean_control",
    "Std. Mean Diff.": "smd", "Var. Ratio": "var_ratio",
    "eCDF Mean": "ecdf_mean", "eCDF Max": "ecdf_max",
}


def load(case: str):
    spec = json.loads((GOLDEN / f"{case}.json").read_text())
    data_name = case.split("_")[0]
    data = pd.read_csv(GOLDEN / f"{data_name}.csv")
    covariates = FORMULA_COVARIATES.get(case, COVARIATES[data_name])
    return spec, data, covariates, OUTCOME[data_name]


def fit(spec: dict, data: pd.DataFrame, covariates: list[str]):
    args, estimand = spec["args"], spec["estimand"]
    X, treat = data[covariates], data["treat"]
    if spec["method"] == "subclass":
        model = Subclassification(
            subclasses=args.get("subclass", 6), estimand=estimand, min_n=args.get("min.n", 1),
            discard=args.get("discard", "none"), distance=np.asarray(spec["ps"]))
    else:
        grouping = args.get("grouping")
        if grouping:
            grouping = {k: [g if isinstance(g, list) else [g] for g in v] for k, v in grouping.items()}
        model = CoarsenedExactMatching(cutpoints=args.get("cutpoints", "sturges"),
                                       grouping=grouping, estimand=estimand)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MatchIt's own warnings (fewer subclasses, ...)
        return model.fit(X, treat).result_


def r_subclass(spec: dict) -> np.ndarray:
    return np.array([-1 if v is None else v for v in spec["subclass"]], dtype=np.int64)


def same_partition(ours: np.ndarray, theirs: np.ndarray) -> bool:
    if not np.array_equal(ours < 0, theirs < 0):
        return False
    kept = ours >= 0
    pairs = set(zip(ours[kept].tolist(), theirs[kept].tolist()))
    return len(pairs) == len(set(ours[kept].tolist())) == len(set(theirs[kept].tolist()))


@pytest.mark.parametrize("case", CASES)
def test_subclasses_and_weights_equal_matchit(case):
    spec, data, covariates, _ = load(case)
    sample = fit(spec, data, covariates)
    assert same_partition(sample.subclass, r_subclass(spec)), case
    np.testing.assert_allclose(sample.weights, spec["weights"], rtol=1e-12, atol=1e-12)
    assert sample.estimand == spec["estimand"]


def _assert_close(ours, theirs, label):
    a = np.asarray(ours, dtype=float)
    b = np.asarray([np.nan if v is None else v for v in theirs], dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{label}: NA pattern {a} vs {b}"
    ok = ~np.isnan(a)
    np.testing.assert_allclose(a[ok], b[ok], rtol=1e-6, atol=1e-9, err_msg=label)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("part,suffix", [("sum_all", "before"), ("sum_matched", "after")])
def test_balance_equals_matchit_summary(case, part, suffix):
    spec, data, covariates, _ = load(case)
    sample = fit(spec, data, covariates)
    table = balance_table(sample)
    expected = pd.DataFrame(spec[part]).set_index("term")
    frame = table.frame.set_index("term")
    assert list(frame.index) == list(expected.index)
    for r_name, ours in R_COLUMNS.items():
        _assert_close(frame[f"{ours}_{suffix}"], expected[r_name], f"{case} {r_name}")
    if suffix == "after" and "Std. Pair Dist." in expected:
        _assert_close(frame["pair_dist_after"], expected["Std. Pair Dist."], f"{case} pair dist")


@pytest.mark.parametrize("case", CASES)
def test_sample_sizes_equal_matchit(case):
    spec, data, covariates, _ = load(case)
    sizes = balance_table(fit(spec, data, covariates)).sample_sizes
    expected = pd.DataFrame(spec["nn"]).set_index("row")
    for column in ("Control", "Treated"):
        np.testing.assert_allclose(sizes[column], expected[column], rtol=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_effect_and_robust_se_equal_lm_vcovhc(case):
    spec, data, covariates, outcome = load(case)
    effect = estimate_att(fit(spec, data, covariates), data[outcome])
    assert effect.se_type == "robust"  # strata are not clusters (MatchIt's advice)
    assert effect.estimate == pytest.approx(spec["effect"], rel=1e-8, abs=1e-8)
    assert effect.std_error == pytest.approx(spec["se_hc1"], rel=1e-8)
