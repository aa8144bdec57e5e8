"""The design matrix: R's model.matrix expansion and missing-value errors."""

import numpy as np
import pandas as pd
import pytest

from estimation.design import MissingValuesError, design_matrix
from estimation.parameters import InvalidInputError, InvalidParameterError


def frame():
    return pd.DataFrame({
        "age": [30.0, 41.0, 25.0, 33.0],
        "race": ["white", "black", "hispan", "black"],
        "married": [True, False, True, False],
        "n": [1, 2, 3, 4],
    })


def test_treatment_contrasts_like_model_matrix():
    d = design_matrix(frame())
    assert d.names == ("age", "racehispan", "racewhite", "marriedTRUE", "n")
    assert d.sources == ("age", "race", "race", "married", "n")
    np.testing.assert_array_equal(d.matrix[:, 1], [0, 0, 1, 0])
    np.testing.assert_array_equal(d.matrix[:, 2], [1, 0, 0, 0])
    np.testing.assert_array_equal(d.matrix[:, 3], [1, 0, 1, 0])
    assert d.levels["race"] == ("black", "hispan", "white")


def test_categorical_dtype_keeps_category_order_and_drops_unused():
    f = frame()
    f["race"] = pd.Categorical(f["race"], categories=["white", "unused", "black", "hispan"])
    d = design_matrix(f)
    assert d.names[1:3] == ("raceblack", "racehispan")


def test_levels_do_not_depend_on_row_order():
    f = frame()
    a = design_matrix(f)
    b = design_matrix(f.iloc[::-1])
    assert a.names == b.names
    np.testing.assert_array_equal(a.matrix[::-1], b.matrix)


def test_missing_values_name_each_column_and_count():
    f = frame()
    f.loc[[0, 2], "age"] = np.nan
    f.loc[1, "race"] = None
    with pytest.raises(MissingValuesError) as info:
        design_matrix(f)
    assert str(info.value) == (
        "Missing values in covariates: 'age' (2 rows), 'race' (1 row). "
        "Impute them or drop the rows explicitly.")
    assert info.value.counts == {"age": 2, "race": 1}
    assert info.value.exit_code == 2


def test_missing_indicator_option():
    f = frame()
    f.loc[0, "age"] = np.nan
    f.loc[1, "race"] = None
    d = design_matrix(f, missing="indicator")
    assert "age:missing" in d.names and "race(missing)" in d.names
    age = d.matrix[:, d.names.index("age")]
    assert age[0] == pytest.approx(np.mean([41.0, 25.0, 33.0]))
    np.testing.assert_array_equal(d.matrix[:, d.names.index("age:missing")], [1, 0, 0, 0])


def test_bad_missing_option_and_infinite_values():
    with pytest.raises(InvalidParameterError, match=r"The 'missing' parameter of design_matrix"):
        design_matrix(frame(), missing="drop")
    f = frame()
    f.loc[0, "age"] = np.inf
    with pytest.raises(InvalidInputError, match=r"infinite values in: age"):
        design_matrix(f)


def test_arrays_and_duplicate_names():
    d = design_matrix(np.arange(6.0).reshape(3, 2))
    assert d.names == ("x0", "x1")
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match="repeated: a"):
        design_matrix(dup)


def test_dates_and_identifiers_are_refused():
    f = frame().assign(when=pd.to_datetime(["2024-01-01"] * 4))
    with pytest.raises(InvalidInputError, match="Covariate 'when' holds dates or durations"):
        design_matrix(f)
    ids = pd.DataFrame({"person_id": [f"p{i}" for i in range(1001)]})
    with pytest.raises(InvalidInputError, match="Covariate 'person_id' has 1001 distinct values"):
        design_matrix(ids)
