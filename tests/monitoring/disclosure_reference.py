"""The disclosure decisions as they were before round 7 (tiltak main 7b6e274), kept verbatim
as the reference the faster code in :mod:`monitoring.disclosure` is compared with
(tests/monitoring/test_disclosure.py): the same suppressions on every system.

Not used by tiltak itself."""

from __future__ import annotations

from typing import Any, Callable, Hashable, Iterable, Sequence

from monitoring.disclosure import AUDIT_MAX_UNKNOWNS, Cell, Relation, one_blas_thread


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


def _closure(table: dict, rels: list[Relation], suppressed: set) -> dict:
    known: dict[Hashable, int | None] = {k: None for k, c in table.items()
                                          if c.fixed or (c.published and k not in suppressed)}
    by_cell: dict[Hashable, list[int]] = {}
    missing = []
    for n, rel in enumerate(rels):
        unknown = {k for k in rel.keys if k not in known}
        missing.append(unknown)
        for key in rel.keys:
            by_cell.setdefault(key, []).append(n)
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
    rels = _relations(relations, table)
    suppressed = {k for k, c in table.items() if c.sensitive and c.published and not c.fixed}
    with one_blas_thread():
        for keys, part in _parts(rels):  # relations never cross parts: each is decided on its own
            if not any(table[k].published and not table[k].fixed for k in keys):
                continue  # nothing in it is published now: nothing to decide (earlier releases are fixed)
            suppressed |= _suppress_part({k: table[k] for k in keys}, part, {k for k in keys if k in suppressed})
    return frozenset(suppressed)


def _release_derivable(table: dict, rels: list[Relation], suppressed: set) -> set:
    """Secondary suppressions that stay derivable from what is published protect nothing:
    they are published again (the attacker learns nothing new from them)."""
    known = _closure(table, rels, suppressed)
    useless = {k for k in suppressed if not table[k].sensitive and known.get(k) is not None}
    return suppressed - useless


def _parts(rels: list[Relation]) -> list[tuple[list, list[Relation]]]:
    """The connected parts of a system (cells linked by relations), each with its relations."""
    return _connected(rels, lambda rel: rel.keys, in_order_of_roots=True)


def _connected(members: list, keys_of: Callable[[Any], Sequence],
               in_order_of_roots: bool = False) -> list[tuple[list, list]]:
    """The members (relations or equation rows) grouped into connected parts by the cells they
    share (union-find), each part with its sorted cells; parts in the order they are first met,
    or sorted by their root cell."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for member in members:
        keys = list(keys_of(member))
        root = find(keys[0])
        for other in keys[1:]:
            parent[find(other)] = root
    groups: dict = {}
    for member in members:
        groups.setdefault(find(next(iter(keys_of(member)))), []).append(member)
    items = sorted(groups.items(), key=lambda item: repr(item[0])) if in_order_of_roots else groups.items()
    return [(sorted({k for m in ms for k in keys_of(m)}, key=repr), ms) for _, ms in items]


def _suppress_part(table: dict, rels: list[Relation], suppressed: set) -> set:
    cache: dict = {}
    while True:
        known = _closure(table, rels, suppressed)
        leaks = sorted((k for k in known if table[k].sensitive and known[k] is not None), key=repr)
        if not leaks:
            leaks = _audit_leaks(table, rels, suppressed, set(known), cache)
            if not leaks:
                return _release_derivable(table, rels, suppressed)
        added = False
        for key in leaks:
            choice = _breaker(key, known, table, rels, suppressed)
            if choice is not None:
                suppressed.add(choice)
                added = True
        if not added:  # only fixed (earlier) releases give these away: nothing left to hide
            return suppressed


def _cost(cell: Cell) -> tuple:
    return (cell.priority, cell.size <= 0, cell.size, repr(cell.key))


def _breaker(key: Hashable, known: dict, table: dict, rels: list[Relation], suppressed: set) -> Hashable | None:
    """A published cell whose suppression breaks a derivation of ``key``: the cheapest among
    the cells of the relations that derived it, and of those that derived their cells."""
    seen, frontier, candidates = {key}, [key], []
    while frontier:
        following = []
        for cell in frontier:
            relation_ids = [known[cell]] if known.get(cell) is not None else \
                [n for n, r in enumerate(rels) if cell in r.keys]
            for n in relation_ids:
                for other in rels[n].keys:
                    if other in seen:
                        continue
                    seen.add(other)
                    c = table[other]
                    if c.published and not c.fixed and other not in suppressed:
                        candidates.append(c)
                    elif known.get(other) is not None:
                        following.append(other)
        frontier = following
    if candidates:
        return min(candidates, key=_cost).key
    return _nearest_published(key, table, rels, suppressed)


def _nearest_published(key: Hashable, table: dict, rels: list[Relation], suppressed: set) -> Hashable | None:
    """The cheapest published cell at the smallest distance from ``key`` in the relation graph
    (for cells the exact audit found determined by several relations at once)."""
    seen, frontier = {key}, [key]
    while frontier:
        candidates, following = [], []
        for cell in frontier:
            for rel in rels:
                if cell not in rel.keys:
                    continue
                for other in rel.keys:
                    if other in seen:
                        continue
                    seen.add(other)
                    following.append(other)
                    c = table[other]
                    if c.published and not c.fixed and other not in suppressed:
                        candidates.append(c)
        if candidates:
            return min(candidates, key=_cost).key
        frontier = following
    return None


def _audit_leaks(table: dict, rels: list[Relation], suppressed: set, known: set, cache: dict | None = None) -> list:
    """Sensitive unknown cells that linear algebra determines (small connected parts only).

    ``cache`` keeps the answer for parts that did not change since the last call."""
    import numpy as np

    cache = {} if cache is None else cache
    unknown_rels = []
    for rel in rels:
        row = _linear_row(rel, table, known)
        if row:
            unknown_rels.append(row)
    parts = _components(unknown_rels)
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
    return sorted(leaks, key=repr)


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


def _components(rows: list[dict]) -> list[tuple[list, list[dict]]]:
    """The equation rows grouped into connected parts by their unknown cells."""
    return _connected(rows, list)
