"""The survey effect after subclassification or CEM is ``estimation.estimate_att_interactions``.

``design_run`` had its own copy of it (``_strata_effect``, removed in issue 14's round 6);
the golden values (strata_effect_golden.json) were computed by that copy at bfd265a
(``float.hex``) and the function that replaced it must give them bit for bit: estimate, SE,
interval, p-value and the comparison units' effective sample size.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from estimation import CoarsenedExactMatching, Subclassification, example_data
from tiltak.evaluation.design_run import survey_effect

FIELDS = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "ess_control")
CASES = json.loads((Path(__file__).parent / "strata_effect_golden.json").read_text())["cases"]


def _sample(method: str, n: int, seed: int, effect: float):
    X, treat, y = example_data(n=n, seed=seed)
    y = y.to_numpy() - (2.0 - effect) * treat
    matcher = Subclassification(subclasses=5) if method == "subclass" else CoarsenedExactMatching()
    return matcher.fit(X, treat).result_, y, np.arange(n) // 3  # three units a person


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['method']}-{c['n']}-{c['seed']}-{c['effect']}")
def test_strata_survey_effect_is_bit_identical_to_the_retired_copy(case):
    sample, y, persons = _sample(case["method"], case["n"], case["seed"], case["effect"])
    assert sample.structure == "strata"
    effect = survey_effect(sample, y, ["age", "female"], persons)
    assert effect.method == "control_outcome_regression"
    assert {f: float(getattr(effect, f)).hex() for f in FIELDS} == {f: case[f] for f in FIELDS}
    assert effect.n_clusters == len(np.unique(persons[np.asarray(sample.weights) > 0]))
