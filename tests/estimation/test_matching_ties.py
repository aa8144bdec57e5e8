"""Ties: the matched sets of MatchIt's own default call on data with many tied scores.

Golden files: tests/golden/ties/ties-4.5.4.json and ties-4.7.2.json, written by
make_ties.R with MatchIt 4.5.4 and 4.7.2 (score-vector path, the default call). The two
releases break ties differently (4.6.0 rewrote the search), so ``ties="matchit"`` (the
default) must reproduce 4.7.2 and ``ties="matchit-4.5"`` 4.5.4, bit for bit in the match
matrix and to 1e-12 in the weights. The literal ports of MatchIt's C++ in matchit_port.py
are checked against the same files and then used as oracles on random tied problems.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation import NearestNeighborMatching

from script_loader import load_script

matchit_port = load_script(Path(__file__).with_name("matchit_port.py"))

GOLDEN = Path(__file__).parents[1] / "golden" / "ties"
RULES = {"4.7.2": "matchit", "4.5.4": "matchit-4.5"}
PORTS = {"4.7.2": matchit_port.nn_472, "4.5.4": matchit_port.nn_454}


def golden(version: str) -> dict:
    return json.loads((GOLDEN / f"ties-{version}.json").read_text())


def vector_cases():
    for version in RULES:
        g = golden(version)
        for part in ("hand", "random"):
            for i, case in enumerate(g[part]):
                yield pytest.param(version, part, i, id=f"{version}-{case['name']}")


def expected_matrix(case: dict, n_treated: int) -> np.ndarray:
    return np.array(case["match_matrix"], dtype=np.int64).reshape(n_treated, -1)


def fit_vector(case: dict, ties: str):
    s = case["settings"]
    exact = case.get("exact")
    X = pd.DataFrame({"g": exact if exact is not None else np.zeros(len(case["treat"]), int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return NearestNeighborMatching(
            distance=np.array(case["distance"]), ratio=s["ratio"], replace=s["replace"],
            caliper=s.get("caliper"), std_caliper=False, order=s["order"],
            discard=s["discard"], exact=["g"] if exact is not None else None,
            ties=ties).fit(X, np.array(case["treat"])).result_


@pytest.mark.parametrize("version, part, i", list(vector_cases()))
def test_score_vectors_as_matchit(version, part, i):
    case = golden(version)[part][i]
    res = fit_vector(case, RULES[version])
    expected = expected_matrix(case, res.match_matrix.shape[0])
    np.testing.assert_array_equal(res.discarded, case["discarded"])
    np.testing.assert_array_equal(res.match_matrix, expected)
    np.testing.assert_allclose(res.weights, case["weights"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("version, part, i", list(vector_cases()))
def test_ports_reproduce_matchit(version, part, i):
    case = golden(version)[part][i]
    s = case["settings"]
    mm = PORTS[version](np.array(case["distance"]), np.array(case["treat"]), ratio=s["ratio"],
                        replace=s["replace"], caliper=s.get("caliper"), order=s["order"],
                        discarded=np.array(case["discarded"]),
                        exact=None if case.get("exact") is None else np.array(case["exact"]))
    np.testing.assert_array_equal(mm, expected_matrix(case, mm.shape[0]))


def test_the_two_releases_differ_on_these_files():
    """Why there are two rules: the same calls give different matches in 4.5.4 and 4.7.2."""
    a, b = golden("4.5.4"), golden("4.7.2")
    differ = [x["name"] for x, y in zip(a["discrete"], b["discrete"])
              if x["match_matrix"] != y["match_matrix"]]
    assert "default" in differ
    assert a["lalonde"]["match_matrix"] == b["lalonde"]["match_matrix"]


DISCRETE = pd.read_csv(GOLDEN / "discrete.csv")


def discrete_cases():
    for version in RULES:
        for i, case in enumerate(golden(version)["discrete"]):
            yield pytest.param(version, i, id=f"{version}-{case['name']}")


@pytest.mark.parametrize("version, i", list(discrete_cases()))
def test_default_call_on_tied_glm_scores(version, i):
    """matchit(treat ~ x1 + x2 + f + g, data) and variants: tiltak's own glm, same sets."""
    case = golden(version)["discrete"][i]
    s = case["settings"] or {}
    X = DISCRETE[["x1", "x2", "f", "g"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = NearestNeighborMatching(
            ratio=s.get("ratio", 1), replace=s.get("replace", False), caliper=s.get("caliper"),
            exact=s.get("exact"), order=s.get("m.order", "largest"),
            discard=s.get("discard", "none"), ties=RULES[version],
        ).fit(X, DISCRETE["treat"]).result_
    np.testing.assert_allclose(res.distance, case["distance"], rtol=0, atol=1e-8)
    assert np.unique(res.distance).size == np.unique(case["distance"]).size  # same ties
    np.testing.assert_array_equal(res.discarded, case["discarded"])
    np.testing.assert_array_equal(res.match_matrix, expected_matrix(case, res.match_matrix.shape[0]))
    np.testing.assert_allclose(res.weights, case["weights"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("version", list(RULES))
def test_lalonde_default_call(version):
    lal = pd.read_csv(Path(__file__).parents[1] / "golden" / "matching" / "lalonde.csv")
    covs = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
    res = NearestNeighborMatching(ties=RULES[version]).fit(lal[covs], lal["treat"]).result_
    case = golden(version)["lalonde"]
    np.testing.assert_array_equal(res.match_matrix, expected_matrix(case, 185))


@st.composite
def tied_problems(draw):
    n = draw(st.integers(4, 36))
    d = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)), dtype=float) / 16
    treat = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    treat[0], treat[1] = True, False
    exact = draw(st.booleans())
    g = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))) if exact else None
    if g is not None:
        g[0], g[1] = 0, 0
    params = dict(ratio=draw(st.integers(1, 4)), replace=draw(st.booleans()),
                  caliper=draw(st.sampled_from([None, 1 / 16, 2 / 16, 3 / 16])),
                  order=draw(st.sampled_from(["largest", "smallest", "data"])))
    discard = draw(st.sampled_from(["none", "none", "both", "control"]))
    return d, treat, g, params, discard


@settings(max_examples=400, deadline=None)
@given(tied_problems(), st.sampled_from(list(RULES)))
def test_same_matches_as_the_ports(problem, version):
    d, treat, g, p, discard = problem
    X = pd.DataFrame({"g": g if g is not None else np.zeros(d.size, int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = NearestNeighborMatching(distance=d, std_caliper=False, discard=discard,
                                          exact=["g"] if g is not None else None,
                                          ties=RULES[version], **p).fit(X, treat).result_
        except Exception as exc:  # noqa: BLE001 - only "no matches" (or a 2-valued caliper)
            assert type(exc).__name__ in ("NoMatchesError", "InvalidInputError")
            return
    if res.settings["caliper_width"] is None and p["caliper"] is not None:
        p = {**p, "caliper": None}  # MatchIt ignores a caliper on a one-valued distance
    expected = PORTS[version](d, treat.astype(int), discarded=res.discarded, exact=g, **p)
    np.testing.assert_array_equal(res.match_matrix, expected)


def test_one_treated_unit_takes_matchits_single_search():
    """MatchIt 4.6+ with one treated unit and no replacement: reuse.max (1) is not below the
    number of treated units, so the ratio controls come from one search (left 4, right 5,
    left 3, all as near; the partial sort keeps 4 and 5), not from passes (4, then 3)."""
    d = np.array([0.0625, 0, 0, 0, 0, 0.125])
    treat = np.array([True, False, False, False, False, False])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = NearestNeighborMatching(distance=d, std_caliper=False, ratio=2).fit(
            pd.DataFrame({"g": np.zeros(6, int)}), treat).result_
    expected = matchit_port.nn_472(d, treat.astype(int), ratio=2, discarded=res.discarded)
    np.testing.assert_array_equal(res.match_matrix, expected)
    np.testing.assert_array_equal(res.match_matrix, [[4, 5]])
