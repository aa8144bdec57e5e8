"""The covariate design matrix: R's ``model.matrix`` with treatment contrasts.

Numeric columns enter as they are. Logical columns become one 0/1 column named
``<name>TRUE`` (as R names them). Categorical and text columns are expanded into one
0/1 column per level except the first (treatment contrasts), named ``<name><level>``;
the levels are the categories of a pandas ``Categorical`` in their given order, or else the
sorted distinct values (R sorts character levels too; tiltak sorts by code point, which
equals R's order for the lower-case codes of the data contract).

Missing values are an error that names each column and its row count, unless
``missing="indicator"``: then a numeric column's missing values are set to the column's
observed mean and a 0/1 column ``<name>:missing`` is added, and a categorical column's
missing values become their own level ``(missing)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from estimation.design_columns import DesignColumns, over_columns
from estimation.parameters import InvalidInputError, check_choice

try:  # the compiled loops (estimation/_core*.c); NumPy gives the same answers
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None

MISSING_LEVEL = "(missing)"
MAX_ABS_COVARIATE = 1e150
"""Larger covariate values overflow when squared (variances, the Hessian of the propensity model)."""


class MissingValuesError(InvalidInputError):
    """Covariates contain missing values; ``counts`` maps column -> rows."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        listed = ", ".join(f"'{c}' ({n} row{'s' if n != 1 else ''})" for c, n in counts.items())
        super().__init__(
            f"Missing values in covariates: {listed}. "
            "Impute them or drop the rows explicitly."
        )


@dataclass(frozen=True, eq=False)
class DesignMatrix:
    """Expanded covariates: a float matrix with one named column per model term.

    ``sources`` gives the input column each design column came from; ``levels`` the
    levels (reference first) of each expanded categorical column. ``columns`` is the
    design in parts (:class:`~estimation.design_columns.DesignColumns`: the numeric
    columns as given, factors as codes), which the propensity model works on; ``matrix``
    (n x p float64, Fortran order) is built from it on first use. ``DesignMatrix(matrix,
    names, sources)`` with a 2-d array is accepted too.
    """

    columns: DesignColumns
    names: tuple[str, ...]
    sources: tuple[str, ...]
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.columns, DesignColumns):
            matrix = np.asfortranarray(self.columns, dtype=np.float64)
            object.__setattr__(self, "columns", DesignColumns.of_matrix(matrix))
            self.__dict__["matrix"] = matrix

    @cached_property
    def matrix(self) -> np.ndarray:
        return self.columns.matrix()

    @property
    def shape(self) -> tuple[int, int]:
        return self.columns.shape


def as_frame(X: object) -> pd.DataFrame:
    """Accept a DataFrame, a 2-d array or a mapping of columns; return a DataFrame."""
    if isinstance(X, pd.DataFrame):
        frame = X
    elif isinstance(X, dict):
        frame = pd.DataFrame(X)
    else:
        array = np.asarray(X)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise InvalidInputError(
                f"Covariates must be 2-dimensional (rows x columns); got an array with "
                f"{array.ndim} dimensions."
            )
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if frame.columns.duplicated().any():
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InvalidInputError(f"Covariate names must be unique; repeated: {', '.join(dup)}.")
    return frame


MAX_LEVELS = 1000


def _kind(series: pd.Series) -> str:
    """'bool', 'numeric' or 'category' for one input column (dates and durations refused)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or isinstance(
            series.dtype, pd.PeriodDtype) or pd.api.types.is_timedelta64_dtype(series.dtype):
        raise InvalidInputError(
            f"Covariate '{series.name}' holds dates or durations ({series.dtype}); convert it "
            "to a number (e.g. months since an event) or to categories first.")
    return column_kind(series)


def column_kind(series: pd.Series) -> str:
    """'bool', 'numeric' or 'category' for one column, by its dtype (objects that are all
    True/False are 'bool'; the design matrix and the balance table read columns alike)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "numeric"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return "bool" if inferred == "boolean" else "category"


def _sorted_codes(series: pd.Series) -> tuple[np.ndarray, list]:
    """Integer codes (-1 for missing) and the levels they index, levels sorted."""
    try:
        codes, uniques = pd.factorize(series, sort=True)
        return np.asarray(codes), list(uniques)
    except TypeError:  # values of mixed types: sort them by their text
        codes, uniques = pd.factorize(series, sort=False)
        order = sorted(range(len(uniques)), key=lambda i: str(uniques[i]))
        remap = np.empty(len(order) + 1, dtype=np.int64)
        remap[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
        remap[-1] = -1
        return remap[np.asarray(codes)], [uniques[i] for i in order]


def _encode(series: pd.Series, kind: str) -> tuple[np.ndarray, list]:
    """Codes and levels of a logical or categorical column (reference level first)."""
    if kind == "bool":
        if series.dtype == bool:
            return series.to_numpy().astype(np.int64), [False, True]
        missing = series.isna().to_numpy()
        truth = series.fillna(False).astype(bool).to_numpy()
        return np.where(missing, -1, truth.astype(np.int64)), [False, True]
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.int64)
        counts = np.bincount(codes + 1, minlength=len(series.cat.categories) + 1)[1:]
        used = np.flatnonzero(counts)  # the categories present, in order
        if used.size == counts.size:  # every category present: the codes are the remapped ones
            return codes, [series.cat.categories[i] for i in used]
        remap = np.full(len(series.cat.categories) + 1, -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        return remap[codes], [series.cat.categories[i] for i in used]
    return _sorted_codes(series)


def _numeric_values(series: pd.Series) -> np.ndarray:
    """A numeric column's values without a copy when NumPy holds them (any int or float
    width; the model reads them as float64), else as float64 with NaN for missing."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf" and dtype.itemsize <= 8:
        return np.ascontiguousarray(series.to_numpy())
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def float_stats(values: np.ndarray) -> tuple[int, int, float]:
    """(missing values, infinite values, max |x| over the finite values) of a numeric
    column (integers: none, none, their max |x|)."""
    if values.dtype.kind != "f":  # max |x| of the integers, then rounded: as of the floats
        if not values.size:
            return 0, 0, 0.0
        return 0, 0, float(np.float64(max(abs(int(values.max())), abs(int(values.min())))))
    if _core is not None and values.dtype in (np.float64, np.float32):
        return _core.float_stats(np.ascontiguousarray(values))
    magnitude = np.abs(values[~np.isnan(values)])
    finite = magnitude[np.isfinite(magnitude)]
    return (int(np.isnan(values).sum()), int(np.isinf(magnitude).sum()),
            float(finite.max()) if finite.size else 0.0)


def _compact(codes: np.ndarray, count: int) -> np.ndarray:
    """Codes in the narrowest signed integer type that holds 0..count."""
    for dtype in (np.int8, np.int16, np.int32):
        if count < np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes.astype(np.int64)


def _dummy_names(name: str, levels: list) -> list[str]:
    """Names of the 0/1 columns for every level but the first, as R names them."""
    return [f"{name}{'TRUE' if level is True else level}" for level in levels[1:]]


def design_matrix(X: object, missing: str = "error") -> DesignMatrix:
    """Expand covariates into a float design matrix (no intercept column).

    Raises MissingValuesError naming each column with missing values and its row count,
    unless ``missing="indicator"``. The matrix is Fortran-ordered (one column at a time).

    >>> from estimation import design_matrix
    >>> design = design_matrix({"age": [30, 41, 52], "region": ["north", "south", "north"]})
    >>> design.names, design.matrix.tolist()
    (('age', 'regionsouth'), [[30.0, 0.0], [41.0, 1.0], [52.0, 0.0]])
    """
    check_choice("design_matrix", "missing", missing, ("error", "indicator"))
    frame = as_frame(X)
    names = [str(column) for column in frame.columns]
    series = [frame[column] for column in frame.columns]
    parts = over_columns(lambda item: _encode_column(*item), zip(names, series), len(frame))
    encoded = [entry for entry, _ in parts]
    counts = {entry[0]: n_missing for entry, n_missing in parts if n_missing}
    if counts and missing == "error":
        raise MissingValuesError(counts)
    return _assemble(encoded, counts, len(frame))


def _encode_column(name: str, series: pd.Series) -> tuple[tuple, int]:
    """One input column for :func:`_assemble`: ``(name, values, float_stats)`` of a numeric
    column or ``(name, codes, levels)`` of a logical or categorical one, and its number of
    missing values."""
    kind = _kind(series)
    if kind == "numeric":
        values = _numeric_values(series)
        stats = float_stats(values)
        return (name, values, stats), stats[0]
    codes, levels = _encode(series, kind)
    if len(levels) > MAX_LEVELS:
        raise InvalidInputError(
            f"Covariate '{name}' has {len(levels)} distinct values; a categorical "
            f"covariate may have at most {MAX_LEVELS} (is it an identifier?).")
    return (name, codes, levels), int((codes < 0).sum())


def _assemble(encoded: list, counts: dict[str, int], n: int) -> DesignMatrix:
    """Plan the design's parts: numeric columns as they are, factors as codes."""
    terms: list = []  # ("dense", values) or ("factor", codes, dummies), in column order
    names: list[str] = []
    sources: list[str] = []
    levels_of: dict[str, tuple[str, ...]] = {}
    dense: list[tuple[str, tuple]] = []
    for name, values, levels in encoded:
        if isinstance(levels, tuple):  # a numeric column and its float_stats
            stats = levels
            parts, labels = [("dense", values)], [name]
            if name in counts:
                gaps = np.isnan(values)
                mean = float(values[~gaps].mean()) if counts[name] < n else 0.0
                parts = [("dense", np.where(gaps, mean, values)), ("dense", gaps)]
                labels = [name, f"{name}:missing"]
            dense.append((name, stats))
        else:
            if name in counts:
                values = np.where(values < 0, len(levels), values)
                levels = [*levels, MISSING_LEVEL]
            parts = [("factor", _compact(values, len(levels)), len(levels) - 1)]
            labels = _dummy_names(name, levels)
            levels_of[name] = tuple(str(v) for v in levels)
        terms.extend(parts)
        names.extend(labels)
        sources.extend([name] * len(labels))
    _check_magnitudes(dense)
    return DesignMatrix(DesignColumns.of(n, terms), tuple(names), tuple(sources), levels_of)


def _check_magnitudes(dense: list[tuple[str, tuple]]) -> None:
    """Numeric columns (name, float_stats) must be finite and below MAX_ABS_COVARIATE."""
    bad = [name for name, (_, infinite, _) in dense if infinite]
    if bad:
        raise InvalidInputError(
            f"Covariates must be finite numbers; infinite values in: {', '.join(bad)}."
        )
    huge = [name for name, (_, _, largest) in dense if largest > MAX_ABS_COVARIATE]
    if huge:
        raise InvalidInputError(
            f"Covariates must be numbers below {MAX_ABS_COVARIATE:g} in absolute value (their squares "
            f"would overflow); too large in: {', '.join(huge)}. Rescale them (e.g. thousands of NOK)."
        )
