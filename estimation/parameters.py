"""Errors and checks for the parameters and inputs of the matching estimators.

The messages follow scikit-learn's tone: name the parameter, say what was expected and
echo what was given, e.g. ``The 'caliper' parameter of NearestNeighborMatching must be a
float > 0. Got -0.2 instead.``
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from estimation.errors import EstimationError


class InvalidParameterError(EstimationError, ValueError):
    """A constructor parameter has a value the estimator cannot use."""

    def __init__(self, estimator: str, parameter: str, expected: str, value: Any) -> None:
        self.estimator = estimator
        self.parameter = parameter
        self.expected = expected
        self.value = value
        super().__init__(
            f"The '{parameter}' parameter of {estimator} must be {expected}. "
            f"Got {value!r} instead."
        )


class InvalidInputError(EstimationError, ValueError):
    """The data given to ``fit`` cannot be used (wrong shape, values, missing values)."""


class NotFittedError(EstimationError, AttributeError):
    """An estimator was used before ``fit``."""

    def __init__(self, estimator: str) -> None:
        self.estimator = estimator
        super().__init__(
            f"This {estimator} instance is not fitted yet. Call 'fit' with appropriate "
            "arguments before using this estimator."
        )


def check_choice(owner: str, name: str, value: Any, options: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``options``, else raise InvalidParameterError."""
    if isinstance(value, str) and value in options:
        return value
    listed = ", ".join(repr(o) for o in options)
    raise InvalidParameterError(owner, name, f"a str among {{{listed}}}", value)


def check_positive_int(owner: str, name: str, value: Any) -> int:
    """Return ``value`` as int if it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidParameterError(owner, name, "an int >= 1", value)
    return int(value)


def check_bool(owner: str, name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (numpy bools included)."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise InvalidParameterError(owner, name, "a bool (True or False)", value)
    return bool(value)


def check_caliper(owner: str, value: Any) -> float | None:
    """Return the caliper as a float > 0, or None when no caliper is wanted."""
    if value is None:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not (float(value) > 0) or float(value) == float("inf"):
        raise InvalidParameterError(owner, "caliper", "a float > 0 or None", value)
    return float(value)


def check_seed(owner: str, value: Any) -> int | None:
    """Return the seed as an int >= 0 or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InvalidParameterError(owner, "random_state", "an int >= 0 or None", value)
    return int(value)
