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

import numpy as np
import pandas as pd

from estimation.parameters import InvalidInputError, check_choice

MISSING_LEVEL = "(missing)"


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
    levels (reference first) of each expanded categorical column.
    """

    matrix: np.ndarray
    names: tuple[str, ...]
    sources: tuple[str, ...]
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def to_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """The design as a data frame (one column per term)."""
        return pd.DataFrame(self.matrix, columns=list(self.names), index=index)


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


def _kind(series: pd.Series) -> str:
    """'bool', 'numeric' or 'category' for one input column."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "numeric"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return "bool" if inferred == "boolean" else "category"


def _missing_counts(frame: pd.DataFrame) -> dict[str, int]:
    counts = frame.isna().sum()
    return {str(c): int(n) for c, n in counts.items() if n > 0}


def _levels(series: pd.Series, kind: str) -> list:
    if kind == "category" and isinstance(series.dtype, pd.CategoricalDtype):
        used = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in used]
    values = pd.unique(series.dropna())
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _categorical_columns(name: str, series: pd.Series, kind: str, fill: bool):
    """0/1 columns for every level but the first; booleans give one '<name>TRUE' column."""
    if kind == "bool":
        levels: list = [False, True]
        codes = pd.Categorical(series.astype(object), categories=levels).codes
    else:
        levels = _levels(series, kind)
        codes = pd.Categorical(series, categories=levels).codes
    if fill and (codes < 0).any():
        codes = np.where(codes < 0, len(levels), codes)
        levels = [*levels, MISSING_LEVEL]
    columns, names = [], []
    for code, level in enumerate(levels[1:], start=1):
        columns.append((codes == code).astype(np.float64))
        names.append(f"{name}{'TRUE' if level is True else level}")
    return columns, names, tuple(str(v) for v in levels)


def design_matrix(X: object, missing: str = "error") -> DesignMatrix:
    """Expand covariates into a float design matrix (no intercept column).

    Raises MissingValuesError naming each column with missing values and its row count,
    unless ``missing="indicator"``.
    """
    check_choice("design_matrix", "missing", missing, ("error", "indicator"))
    frame = as_frame(X)
    counts = _missing_counts(frame)
    if counts and missing == "error":
        raise MissingValuesError(counts)
    columns: list[np.ndarray] = []
    names: list[str] = []
    sources: list[str] = []
    levels: dict[str, tuple[str, ...]] = {}
    for column in frame.columns:
        name, series = str(column), frame[column]
        kind = _kind(series)
        if kind == "numeric":
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            cols, labels = [values], [name]
            if name in counts:
                mean = float(np.nanmean(values)) if counts[name] < len(values) else 0.0
                cols = [np.where(np.isnan(values), mean, values), np.isnan(values).astype(float)]
                labels = [name, f"{name}:missing"]
        else:
            cols, labels, levels[name] = _categorical_columns(name, series, kind, name in counts)
        columns.extend(cols)
        names.extend(labels)
        sources.extend([name] * len(labels))
    matrix = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    if not np.isfinite(matrix).all():
        bad = [names[j] for j in range(matrix.shape[1]) if not np.isfinite(matrix[:, j]).all()]
        raise InvalidInputError(
            f"Covariates must be finite numbers; infinite values in: {', '.join(bad)}."
        )
    return DesignMatrix(np.ascontiguousarray(matrix), tuple(names), tuple(sources), levels)
