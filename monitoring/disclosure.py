"""Disclosure control: primary and secondary suppression of published cells.

The core is a pure function on a table of cells and the linear relations between them
(``total = sum of groups``, ``cumulative(t) = cumulative(t-1) + increment(t)``, a rolling
sum and the months it covers). A cell is *published* (shown) or *hidden* (never shown,
e.g. the monthly increment behind a cumulative series). Some cells are *sensitive*:
counts in 1..min_count-1, rates on fewer than min_denominator cases.

Rule: every relation that contains a protected cell (a sensitive cell or a suppressed
one) must have at least two unknown cells (suppressed or hidden), otherwise the protected
cell could be solved from it. The algorithm is the classic iterative one: while a relation
holding a protected cell has exactly one unknown, suppress the smallest other published
cell in it (preferring non-zero cells, then the order of the keys, so the result is
deterministic). Suppression only ever grows, so it terminates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable

DEFAULT_MIN_COUNT = 5
DEFAULT_MIN_DENOMINATOR = 10
FLOOR = 3


@dataclass(frozen=True)
class Cell:
    """A cell: its key, the size used to pick secondary suppressions, whether it is shown."""

    key: Hashable
    size: float
    sensitive: bool
    published: bool = True


@dataclass(frozen=True)
class Thresholds:
    """Disclosure thresholds; neither may be below 3."""

    min_count: int = DEFAULT_MIN_COUNT
    min_denominator: int = DEFAULT_MIN_DENOMINATOR
    dominance_contributors: int = 2
    dominance_share: float = 0.85

    def __post_init__(self) -> None:
        for name in ("min_count", "min_denominator"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < FLOOR:
                raise ValueError(f"disclosure.{name} must be a whole number >= {FLOOR}; got {value!r}")
        if not isinstance(self.dominance_contributors, int) or not 1 <= self.dominance_contributors <= 10:
            raise ValueError(f"disclosure.dominance_contributors must be a whole number from 1 to 10; got {self.dominance_contributors!r}")
        if not 0 < self.dominance_share <= 1:
            raise ValueError(f"disclosure.dominance_share must be in (0, 1]; got {self.dominance_share!r}")

    def is_dominated(self, total: float | None, top: tuple[float, ...] | None) -> bool:
        """The n largest contributors make up more than the dominance share of a positive total."""
        if not top or total is None or total <= 0:
            return False
        return sum(sorted(top, reverse=True)[: self.dominance_contributors]) > self.dominance_share * total

    def count_is_sensitive(self, count: float | None) -> bool:
        """A count in 1..min_count-1 (zero is published: it identifies nobody)."""
        return count is not None and 0 < count < self.min_count

    def rate_is_sensitive(self, denominator: float | None) -> bool:
        """A rate, mean or share on fewer than min_denominator cases (zero cases: no value)."""
        return denominator is not None and 0 < denominator < self.min_denominator


def suppress(cells: Iterable[Cell], relations: Iterable[Iterable[Hashable]]) -> frozenset:
    """Keys of the published cells to suppress (primary and secondary).

    Relations name cells by key; keys not among ``cells`` are ignored.
    """
    table = {cell.key: cell for cell in cells}
    rels = [tuple(dict.fromkeys(k for k in rel if k in table)) for rel in relations]
    suppressed = {k for k, c in table.items() if c.sensitive and c.published}
    protected = {k for k, c in table.items() if c.sensitive} | suppressed
    by_cell: dict[Hashable, list[int]] = {}
    for n, rel in enumerate(rels):
        for key in rel:
            by_cell.setdefault(key, []).append(n)
    pending = list(range(len(rels)))
    while pending:
        n = pending.pop()
        choice = _secondary(rels[n], table, suppressed, protected)
        if choice is None:
            continue
        suppressed.add(choice)
        protected.add(choice)
        pending.extend(by_cell[choice])
    return frozenset(suppressed)


def _unknown(key: Hashable, table: dict, suppressed: set) -> bool:
    return key in suppressed or not table[key].published


def _secondary(rel: tuple, table: dict, suppressed: set, protected: set) -> Hashable | None:
    """The cell to suppress so that ``rel`` keeps two unknowns, or None if it is safe."""
    if not any(k in protected for k in rel):
        return None
    if sum(_unknown(k, table, suppressed) for k in rel) != 1:
        return None
    candidates = [k for k in rel if not _unknown(k, table, suppressed)]
    if not candidates:
        return None
    return min(candidates, key=lambda k: (table[k].size <= 0, table[k].size, repr(k)))


def unprotected_relations(cells: Iterable[Cell], relations: Iterable[Iterable[Hashable]], suppressed: frozenset) -> list[tuple]:
    """Relations that would let someone solve a protected cell (for tests and audits)."""
    table = {cell.key: cell for cell in cells}
    bad = []
    for rel in relations:
        rel = tuple(dict.fromkeys(k for k in rel if k in table))
        protected = any(k in suppressed or table[k].sensitive for k in rel)
        unknown = sum(k in suppressed or not table[k].published for k in rel)
        if protected and unknown == 1:
            bad.append(rel)
    return bad


# ---- indicator tables --------------------------------------------------------------


@dataclass(frozen=True)
class ValueRow:
    """One computed value of an indicator: period, disaggregation, numerator, denominator."""

    period_index: int
    dimension: str
    group_value: str
    numerator: float | None
    denominator: float | None
    value: float | None
    top: tuple[float, ...] | None = None  # largest contributions to a cost total, largest first


def _is_sensitive(kind: str, row: ValueRow, thresholds: Thresholds) -> bool:
    if thresholds.is_dominated(row.numerator, row.top):  # a cost total (or a rate on one)
        return True
    if kind == "count":
        return thresholds.count_is_sensitive(row.numerator)
    if kind == "sum":  # a total over few contributors
        return thresholds.count_is_sensitive(row.denominator)
    return thresholds.rate_is_sensitive(row.denominator)


def _size(kind: str, row: ValueRow) -> float:
    size = row.numerator if kind == "count" else row.denominator
    return float(size or 0)


def indicator_cells(kind: str, rows: list[ValueRow], thresholds: Thresholds, series: bool) -> tuple[list[Cell], list[tuple]]:
    """Cells and relations of one indicator's table.

    ``kind`` is 'count', 'sum' or 'rate'. Relations: in each period and disaggregation,
    total = sum of groups; with ``series`` (cumulative or rolling counts), each value and
    the one before it differ by a hidden increment, which is sensitive when it is a small count.
    """
    cells = [Cell(("v", r.period_index, r.dimension, r.group_value), _size(kind, r), _is_sensitive(kind, r, thresholds)) for r in rows]
    relations: dict[tuple, list] = {}
    for r in rows:
        if r.dimension != "total":
            relations.setdefault((r.period_index, r.dimension), [("v", r.period_index, "total", "")]).append(
                ("v", r.period_index, r.dimension, r.group_value))
    rels = list(relations.values())
    if series and kind == "count":
        hidden, steps = _series_steps(rows, thresholds)
        cells += hidden
        rels += steps
    return cells, rels


def _series_steps(rows: list[ValueRow], thresholds: Thresholds) -> tuple[list[Cell], list[tuple]]:
    by_key = {(r.period_index, r.dimension, r.group_value): r for r in rows}
    cells, rels = [], []
    for (p, dim, group), row in sorted(by_key.items()):
        before = by_key.get((p - 1, dim, group))
        if before is None or row.numerator is None or before.numerator is None:
            continue
        step = abs(row.numerator - before.numerator)
        key = ("m", p, dim, group)
        cells.append(Cell(key, step, thresholds.count_is_sensitive(step), published=False))
        rels.append((("v", p, dim, group), ("v", p - 1, dim, group), key))
    return cells, rels


def protect(kind: str, rows: list[ValueRow], thresholds: Thresholds, series: bool = False) -> frozenset:
    """(period_index, dimension, group_value) of the rows to show as suppressed."""
    cells, relations = indicator_cells(kind, rows, thresholds, series)
    return frozenset(key[1:] for key in suppress(cells, relations) if key[0] == "v")
