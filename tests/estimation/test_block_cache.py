"""NumPy's data memory reusing large freed blocks (estimation.block_cache, estimation/_alloc.c):
scoped to the block (nested, after an exception, in the project's pool threads), arrays
crossing the scope freed by their own handler, reused memory zeroed for np.zeros, the cap
kept, the same bits as NumPy's own handler, and nothing done where the extension is missing."""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation import block_cache
from estimation.block_cache import handler_name, reusing_large_blocks, stats
from estimation.threads import context_pool

DEFAULT = handler_name()
MB = 1 << 20

needs_cache = pytest.mark.skipif(not block_cache.available(),
                                 reason="estimation._alloc not built or NumPy < 1.22")


def _name(array: np.ndarray) -> str:
    from numpy._core.multiarray import get_handler_name

    return get_handler_name(array)


@needs_cache
def test_the_handler_inside_the_block_only():
    before = np.ones(10)
    with reusing_large_blocks():
        assert handler_name() == block_cache.HANDLER
        inside = np.ones(10)
        assert _name(inside) == block_cache.HANDLER and _name(before) == DEFAULT
        assert stats()["depth"] == 1
    assert handler_name() == DEFAULT and stats()["depth"] == 0


@needs_cache
def test_nested_blocks_share_one_cache_emptied_by_the_last():
    with reusing_large_blocks(threshold=MB, cap=64 * MB):
        a = np.ones(2 * MB // 8)
        del a  # kept
        with reusing_large_blocks(threshold=1, cap=0):  # the outermost's settings hold
            assert handler_name() == block_cache.HANDLER and stats()["depth"] == 2
            assert stats()["blocks"] == 1 and stats()["cap"] == 64 * MB
        assert handler_name() == block_cache.HANDLER and stats()["blocks"] == 1
        b = np.ones(2 * MB // 8)  # the kept block again
        assert stats()["hits"] == 1 and stats()["blocks"] == 0
        del b
        assert stats()["blocks"] == 1
    assert stats()["blocks"] == 0 and stats()["cached"] == 0 and stats()["depth"] == 0


@needs_cache
def test_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with reusing_large_blocks(threshold=MB):
            kept = np.ones(2 * MB // 8)
            del kept
            assert stats()["blocks"] == 1
            1 / 0
    assert handler_name() == DEFAULT
    assert stats()["depth"] == 0 and stats()["blocks"] == 0


@needs_cache
def test_arrays_crossing_the_scope_are_freed_by_their_own_handler():
    outside = np.arange(3 * MB // 8, dtype=float)
    with reusing_large_blocks(threshold=MB):
        inside = np.arange(3 * MB // 8, dtype=float)
        del outside  # NumPy's handler frees it: nothing enters the cache
        assert stats()["blocks"] == 0
    assert _name(inside) == block_cache.HANDLER
    assert inside[-1] == 3 * MB // 8 - 1
    del inside  # after the scope: straight back to the system
    assert stats()["blocks"] == 0 and stats()["cached"] == 0


@needs_cache
def test_zeros_from_a_reused_block_are_zero():
    n = 2 * MB // 8
    with reusing_large_blocks(threshold=MB):
        dirty = np.full(n, 7.5)
        del dirty
        zeros = np.zeros(n)
        assert stats()["hits"] == 1
        assert not zeros.any()
        empty = np.empty(n)  # malloc: a fresh block (the reused one is in use)
        assert stats()["misses"] == 2
        del empty


@needs_cache
def test_resize_keeps_the_values():
    with reusing_large_blocks(threshold=MB):
        kept = np.ones(4 * MB // 8)
        del kept
        a = np.arange(2 * MB // 8, dtype=float)
        a.resize(4 * MB // 8, refcheck=False)
        assert a[: 2 * MB // 8].tobytes() == np.arange(2 * MB // 8, dtype=float).tobytes()
        assert not a[2 * MB // 8:].any()


@needs_cache
def test_only_blocks_that_fit_are_reused():
    with reusing_large_blocks(threshold=MB):
        big = np.ones(8 * MB // 8)
        del big
        near = np.ones(7 * MB // 8)  # 8/7 of it: the kept block
        assert stats()["hits"] == 1 and stats()["blocks"] == 0
        del near
        small = np.ones(2 * MB // 8)  # a quarter of the kept block: not handed out
        assert stats()["hits"] == 1 and stats()["misses"] == 2  # big's and small's
        del small


@needs_cache
def test_a_miss_gives_kept_blocks_of_its_size_back_first():
    """A fresh block takes the place of kept ones: arrays and kept blocks together never
    hold more than the arrays alone would have at their largest (fails with the cache of
    18a as first merged: it kept every block to the cap)."""
    with reusing_large_blocks(threshold=MB):
        a, b, c = (np.ones(2 * MB // 8 + i) for i in range(3))
        del a, b, c
        assert stats()["blocks"] == 3
        wide = np.ones(7 * MB // 16)  # 3.5 MB fits none: the two oldest (4 MB) go back, not the third
        s = stats()
        assert s["hits"] == 0 and s["evicted"] == 2 and s["blocks"] == 1
        assert s["cached"] <= 3 * MB
        del wide
        assert stats()["blocks"] == 2


@needs_cache
def test_larger_blocks_are_reused_as_far_as_allowed():
    with reusing_large_blocks(threshold=MB, larger=300):
        big = np.ones(8 * MB // 8)
        del big
        quarter_more = np.ones(3 * MB // 8)  # 8/3 of it: allowed
        assert stats()["hits"] == 1 and stats()["larger"] == 300
        del quarter_more
        small = np.ones(3 * MB // 16)  # 8/1.5 x: over 300 % larger
        assert stats()["hits"] == 1 and stats()["misses"] == 2  # big's and small's
        del small


@needs_cache
def test_bad_settings_are_refused_and_nothing_is_entered():
    with pytest.raises(ValueError):
        with reusing_large_blocks(larger=0):
            pass
    with pytest.raises(ValueError):
        with reusing_large_blocks(threshold=0):
            pass
    assert stats()["depth"] == 0 and handler_name() == DEFAULT


@needs_cache
def test_the_cap_is_kept_and_the_oldest_go_first():
    with reusing_large_blocks(threshold=MB, cap=5 * MB):
        arrays = [np.ones(2 * MB // 8 + i) for i in range(5)]  # all alive: no block kept yet
        assert stats()["blocks"] == 0
        del arrays
        s = stats()
        assert s["cached"] <= 5 * MB and s["most_cached"] <= 5 * MB
        assert s["blocks"] == 2 and s["evicted"] == 3
        over = np.ones(6 * MB // 8)  # a miss: the two kept blocks go back
        assert stats()["blocks"] == 0
        del over  # larger than the cap: back to the system
        assert stats()["blocks"] == 0 and stats()["cached"] == 0


@needs_cache
def test_small_blocks_are_not_kept():
    with reusing_large_blocks(threshold=MB):
        small = np.ones(MB // 16)
        del small
        assert stats()["blocks"] == 0 and stats()["misses"] == 0


@needs_cache
def test_the_projects_pools_carry_the_handler_into_their_threads():
    with reusing_large_blocks():
        with context_pool(2) as pool:
            assert set(pool.map(lambda _: handler_name(), range(4))) == {block_cache.HANDLER}
            assert pool.submit(handler_name).result() == block_cache.HANDLER
        with ThreadPoolExecutor(2) as plain:  # why: a plain pool runs in its thread's context
            assert plain.submit(handler_name).result() == DEFAULT
    with context_pool(2) as pool:
        assert pool.submit(handler_name).result() == DEFAULT


@needs_cache
def test_overlapping_threads_share_the_cache_until_the_last_leaves():
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with reusing_large_blocks(threshold=MB):
            a_in.set()
            b_in.wait(5)
        seen["after a"] = stats()["depth"]
        a_out.set()

    def b():
        a_in.wait(5)
        with reusing_large_blocks(threshold=MB):
            b_in.set()
            a_out.wait(5)
            seen["b"] = handler_name()
            kept = np.ones(2 * MB // 8)
            del kept
            seen["kept"] = stats()["blocks"]

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after a": 1, "b": block_cache.HANDLER, "kept": 1}
    assert stats()["depth"] == 0 and stats()["blocks"] == 0


@needs_cache
def test_the_advice_follows_numpy_and_the_matchers_switch(monkeypatch):
    from estimation import hugepages

    monkeypatch.setattr(hugepages, "wanted", lambda: True)
    if hugepages._switch() is None:
        pytest.skip("NumPy has no hugepage switch")
    with reusing_large_blocks():
        assert stats()["advise"] == int(block_cache.numpy_advice())
        with hugepages.hugepage_advice_off():
            assert stats()["advise"] == 0
        assert stats()["advise"] == int(block_cache.numpy_advice())


def _task():
    from estimation import NearestNeighborMatching, PropensityScore
    from estimation.balance import balance_table
    from estimation.effects import estimate_att

    rng = np.random.default_rng(5)
    n = 60_000  # the balance table's and the fit's threads run
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "k": rng.integers(0, 3, n).astype(np.int8),
                          "r": pd.Categorical(rng.choice(["x", "y", "z"], n))})
    treat = (frame["a"] + rng.normal(size=n) > 1.0).astype(int).to_numpy()
    y = frame["b"].to_numpy() + treat + rng.normal(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = PropensityScore().fit(frame, treat)
        sample = NearestNeighborMatching(distance=score.distance(), caliper=0.2,
                                         ratio=2).fit(frame, treat).result_
    table = balance_table(sample)
    effect = estimate_att(sample, y)
    return [score.coef_, score.distance(), sample.weights, sample.match_matrix,
            table.frame.select_dtypes("number").to_numpy(dtype=float),
            np.array([effect.estimate, effect.std_error])]


def _same(a, b) -> None:
    for x, y in zip(a, b, strict=True):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()


@needs_cache
def test_the_whole_task_gives_the_same_bits_with_blocks_reused(monkeypatch):
    monkeypatch.setenv("TILTAK_BLOCK_CACHE", "0")
    plain = _task()
    monkeypatch.delenv("TILTAK_BLOCK_CACHE")
    with reusing_large_blocks(threshold=4096, cap=256 * MB):  # nearly every array reused
        reused = _task()
        assert stats()["hits"] > 100
    _same(plain, reused)


def test_without_the_extension_nothing_changes(monkeypatch):
    monkeypatch.setattr(block_cache, "_tried", True)
    monkeypatch.setattr(block_cache, "_module", None)
    assert not block_cache.available() and stats() == {}
    with reusing_large_blocks(threshold=1):
        assert handler_name() == DEFAULT
        with context_pool(2) as pool:
            assert pool.submit(handler_name).result() == DEFAULT
    block_cache.follow_advice(False)  # a no-op, no error


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("TILTAK_BLOCK_CACHE", "0")
    assert not block_cache.available()
    with reusing_large_blocks():
        assert handler_name() == DEFAULT


def test_a_missing_extension_is_found_missing(monkeypatch):
    monkeypatch.setattr(block_cache, "_alloc", None)
    assert block_cache._bind() is None


@needs_cache
def test_the_matcher_runs_inside_the_block(monkeypatch):
    from estimation import NearestNeighborMatching, matching

    seen = []
    real = matching.match_on_distance

    def spy(*args, **kwargs):
        seen.append((handler_name(), stats()["depth"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(matching, "match_on_distance", spy)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=400)})
    treat = (frame["a"] + rng.normal(size=400) > 0.5).astype(int).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        NearestNeighborMatching().fit(frame, treat)
    assert seen == [(block_cache.HANDLER, 1)]
    assert handler_name() == DEFAULT and stats()["depth"] == 0


def test_every_pool_of_the_estimators_carries_the_context():
    """NumPy's memory handler is a context variable: a plain ThreadPoolExecutor's threads
    allocate outside the block, so every pool is made by estimation.threads.context_pool."""
    import estimation

    root = Path(estimation.__file__).parent
    plain = [f"{path.name}:{number}" for path in sorted(root.glob("*.py")) if path.name != "threads.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if "ThreadPoolExecutor(" in line]
    assert plain == []
