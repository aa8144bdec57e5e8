"""Disclosure control: primary and secondary suppression, on hand examples and random tables."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import disclosure_reference as reference
from monitoring.disclosure import (Cell, Relation, Thresholds, ValueRow, _connected, _relations, closure, disclosed,
                                   indicator_cells, protect, suppress, unprotected_relations)


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


def _determined(matrix, column: int) -> bool:
    """Linear algebra, independently of the module: is unknown ``column`` fixed by the equations?"""
    import numpy as np

    if matrix.shape[0] == 0:
        return False
    unit = np.zeros((1, matrix.shape[1]))
    unit[0, column] = 1.0
    return np.linalg.matrix_rank(np.vstack([matrix, unit])) == np.linalg.matrix_rank(matrix)


@st.composite
def systems(draw):
    """Random sums: some leaf cells, totals over random subsets of them (and of totals)."""
    leaves = draw(st.lists(st.integers(0, 12), min_size=2, max_size=7))
    values = {f"x{i}": v for i, v in enumerate(leaves)}
    relations = []
    for n in range(draw(st.integers(1, 5))):
        members = draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=4, unique=True))
        key = f"t{n}"
        values[key] = sum(values[m] for m in members)
        relations.append((key, *members))
    published = {k: draw(st.booleans()) or k.startswith("t") for k in values}
    return values, relations, published


@given(systems(), st.integers(3, 6))
@settings(max_examples=300, deadline=None)
def test_no_sensitive_cell_is_determined_by_what_is_published(system, threshold):
    import numpy as np

    values, relations, published = system
    cells = [Cell(k, v, 0 < v < threshold, published[k], value=v) for k, v in values.items()]
    hidden = suppress(cells, relations)
    known = {k for k in values if published[k] and k not in hidden}
    unknown = sorted(set(values) - known)
    index = {k: i for i, k in enumerate(unknown)}
    rows = []
    for total, *members in relations:
        row = np.zeros(len(unknown))
        for k, c in ((total, 1.0), *((m, -1.0) for m in members)):
            if k in index:
                row[index[k]] += c
        if row.any():
            rows.append(row)
    matrix = np.array(rows) if rows else np.zeros((0, len(unknown)))
    for k in unknown:
        if 0 < values[k] < threshold:
            assert not _determined(matrix, index[k]), (k, hidden)
    assert not any(0 < values[k] < threshold for k in known)
    assert disclosed(cells, relations, hidden) == []


def test_a_rate_with_a_published_denominator_gives_its_numerator_away_so_the_rate_goes():
    # the attack of rate x participants / 100: participants 13 published, 1 application per 100 -> 7.7
    cells = [Cell("participants", 13, False, value=13), Cell("applications", 1, True, published=False, value=1),
             Cell("rate", 13, False, priority=0, value=7.7)]
    relations = [Relation(("applications", "participants", "rate"), scale=100, rate=True)]
    assert suppress(cells, relations) == {"rate"}
    assert disclosed(cells, relations, frozenset()) == ["applications"]


def test_a_change_between_releases_is_protected_like_a_count():
    # released earlier: 40 (fixed); now 42: the revision of 2 people must not be readable
    cells = [Cell("old", 40, False, fixed=True, value=40), Cell("new", 42, False, value=42),
             Cell("delta", 2, True, published=False, value=2)]
    assert suppress(cells, [Relation(("new", "old", "delta"))]) == {"new"}


def test_a_chain_of_relations_is_followed():
    # a share's numerator follows from the rate and a published population; its complement then too
    cells = [Cell("population", 50, False, value=50), Cell("rate", 50, False, priority=0, value=98.0),
             Cell("meeting", 49, False, published=False, value=49), Cell("not_meeting", 1, True, published=False, value=1)]
    relations = [Relation(("meeting", "population", "rate"), scale=100, rate=True),
                 Relation(("population", "meeting", "not_meeting"))]
    assert suppress(cells, relations) == {"rate"}


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


# ---- the fast paths against the plain definitions (round 7) ------------------------------------


def _key(i: int) -> tuple:
    # repr order is not the order of the numbers (("c", 10) sorts before ("c", 2)), and mixed types
    return ("c", i) if i % 4 else ("c", str(i))


@st.composite
def any_systems(draw):
    """Random cells (shown, hidden, fixed, sensitive, rates of 0) and relations of every form:
    sums as plain tuples, weighted equations, rate relations, relations with keys outside the
    system, duplicated keys."""
    n = draw(st.integers(3, 22))
    keys = [_key(i) for i in range(n)]
    cells = [Cell(k, draw(st.sampled_from([0.0, 1.0, 2.0, 3.0, 7.0, 12.0])), draw(st.integers(0, 3)) == 0,
                  published=draw(st.integers(0, 3)) > 0, fixed=draw(st.integers(0, 4)) == 0,
                  priority=draw(st.integers(0, 1)), value=draw(st.sampled_from([None, 0.0, 0.5, 2.0, 40.0])))
             for k in keys]
    relations: list = []
    for _ in range(draw(st.integers(1, n + 4))):
        form = draw(st.sampled_from(["sum", "sum", "weighted", "rate", "outside", "repeated"]))
        members = draw(st.lists(st.sampled_from(keys), min_size=2 if form != "rate" else 3, max_size=5, unique=True))
        if form == "sum":
            relations.append(tuple(members))
        elif form == "weighted":
            relations.append(Relation(tuple(members), tuple(draw(st.sampled_from([1.0, -1.0, 2.0, 0.0]))
                                                            for _ in members)))
        elif form == "rate":
            relations.append(Relation(tuple(members[:3]), scale=draw(st.sampled_from([1.0, 100.0])), rate=True))
        elif form == "outside":
            relations.append(draw(st.sampled_from([tuple, Relation]))((*members, ("x", 0))))
        else:
            relations.append(Relation((members[0], *members, members[0])))
    return cells, relations


@given(any_systems())
@settings(max_examples=400, deadline=None)
def test_suppression_is_the_same_as_the_plain_search_of_before(system):
    """The numbered cells, the cell index and the component search decide exactly as the code
    before round 7 (tests/monitoring/disclosure_reference.py) on every system."""

    cells, relations = system
    assert suppress(cells, relations) == reference.suppress(cells, relations)


@given(any_systems(), st.sets(st.sampled_from([_key(i) for i in range(22)]), max_size=6))
@settings(max_examples=300, deadline=None)
def test_the_closure_is_the_fixed_point_of_every_relation(system, hidden):
    """What the closure derives, and by which relation, is the same as before; the cells are
    those of the plain definition: repeat over every relation until nothing new follows."""

    cells, relations = system
    fast = closure(cells, relations, hidden)
    assert list(fast.items()) == list(reference.closure(cells, relations, hidden).items())
    table = {c.key: c for c in cells}
    known = {k for k, c in table.items() if c.fixed or (c.published and k not in hidden)}
    rels = _relations(relations, table)
    while True:
        new = set()
        for rel in rels:
            unknown = {k for k in rel.keys if k not in known}
            if len(unknown) == 1:
                (key,) = unknown
                if not (rel.is_rate and key == rel.keys[1] and not table[rel.keys[2]].value):
                    new.add(key)
        if not new:
            break
        known |= new
    assert set(fast) == known


@given(st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=4), max_size=30))
@settings(max_examples=300, deadline=None)
def test_connected_parts_are_the_parts_of_union_find(members):

    members = [tuple(m) for m in members]
    fast = _connected(members, list)
    plain = reference._connected(members, list)
    assert fast == [(keys, ms) for keys, ms in plain]  # same parts, same order (first member), members in order
    assert _connected(members, list, order=None) == [(sorted(keys), ms) for keys, ms in plain]
