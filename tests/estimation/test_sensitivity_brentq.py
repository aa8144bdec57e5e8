"""estimation.sensitivity_result.brentq: SciPy's compiled Brent solver without importing
scipy.optimize, the same root to the bit as scipy.optimize.brentq and the same errors."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.optimize

from estimation.sensitivity_result import brentq

FUNCTIONS = [
    (lambda x: math.exp(x) - 3.0, 0.0, 5.0),
    (lambda x: x**3 - 2 * x - 5, 2.0, 3.0),
    (lambda x: math.atan(x - 0.3) * 1e-9, -10.0, 10.0),  # flat: many bisections
    (lambda x: math.erfc(x) - 0.05, 0.0, 6.0),
    (lambda x: 1.0 if x > 0.25 else -1.0, 0.0, 1.0),  # a step: no root to interpolate
    (lambda x: x - 0.5, 0.0, 1.0),
    (lambda x: 0.0 if x == 0.0 else x, 0.0, 1.0),  # f(a) == 0
]


@pytest.mark.parametrize("function, a, b", FUNCTIONS)
@pytest.mark.parametrize("tol", [1e-12, 1e-6])
def test_the_root_is_scipys_to_the_bit(function, a, b, tol):
    ours = brentq(function, a, b, xtol=tol, rtol=1e-12)
    theirs = scipy.optimize.brentq(function, a, b, xtol=tol, rtol=1e-12)
    assert ours.hex() == theirs.hex()


def test_random_p_value_curves_give_scipys_roots():
    rng = np.random.default_rng(7)
    for _ in range(200):
        t, scale, alpha = rng.normal(3, 1), rng.uniform(0.1, 3), rng.uniform(0.001, 0.2)

        def gap(lg, t=t, scale=scale, alpha=alpha):
            return 0.5 * math.erfc((t - lg / scale) / math.sqrt(2)) - alpha

        low, high = -50.0, 50.0
        ours = brentq(gap, low, high, xtol=1e-12, rtol=1e-12)
        assert ours.hex() == scipy.optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-12).hex()


@pytest.mark.parametrize("function, a, b", [
    (lambda x: float("nan") if x > 0.5 else x - 0.7, 0.0, 1.0),  # NaN on the way
    (lambda x: x + 1.0, 0.0, 1.0),  # no sign change
])
def test_errors_are_scipys(function, a, b):
    with pytest.raises(ValueError) as theirs:
        scipy.optimize.brentq(function, a, b, xtol=1e-12, rtol=1e-12)
    with pytest.raises(ValueError) as ours:
        brentq(function, a, b, xtol=1e-12, rtol=1e-12)
    assert str(ours.value) == str(theirs.value)


def test_rosenbaum_bounds_do_not_import_scipy_optimize():
    code = ("import sys, numpy as np; from estimation.sensitivity import rosenbaum_wilcoxon_differences as r; "
            "d = np.random.default_rng(1).normal(0.4, 1, 300); g = r(d).gamma_critical; "
            "assert 1 < g < 10, g; print('scipy.optimize' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
