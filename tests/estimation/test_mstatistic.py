"""Rosenbaum's M-statistic sensitivity analysis for k:1 and variable-ratio matched sets:
against sensitivitymv::senmv 1.4.3 (tests/golden/mstatistic/make_golden.R), against formulas
written out independently (scores by loops, the separable bound by brute force over every
u in {0, 1}^n), and the refusals that keep invalid tests out."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation.errors import EstimationError
from estimation.matched import MatchedSample
from estimation.mstatistic import _psi  # the padded code's psi, for the reference below
from estimation.mstatistic import (
    m_scores,
    rosenbaum_mstatistic,
    rosenbaum_mstatistic_sets,
    separable_bound,
)
from estimation.sensitivity import rosenbaum_binary, rosenbaum_bounds, rosenbaum_wilcoxon

from script_loader import load_script

GOLDEN = Path(__file__).parents[1] / "golden" / "mstatistic"
SETTINGS = {
    "default": {}, "i": {"inner": 0.5}, "t": {"trim": math.inf, "total_on_treated": True},
    "trim1": {"trim": 1.0}, "inner": {"inner": 0.5, "trim": 3.0, "lam": 0.8},
    "tau": {"tau": 0.2},
}
golden = load_script("tests/golden/balance_extra/golden_samples.py")


def _sets(name: str) -> np.ndarray:
    return pd.read_csv(GOLDEN / f"{name}.csv").to_numpy(dtype=np.float64)


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "senmv.csv")


CASES = [(d, s) for d in ("sets3", "variable", "binary", "ties", "lalonde") for s in SETTINGS
         if not (d == "binary" and s in ("i", "inner"))]  # scale 0 there: same as default


@pytest.mark.parametrize("dataset,setting", CASES)
def test_equals_senmv(expected, dataset, setting):
    rows = expected[(expected["dataset"] == dataset) & (expected["setting"] == setting)]
    assert len(rows) == 6
    y = _sets(dataset)
    result = rosenbaum_mstatistic_sets(y, gammas=rows["gamma"].tolist(), **SETTINGS[setting])
    got = result.frame().set_index("gamma").loc[rows["gamma"], "p_upper"].to_numpy()
    np.testing.assert_allclose(got, rows["pval"], rtol=1e-9, atol=1e-15)
    kwargs = {k: v for k, v in SETTINGS[setting].items() if k != "tau"}
    shifted = y.copy()
    shifted[:, 0] -= SETTINGS[setting].get("tau", 0.0)
    scores = m_scores(shifted, **kwargs)
    for gamma, row in zip(rows["gamma"], rows.itertuples()):
        t, mean, variance = separable_bound(scores, gamma)
        assert t == pytest.approx(row.statistic, rel=1e-10, abs=1e-12)
        assert mean == pytest.approx(row.expectation, rel=1e-10, abs=1e-12)
        assert variance == pytest.approx(row.variance, rel=1e-10)


def _scores_by_loops(y: np.ndarray, inner=0.0, trim=2.5, lam=0.5) -> list[list[float]]:
    """M-scores from the definition, one set and one unit at a time."""
    sets = [[v for v in row if not math.isnan(v)] for row in y]
    diffs = [abs(a - b) for s in sets for i, a in enumerate(s) for j, b in enumerate(s)
             if i != j]
    h = float(np.quantile(diffs, lam))

    def psi(d):
        return math.copysign(min(1.0, max(0.0, abs(d) - inner) / (trim - inner)), d) if d else 0.0

    return [[sum(psi((a - b) / h) for j, b in enumerate(s) if j != i) / len(s)
             for i, a in enumerate(s)] for s in sets]


def test_scores_equal_the_definition_written_out():
    y = _sets("variable")[:30]
    expected = _scores_by_loops(y)
    got = m_scores(y)
    for row, want in zip(got, expected):
        np.testing.assert_allclose(row[~np.isnan(row)], want, rtol=1e-12, atol=1e-15)


def _brute_force(scores: np.ndarray, gamma: float) -> tuple[float, float]:
    """max over every u in {0,1}^n of E[treated score] (ties: the larger variance), summed."""
    mean_total = var_total = 0.0
    for row in scores:
        s = row[~np.isnan(row)]
        best = (-math.inf, -math.inf)
        for u in itertools.product((0, 1), repeat=s.size):
            if len(set(u)) == 1:
                continue  # all equal: Gamma plays no role (no worse than a mixed u)
            p = np.power(gamma, u) / np.sum(np.power(gamma, u))
            mean = float(p @ s)
            var = float(p @ s**2) - mean**2
            if mean > best[0] + 1e-13 or (abs(mean - best[0]) <= 1e-13 and var > best[1]):
                best = (mean, var)
        mean_total += best[0]
        var_total += best[1]
    return mean_total, var_total


@pytest.mark.parametrize("gamma", [1.0, 1.7, 4.0])
def test_separable_bound_equals_brute_force_over_all_allocations(gamma):
    y = _sets("variable")[:25]
    scores = m_scores(y)
    _, mean, var = separable_bound(scores, gamma)
    want_mean, want_var = _brute_force(scores, gamma)
    assert mean == pytest.approx(want_mean, rel=1e-12, abs=1e-12)
    assert var == pytest.approx(want_var, rel=1e-9)


def test_at_gamma_one_mean_and_variance_are_the_randomisation_moments():
    """Gamma = 1: the treated unit is any unit of its set with equal probability."""
    y = _sets("sets3")
    scores = m_scores(y)
    _, mean, var = separable_bound(scores, 1.0)
    assert mean == pytest.approx(np.nansum(np.nanmean(scores, axis=1)), abs=1e-12)
    assert var == pytest.approx(np.nansum(np.nanvar(scores, axis=1)), rel=1e-12)


def _sample_3_to_1(y: np.ndarray) -> tuple[MatchedSample, np.ndarray]:
    n_sets, width = y.shape
    treat = np.r_[np.ones(n_sets, bool), np.zeros(n_sets * (width - 1), bool)]
    mm = (n_sets + np.arange(n_sets * (width - 1))).reshape(n_sets, width - 1)
    outcome = np.r_[y[:, 0], y[:, 1:].ravel()]
    subclass = np.r_[np.arange(n_sets), np.repeat(np.arange(n_sets), width - 1)]
    sample = MatchedSample(treat=treat, distance=np.zeros(treat.size), weights=np.ones(treat.size),
                           subclass=subclass, match_matrix=mm,
                           discarded=np.zeros(treat.size, bool), covariates=pd.DataFrame())
    return sample, outcome


def test_matched_sample_gives_the_set_result_and_bounds_chooses_it():
    y = _sets("sets3")
    sample, outcome = _sample_3_to_1(y)
    direct = rosenbaum_mstatistic_sets(y)
    result = rosenbaum_mstatistic(sample, outcome)
    assert result.p_upper == direct.p_upper and result.alternative == "greater"
    assert rosenbaum_bounds(sample, outcome).p_upper == direct.p_upper
    assert 1 < result.gamma_critical < 6
    assert "matched sets" in result.as_text() and "senmv" in result.as_text()
    mirrored = rosenbaum_mstatistic(sample, -outcome)
    assert mirrored.alternative == "less" and mirrored.p_upper == pytest.approx(direct.p_upper)


def test_lalonde_three_to_one_equals_senmv(expected):
    sample, frame = golden.sample("lalonde_nn3_exact")
    result = rosenbaum_mstatistic(sample, frame["re78"] / 1000, alternative="greater",
                                  gammas=[1, 1.25, 1.5, 2, 3, 5])
    rows = expected[(expected["dataset"] == "lalonde") & (expected["setting"] == "default")]
    np.testing.assert_allclose(result.p_upper, rows["pval"], rtol=1e-9)


def test_wilcoxon_and_mcnemar_refuse_k_to_one_and_bounds_keeps_them_for_pairs():
    sample, frame = golden.sample("lalonde_nn3_exact")
    with pytest.raises(EstimationError, match="rosenbaum_wilcoxon needs 1:1 matched pairs"):
        rosenbaum_wilcoxon(sample, frame["re78"])
    with pytest.raises(EstimationError, match="Use rosenbaum_mstatistic"):
        rosenbaum_binary(sample, (frame["re78"] > 0).astype(int))
    pairs, pair_frame = golden.sample("lalonde_nn1")
    assert rosenbaum_bounds(pairs, pair_frame["re78"]).method == "wilcoxon"
    assert rosenbaum_bounds(pairs, (pair_frame["re78"] > 0).astype(int)).method == "mcnemar"


def test_reused_controls_are_refused():
    y = _sets("sets3")[:10]
    sample, outcome = _sample_3_to_1(y)
    mm = sample.match_matrix.copy()
    mm[1, 0] = mm[0, 0]
    reused = MatchedSample(**{**sample.__dict__, "match_matrix": mm})
    for test in (rosenbaum_mstatistic, rosenbaum_bounds):
        with pytest.raises(EstimationError, match="disjoint matched sets"):
            test(reused, outcome)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"trim": 0}, "'trim' parameter of rosenbaum_mstatistic must be a number > 0"),
        ({"inner": 3.0}, "'inner' parameter of rosenbaum_mstatistic"),
        ({"lam": 1.0}, "'lam' parameter of rosenbaum_mstatistic"),
        ({"alternative": "two"}, "'alternative' parameter of rosenbaum_mstatistic"),
        ({"gammas": [0.5]}, "'gammas' parameter of rosenbaum_mstatistic"),
        ({"sets": [[1.0]]}, "at least one control"),
        ({"sets": [[np.nan, 1.0]]}, "no matched set has a treated outcome"),
        ({"sets": [[np.inf, 1.0]]}, "must be finite"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    sets = kwargs.pop("sets", [[1.0, 0.0, 0.5], [2.0, 1.0, np.nan]])
    with pytest.raises(EstimationError, match=message):
        rosenbaum_mstatistic_sets(sets, **kwargs)


# -- full matching: sets with one control and several treated units (senfm) -----------------
FULL_SETTINGS = {"default": {"trim": 3.0}, "trim1": {"trim": 1.0}, "inner": {"inner": 0.5, "trim": 3.0, "lam": 0.8},
                 "tau": {"trim": 3.0, "tau": 0.2}, "less": {"trim": 3.0, "alternative": "less"},
                 "ls": {"trim": math.inf}}


def _full(name: str) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(GOLDEN / f"full_{name}.csv")
    return frame.drop(columns="treated1").to_numpy(dtype=np.float64), frame["treated1"].to_numpy(dtype=bool)


@pytest.fixture(scope="module")
def expected_full() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "senfm.csv")


FULL_CASES = [(d, s) for d in ("doc", "mixed", "heavy", "binary") for s in FULL_SETTINGS
              if not (d == "binary" and s in ("inner", "trim1"))]


@pytest.mark.parametrize("dataset,setting", FULL_CASES)
def test_equals_senfm(expected_full, dataset, setting):
    """tests/golden/mstatistic/make_senfm.R: sensitivityfull 1.5.6's senfm, p-value and moments."""
    rows = expected_full[(expected_full["dataset"] == dataset) & (expected_full["setting"] == setting)]
    assert len(rows) == 5
    y, treated1 = _full(dataset)
    result = rosenbaum_mstatistic_sets(y, gammas=rows["gamma"].tolist(), treated1=treated1, **FULL_SETTINGS[setting])
    got = result.frame().set_index("gamma").loc[rows["gamma"], "p_upper"].to_numpy()
    np.testing.assert_allclose(got, rows["pval"].astype(float), rtol=1e-9, atol=1e-15)
    assert result.statistic == pytest.approx(float(rows["statistic"].iloc[0]), rel=1e-10, abs=1e-12)


def test_a_single_control_set_is_the_same_test_as_its_mirror_image():
    """Swapping the roles (negated outcomes, the control as 'treated') gives the same bound:
    senfm's negation is the exact mirror of senmv's one-treated sets."""
    y, treated1 = _full("mixed")
    one = rosenbaum_mstatistic_sets(y, gammas=[1, 2], treated1=treated1, trim=3.0)
    mirror = rosenbaum_mstatistic_sets(-y, gammas=[1, 2], treated1=treated1, trim=3.0, alternative="less")
    np.testing.assert_allclose(one.p_upper, mirror.p_upper, rtol=1e-12)
    only_single_treated = rosenbaum_mstatistic_sets(y[treated1], gammas=[1, 2], trim=3.0)
    assert only_single_treated.p_upper == rosenbaum_mstatistic_sets(
        y[treated1], gammas=[1, 2], treated1=np.ones(int(treated1.sum()), bool), trim=3.0).p_upper


def test_full_matching_with_several_treated_per_set_gets_senfm_bounds():
    """A full-matching sample: rosenbaum_bounds builds senfm's matrix from the subclasses."""
    rng = np.random.default_rng(4)
    # 3 sets 1:2, 2 sets 3:1
    layout = [(1, 2), (1, 2), (1, 2), (3, 1), (3, 1)]
    treat, subclass, y, rows, flags = [], [], [], [], []
    for s, (nt, nc) in enumerate(layout):
        yt, yc = rng.normal(1, 1, nt), rng.normal(0, 1, nc)
        treat += [True] * nt + [False] * nc
        subclass += [s] * (nt + nc)
        y += list(yt) + list(yc)
        rows.append(list(yt) + list(yc) if nt == 1 else list(yc) + list(yt))
        flags.append(nt == 1)
    n = len(treat)
    sample = MatchedSample(treat=np.array(treat), distance=np.zeros(n), weights=np.ones(n),
                           subclass=np.array(subclass), match_matrix=np.empty((sum(treat), 0), dtype=np.int64),
                           discarded=np.zeros(n, bool), covariates=pd.DataFrame(index=range(n)), structure="sets")
    width = max(len(r) for r in rows)
    matrix = np.array([r + [np.nan] * (width - len(r)) for r in rows])
    got = rosenbaum_bounds(sample, np.array(y), gammas=[1, 1.5])
    want = rosenbaum_mstatistic_sets(matrix, gammas=[1, 1.5], treated1=np.array(flags),
                                     alternative=got.alternative)
    assert got.method == "mstatistic" and got.p_upper == want.p_upper
    assert "senfm" in got.notes[0] and "2 sets with one control" in got.notes[0]


def _dense_scores(y, *, inner=0.0, trim=2.5, lam=0.5, total_on_treated=False):
    """The scores from one (sets, width, width) array of differences: the code before the
    sets were taken by width (its memory grew with sets x width^2)."""
    diffs = y[:, :, None] - y[:, None, :]
    off = ~np.eye(y.shape[1], dtype=bool)
    pairs = diffs[:, off]
    if not math.isinf(trim) or inner > 0:
        h = float(np.quantile(np.abs(pairs[~np.isnan(pairs)]), lam))
        if h > 0:
            diffs = _psi(diffs / h, inner, trim)  # psi itself unchanged
    diffs[:, ~off] = 0.0
    sums = np.nansum(diffs, axis=2)
    sizes = (~np.isnan(y)).sum(axis=1).astype(np.float64)
    scores = sums / (((sizes - 1) * y.shape[0])[:, None] if total_on_treated else sizes[:, None])
    scores[np.isnan(y)] = np.nan
    return scores


@pytest.mark.parametrize("width", [3, 9, 40, 200])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_scores_by_width_are_the_bits_of_the_dense_array(width, setting):
    """Sets of mixed sizes (a few at the full width, NaN inside some), binary and continuous
    outcomes: the scores taken by width and in chunks equal the dense array's bit for bit."""
    kwargs = {k: v for k, v in SETTINGS[setting].items() if k != "tau"}
    rng = np.random.default_rng(width)
    for binary in (False, True):
        y = rng.normal(size=(300, width)) if not binary else rng.integers(0, 2, (300, width)) * 1.0
        sizes = rng.integers(2, width + 1, 300)
        sizes[:3] = width
        y[np.arange(width)[None, :] >= sizes[:, None]] = np.nan
        y[5, 1:2] = np.nan if width > 2 else y[5, 1:2]  # a gap inside a set
        got, expected = m_scores(y, **kwargs), _dense_scores(y, **kwargs)
        np.testing.assert_array_equal(got.view(np.int64)[~np.isnan(got)],
                                      expected.view(np.int64)[~np.isnan(expected)])
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))


def test_one_large_set_among_many_pairs_needs_memory_of_its_pairs():
    """Full matching's shape: 20,000 pairs and one set of 1,500 units. The dense array would
    be 20,001 x 1,500 x 1,500 doubles (360 GB); taken by width it is a few arrays of 32 MB."""
    import tracemalloc

    rng = np.random.default_rng(3)
    y = np.full((20_001, 1_500), np.nan)
    y[:, :2] = rng.normal(size=(20_001, 2))
    y[0] = rng.normal(size=1_500)
    tracemalloc.start()
    try:
        scores = m_scores(y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.isfinite(scores[:, :2]).all() and np.isfinite(scores[0]).all()
    assert peak < 600 * 2**20, f"peak {peak / 2**20:.0f} MB"


def _dense_bound(scores, gamma):
    """The separable bound from (sets, width) arrays: the code before the sets were taken by size."""
    m = scores.shape[1]
    sizes = (~np.isnan(scores)).sum(axis=1)
    ordered = np.sort(np.where(np.isnan(scores), np.inf, scores), axis=1)
    ordered = np.where(np.isinf(ordered), 0.0, ordered)
    low1, low2 = np.cumsum(ordered, axis=1)[:, :-1], np.cumsum(ordered**2, axis=1)[:, :-1]
    high1 = ordered.sum(axis=1)[:, None] - low1
    high2 = (ordered**2).sum(axis=1)[:, None] - low2
    a = np.arange(1, m)[None, :]
    valid = a <= (sizes[:, None] - 1)
    denom = np.where(valid, a + gamma * (sizes[:, None] - a), 1.0)
    mu = (low1 + gamma * high1) / denom
    nu = (low2 + gamma * high2) / denom - mu**2
    mu = np.where(valid, mu, -np.inf)
    best = mu.max(axis=1)
    nu_best = np.where(valid & (mu == best[:, None]), nu, -np.inf).max(axis=1)
    return float(np.sum(scores[:, 0])), float(best.sum()), float(nu_best.sum())


@pytest.mark.parametrize("width", [2, 5, 12, 150])
def test_separable_bound_by_size_is_the_bits_of_the_dense_arrays(width):
    from estimation.mstatistic import SeparableBound

    rng = np.random.default_rng(width + 1)
    y = np.round(rng.normal(size=(400, width)), 1)  # ties within sets
    sizes = rng.integers(2, width + 1, 400)
    y[np.arange(width)[None, :] >= sizes[:, None]] = np.nan
    scores = m_scores(y)
    bound = SeparableBound(scores)
    for gamma in (1.0, 1.37, 2.0, 6.5):
        assert bound.at(gamma) == _dense_bound(scores, gamma)
