"""The survey effect after subclassification or CEM is ``estimation.estimate_att_interactions``.

``design_run`` had its own copy of it (``_strata_effect``, removed in issue 14's round 6).
The function that replaced it must give that copy's figures bit for bit: estimate, SE,
interval, p-value and the comparison units' effective sample size. The copy's body is kept
here (``_retired_copy``, as it was at bfd265a) and run on the same machine, because the
regression's cross products and pseudo-inverse go through the BLAS and LAPACK that NumPy
ships, whose last bits differ from one NumPy release to another. The golden values
(strata_effect_golden.json, ``float.hex``, computed by that copy at bfd265a with the NumPy of that time)
pin the figures across releases to a relative 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from estimation import CoarsenedExactMatching, Subclassification, att_interactions, example_data
from estimation.effect_estimate import normal_inference
from tiltak.evaluation.design_run import survey_effect

FIELDS = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "ess_control")
CASES = json.loads((Path(__file__).parent / "strata_effect_golden.json").read_text())["cases"]
#: How far the golden values may be from this machine's (another NumPy's BLAS and LAPACK).
ACROSS_RELEASES = 1e-9


def _sample(method: str, n: int, seed: int, effect: float):
    X, treat, y = example_data(n=n, seed=seed)
    y = y.to_numpy() - (2.0 - effect) * treat
    matcher = Subclassification(subclasses=5) if method == "subclass" else CoarsenedExactMatching()
    return matcher.fit(X, treat).result_, y, np.arange(n) // 3  # three units a person


def _retired_copy(sample, y, covariates, persons) -> dict[str, float]:
    """``design_run._strata_effect`` and its ``_ess`` as they were at bfd265a."""
    est, se = att_interactions(sample, y, sample.covariates[covariates], cluster=persons)
    low, high, p = normal_inference(est, se, 0.05)
    treat, w = np.asarray(sample.treat, bool), np.asarray(sample.weights, dtype=float)
    w = w[~treat & (w > 0)]
    w = w[w > 0]
    ess = float(w.sum() ** 2 / np.sum(w ** 2)) if w.size else None
    return dict(zip(FIELDS, (est, se, low, high, p, ess)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['method']}-{c['n']}-{c['seed']}-{c['effect']}")
def test_strata_survey_effect_is_bit_identical_to_the_retired_copy(case):
    sample, y, persons = _sample(case["method"], case["n"], case["seed"], case["effect"])
    assert sample.structure == "strata"
    effect = survey_effect(sample, y, ["age", "female"], persons)
    assert effect.method == "control_outcome_regression"
    retired = _retired_copy(sample, y, ["age", "female"], persons)
    assert {f: float(getattr(effect, f)).hex() for f in FIELDS} == {f: float(v).hex() for f, v in retired.items()}
    golden = {f: float.fromhex(case[f]) for f in FIELDS}
    assert {f: float(getattr(effect, f)) for f in FIELDS} == pytest.approx(golden, rel=ACROSS_RELEASES, abs=0)
    assert effect.n_clusters == len(np.unique(persons[np.asarray(sample.weights) > 0]))
