"""The compiled loops (estimation/_core.c) give the same bits as their Python versions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation import nearest

core = pytest.importorskip("estimation._core")


@st.composite
def problems(draw):
    n = draw(st.integers(2, 300))
    grid = draw(st.sampled_from([8, 32, 10_000]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    d = rng.integers(0, grid, size=n) / grid
    treat = rng.random(n) < draw(st.floats(0.1, 0.7))
    treat[0], treat[1] = True, False
    stratum = rng.integers(0, draw(st.integers(1, 3)), size=n)
    ratio = draw(st.integers(1, 4))
    caliper = draw(st.sampled_from([None, 0.01, 0.1, 0.3]))
    ties = draw(st.sampled_from(["matchit", "matchit-4.5"]))
    return d, treat, stratum, ratio, caliper, ties, rng


@settings(max_examples=300, deadline=None)
@given(problems(), st.booleans())
def test_matcher_same_as_python(monkeypatch_problem, replace):
    d, treat, stratum, ratio, caliper, ties, rng = monkeypatch_problem
    treated = rng.permutation(np.flatnonzero(treat))
    controls = np.flatnonzero(~treat)
    match = nearest.match_with_replacement if replace else nearest.match_without_replacement
    compiled = match(d, treated, stratum, controls, ratio, caliper, ties=ties)
    saved, nearest._core = nearest._core, None
    try:
        python = match(d, treated, stratum, controls, ratio, caliper, ties=ties)
    finally:
        nearest._core = saved
    np.testing.assert_array_equal(compiled, python)


def test_bad_buffers_are_refused():
    with pytest.raises(TypeError, match="float64"):
        core.count_le(np.zeros(4, dtype=np.float32), np.zeros(2), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="too short"):
        core.count_le(np.zeros(4), np.zeros(3), np.zeros(2, dtype=np.int64))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 400), st.integers(1, 400))
def test_count_le_is_searchsorted_right(seed, n_values, n_grid):
    rng = np.random.default_rng(seed)
    values = np.sort(rng.integers(-5, 6, size=n_values) / 4.0)
    grid = np.unique(np.concatenate([rng.integers(-7, 8, size=n_grid) / 4.0, [-0.0]]))
    out = np.empty(grid.size, dtype=np.int64)
    core.count_le(values, grid, out)
    np.testing.assert_array_equal(out, np.searchsorted(values, grid, side="right"))


# --- sums in NumPy's order (estimation/_core_sums.c) ----------------------------------

SUM_SIZES = [0, 1, 7, 8, 9, 127, 128, 129, 1000, 8191, 8192, 8193, 20_001, 300_007]


def _spread(rng, n):
    """Values over twelve orders of magnitude, so that the order of addition shows."""
    return rng.normal(size=n) * 10.0 ** rng.integers(-6, 6, size=n)


@pytest.mark.parametrize("n", SUM_SIZES)
def test_sums_have_numpys_bits(n):
    from estimation import sums

    rng = np.random.default_rng(n)
    a, b = _spread(rng, n), rng.random(n)
    c, m = 0.37, 1.3
    for kind, expression in sums.EXPRESSIONS.items():
        values = expression(a, b, np.float64(c), np.float64(m))
        assert sums.r_sum_of(kind, a, b, c, m) == np.float64(np.sum(values, dtype=np.longdouble))
        if kind in (0, 1):
            assert sums.plain_sum_of(kind, a, b) == np.sum(values)
    assert sums.r_cumsum(b).tobytes() == np.cumsum(b, dtype=np.longdouble).astype(np.float64).tobytes()


def test_the_order_of_addition_shows_on_these_values():
    """The data above do tell orders apart: a sequential sum differs from NumPy's."""
    rng = np.random.default_rng(8193)
    a = _spread(rng, 8193)
    sequential = np.float64(0.0)
    for v in a:
        sequential += v
    assert sequential != np.sum(a)


def test_sums_of_other_types_fall_back_to_numpy():
    from estimation import sums

    flags = np.array([True, False, True, True])
    w = np.array([0.5, 1.0, 0.25, 2.0])
    assert sums.r_sum_of(1, flags, w) == np.float64(np.sum(flags * w, dtype=np.longdouble))
    assert sums.plain_sum_of(0, flags) == 3


@pytest.mark.parametrize("values", [
    [], [0.0, 1.0, 1.0], [0.0, -0.0, 1.0], [2.0, -3.0, 4.0], [0.5, 1.0], [np.nan, 1.0],
    [np.inf, 2.0], [2.0**53, 3.0], [-(2.0**60), 1.0], [4503599627370495.5, 1.0],
    [1e-300, 0.0], [-7.0, 1.0, 0.0],
])
def test_value_kind_is_numpys_tests(values):
    from estimation import sums

    x = np.asarray(values, dtype=np.float64)
    binary = bool(np.all((x == 0) | (x == 1)))
    whole = x.size > 0 and np.array_equal(np.floor(x), x)
    expected = (binary, float(np.abs(x).max()) if whole else float("inf"))
    assert sums.value_kind(x) == expected
    assert core.value_kind(x) == expected


@pytest.mark.parametrize("special", [0.5, np.nan, np.inf, -np.inf, 2.0**53, -(2.0**60), 7.0, -0.0,
                                     4503599627370495.5, 1e-300])
def test_value_kind_in_every_lane_and_the_tail(special):
    """The compiled pass takes eight values at a time and the rest one by one: a special
    value in each of those places gives NumPy's answer."""
    for n in (8, 16, 19, 40):
        for where in range(n):
            x = np.ones(n)
            x[::3] = 0.0
            x[where] = special
            binary = bool(np.all((x == 0) | (x == 1)))
            whole = bool(np.array_equal(np.floor(x), x))
            assert core.value_kind(x) == (binary, float(np.abs(x).max()) if whole else float("inf"))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 3000), st.sampled_from([3, 50, 10**6, 0]))
def test_stable_argsort_is_numpys(seed, n, grid):
    from estimation.ordering import stable_argsort, stable_sort

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) if grid == 0 else rng.integers(0, grid, size=n) / 7.0
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.05] = -0.0
    x[rng.random(n) < 0.05] = 0.0
    expected = np.argsort(x, kind="stable")
    order = np.argsort(x)
    ordered = np.empty(n)
    core.fix_ties(x, order, ordered)
    np.testing.assert_array_equal(order, expected)
    assert ordered.tobytes() == x[expected].tobytes()
    np.testing.assert_array_equal(stable_argsort(x), expected)
    np.testing.assert_array_equal(stable_sort(x)[0], expected)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 3000), st.sampled_from([3, 50, 10**6, 0]))
def test_radix_argsort_is_numpys_stable_order(seed, n, grid):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) if grid == 0 else rng.integers(-grid, grid + 1, size=n) / 7.0
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.05] = -0.0
    x[rng.random(n) < 0.05] = 0.0
    x[rng.random(n) < 0.02] = -np.inf
    x[rng.random(n) < 0.02] = np.inf
    expected = np.argsort(x, kind="stable")
    order, ordered = np.empty(n, dtype=np.int64), np.empty(n)
    core.radix_argsort(x, order, ordered)
    np.testing.assert_array_equal(order, expected)
    assert ordered.tobytes() == x[expected].tobytes()


def test_stable_sort_by_radix_at_radix_sizes():
    from estimation.ordering import stable_argsort, stable_sort

    rng = np.random.default_rng(3)
    for x in (rng.normal(size=70_000), np.round(rng.normal(size=70_000), 1),
              -np.abs(rng.integers(0, 4, size=70_000).astype(np.float64))):
        expected = np.argsort(x, kind="stable")
        np.testing.assert_array_equal(stable_argsort(x), expected)
        order, ordered = stable_sort(x)
        np.testing.assert_array_equal(order, expected)
        assert ordered.tobytes() == x[expected].tobytes()


def test_radix_argsort_keeps_every_bit():
    # the sorted values come from the sorted keys: subnormals, infinities and both zeros
    # keep their bits, and NaNs of any sign or payload are read back from the input
    rng = np.random.default_rng(5)
    x = rng.normal(size=5000)
    special = np.array([0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001,
                        0x0000000000000001, 0x8000000000000001, 0x8000000000000000,
                        0x0000000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
                        0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF], dtype=np.uint64).view(np.float64)
    x[rng.integers(0, x.size, size=600)] = rng.choice(special, size=600)
    expected = np.argsort(x, kind="stable")
    order, ordered = np.empty(x.size, dtype=np.int64), np.empty(x.size)
    core.radix_argsort(x, order, ordered)
    np.testing.assert_array_equal(order, expected)
    assert ordered.tobytes() == x[expected].tobytes()


@pytest.mark.parametrize("numpy_fast", [False, True])
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 8000), st.sampled_from([3, 50, 10**6, 0]))
def test_sort_in_place_is_numpys_sort(numpy_fast, seed, n, grid):
    # both ways (the radix sort; NumPy's own where it is vectorised) give NumPy's order
    from estimation import ordering

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) if grid == 0 else rng.integers(-grid, grid + 1, size=n) / 7.0
    special = np.array([0x7FF8000000000001, 0xFFF8000000000000, 0x0000000000000001,
                        0x8000000000000001, 0x8000000000000000, 0x0000000000000000,
                        0x7FF0000000000000, 0xFFF0000000000000], dtype=np.uint64).view(np.float64)
    x[rng.random(n) < 0.05] = rng.choice(special)
    expected, got = np.sort(x), x.copy()
    saved, ordering._NUMPY_SORT_FAST = ordering._NUMPY_SORT_FAST, numpy_fast
    try:
        ordering.sort_in_place(got)
    finally:
        ordering._NUMPY_SORT_FAST = saved
    # the same values in NumPy's order; of equal ones, the radix sort puts -0.0 before
    # +0.0 and NaNs in input order with their bits (NumPy's sort keeps neither)
    plain = (expected != 0) & ~np.isnan(expected)
    assert got[plain].tobytes() == expected[plain].tobytes()
    np.testing.assert_array_equal(got, expected)  # zeros equal, NaNs where NumPy has them
    if n < 2048 or numpy_fast:  # NumPy's own sort
        return
    zeros = got[got == 0]
    assert not np.any(np.diff(np.signbit(zeros).astype(int)) > 0)  # -0.0 first
    assert got[np.isnan(got)].tobytes() == x[np.isnan(x)].tobytes()


def test_stable_sort_by_radix_above_four_million():
    # the matched controls of ratio 3 at 10 million units: once above the old 2^22 limit;
    # and the values alone, split by their top digits first (above 2^18 values)
    from estimation.ordering import sort_in_place, stable_sort

    rng = np.random.default_rng(4)
    x = np.round(rng.normal(size=4_500_000), 4)
    x[::1000] = -0.0
    expected = np.argsort(x, kind="stable")
    order, ordered = stable_sort(x)
    np.testing.assert_array_equal(order, expected)
    assert ordered.tobytes() == x[expected].tobytes()
    x[::997] = np.nan
    x[::1001] = 10.0 ** rng.integers(-300, 300, size=x[::1001].size)
    got = x.copy()
    sort_in_place(got)
    expected = np.sort(x)
    plain = (expected != 0) & ~np.isnan(expected)
    assert got[plain].tobytes() == expected[plain].tobytes()
    np.testing.assert_array_equal(got, expected)


def test_stable_argsort_long_runs():
    from estimation.ordering import stable_argsort

    x = np.random.default_rng(1).integers(0, 3, size=200_000).astype(np.float64)
    np.testing.assert_array_equal(stable_argsort(x), np.argsort(x, kind="stable"))


def test_fix_ties_refuses_bad_positions():
    with pytest.raises(IndexError):
        core.fix_ties(np.zeros(3), np.array([0, 5, 1]), None)
    with pytest.raises(ValueError):
        core.fix_ties(np.zeros(3), np.array([0, 1]), None)


def test_absdiff_mean():
    from estimation import sums

    rng = np.random.default_rng(3)
    x = _spread(rng, 50_000)
    p, q = rng.integers(0, x.size, 20_000), rng.integers(0, x.size, 20_000)
    assert sums.absdiff_mean(x, p, q) == float(np.mean(np.abs(x[p] - x[q])))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.integers(2, 600), st.integers(2, 600),
       st.sampled_from(["ones", "whole", "fraction"]), st.sampled_from([4, 40, 0]))
def test_ecdf_walk_is_group_ecdf_stats(seed, n1, n0, weights, grid):
    from estimation import balance

    rng = np.random.default_rng(seed)
    draw = (lambda n: rng.normal(size=n)) if grid == 0 else (lambda n: rng.integers(0, grid, n) / 3.0)
    x1, x0 = draw(n1), draw(n0)

    def group(n):
        w = {"ones": np.ones(n), "whole": rng.integers(1, 4, n).astype(float),
             "fraction": rng.integers(1, 7, n) / 3.0}[weights]
        w[rng.random(n) < 0.4] = 0.0
        w[0] = w[0] or 1.0
        return w

    w1, w0 = group(n1), group(n0)
    after = tuple(balance.PositiveWeights.of(balance.GroupWeights.of(w, w.size)) for w in (w1, w0))
    tables = (balance.count_cdf(n1), balance.count_cdf(n0))
    before, matched = balance.ecdf_both(x1, x0, after, tables)
    assert before == balance.group_ecdf_stats(x1, x0, None, None)
    assert matched == balance.group_ecdf_stats(x1, x0, w1, w0)


def _ladder_by_sorting(distance, stratum, controls, treated):
    """ControlLadder.of as it was written first: sorts and binary searches only."""
    n = distance.shape[0]
    gpos_all = np.empty(n, dtype=np.int64)
    gpos_all[np.argsort(distance, kind="stable")] = np.arange(n)
    cg, cs = gpos_all[controls], stratum[controls]
    order = np.lexsort((cg, cs))
    rows, cg, cs = controls[order], cg[order], cs[order]
    ts, tg = stratum[treated], gpos_all[treated]
    key = cs.astype(np.int64) * n + cg
    return (distance[rows], rows, cg, np.searchsorted(cs, ts, side="left"),
            np.searchsorted(cs, ts, side="right"), np.searchsorted(key, ts * n + tg), tg)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**31), st.integers(2, 5000), st.integers(1, 3), st.booleans())
def test_control_ladder_is_the_sorted_one(seed, n, strata, control_stratum_only):
    rng = np.random.default_rng(seed)
    distance = rng.integers(0, max(2, n // 3), size=n) / n
    treat = rng.random(n) < 0.3
    stratum = rng.integers(0, strata, size=n)
    if control_stratum_only:  # every control in one stratum; treated units in others too
        stratum[~treat] = 1
    treated = rng.permutation(np.flatnonzero(treat))
    controls = np.flatnonzero(~treat)
    if controls.size == 0 or treated.size == 0:
        return
    ladder = nearest.ControlLadder.of(distance, stratum, controls, treated)
    expected = _ladder_by_sorting(distance, stratum, controls, treated)
    for got, want in zip((ladder.values, ladder.rows, ladder.gpos, ladder.lo, ladder.hi,
                          ladder.split, ladder.gpos_treated), expected):
        np.testing.assert_array_equal(got, want)


def test_factorize_ints_is_pandas():
    import pandas as pd

    from estimation.ordering import distinct_count, factorize_ints

    rng = np.random.default_rng(2)
    for ids in (rng.integers(0, 50, 1000), rng.integers(0, 10**9, 1000), np.array([3, -1, 3, 2]),
                rng.integers(0, 3, 10).astype(np.int8)):
        codes, count = factorize_ints(ids)
        np.testing.assert_array_equal(codes, pd.factorize(ids, sort=False)[0])
        assert count == distinct_count(ids) == np.unique(ids).size


def test_control_ladder_with_a_row_in_both_groups():
    """The compiled walk gives no position to a treated row that is also a control; the
    ladder then takes the NumPy path, which does (as the sorted reference)."""
    rng = np.random.default_rng(5)
    distance = rng.random(3000)
    stratum = np.zeros(3000, dtype=np.int64)
    treated = rng.permutation(np.arange(0, 3000, 4))
    controls = np.arange(1, 3000, 2)
    controls = np.sort(np.append(controls, treated[:3]))
    ladder = nearest.ControlLadder.of(distance, stratum, controls, treated)
    expected = _ladder_by_sorting(distance, stratum, controls, treated)
    for got, want in zip((ladder.values, ladder.rows, ladder.gpos, ladder.lo, ladder.hi,
                          ladder.split, ladder.gpos_treated), expected):
        np.testing.assert_array_equal(got, want)
