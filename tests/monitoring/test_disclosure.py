"""Disclosure control: primary and secondary suppression, on hand examples and random tables."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.disclosure import Cell, Thresholds, ValueRow, indicator_cells, protect, suppress, unprotected_relations


def _count_rows(period: int, total: float, groups: dict[str, dict[str, float]]) -> list[ValueRow]:
    rows = [ValueRow(period, "total", "", total, None, total)]
    for dim, cells in groups.items():
        rows += [ValueRow(period, dim, g, v, None, v) for g, v in cells.items()]
    return rows


def test_a_single_small_cell_takes_the_smallest_other_cell_with_it():
    rows = _count_rows(1, 60, {"centre": {"a": 3, "b": 20, "c": 37}})
    assert protect("count", rows, Thresholds()) == {(1, "centre", "a"), (1, "centre", "b")}


def test_zero_is_published_and_never_chosen_before_a_positive_cell():
    rows = _count_rows(1, 60, {"centre": {"a": 3, "b": 0, "c": 20, "d": 37}})
    assert protect("count", rows, Thresholds()) == {(1, "centre", "a"), (1, "centre", "c")}


def test_two_small_cells_protect_each_other():
    rows = _count_rows(1, 47, {"centre": {"a": 3, "b": 4, "c": 40}})
    assert protect("count", rows, Thresholds()) == {(1, "centre", "a"), (1, "centre", "b")}


def test_suppression_spreads_through_the_shared_total():
    # centre 'a' is small; the secondary pick in 'centre' is fine, and 'sex' stays untouched
    rows = _count_rows(1, 50, {"centre": {"a": 2, "b": 8, "c": 40}, "sex": {"male": 30, "female": 20}})
    hidden = protect("count", rows, Thresholds())
    assert hidden == {(1, "centre", "a"), (1, "centre", "b")}


def test_a_small_total_is_suppressed_and_protected_in_every_disaggregation():
    rows = _count_rows(1, 4, {"centre": {"a": 4, "b": 0}})
    hidden = protect("count", rows, Thresholds())
    assert (1, "total", "") in hidden and (1, "centre", "a") in hidden


def test_rates_on_small_denominators_are_suppressed_with_a_partner():
    rows = [ValueRow(1, "total", "", 5, 100, 5.0), ValueRow(1, "centre", "a", 1, 6, 16.7),
            ValueRow(1, "centre", "b", 2, 40, 5.0), ValueRow(1, "centre", "c", 2, 54, 3.7)]
    assert protect("rate", rows, Thresholds()) == {(1, "centre", "a"), (1, "centre", "b")}


def test_sums_over_few_contributors_are_suppressed():
    rows = [ValueRow(1, "total", "", 90, 12, 90), ValueRow(1, "centre", "a", 20, 2, 20), ValueRow(1, "centre", "b", 70, 10, 70)]
    assert protect("sum", rows, Thresholds()) == {(1, "centre", "a"), (1, "centre", "b")}


def test_cumulative_series_hide_a_small_increment_between_neighbours():
    rows = [ValueRow(p, "total", "", v, None, v) for p, v in ((1, 40), (2, 42), (3, 60))]
    hidden = protect("count", rows, Thresholds(), series=True)
    assert hidden == {(1, "total", "")}  # 42 - 40 = 2 could be read off; the smaller neighbour goes


def test_thresholds_are_configurable_and_never_below_three():
    rows = _count_rows(1, 60, {"centre": {"a": 6, "b": 20, "c": 34}})
    assert protect("count", rows, Thresholds(min_count=5)) == frozenset()
    assert protect("count", rows, Thresholds(min_count=10)) == {(1, "centre", "a"), (1, "centre", "b")}
    with pytest.raises(ValueError, match="disclosure.min_count must be a whole number >= 3; got 2"):
        Thresholds(min_count=2)
    with pytest.raises(ValueError, match="min_denominator"):
        Thresholds(min_denominator=1)


def test_suppress_is_deterministic_and_ignores_unknown_keys():
    cells = [Cell("t", 10, False), Cell("a", 2, True), Cell("b", 4, False), Cell("c", 4, False)]
    first = suppress(cells, [("t", "a", "b", "c", "zzz")])
    assert first == suppress(list(reversed(cells)), [("zzz", "c", "b", "a", "t")]) == {"a", "b"}


# ---- properties on random tables ---------------------------------------------------

counts = st.integers(min_value=0, max_value=40)


@st.composite
def tables(draw):
    """Several periods; in each, 1-3 disaggregations whose groups add up to the same total."""
    periods = draw(st.integers(1, 4))
    base_total = None
    rows = []
    dims = draw(st.integers(1, 3))
    for p in range(periods):
        first = draw(st.lists(counts, min_size=1, max_size=6))
        total = sum(first)
        rows.append(ValueRow(p, "total", "", total, None, total))
        rows += [ValueRow(p, "d0", f"g{i}", v, None, v) for i, v in enumerate(first)]
        for d in range(1, dims):
            split = sorted(draw(st.lists(st.integers(0, total), min_size=0, max_size=4)))
            parts = [b - a for a, b in zip([0, *split], [*split, total])]
            rows += [ValueRow(p, f"d{d}", f"g{i}", v, None, v) for i, v in enumerate(parts)]
    return rows


@given(tables(), st.integers(3, 8), st.booleans())
@settings(max_examples=300, deadline=None)
def test_no_published_count_is_small_and_no_suppressed_cell_can_be_solved(rows, threshold, series):
    thresholds = Thresholds(min_count=threshold)
    hidden = protect("count", rows, thresholds, series=series)
    for r in rows:
        key = (r.period_index, r.dimension, r.group_value)
        if key not in hidden:
            assert not (0 < r.numerator < threshold), r
    cells, relations = indicator_cells("count", rows, thresholds, series)
    suppressed = frozenset(("v", *key) for key in hidden)
    assert unprotected_relations(cells, relations, suppressed) == []


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=12), st.integers(0, 3))
@settings(max_examples=300, deadline=None)
def test_every_relation_with_a_protected_cell_keeps_two_unknowns(cells_spec, n_relations):
    cells = [Cell(i, size, size in (1, 2, 3, 4), published) for i, (size, published) in enumerate(cells_spec)]
    keys = [c.key for c in cells]
    relations = [tuple(keys[j::n_relations + 1]) for j in range(n_relations + 1)] + [tuple(keys)]
    hidden = suppress(cells, relations)
    assert all(cells[k].published for k in hidden)
    assert all(k in hidden for k in keys if cells[k].sensitive and cells[k].published)
    for rel in relations:
        table = {c.key: c for c in cells}
        if any(k in hidden or table[k].sensitive for k in rel):
            unknown = sum(k in hidden or not table[k].published for k in rel)
            assert unknown >= 2 or len(rel) == 1, (rel, hidden)


def test_cost_totals_dominated_by_few_contributors_are_suppressed():
    thresholds = Thresholds()  # two largest contributors > 85 %
    rows = [ValueRow(1, "total", "", 10_000, 20, 10_000, (3000.0, 2500.0, 2000.0, 1500.0, 1000.0)),
            ValueRow(1, "region", "north", 5600, 10, 5600, (5000.0, 600.0)),        # 100 % in two: dominated
            ValueRow(1, "region", "west", 4400, 10, 4400, (2500.0, 1000.0, 900.0))]  # 80 %: published
    assert thresholds.is_dominated(5600, (5000.0, 600.0))
    assert not thresholds.is_dominated(4400, (2500.0, 1000.0, 900.0))
    hidden = protect("sum", rows, thresholds)
    assert (1, "region", "north") in hidden and (1, "region", "west") in hidden  # the second to protect the first
    assert (1, "total", "") not in hidden
    assert protect("sum", rows, Thresholds(dominance_contributors=1, dominance_share=0.9)) == frozenset()


def test_dominance_settings_are_checked():
    with pytest.raises(ValueError, match="dominance_contributors must be a whole number from 1 to 10; got 0"):
        Thresholds(dominance_contributors=0)
    with pytest.raises(ValueError, match=r"dominance_share must be in \(0, 1\]; got 1.5"):
        Thresholds(dominance_share=1.5)
