"""Errors and checks for the parameters and inputs of the matching estimators.

The messages follow scikit-learn's tone: name the parameter, say what was expected and
echo what was given, e.g. ``The 'caliper' parameter of NearestNeighborMatching must be a
float > 0. Got -0.2 instead.``
"""

from __future__ import annotations

import copy
import inspect
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


# --- scikit-learn's parameter protocol ------------------------------------------------


class Parameters:
    """``get_params``, ``set_params``, a readable ``repr`` and :func:`clone`, all read from
    the constructor's signature (scikit-learn's ``BaseEstimator`` semantics).

    A subclass declares its parameters once, as keyword arguments of ``__init__`` that it
    stores unchanged under the same names; everything else follows:

    * ``get_params(deep=True)``: the parameters by name; with ``deep``, a parameter that is
      itself an estimator also contributes its own as ``name__sub``;
    * ``set_params(**params)``: change parameters (``name__sub`` reaches a nested one) and
      return the estimator; an unknown name is an :class:`InvalidParameterError` listing
      the valid ones;
    * ``repr``: the class and the parameters that differ from their defaults, arrays
      shown by their shape;
    * :func:`clone`: a new, unfitted estimator with the same parameters.

    Examples
    --------
    >>> from estimation import NearestNeighborMatching, clone
    >>> m = NearestNeighborMatching(ratio=2, caliper=0.2)
    >>> m
    NearestNeighborMatching(ratio=2, caliper=0.2)
    >>> m.set_params(replace=True).get_params()["replace"]
    True
    >>> clone(m)
    NearestNeighborMatching(ratio=2, replace=True, caliper=0.2)
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The constructor's keyword parameters, in signature order."""
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for parameter in inspect.signature(init).parameters.values():
            if parameter.name == "self":
                continue
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ may not take *args or **kwargs: "
                                "its parameters must be named")
            names.append(parameter.name)
        return names

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        return {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self"}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters by name (nested ones as ``name__sub`` when ``deep``)."""
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params: Any):
        """Set parameters by name (``name__sub`` for a nested estimator's); returns self."""
        valid = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                listed = ", ".join(repr(v) for v in valid)
                raise InvalidParameterError(type(self).__name__, name,
                                            f"one of its parameters ({listed})", value)
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            inner = getattr(self, name)
            if not hasattr(inner, "set_params"):
                raise InvalidParameterError(type(self).__name__, name,
                                            "an estimator to set nested parameters on", inner)
            inner.set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = self._param_defaults()
        shown = [f"{name}={_short(value)}" for name, value in self.get_params(deep=False).items()
                 if not _same(value, defaults.get(name, inspect.Parameter.empty))]
        return f"{type(self).__name__}({', '.join(shown)})"


def clone(estimator: Any) -> Any:
    """A new estimator of the same class with the same parameters, not fitted.

    Parameters that are estimators are cloned in turn; other values are deep copies, so
    that the clone shares nothing mutable with the original (scikit-learn's ``clone``).
    Lists, tuples and sets of estimators are cloned element by element.

    >>> from estimation import NearestNeighborMatching, clone
    >>> original = NearestNeighborMatching(ratio=2, caliper=0.1)
    >>> copy_ = clone(original)
    >>> copy_ is original, copy_.get_params() == original.get_params()
    (False, True)
    """
    if isinstance(estimator, (list, tuple, set, frozenset)):
        return type(estimator)(clone(e) for e in estimator)
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        return copy.deepcopy(estimator)
    params = {name: clone(value) for name, value in estimator.get_params(deep=False).items()}
    return type(estimator)(**params)


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter equals its default (arrays never do)."""
    if default is inspect.Parameter.empty:
        return False
    if hasattr(value, "shape") or hasattr(default, "shape"):
        return value is default
    try:
        return bool(value == default) and type(value) is type(default) or value is default
    except (TypeError, ValueError):
        return False


def _short(value: Any) -> str:
    """A parameter as repr shows it: arrays and frames by their shape."""
    shape = getattr(value, "shape", None)
    if shape is not None and not isinstance(value, (str, bytes)):
        return f"<{type(value).__name__} of shape {tuple(shape)}>"
    return repr(value)
