"""Optimal pair and full matching against independent formulations of the same problems.

optmatch (which MatchIt calls) is not packaged, so the references are written here from
the definitions, independently of tiltak's network:

* pair matching: scipy's ``linear_sum_assignment`` on the treated x control distance matrix
  (each treated row repeated k times for k:1);
* full matching (and variable-ratio matching): the linear program over every admissible
  pair, x_ij in [0, 1], with each treated unit's degree between min and max controls and
  each control's degree between 1 and max treated (every control in a set), solved by
  HiGHS (``scipy.optimize.linprog``); its constraint matrix is a bipartite incidence
  matrix, so its optimum is integral.

The total distances must be equal; where the optimum is unique (checked with a second
linear program that looks for another optimal solution) the matched sets, subclasses and
weights must be identical.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import coo_matrix, vstack

from estimation.flow import ProblemTooLargeError
from estimation.optimal import FullMatching, OptimalMatching
from estimation.setmatch import SetMatchingWarning
from estimation.strata import subclass_weights

TOL = 1e-7


def problem(seed: int, n1: int = 12, n0: int = 30):
    rng = np.random.default_rng(seed)
    d = np.r_[rng.normal(0.4, 1, n1), rng.normal(0, 1, n0)]
    treat = np.r_[np.ones(n1, bool), np.zeros(n0, bool)]
    order = rng.permutation(n1 + n0)  # treated and controls interleaved in input order
    return d[order], treat[order]


def lp_sets(d, treat, row_bounds, col_max, width=None, n_matched_cols=None):
    """The LP of full / pair matching: (total, x, pieces) or None when infeasible.

    Variables: x_ij for every admissible pair, and (when ``n_matched_cols`` is given) s_j
    in [0, 1] marking the matched controls, with sum s = n_matched_cols and the control's
    degree minus s_j between 0 and col_max - 1; otherwise every control's degree is
    between 1 and col_max.
    """
    t, c = np.flatnonzero(treat), np.flatnonzero(~treat)
    D = np.abs(d[t][:, None] - d[c][None, :])
    ok = np.ones_like(D, bool) if width is None else D <= width
    rows, cols = np.nonzero(ok)
    nv, n0 = rows.size, c.size
    a_row = coo_matrix((np.ones(nv), (rows, np.arange(nv))), shape=(t.size, nv))
    a_col = coo_matrix((np.ones(nv), (cols, np.arange(nv))), shape=(n0, nv))
    if n_matched_cols is None:
        A = vstack([a_row, -a_row, a_col, -a_col]).tocsr()
        b = np.r_[np.full(t.size, row_bounds[1]), -np.full(t.size, row_bounds[0]),
                  np.full(n0, col_max), -np.ones(n0)]
        eq, cost = None, D[rows, cols]
    else:
        from scipy.sparse import hstack, identity

        zeros_r = coo_matrix((t.size, n0))
        eye = identity(n0)
        A = vstack([hstack([a_row, zeros_r]), hstack([-a_row, zeros_r]),
                    hstack([a_col, -eye]), hstack([-a_col, eye])]).tocsr()
        b = np.r_[np.full(t.size, row_bounds[1]), -np.full(t.size, row_bounds[0]),
                  np.full(n0, col_max - 1), np.zeros(n0)]
        eq = (np.r_[np.zeros(nv), np.ones(n0)][None, :], np.array([n_matched_cols]))
        cost = np.r_[D[rows, cols], np.zeros(n0)]
    res = linprog(cost, A_ub=A, b_ub=b, A_eq=None if eq is None else eq[0],
                  b_eq=None if eq is None else eq[1], bounds=(0, 1), method="highs")
    if res.status != 0:
        return None
    return res.fun, res.x[:nv], (t[rows], c[cols], cost, A, b, eq, nv)


def unique_optimum(x, arcs) -> bool:
    """Whether no other optimal solution exists: minimise the overlap with x among optima."""
    _, _, cost, A, b, eq, nv = arcs
    chosen = np.r_[x > 0.5, np.zeros(cost.size - nv, bool)]
    best = cost[chosen].sum()
    A_ub = vstack([A, coo_matrix(cost[None, :])]).tocsr()
    b_ub = np.r_[b, best + 1e-9 * max(1.0, best)]
    res = linprog(chosen.astype(float), A_ub=A_ub, b_ub=b_ub, bounds=(0, 1),
                  A_eq=None if eq is None else eq[0], b_eq=None if eq is None else eq[1],
                  method="highs")
    return res.status == 0 and res.fun > chosen.sum() - 0.5


def pairs_of(sample):
    """Set of (treated, control) pairs sharing a subclass."""
    sub, treat = sample.subclass, sample.treat
    out = set()
    for s in np.unique(sub[sub >= 0]):
        members = np.flatnonzero(sub == s)
        out |= {(i, j) for i in members[treat[members]] for j in members[~treat[members]]}
    return out


def lp_pairs(x, arcs):
    rows, cols = arcs[0], arcs[1]
    return {(int(i), int(j)) for i, j, v in zip(rows, cols, x) if v > 0.5}


@pytest.mark.filterwarnings("ignore::estimation.setmatch.SetMatchingWarning")
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("ratio", [1, 2, 3])
@pytest.mark.parametrize("caliper", [None, 0.5])
def test_pair_matching_equals_the_linear_program(seed, ratio, caliper):
    """k:1 pair matching (scipy's assignment solvers in tiltak) against HiGHS on the LP."""
    d, treat = problem(seed, 10, 40)
    sample = OptimalMatching(ratio=ratio, distance=d, caliper=caliper, std_caliper=False,
                             match_most=True).fit(None, treat).result_
    mm = sample.match_matrix
    filled = int((mm >= 0).sum())
    total, _, _ = lp_sets(d, treat, (0, ratio), 1, width=caliper, n_matched_cols=filled)
    assert sample.settings["total_distance"] == pytest.approx(total, rel=1e-9)
    used = mm[mm >= 0]
    assert len(np.unique(used)) == used.size  # every control at most once
    if caliper is None:
        assert mm.shape == (int(treat.sum()), ratio) and filled == treat.sum() * ratio
        t, c = np.flatnonzero(treat), np.flatnonzero(~treat)
        D = np.repeat(np.abs(d[t][:, None] - d[c][None, :]), ratio, axis=0)
        rows, cols = linear_sum_assignment(D)
        assert sample.settings["total_distance"] == pytest.approx(D[rows, cols].sum(), rel=1e-9)
    np.testing.assert_array_equal(sample.weights[treat & (sample.weights > 0)], 1.0)


@pytest.mark.parametrize("seed", range(40))
def test_pair_matching_sets_equal_the_unique_optimum(seed):
    d, treat = problem(seed, 8, 14)
    sample = OptimalMatching(distance=d).fit(None, treat).result_
    total, x, arcs = lp_sets(d, treat, (1, 1), 1, n_matched_cols=int(treat.sum()))
    assert sample.settings["total_distance"] == pytest.approx(total, rel=1e-9)
    if unique_optimum(x, arcs):
        assert pairs_of(sample) == lp_pairs(x, arcs)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("limits", [(None, None), (0.5, 3.0), (1.0, 2.0), (0.25, None)])
def test_full_matching_equals_the_linear_program(seed, limits):
    low, high = limits
    d, treat = problem(seed, 10, 24)
    kwargs = {k: v for k, v in (("min_controls", low), ("max_controls", high)) if v is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SetMatchingWarning)
        sample = FullMatching(distance=d, **kwargs).fit(None, treat).result_
    n1, n0 = int(treat.sum()), int((~treat).sum())
    row_high = n0 if high is None else np.ceil(high)
    col_high = n1 if not low else np.ceil(1 / low)
    row_low = max(1, np.floor(low or 0))
    solved = lp_sets(d, treat, (row_low, row_high), col_high)
    if solved is None:  # optmatch's recovery: some controls left out, every treated matched
        matched_controls = int(((~treat) & (sample.weights > 0)).sum())
        solved = lp_sets(d, treat, (row_low, row_high), col_high, n_matched_cols=matched_controls)
    total, x, arcs = solved
    assert sample.settings["total_distance"] == pytest.approx(total, rel=1e-9, abs=1e-12)
    if unique_optimum(x, arcs):
        assert pairs_of(sample) == lp_pairs(x, arcs)
        np.testing.assert_allclose(
            sample.weights, subclass_weights(sample.subclass, treat, "ATT"), rtol=1e-12)


def test_the_seeds_above_include_unique_optima():
    """The comparisons of sets above are not vacuous: some of their problems have a unique
    optimum (pair matching: 8 x 14 units; full matching without limits: 10 x 24)."""
    pair = sum(unique_optimum(*lp_sets(*problem(s, 8, 14), (1, 1), 1, n_matched_cols=8)[1:])
               for s in range(40))
    full = 0
    for s in range(40):
        d, treat = problem(s, 10, 24)
        _, x, arcs = lp_sets(d, treat, (1, 24), 10)
        full += unique_optimum(x, arcs)
    assert pair >= 2 and full >= 5


@pytest.mark.parametrize("seed", range(10))
def test_full_matching_with_a_caliper_equals_the_linear_program(seed):
    d, treat = problem(seed, 15, 40)
    sample = FullMatching(distance=d, caliper=0.1, std_caliper=False).fit(None, treat).result_
    matched = sample.weights > 0
    # units without an admissible partner stay out; the LP runs on the others
    t, c = np.flatnonzero(treat & matched), np.flatnonzero(~treat & matched)
    sub_d, sub_t = d[np.r_[t, c]], np.r_[np.ones(t.size, bool), np.zeros(c.size, bool)]
    total, x, arcs = lp_sets(sub_d, sub_t, (1, c.size), t.size, width=0.1)
    assert sample.settings["total_distance"] == pytest.approx(total, rel=1e-9)
    D = np.abs(d[treat][:, None] - d[~treat][None, :])
    has_partner = np.r_[(D <= 0.1).any(axis=1), (D <= 0.1).any(axis=0)]
    assert matched[np.r_[np.flatnonzero(treat), np.flatnonzero(~treat)]].tolist() == has_partner.tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 9), st.integers(2, 12), st.integers(0, 10**6),
       st.sampled_from([None, 0.3, 0.8]))
def test_pruned_network_gives_the_optimum_of_the_full_network(n1, n0, seed, caliper):
    """Full matching without limits is solved on a pruned network; the total distance is
    that of the unpruned network (max_controls larger than any set: no pruning)."""
    rng = np.random.default_rng(seed)
    d = np.round(rng.normal(size=n1 + n0), 1)  # ties on purpose
    treat = np.zeros(n1 + n0, bool)
    treat[rng.choice(n1 + n0, n1, replace=False)] = True
    assume(caliper is None or np.unique(d).size > 2)  # (MatchIt refuses calipers on 2 values)
    kwargs = dict(distance=d, caliper=caliper, std_caliper=False)
    try:
        pruned = FullMatching(**kwargs).fit(None, treat).result_
    except Exception as exc:  # no admissible pair at all
        assert "No units were matched" in str(exc)
        return
    full = FullMatching(max_controls=10**6, min_controls=1e-6, **kwargs).fit(None, treat).result_
    assert pruned.settings["total_distance"] == pytest.approx(full.settings["total_distance"],
                                                               abs=1e-9)
    np.testing.assert_array_equal(pruned.weights > 0, full.weights > 0)
    assert pruned.settings["n_arcs"] <= full.settings["n_arcs"]


def test_exact_strata_are_solved_separately():
    d, treat = problem(3, 20, 50)
    rng = np.random.default_rng(0)
    g = rng.choice(["a", "b"], d.size)
    import pandas as pd

    X = pd.DataFrame({"g": g})
    sample = FullMatching(distance=d, exact=["g"]).fit(X, treat).result_
    totals = 0.0
    for level in ("a", "b"):
        part = g == level
        totals += FullMatching(distance=d[part]).fit(None, treat[part]).result_.settings["total_distance"]
        assert set(np.unique(sample.subclass[part])) .isdisjoint(np.unique(sample.subclass[~part]))
    assert sample.settings["total_distance"] == pytest.approx(totals, rel=1e-12)


def test_results_do_not_depend_on_the_row_order():
    d, treat = problem(5, 15, 40)
    first = FullMatching(distance=d).fit(None, treat).result_
    order = np.random.default_rng(1).permutation(d.size)
    second = FullMatching(distance=d[order]).fit(None, treat[order]).result_
    assert first.settings["total_distance"] == pytest.approx(second.settings["total_distance"], rel=1e-12)
    # units enter the network by distance, so even among tied optima the choice is the same
    np.testing.assert_allclose(second.weights, first.weights[order], rtol=1e-12)
    again = FullMatching(distance=d).fit(None, treat).result_
    np.testing.assert_array_equal(first.subclass, again.subclass)  # deterministic
    np.testing.assert_array_equal(first.weights, again.weights)


def test_weights_for_each_estimand_follow_matchit():
    d, treat = problem(8, 15, 30)
    for estimand in ("ATT", "ATC", "ATE"):
        sample = FullMatching(distance=d, estimand=estimand).fit(None, treat).result_
        np.testing.assert_allclose(sample.weights,
                                   subclass_weights(sample.subclass, treat, estimand))
        assert sample.estimand == estimand and sample.structure == "sets"


@pytest.mark.filterwarnings("ignore::estimation.setmatch.SetMatchingWarning")
def test_atc_puts_controls_at_the_centre_of_constrained_sets():
    d, treat = problem(9, 25, 12)
    sample = FullMatching(distance=d, estimand="ATC", max_controls=1).fit(None, treat).result_
    sub = sample.subclass
    # max_controls=1 with the controls as the focal group: one treated unit at most per control
    for s in np.unique(sub[sub >= 0]):
        assert treat[sub == s].sum() == 1


def test_an_infeasible_caliper_is_refused_with_the_reason():
    d = np.array([0.0, 0.05, 0.06, 5.0, 5.1])
    treat = np.array([True, True, False, False, False])
    with pytest.raises(Exception, match=r"no feasible solution: 2 treated unit\(s\) have controls "
                                        r"within the caliper.*at most 1 control place.*match_most"):
        OptimalMatching(distance=d, caliper=0.2, std_caliper=False).fit(None, treat)


def test_a_dense_problem_too_large_is_refused_naming_arcs_and_memory():
    n1, n0 = 5000, 50000
    d = np.r_[np.linspace(0, 1, n1), np.linspace(0, 1, n0)]
    treat = np.r_[np.ones(n1, bool), np.zeros(n0, bool)]
    with pytest.raises(ProblemTooLargeError) as info:
        FullMatching(distance=d, max_controls=5).fit(None, treat)
    message = str(info.value)
    assert "250,000,000 arcs" in message and "5,000 x 50,000" in message
    assert "dense" in message and "GB of memory" in message and "caliper" in message


def test_parameters_are_checked_with_one_message_each():
    d, treat = problem(1)
    cases = [
        (OptimalMatching(ratio=1.5, distance=d), "ratio.*whole number"),
        (OptimalMatching(ratio=2, max_controls=2, distance=d), "between min_controls"),
        (OptimalMatching(min_controls=1, distance=d), "None unless max_controls"),
        (FullMatching(min_controls=3, max_controls=2, distance=d), "at most max_controls"),
        (FullMatching(estimand="ATO", distance=d), "estimand"),
        (FullMatching(caliper=-1, distance=d), "caliper"),
        (FullMatching(max_arcs=0, distance=d), "max_arcs"),
    ]
    for model, pattern in cases:
        with pytest.raises(Exception, match=pattern):
            model.fit(None, treat)


def test_variable_ratio_matching_respects_its_limits():
    d, treat = problem(4, 10, 40)
    sample = OptimalMatching(ratio=2, min_controls=1, max_controls=4, distance=d).fit(None, treat).result_
    counts = (sample.match_matrix >= 0).sum(axis=1)
    assert counts.min() >= 1 and counts.max() <= 4 and counts.sum() == 20
    total, _, _ = lp_sets(d, treat, (1, 4), 1, n_matched_cols=20)
    assert sample.settings["total_distance"] == pytest.approx(total, rel=1e-9)


@pytest.mark.parametrize("seed", range(15))
def test_match_most_equals_a_big_m_assignment(seed):
    """With too few controls within the caliper, match_most fills as many places as
    possible at the smallest total distance: scipy's assignment on the distance matrix with
    a penalty above any total for every pair outside the caliper gives the same."""
    d, treat = problem(seed, 12, 20)
    width = 0.15
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SetMatchingWarning)
        sample = OptimalMatching(distance=d, caliper=width, std_caliper=False,
                                 match_most=True).fit(None, treat).result_
    t, c = np.flatnonzero(treat), np.flatnonzero(~treat)
    D = np.abs(d[t][:, None] - d[c][None, :])
    big = 1e6
    rows, cols = linear_sum_assignment(np.where(D <= width, D, big))
    real = D[rows, cols] <= width
    assert int((sample.match_matrix >= 0).sum()) == int(real.sum())
    assert sample.settings["total_distance"] == pytest.approx(D[rows, cols][real].sum(), rel=1e-9)



@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("k", [1, 2])
def test_the_sparse_assignment_and_the_network_agree_on_pair_matching(seed, k):
    """Fixed-ratio pair matching is solved as a sparse assignment; the min-cost flow of
    the same problem has the same total distance."""
    from estimation.edges import caliper_arcs
    from estimation.flow import solve_flow
    from estimation.setmatch import SetRule, _compact, assign_pairs, pair_limits

    d, treat = problem(seed, 10, 40)
    arcs, _, _ = _compact(caliper_arcs(d[treat], d[~treat], 0.8, 10**6))
    limits = pair_limits(SetRule("pair", k, k, k), arcs.n_rows, arcs.n_cols)
    by_assignment, by_flow = assign_pairs(arcs, limits), solve_flow(arcs, limits)
    assert (by_assignment is None) == (by_flow is None)
    if by_flow is not None:
        assert by_assignment.total_distance == pytest.approx(by_flow.total_distance, rel=1e-9)
        assert by_assignment.used.sum() == by_flow.used.sum() == k * arcs.n_rows
