"""estimation.sensitivity_result.ndtr: SciPy's normal CDF taken from its compiled module without
importing scipy.special; the same ufunc and bits, scipy.special still importable whole after it,
and scipy.special.ndtr itself when the module cannot be loaded."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from estimation import sensitivity_result

PROBE = r"""
import sys
import numpy as np
from estimation.sensitivity_result import ndtr, _ndtr_ufunc
x = np.concatenate([np.linspace(-40, 40, 40001), [np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -1e-300]])
values = ndtr(x)
scalar = ndtr(-1.2345)
before = sorted(m for m in sys.modules if m.startswith("scipy.special"))
import scipy.special
assert before == [], before
assert values.tobytes() == scipy.special.ndtr(x).tobytes()
assert scalar == scipy.special.ndtr(-1.2345) and type(scalar) is type(scipy.special.ndtr(-1.2345))
assert _ndtr_ufunc() is scipy.special.ndtr  # the very ufunc scipy.special exports
assert scipy.special._special_ufuncs.ndtr is scipy.special.ndtr  # the package whole after it
print("ok")
"""


def test_the_ufunc_of_scipy_special_without_importing_it():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_without_the_compiled_module_it_is_scipy_special_ndtr(monkeypatch):
    from scipy.special import ndtr as scipy_ndtr

    sensitivity_result._ndtr_ufunc.cache_clear()
    monkeypatch.setattr(sensitivity_result.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delitem(sys.modules, "scipy.special", raising=False)
    try:
        assert sensitivity_result._ndtr_ufunc() is scipy_ndtr
        assert sensitivity_result.ndtr(np.array([-1.0, 0.5])).tobytes() == scipy_ndtr(np.array([-1.0, 0.5])).tobytes()
    finally:
        sensitivity_result._ndtr_ufunc.cache_clear()
