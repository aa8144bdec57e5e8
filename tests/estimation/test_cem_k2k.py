"""CEM with k2k (one-to-one matching within the strata) against MatchIt 4.5.1 (tests/golden/methods/make_k2k.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation import CoarsenedExactMatching
from estimation.parameters import InvalidParameterError

GOLDEN = Path(__file__).parents[1] / "golden" / "methods"
FORMULAS = {"lalonde": ["age", "educ", "race", "married", "nodegree", "re74", "re75"],
            "sim": ["x1", "x2", "x3", "g", "age"], "sim_ate": ["x1", "x3", "g"]}
CASES = sorted(p.stem[4:] for p in (GOLDEN / "k2k").glob("k2k_*.json"))


def _partition(codes) -> set[frozenset[int]]:
    codes = np.asarray(codes)
    return {frozenset(np.flatnonzero(codes == c).tolist()) for c in np.unique(codes[codes >= 0])}


@pytest.mark.parametrize("case", CASES)
def test_k2k_is_matchits(case):
    expected = json.loads((GOLDEN / "k2k" / f"k2k_{case}.json").read_text())
    data_name = case.split("_")[0]
    data = pd.read_csv(GOLDEN / f"{data_name}.csv")
    columns = FORMULAS["sim_ate" if case == "sim_ate" else data_name]
    args = expected["args"]
    cut = args.get("cutpoints", "sturges")
    method = None if expected["k2k_method"] == "none" else expected["k2k_method"]
    sample = CoarsenedExactMatching(cutpoints=cut, estimand=expected["estimand"], k2k=True,
                                    k2k_method=method).fit(data[columns], data["treat"]).result_
    r_codes = np.array([-1 if s is None else s for s in expected["subclass"]])
    assert _partition(sample.subclass) == _partition(r_codes)
    np.testing.assert_allclose(sample.weights, expected["weights"], atol=1e-12)
    assert all(len(p) == 2 for p in _partition(sample.subclass))
    if expected["estimand"] == "ATT":
        treated = np.flatnonzero(sample.treat)
        r_pairs = {f - 1: (m - 1 if m is not None else -1)
                   for f, m in zip(expected["focal_rows"], expected["match_rows"])}
        assert {int(t): int(c) for t, c in zip(treated, sample.match_matrix[:, 0])} == r_pairs
        assert sample.structure == "pairs"


def test_k2k_leaves_the_plain_strata_as_they_are_and_refuses_a_bad_method():
    data = pd.read_csv(GOLDEN / "lalonde.csv")
    X = data[FORMULAS["lalonde"]]
    plain = CoarsenedExactMatching(cutpoints={"age": 4}).fit(X, data["treat"]).result_
    paired = CoarsenedExactMatching(cutpoints={"age": 4}, k2k=True).fit(X, data["treat"]).result_
    # every k2k pair lies inside one CEM stratum
    for members in _partition(paired.subclass):
        assert len({int(plain.subclass[i]) for i in members}) == 1
    assert (paired.weights[paired.treat] > 0).sum() <= (plain.weights[plain.treat] > 0).sum()
    with pytest.raises(InvalidParameterError, match="k2k_method"):
        CoarsenedExactMatching(k2k=True, k2k_method="manhattan").fit(X, data["treat"])
