"""A small simulated data set for the examples in the docstrings (as ``sklearn.datasets``).

>>> from estimation import example_data
>>> X, treat, y = example_data()
>>> X.shape, int(treat.sum()), list(X.columns)
((200, 2), 62, ['age', 'female'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def example_data(n: int = 200, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """Covariates ``X`` (age, female), a treatment that older people take up more often,
    and an outcome ``y`` with a true effect of 2 on the treated (plus 0.1 per year of age).

    >>> X, treat, y = example_data(n=50, seed=1)
    >>> X.shape, treat.dtype, y.name
    ((50, 2), dtype('bool'), 'y')
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"age": rng.normal(40, 10, n).round(), "female": rng.integers(0, 2, n)})
    treat = rng.random(n) < 1 / (1 + np.exp(-(X["age"].to_numpy() - 45) / 8))
    y = pd.Series(2.0 * treat + 0.1 * X["age"] + rng.normal(0, 1, n), name="y")
    return X, treat, y
