"""NumPy's hugepage advice during the estimators' steps (estimation.hugepages): off only
inside the block and only where the kernel stalls on it, the user's setting restored after
every way out, nothing changed without NumPy's private switch, the same bits either way."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

from estimation import hugepages
from estimation.hugepages import advice_stalls, hugepage_advice_off, reports_free_pages

REAL = hugepages._switch()


class Switch:
    """A stand-in for NumPy's setter: holds the value, returns the previous one."""

    def __init__(self, value: bool) -> None:
        self.value, self.calls = value, []

    def __call__(self, value: bool) -> bool:
        previous, self.value = self.value, bool(value)
        self.calls.append(bool(value))
        return previous


@pytest.mark.parametrize("before", [True, False])
def test_off_inside_and_restored_after(before):
    switch = Switch(before)
    with hugepage_advice_off(switch):
        assert switch.value is False
        with hugepage_advice_off(switch):  # nested: still off, and not restored early
            assert switch.value is False
        assert switch.value is False
    assert switch.value is before
    assert hugepages._depth == 0


def test_restored_after_an_exception():
    switch = Switch(True)
    with pytest.raises(ZeroDivisionError):
        with hugepage_advice_off(switch):
            1 / 0
    assert switch.value is True and hugepages._depth == 0


def test_overlapping_threads_restore_the_first_setting():
    """Thread A enters, B enters, A leaves, B leaves: the setting before A comes back (a
    save and restore per block would leave it off)."""
    switch = Switch(True)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with hugepage_advice_off(switch):
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with hugepage_advice_off(switch):
            b_in.set()
            a_out.wait(5)
            seen["inside after A left"] = switch.value

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"inside after A left": False}
    assert switch.value is True and hugepages._depth == 0


@pytest.mark.skipif(REAL is None, reason="this NumPy has no _set_madvise_hugepage")
@pytest.mark.parametrize("before", [True, False])
def test_numpy_switch_restored(before):
    previous = REAL(before)
    try:
        with hugepage_advice_off(REAL):
            assert REAL(False) is False  # off inside (the call returns the value it replaces)
        assert REAL(before) is before  # the user's value after
    finally:
        REAL(previous)


def test_without_the_private_switch_nothing_changes(monkeypatch):
    monkeypatch.setattr(hugepages, "wanted", lambda: True)
    monkeypatch.setattr(hugepages, "_switch", lambda: None)
    with hugepage_advice_off():
        assert hugepages._depth == 0
    assert hugepages._depth == 0


def test_missing_attribute_gives_no_switch(monkeypatch):
    from numpy._core import multiarray

    monkeypatch.delattr(multiarray, "_set_madvise_hugepage", raising=False)
    assert hugepages._switch() is None


def test_the_users_choice_is_kept(monkeypatch):
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
    assert hugepages.wanted() is False
    switch = Switch(True)
    monkeypatch.setattr(hugepages, "_switch", lambda: switch)
    with hugepage_advice_off():
        assert switch.value is True
    assert switch.calls == []


def _sysfs(tmp_path, enabled, defrag, reporting=False, feature="1"):
    thp = tmp_path / "thp"
    thp.mkdir()
    (thp / "enabled").write_text(enabled + "\n")
    (thp / "defrag").write_text(defrag + "\n")
    module = tmp_path / "page_reporting"
    balloon = tmp_path / "virtio_balloon"
    balloon.mkdir()
    if reporting:
        module.mkdir()
        device = balloon / "virtio0"
        device.mkdir()
        (device / "features").write_text("01100" + feature + "01" + "0" * 56 + "\n")
    return thp, balloon, module


@pytest.mark.parametrize("enabled, defrag, reporting, feature, stalls", [
    ("always [madvise] never", "always defer defer+madvise [madvise] never", False, "1", True),
    ("always [madvise] never", "[always] defer defer+madvise madvise never", False, "1", True),
    ("always [madvise] never", "always defer [defer+madvise] madvise never", False, "1", True),
    ("always [madvise] never", "always [defer] defer+madvise madvise never", False, "1", False),
    ("always [madvise] never", "always defer defer+madvise madvise [never]", False, "1", False),
    ("always [madvise] never", "always defer defer+madvise madvise [never]", True, "1", True),
    ("always [madvise] never", "always defer defer+madvise madvise [never]", True, "0", False),
    ("[always] madvise never", "always defer defer+madvise [madvise] never", True, "1", False),
    ("always madvise [never]", "always defer defer+madvise [madvise] never", True, "1", False),
])
def test_policy(tmp_path, enabled, defrag, reporting, feature, stalls):
    thp, balloon, module = _sysfs(tmp_path, enabled, defrag, reporting, feature)
    assert advice_stalls(thp, balloon, module) is stalls
    assert reports_free_pages(balloon, module) is (reporting and feature == "1")


def test_no_sysfs_means_no_change(tmp_path):
    missing = tmp_path / "missing"
    assert advice_stalls(missing, missing, missing) is False


def _task():
    import pandas as pd

    from estimation import NearestNeighborMatching, PropensityScore
    from estimation.balance import balance_table
    from estimation.effects import estimate_att

    rng = np.random.default_rng(7)
    n = 3000
    X = rng.normal(size=(n, 4))
    treat = (X[:, 0] + rng.normal(size=n) > 0.8).astype(int)
    y = X @ np.array([1.0, 0.5, -0.2, 0.1]) + treat + rng.normal(size=n)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = PropensityScore().fit(frame, treat)
        sample = NearestNeighborMatching(distance=score.distance(), caliper=0.2).fit(frame, treat).result_
    table = balance_table(sample)
    effect = estimate_att(sample, y)
    return (score.distance().tobytes(), sample.weights.tobytes(), sample.match_matrix.tobytes(),
            table.frame.select_dtypes("number").to_numpy(dtype=float).tobytes(), effect.estimate, effect.std_error)


def test_the_steps_run_inside_the_block_and_give_the_same_bits(monkeypatch):
    switch = Switch(True)
    monkeypatch.setattr(hugepages, "wanted", lambda: True)
    monkeypatch.setattr(hugepages, "_switch", lambda: switch)
    off = _task()
    # NearestNeighborMatching.fit once (the score and the balance table keep NumPy's advice:
    # there the huge pages' fewer TLB misses paid for their first touch at 10 million)
    assert switch.calls == [False, True] and switch.value is True
    monkeypatch.setattr(hugepages, "wanted", lambda: False)
    assert _task() == off
