"""The survey effect after subclassification or CEM is ``estimation.estimate_att_interactions``.

``design_run`` had its own copy of it (``_strata_effect``, removed in issue 14's round 6);
the golden values below were computed by that copy at bfd265a (``float.hex``) and the
function that replaced it must give them bit for bit: estimate, SE, interval, p-value and
the comparison units' effective sample size.
"""

from __future__ import annotations

import numpy as np
import pytest

from estimation import CoarsenedExactMatching, Subclassification, example_data
from tiltak.evaluation.design_run import survey_effect

FIELDS = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "ess_control")

GOLDEN = {  # (method, n, seed, true effect): the old _strata_effect's values, in FIELDS order
    ("subclass", 400, 3, 2.0): ("0x1.0dc4b8a67e1ddp+1", "0x1.d0b0d5d86f772p-4", "0x1.e29d020e36c58p+0",
                                "0x1.2a3af045e0d8ep+1", "0x1.6d264dd8a466cp-254", "0x1.cfa7083e8c112p+6"),
    ("cem", 400, 3, 2.0): ("0x1.1081c29fac3dap+1", "0x1.c818a1cb4d5d5p-4", "0x1.e9249b1c54a2bp+0",
                           "0x1.2c7137b12e29fp+1", "0x1.a7f1e9024cb96p-269", "0x1.f3cddd063a460p+6"),
    ("subclass", 1500, 11, 2.0): ("0x1.0d1589047e1ffp+1", "0x1.2a4c66b040ac6p-4", "0x1.f5a09a6ba8c34p+0",
                                  "0x1.1f5ac4d327de4p+1", "0x1.b18caf02d893cp-607", "0x1.0f9825314d2f2p+8"),
    ("cem", 1500, 11, 2.0): ("0x1.0feafae7bf517p+1", "0x1.3e01d6914baf5p-4", "0x1.f8e17032bd809p+0",
                             "0x1.23653db61fe29p+1", "0x1.c8086b014c555p-546", "0x1.c7170c61d824ap+7"),
    ("subclass", 600, 5, 0.15): ("-0x1.59f65cac4c835p-7", "0x1.a7874271f38fep-4", "-0x1.b4ac3d51c0e3fp-3",
                                 "0x1.896d71bc37539p-3", "0x1.d65c1f50a4dcep-1", "0x1.553f2c6ed3175p+7"),
    ("cem", 600, 5, 0.15): ("-0x1.3cd08b9499306p-7", "0x1.9cf3ecef95895p-4", "-0x1.a87cbcc5d32ebp-3",
                            "0x1.80e2ab534008bp-3", "0x1.d8e22face83aap-1", "0x1.5d43f87bfb831p+7"),
}


def _sample(method: str, n: int, seed: int, effect: float):
    X, treat, y = example_data(n=n, seed=seed)
    y = y.to_numpy() - (2.0 - effect) * treat
    matcher = Subclassification(subclasses=5) if method == "subclass" else CoarsenedExactMatching()
    return matcher.fit(X, treat).result_, y, np.arange(n) // 3  # three units a person


@pytest.mark.parametrize("case", sorted(GOLDEN), ids=lambda c: "-".join(map(str, c)))
def test_strata_survey_effect_is_bit_identical_to_the_retired_copy(case):
    sample, y, persons = _sample(*case)
    assert sample.structure == "strata"
    effect = survey_effect(sample, y, ["age", "female"], persons)
    assert effect.method == "control_outcome_regression"
    assert tuple(float(getattr(effect, f)).hex() for f in FIELDS) == GOLDEN[case]
    assert effect.n_clusters == len(np.unique(persons[np.asarray(sample.weights) > 0]))
