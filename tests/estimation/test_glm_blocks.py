"""The propensity model's element-wise Newton arithmetic in fixed blocks of rows on several
threads (issue 14, round 8) gives the bits of the same arithmetic on the whole arrays."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from estimation import PropensityScore, glm
from estimation.design import design_matrix


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


def _whole(eta, y, largest):
    """The step on whole arrays, as glm._irls computed it before the blocks."""
    treated = y > 0.5
    mu = glm._linkinv(eta, "logit", largest, out=np.empty_like(eta))
    dev = glm._deviance(treated, mu, work=np.empty_like(eta))
    w, mu_eta = glm._weights(eta, mu, "logit", out=np.empty_like(eta))
    score = (w * (y - mu)) / mu_eta
    return mu, dev, w, score


def _blocked(eta, y, largest, cpus):
    n, treated = eta.shape[0], glm._Treated(y, y > 0.5)
    mu, log_p, w = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    with glm.Blockwise(n, cpus) as blocks:
        blocks.run(lambda rows: glm._logit_mu_and_log_p(eta, treated, largest, mu, log_p, rows))
        dev = float(-2.0 * log_p.sum())
        score = log_p
        blocks.run(lambda rows: glm._logit_weights_and_score(y, mu, w, score, rows))
    return mu, dev, w, score


def _sizes(block):
    return sorted({0, 1, 2, 7, block - 1, block, block + 1, 2 * block + 3, 3 * block - 1})


@pytest.mark.parametrize("block", [8, glm.BLOCK])
@pytest.mark.parametrize("cpus", [1, 2])
@pytest.mark.parametrize("wide", [False, True])  # wide: |eta| > 30 somewhere (R's clamp)
@pytest.mark.parametrize("compiled", [True, False])
def test_blocked_step_is_the_whole_array_step(monkeypatch, block, cpus, wide, compiled):
    monkeypatch.setattr(glm, "BLOCK", block)
    if not compiled:
        monkeypatch.setattr(glm, "_core", None)
    for n in _sizes(block):
        rng = np.random.default_rng(n + 31 * block)
        eta = rng.normal(-1.0, 12.0 if wide else 1.5, n)
        if wide and n:  # overflow of exp(-eta), both clamps, and a value at the bound
            eta[rng.integers(0, n, 4)] = [-745.5, 40.0, -31.0, -30.0]
        if n > 2:  # probabilities next to 0 and 1 and an exact 1/2
            eta[:3] = [36.0, -36.9, 0.0]
        y = (rng.random(n) < 0.3).astype(np.float64)
        largest = float(np.abs(eta).max(initial=0.0))
        expected = _whole(eta, y, largest)
        got = _blocked(eta, y, largest, cpus)
        for e, g in zip(expected, got):
            assert np.array_equal(_bits(np.atleast_1d(e)), _bits(np.atleast_1d(g))), (n, cpus)


@pytest.mark.parametrize("n", [0, 1, 5, 17])
def test_blocks_cover_every_row_once_in_order(monkeypatch, n):
    monkeypatch.setattr(glm, "BLOCK", 4)
    blocks = glm.block_slices(n)
    rows = np.concatenate([np.arange(n)[b] for b in blocks]) if blocks else np.array([], int)
    assert rows.tolist() == list(range(n))
    assert all(b.stop - b.start == 4 for b in blocks[:-1])


def test_blockwise_results_in_order_and_first_error_raised(monkeypatch):
    monkeypatch.setattr(glm, "BLOCK", 3)
    with glm.Blockwise(20, 2) as blocks:
        assert blocks.run(lambda rows: rows.start) == list(range(0, 20, 3))

        def fails(rows):
            if rows.start >= 6:
                raise ValueError(f"block {rows.start}")
            return rows.start

        with pytest.raises(ValueError, match="block 6"):
            blocks.run(fails)


def _frame(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(n)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.gamma(2.0, size=n),
                          "c": (rng.random(n) < 0.4).astype(np.int8),
                          "f": pd.Categorical(rng.choice(list("pqrst"), size=n))})
    lp = -1.2 + 0.5 * frame["a"] - 0.3 * frame["b"] + 0.4 * frame["c"]
    treat = rng.random(n) < 1 / (1 + np.exp(-lp.to_numpy()))
    return frame, treat


@pytest.mark.parametrize("n", [glm.BLOCK - 1, glm.BLOCK + 1, 3 * glm.BLOCK + 5])
def test_fit_is_the_same_bits_for_one_and_two_threads(monkeypatch, n):
    frame, treat = _frame(n)
    fits = []
    for cpus in ("1", "2"):
        monkeypatch.setenv("TILTAK_THREADS", cpus)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(PropensityScore().fit(frame, treat))
    one, two = fits
    assert one.n_iter_ == two.n_iter_ and one.converged_
    for attr in ("coef_", "scores_", "linear_predictor_"):
        assert np.array_equal(_bits(getattr(one, attr)), _bits(getattr(two, attr))), attr


def test_fit_is_the_whole_array_fit(monkeypatch):
    """The whole fit with small blocks on two threads against the loop on whole arrays."""
    frame, treat = _frame(5003)
    columns = design_matrix(frame).columns
    y = treat.astype(np.float64)
    monkeypatch.setenv("TILTAK_THREADS", "2")
    monkeypatch.setattr(glm, "BLOCK", 64)
    blocked = glm._irls(columns, y, "logit", 100, 1e-12)
    monkeypatch.setattr(glm, "Blockwise", _NoBlocks)
    monkeypatch.setattr(glm, "_logit_mu_and_log_p", _whole_mu_and_log_p)
    monkeypatch.setattr(glm, "_logit_weights_and_score", _whole_weights_and_score)
    whole = glm._irls(columns, y, "logit", 100, 1e-12)
    assert blocked[3] == whole[3] and blocked[5] == whole[5]
    for b, w in zip(blocked[:3], whole[:3]):
        assert np.array_equal(_bits(b), _bits(w))


class _NoBlocks:
    """One block: the whole array."""

    def __init__(self, n, cpus):
        self.n = n

    def run(self, function):
        return [function(slice(0, self.n))]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def _whole_mu_and_log_p(eta, treated, largest, mu, log_p, rows):
    mu[...] = glm._linkinv(eta, "logit", largest, out=np.empty_like(eta))
    p = np.where(treated.mask, mu, 1 - mu)
    log_p[...] = np.log(p)


def _whole_weights_and_score(y, mu, w, score, rows):
    weights, mu_eta = glm._weights(None, mu, "logit")
    w[...] = weights
    score[...] = weights * (y - mu) / mu_eta


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("cpus", [1, 2])
def test_first_weights_into_given_vectors_block_by_block(monkeypatch, link, cpus):
    monkeypatch.setattr(glm, "BLOCK", 8)
    for n in _sizes(8):
        y = (np.random.default_rng(n).random(n) < 0.4).astype(np.float64)
        expected = glm._first_weights(y, y > 0.5, link)
        out = (np.full(n, np.nan), np.full(n, np.nan))
        with glm.Blockwise(n, cpus) as blocks:
            got = glm._first_weights(y, y > 0.5, link, out=out, blocks=blocks)
        assert got[0] is out[0] and got[1] is out[1]
        for e, g in zip(expected, got):
            assert np.array_equal(_bits(e), _bits(g)), n
    y = np.array([0.0, 0.5, 1.0])  # not 0/1: computed row by row, fresh vectors
    got = glm._first_weights(y, y > 0.5, "logit", out=(np.empty(3), np.empty(3)))
    assert np.array_equal(_bits(got[0]), _bits(glm._first_weights(y, y > 0.5, "logit")[0]))


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("layout", ["strided", "int", "bool", "reversed"])
def test_a_response_in_any_layout_gives_the_contiguous_fit(link, layout):
    # the compiled loops read the response in blocks: a strided view, another dtype or a
    # negative stride is read as its float64 values, the same fit to the bit
    rng = np.random.default_rng(11)
    n = glm.BLOCK + 77
    X = rng.normal(size=(n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0]))).astype(np.float64)
    given = {"strided": np.column_stack([y, y])[:, 0], "int": y.astype(np.int64),
             "bool": y.astype(bool), "reversed": y[::-1].copy()[::-1]}[layout]
    assert not given.flags["C_CONTIGUOUS"] or given.dtype != np.float64
    a, b = glm.fit_binomial(X, given, link=link), glm.fit_binomial(X, y, link=link)
    assert _bits(a.coef).tobytes() == _bits(b.coef).tobytes()
    assert _bits(a.fitted).tobytes() == _bits(b.fitted).tobytes()
    assert a.iterations == b.iterations and a.deviance == b.deviance
