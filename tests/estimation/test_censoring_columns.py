"""censoring_weights builds its two hazard models' designs from the covariates' columns as they
come (a factor's dummies as boolean columns, numbers in their own dtype), never the n x p
float64 matrix: the fits must be those of the float64 matrix, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation.censoring import _parts, censoring_weights
from estimation.design import design_matrix
from estimation.design_columns import DesignColumns
from estimation.glm import fit_binomial


def _panel(seed: int, units: int = 400, months: int = 7):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(units):
        span = int(rng.integers(1, months + 1))
        for k in range(span):
            rows.append((u, k, int(k == span - 1 and rng.random() < 0.5)))
    unit, interval, censored = (np.array(c) for c in zip(*rows))
    n = unit.size
    covariates = pd.DataFrame({
        "age": rng.integers(18, 70, n).astype(np.int32),  # an integer dtype other than int64
        "score": rng.normal(size=n) * 1e3,
        "small": rng.normal(size=n).astype(np.float32),
        "sex": pd.Series(rng.choice(["f", "m"], n), dtype="string[pyarrow]"),
        "centre": pd.Categorical(rng.choice(["c", "a", "b", "d"], n), categories=["d", "c", "b", "a"]),
        "flag": rng.random(n) < 0.3,
        "count": rng.integers(0, 4, n),
    })
    baseline = covariates[["age", "sex", "centre"]].copy()
    return unit, interval, censored, covariates, baseline


def _float64_fit(interval, censored, *frames):
    """The model as fitted from the float64 matrix of the same columns."""
    levels = np.unique(interval)
    blocks = [np.column_stack([(interval == v).astype(np.float64) for v in levels[1:]])]
    blocks += [design_matrix(frame).matrix for frame in frames]
    return fit_binomial(DesignColumns.of_matrix(np.column_stack(blocks)), censored.astype(np.float64))


@pytest.mark.filterwarnings("ignore:.*collinear")  # the baseline's columns again in the denominator
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_hazard_fits_are_those_of_the_float64_matrix_bit_for_bit(seed):
    unit, interval, censored, covariates, baseline = _panel(seed)
    result = censoring_weights(unit, interval, censored, covariates, baseline)
    den = _float64_fit(interval, censored, baseline, covariates)
    num = _float64_fit(interval, censored, baseline)
    assert result.p_denominator.tobytes() == np.asarray(den.fitted, dtype=np.float64).tobytes()
    assert result.p_numerator.tobytes() == np.asarray(num.fitted, dtype=np.float64).tobytes()
    assert result.coefficients["denominator"].to_numpy().tobytes() == den.coef.tobytes()


def test_the_parts_are_the_matrix_columns():
    _, _, _, covariates, _ = _panel(3)
    design = design_matrix(covariates)
    parts = _parts(design.columns)
    assert len(parts) == design.matrix.shape[1]
    for j, column in enumerate(parts):
        assert column.ndim == 1 and column.flags.c_contiguous
        assert np.asarray(column, dtype=np.float64).tobytes() == np.ascontiguousarray(design.matrix[:, j]).tobytes(), j
    assert any(column.dtype == bool for column in parts)  # the dummies: one byte a row
