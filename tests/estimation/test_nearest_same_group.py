"""``variance.nearest_same_group`` (the Abadie-Imbens conditional variance's neighbours) against
its definition: NumPy's stable argsorts of the pool's distances and of each unit's candidate
gaps, on data with ties, duplicated distances, infinities and pools at every size."""

import numpy as np
import pytest

from estimation.variance import nearest_same_group


def _plain(distance, rows, pool, J):
    order = pool[np.argsort(distance[pool], kind="stable")]
    sorted_d = distance[order]
    rank = np.empty(distance.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    at = rank[rows][:, None]
    offsets = np.concatenate([np.arange(-J, 0), np.arange(1, J + 1)])
    offsets = offsets[np.argsort(np.abs(offsets) * 2 + (offsets > 0), kind="stable")]
    candidates = at + offsets[None, :]
    valid = (candidates >= 0) & (candidates < order.shape[0])
    clipped = np.clip(candidates, 0, order.shape[0] - 1)
    gaps = np.where(valid, np.abs(sorted_d[clipped] - sorted_d[at]), np.inf)
    best = np.take_along_axis(clipped, np.argsort(gaps, axis=1, kind="stable")[:, :J], axis=1)
    return order[best]


def _distances(rng, n, kind):
    if kind == "continuous":
        return rng.normal(size=n)
    if kind == "ties":
        return rng.integers(0, 7, size=n).astype(float) / 3.0
    if kind == "infinite":
        d = rng.normal(size=n)
        d[rng.random(n) < 0.05] = np.inf
        d[rng.random(n) < 0.05] = -np.inf
        return d
    d = rng.normal(size=n)  # signed zeros and equal gaps on both sides
    d[rng.random(n) < 0.3] = 0.0
    d[rng.random(n) < 0.2] = -0.0
    return d


@pytest.mark.parametrize("kind", ["continuous", "ties", "infinite", "zeros"])
@pytest.mark.parametrize("J", [1, 2, 3])
@pytest.mark.parametrize("n", [3, 50, 5_000, 300_000])
def test_nearest_same_group_is_its_definition(kind, J, n):
    rng = np.random.default_rng(n * 10 + J)
    distance = _distances(rng, n, kind)
    pool = np.flatnonzero(rng.random(n) < 0.6)
    if pool.size <= J:
        pool = np.arange(n)
    rows = rng.choice(pool, size=min(pool.size, 1 + n // 3), replace=False)
    got = nearest_same_group(distance, rows, pool, J)
    assert np.array_equal(got, _plain(distance, rows, pool, J))


def test_the_equal_gaps_go_to_the_lower_position():
    # a unit exactly between two others: the one before it in the sorted pool is taken
    distance = np.array([0.0, 1.0, 2.0, 5.0])
    got = nearest_same_group(distance, np.array([1]), np.arange(4), 1)
    assert got.tolist() == [[0]]
