"""Disclosure control: what every published value implies, and suppression that protects it.

The core is a pure function on a system of *cells* and *relations*:

* A cell is a number: a published value (a count, a sum, a rate), or a count it implies
  without being shown (the numerator and denominator of a rate, the monthly parts of a
  rolling or cumulative series, the complement of a share, the change of a value between
  two releases). A cell is *published* (shown now), *hidden* (never shown), or *fixed*
  (shown in an earlier release or by another model: already known, it cannot be taken
  back). *Sensitive* cells are counts in 1..min_count-1, rates on fewer than
  min_denominator cases, sums over few or dominant contributors.
* A relation ties cells so that any one of them follows from the others: a total and its
  groups (``total = a + b + c``), a rolling sum and its months, a cumulative value, the one
  before it and the month's part, a rate with its numerator and denominator
  (``rate = scale * numerator / denominator``: any two give the third), two releases and
  the revision between them, two aggregates that are the same set of people.

What an attacker who reads every output can derive is the *closure*: the known cells,
then every cell of a relation whose other cells are known, repeated until nothing new
follows. Suppression makes sure that no sensitive cell is in the closure: primary
suppression of the sensitive published cells, then, while some sensitive cell can be
derived, secondary suppression of a published cell of the relation that gave it away (a
rate before a count, non-zero cells before zeros, small before large, then key order, so
the result is deterministic). For systems small enough (:data:`AUDIT_MAX_UNKNOWNS`) the
closure is completed by an exact linear audit (the unknowns a set of linear equations
determines, from the null space of the system), which also finds cells solvable only by
combining several relations at once.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence


DEFAULT_MIN_COUNT = 5
DEFAULT_MIN_DENOMINATOR = 10
FLOOR = 3
AUDIT_MAX_UNKNOWNS = 250


@dataclass(frozen=True)
class Cell:
    """A cell: its key, the size used to pick secondary suppressions, whether it is shown.

    ``fixed``: already known to everyone (an earlier release); never chosen for suppression.
    ``priority``: lower is suppressed first among equally good choices (rates 0, counts 1).
    ``value``: the number itself (used by the exact audit for rate relations)."""

    key: Hashable
    size: float
    sensitive: bool
    published: bool = True
    fixed: bool = False
    priority: int = 1
    value: float | None = None


@dataclass(frozen=True)
class Relation:
    """Cells tied so that any one follows from the others.

    ``coefficients`` (same order as ``keys``): the linear equation sum(c * x) = 0 that ties
    them, for the exact audit; None for a rate relation (numerator, denominator, rate),
    which is linear once the rate is known: numerator - rate / scale * denominator = 0."""

    keys: tuple
    coefficients: tuple[float, ...] | None = None  # None: first = sum of the others
    scale: float = 1.0  # rate relations: rate = scale * numerator / denominator
    rate: bool = False  # keys are (numerator, denominator, rate)

    @property
    def is_rate(self) -> bool:
        return self.rate
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

    @classmethod
    def of_model(cls, model: Any) -> "Thresholds":
        """The thresholds of a validated model's ``monitoring.disclosure`` (ValueError when unusable)."""
        disclosure = model.monitoring.disclosure
        return cls(int(disclosure.min_count), int(disclosure.min_denominator),
                   int(disclosure.dominance_contributors), float(disclosure.dominance_share))

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


def _relations(relations: Iterable, table: dict) -> list[Relation]:
    out = []
    for rel in relations:
        if not isinstance(rel, Relation):
            rel = Relation(tuple(rel))
        keep = [(n, k) for n, k in enumerate(rel.keys) if k in table]
        if len(keep) == len(rel.keys):
            out.append(rel)
        elif rel.is_rate:
            continue  # a rate relation with a cell outside the system ties nothing
        elif rel.coefficients is None:
            out.append(Relation(tuple(dict.fromkeys(k for _, k in keep))))
        elif keep and rel.coefficients is not None:  # unknown keys dropped (ignored)
            out.append(Relation(tuple(k for _, k in keep), tuple(rel.coefficients[n] for n, _ in keep)))
    return [r for r in out if r.keys]


def closure(cells: Iterable[Cell], relations: Iterable, suppressed: Iterable[Hashable] = ()) -> dict:
    """Every cell an attacker can derive, with the relation that gave it (None: shown or fixed)."""
    table = {c.key: c for c in cells}
    return _closure(table, _relations(relations, table), set(suppressed))


def _cell_index(rels: list[Relation]) -> dict[Hashable, list[int]]:
    """Cell -> the positions of the relations it is in, in order (a position once per
    occurrence of the cell in a relation): built once per system and read by every
    closure, breaker and search of it instead of scanning every relation."""
    by_cell: dict[Hashable, list[int]] = {}
    for n, rel in enumerate(rels):
        for key in rel.keys:
            found = by_cell.get(key)
            if found is None:
                by_cell[key] = [n]
            else:
                found.append(n)
    return by_cell


def _relations_of(cell: Hashable, by_cell: dict) -> list[int]:
    """The positions of the relations ``cell`` is in, each once, in order."""
    return list(dict.fromkeys(by_cell.get(cell, ())))


def _closure(table: dict, rels: list[Relation], suppressed: set, by_cell: dict | None = None) -> dict:
    known: dict[Hashable, int | None] = {k: None for k, c in table.items()
                                          if c.fixed or (c.published and k not in suppressed)}
    if by_cell is None:
        by_cell = _cell_index(rels)
    missing = [{k for k in rel.keys if k not in known} for rel in rels]
    queue = [n for n, unknown in enumerate(missing) if len(unknown) == 1]
    while queue:
        n = queue.pop()
        if len(missing[n]) != 1:
            continue
        (key,) = missing[n]
        if not _derives(rels[n], key, table):
            continue
        known[key] = n
        for m in by_cell[key]:
            missing[m].discard(key)
            if len(missing[m]) == 1:
                queue.append(m)
    return known


def _derives(rel: Relation, key: Hashable, table: dict) -> bool:
    """Whether the other cells of ``rel`` determine ``key`` (a rate of 0 gives no denominator)."""
    if rel.is_rate:
        _num, den, rate = rel.keys
        if key == den and not table[rate].value:
            return False
    return True


def suppress(cells: Iterable[Cell], relations: Iterable) -> frozenset:
    """Keys of the published cells to suppress (primary and secondary), so that no sensitive
    cell can be derived from what stays published and what is fixed.

    Relations are :class:`Relation` objects or plain tuples of keys; keys not among
    ``cells`` are ignored.
    """
    table = {cell.key: cell for cell in cells}
    # The cells are numbered in the order of their repr and decided on the numbers: every set,
    # dict and search below holds small ints instead of tuple keys (a tuple's hash is computed
    # anew at every look-up), and sorting numbers sorts as repr sorts the keys, so every choice
    # is the one made on the keys themselves.
    keys = sorted(table, key=repr)
    number = {k: i for i, k in enumerate(keys)}
    numbered = {i: table[k] for i, k in enumerate(keys)}
    suppressed = {i for i, c in numbered.items() if c.sensitive and c.published and not c.fixed}
    with one_blas_thread():
        for part_keys, part in _parts(_numbered_relations(relations, number)):  # relations never cross parts
            if not any(numbered[i].published and not numbered[i].fixed for i in part_keys):
                continue  # nothing in it is published now: nothing to decide (earlier releases are fixed)
            suppressed |= _suppress_part({i: numbered[i] for i in part_keys}, part,
                                         {i for i in part_keys if i in suppressed})
    return frozenset(keys[i] for i in suppressed)


class _Numbered:
    """A relation over numbered cells: the fields of :class:`Relation` the decisions read."""

    __slots__ = ("keys", "coefficients", "scale", "is_rate")

    def __init__(self, keys: tuple, coefficients: tuple | None, scale: float, is_rate: bool) -> None:
        self.keys, self.coefficients, self.scale, self.is_rate = keys, coefficients, scale, is_rate


def _numbered_relations(relations: Iterable, number: dict) -> list[_Numbered]:
    """:func:`_relations` over numbered cells (``number``: key -> number), each key looked up once."""
    out, get = [], number.get
    for rel in relations:
        if not isinstance(rel, Relation):
            rel = Relation(tuple(rel))
        found = tuple(map(get, rel.keys))
        if None not in found:
            if found:
                out.append(_Numbered(found, rel.coefficients, rel.scale, rel.rate))
            continue
        if rel.is_rate:
            continue  # a rate relation with a cell outside the system ties nothing
        if rel.coefficients is None:
            keep = tuple(dict.fromkeys(i for i in found if i is not None))
            if keep:
                out.append(_Numbered(keep, None, 1.0, False))
        else:  # unknown keys dropped (ignored)
            kept = [(i, rel.coefficients[n]) for n, i in enumerate(found) if i is not None]
            if kept:
                out.append(_Numbered(tuple(i for i, _ in kept), tuple(c for _, c in kept), 1.0, False))
    return out


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """The exact audit on one BLAS thread. Its QR decompositions are small (at most
    :data:`AUDIT_MAX_UNKNOWNS` unknowns) and many (a thousand in a release of 50,000 cells):
    BLAS threads cost more to wake and join than they save, and on a busy machine they wait
    for each other (benchmarks/bench_monitoring.py --release-repeat); the decisions are the same."""
    import scipy.linalg  # noqa: F401  (loads the BLAS libraries the limit applies to)
    from threadpoolctl import threadpool_limits  # with scipy: ctypes and library probes

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _release_derivable(table: dict, rels: list[Relation], suppressed: set, by_cell: dict | None = None) -> set:
    """Secondary suppressions that stay derivable from what is published protect nothing:
    they are published again (the attacker learns nothing new from them)."""
    known = _closure(table, rels, suppressed, by_cell)
    useless = {k for k in suppressed if not table[k].sensitive and known.get(k) is not None}
    return suppressed - useless


def _parts(rels: list) -> list[tuple[list, list]]:
    """The connected parts of a system of numbered cells (cells linked by relations), each
    with its relations (parts are decided independently: their order does not matter)."""
    return _connected(rels, lambda rel: rel.keys, order=None)


def _connected(members: list, keys_of: Callable[[Any], Sequence],
               order: Callable[[Any], Any] | None = repr) -> list[tuple[list, list]]:
    """The members (relations or equation rows) grouped into connected parts by the cells they
    share, each part with its cells sorted by ``order`` (None: the cells themselves, for
    numbered cells) and its members in their order; parts in
    the order of their first member. A search over members through an index of the cells
    (each member and each cell visited once)."""
    member_keys = [tuple(keys_of(member)) for member in members]
    by_cell: dict = {}
    for n, keys in enumerate(member_keys):
        for key in keys:
            found = by_cell.get(key)
            if found is None:
                by_cell[key] = [n]
            else:
                found.append(n)
    seen = bytearray(len(members))
    out = []
    for start in range(len(members)):
        if seen[start]:
            continue
        seen[start] = 1
        stack, group, cells = [start], [], set()
        while stack:
            n = stack.pop()
            group.append(n)
            for key in member_keys[n]:
                if key in cells:
                    continue
                cells.add(key)
                for m in by_cell[key]:
                    if not seen[m]:
                        seen[m] = 1
                        stack.append(m)
        group.sort()
        out.append((sorted(cells, key=order), [members[n] for n in group]))
    return out


def _suppress_part(table: dict, rels: list, suppressed: set) -> set:
    """Primary and secondary suppression in one connected part of numbered cells (numbers in
    the order of the keys' repr; ``table``: number -> the cell)."""
    cache: dict = {}
    by_cell = _cell_index(rels)
    while True:
        known = _closure(table, rels, suppressed, by_cell)
        leaks = sorted(k for k in known if table[k].sensitive and known[k] is not None)
        if not leaks:
            leaks = _audit_leaks(table, rels, suppressed, set(known), cache, order=None)
            if not leaks:
                return _release_derivable(table, rels, suppressed, by_cell)
        added = False
        for key in leaks:
            choice = _breaker(key, known, table, rels, suppressed, by_cell)
            if choice is not None:
                suppressed.add(choice)
                added = True
        if not added:  # only fixed (earlier) releases give these away: nothing left to hide
            return suppressed


def _cost(cell: Cell) -> tuple:
    return (cell.priority, cell.size <= 0, cell.size, repr(cell.key))


def _breaker(key: Hashable, known: dict, table: dict, rels: list[Relation], suppressed: set,
             by_cell: dict | None = None) -> Hashable | None:
    """A published cell whose suppression breaks a derivation of ``key``: the cheapest among
    the cells of the relations that derived it, and of those that derived their cells (the
    table's key of the cell: a number when the cells are numbered; the cost reads the cell's
    own key, so the choice is the same)."""
    if by_cell is None:
        by_cell = _cell_index(rels)
    seen, frontier, candidates = {key}, [key], []
    while frontier:
        following = []
        for cell in frontier:
            relation_ids = [known[cell]] if known.get(cell) is not None else _relations_of(cell, by_cell)
            for n in relation_ids:
                for other in rels[n].keys:
                    if other in seen:
                        continue
                    seen.add(other)
                    c = table[other]
                    if c.published and not c.fixed and other not in suppressed:
                        candidates.append(other)
                    elif known.get(other) is not None:
                        following.append(other)
        frontier = following
    if candidates:
        return min(candidates, key=lambda k: _cost(table[k]))
    return _nearest_published(key, table, rels, suppressed, by_cell)


def _nearest_published(key: Hashable, table: dict, rels: list[Relation], suppressed: set,
                       by_cell: dict | None = None) -> Hashable | None:
    """The cheapest published cell at the smallest distance from ``key`` in the relation graph
    (for cells the exact audit found determined by several relations at once)."""
    if by_cell is None:
        by_cell = _cell_index(rels)
    seen, frontier = {key}, [key]
    while frontier:
        candidates, following = [], []
        for cell in frontier:
            for n in _relations_of(cell, by_cell):
                for other in rels[n].keys:
                    if other in seen:
                        continue
                    seen.add(other)
                    following.append(other)
                    c = table[other]
                    if c.published and not c.fixed and other not in suppressed:
                        candidates.append(other)
        if candidates:
            return min(candidates, key=lambda k: _cost(table[k]))
        frontier = following
    return None


def _audit_leaks(table: dict, rels: list[Relation], suppressed: set, known: set, cache: dict | None = None,
                 order: Callable[[Any], Any] | None = repr) -> list:
    """Sensitive unknown cells that linear algebra determines (small connected parts only),
    sorted by ``order`` (None: numbered cells, by their numbers).

    ``cache`` keeps the answer for parts that did not change since the last call."""
    import numpy as np

    cache = {} if cache is None else cache
    unknown_rels = []
    for rel in rels:
        row = _linear_row(rel, table, known)
        if row:
            unknown_rels.append(row)
    parts = _components(unknown_rels, order)
    leaks = []
    for keys, rows in parts:
        if not any(table[k].sensitive for k in keys) or len(keys) > AUDIT_MAX_UNKNOWNS:
            continue
        signature = (tuple(keys), len(rows))
        if signature in cache:
            leaks += cache[signature]
            continue
        found = _determined_sensitive(np, keys, rows, table)
        cache[signature] = found
        leaks += found
    return sorted(leaks, key=order)


def _determined_sensitive(np, keys: list, rows: list[dict], table: dict) -> list:
    """The sensitive unknowns of one connected part that its equations determine.

    Unknown i is determined when the unit vector e_i lies in the row space of the
    equations: with Q an orthonormal basis of that space (QR with column pivoting of the
    transposed system), when the i-th row of Q has length 1."""
    from scipy.linalg import qr

    index = {k: i for i, k in enumerate(keys)}
    matrix = np.zeros((len(keys), len(rows)))  # transposed: unknowns x equations
    for r, row in enumerate(rows):
        for k, coefficient in row.items():
            matrix[index[k], r] = coefficient
    q, upper, _pivots = qr(matrix, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(upper))
    rank = int((diagonal > 1e-9 * max(diagonal.max(initial=0.0), 1.0)).sum())
    leverage = (q[:, :rank] ** 2).sum(axis=1)
    return [k for k in keys if table[k].sensitive and leverage[index[k]] > 1 - 1e-7]


def _linear_row(rel: Relation, table: dict, known: set) -> dict | None:
    """The relation's equation over its unknown cells (None when it ties no unknown)."""
    if rel.is_rate:
        num, den, rate = rel.keys
        if rate not in known or table[rate].value is None:
            return None
        coefficients = {num: 1.0, den: -float(table[rate].value) / rel.scale}
    elif rel.coefficients is not None:
        coefficients = dict(zip(rel.keys, rel.coefficients))
    else:
        coefficients = {rel.keys[0]: 1.0, **{k: -1.0 for k in rel.keys[1:]}}
    row = {k: c for k, c in coefficients.items() if k not in known and c != 0}
    return row or None


def _components(rows: list[dict], order: Callable[[Any], Any] | None = repr) -> list[tuple[list, list[dict]]]:
    """The equation rows grouped into connected parts by their unknown cells."""
    return _connected(rows, list, order)


def disclosed(cells: Iterable[Cell], relations: Iterable, suppressed: Iterable[Hashable]) -> list:
    """Sensitive cells an attacker can still derive (for tests and audits): the closure,
    then the exact linear audit on small parts."""
    table = {c.key: c for c in cells}
    rels = _relations(relations, table)
    hidden = set(suppressed)
    known = _closure(table, rels, hidden)
    found = [k for k in known if table[k].sensitive and known[k] is not None]
    found += [k for k, c in table.items() if c.sensitive and c.published and not c.fixed and k not in hidden]
    with one_blas_thread():
        audited = _audit_leaks(table, rels, hidden, set(known))
    return sorted(set(found) | set(audited), key=repr)


def unprotected_relations(cells: Iterable[Cell], relations: Iterable, suppressed: frozenset) -> list[tuple]:
    """Relations through which a sensitive cell can be derived (for tests and audits)."""
    table = {c.key: c for c in cells}
    rels = _relations(relations, table)
    known = _closure(table, rels, set(suppressed))
    return [rels[known[k]].keys for k in sorted(known, key=repr) if table[k].sensitive and known[k] is not None]


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
