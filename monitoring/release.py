"""Releases: what a run publishes, decided once over everything an attacker could combine.

Every value a run stores implies counts: the numerator and the denominator of a rate,
share or mean (a mean's count), the monthly parts of a rolling or cumulative series, the
complement of a share, the groups of every breakdown and their total. Several indicators
share these counts (``participants`` is the denominator of "applications per 100
participants"; the monthly count of assisted returns is the monthly part of the 12-month
rate; the exits register and the panel count the same exits), several models share
indicators, and a provisional month is revised from one run to the next. This module
builds the whole system (:mod:`monitoring.disclosure`: cells and relations) for the
models of a run, together with

* every earlier release still visible: the last release of every model in the store,
  its published values fixed (already known), and
* the revision between that release and this one of every implied count (a change of 2
  people between two releases is a small count like any other),

decides primary and secondary suppression on it, and stores the decision in
``monitoring_releases`` (release id = run id): for every cell of every monitored indicator
the value as published (NULL when suppressed) and the aggregates behind it, which are
never shown. ``monitor show`` and every export read the published values from there, so
a table, a CSV file, a spreadsheet and the report show the same suppression.

Cells are keyed by *family* (a canonical text of the aggregate: source, kind, column, the
rendered filter, measure scope, grain and window) and coordinates (period, dimension,
group), so two indicators or two models computing the same aggregate share one cell.
Aggregates that are different definitions of the same people (equal in every common
cell) are tied by equality relations.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any, Hashable, Iterable, Sequence

from monitoring.disclosure import Cell, Relation, Thresholds, ValueRow, suppress
from monitoring.expressions import render
from monitoring.indicators import Aggregate, IndicatorSpec
from monitoring.kinds import kind_of
from monitoring.sqlcompile import index_of_date, period_label

RELEASE_TABLE = "monitoring_releases"
DEFINITION_TABLE = "monitoring_release_indicators"
MIGRATION_STATEMENTS = (
    "ALTER TABLE monitoring_values ADD COLUMN numerator_part DOUBLE",
    "ALTER TABLE monitoring_values ADD COLUMN denominator_part DOUBLE",
    f"CREATE TABLE {RELEASE_TABLE} (release_id INTEGER NOT NULL, model_id VARCHAR NOT NULL, "
    "indicator_id VARCHAR NOT NULL, grain VARCHAR NOT NULL, period VARCHAR NOT NULL, period_index INTEGER NOT NULL, "
    "dimension VARCHAR NOT NULL, group_value VARCHAR NOT NULL, value DOUBLE, suppressed BOOLEAN NOT NULL, "
    "numerator DOUBLE, denominator DOUBLE, numerator_part DOUBLE, denominator_part DOUBLE, top_contributions DOUBLE[])",
    f"CREATE TABLE {DEFINITION_TABLE} (release_id INTEGER NOT NULL, model_id VARCHAR NOT NULL, "
    "indicator_id VARCHAR NOT NULL, definition VARCHAR NOT NULL, min_count INTEGER NOT NULL, "
    "min_denominator INTEGER NOT NULL, dominance_contributors INTEGER NOT NULL, dominance_share DOUBLE NOT NULL)",
)
COUNT_KINDS = ("count", "count_distinct", "n")


@dataclass(frozen=True)
class CellDefinition:
    """What the cells of one indicator imply, in terms of shared families of aggregates."""

    kind: str  # count | sum | rate | quantile (the indicator kind's disclosure kind)
    scale: float
    numerator: str  # family of the numerator
    denominator: str | None
    numerator_counts: bool  # the numerator is a count of people or rows (small values are sensitive)
    denominator_counts: bool
    series: str | None = None  # rolling | cumulative
    window: int = 0
    start: int = 0
    numerator_part: str | None = None  # family of the per-period parts of a series
    denominator_part: str | None = None
    complement: bool = False  # the numerator is a subset of the denominator (a share)
    additive: bool = True  # groups add up to the total (margins are relations)
    indicator_type: str = ""  # the catalogue type (its kind class decides quantile sensitivity)
    quantile: float | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "CellDefinition":
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Row(ValueRow):
    """One stored cell of an indicator (aggregates included): a computed value with the parts
    of its numerator and denominator that the release's relations read."""

    numerator_part: float | None = None
    denominator_part: float | None = None

    @property
    def coordinates(self) -> tuple:
        return (self.period_index, self.dimension, self.group_value)


@dataclass
class IndicatorTable:
    """The cells of one indicator of one model, for one release (current or earlier)."""

    model_id: str
    indicator_id: str
    definition: CellDefinition
    thresholds: Thresholds
    rows: list[Row]
    published: dict | None = None  # earlier release: coordinates -> published?


# ---- families ----------------------------------------------------------------------


def family(agg: Aggregate, spec: IndicatorSpec, measure: str | None, mode: str = "plain") -> str:
    """A canonical text naming an aggregate (the same text for the same aggregate anywhere)."""

    kind, column = agg.kind, agg.column
    if kind == "count_distinct" and agg.source == "person_month" and column == "person_id" and spec.grain == "month":
        kind, column = "count", None  # one panel row per person and month
    parts = [agg.source, kind, column or "", render(agg.filter, agg.source) if agg.filter else "",
             render(agg.condition, agg.source) if agg.condition else "",
             f"scope={measure}" if spec.measure_scoped else "", spec.grain, mode]
    return "|".join(parts)


def cell_definition(spec: IndicatorSpec, measure: str | None, start: int) -> CellDefinition:
    """The families one indicator's cells imply."""
    series = "rolling" if spec.window_periods else "cumulative" if spec.cumulative else None
    mode = {"rolling": f"rolling{spec.window_periods}", "cumulative": f"cumulative{start}"}.get(series or "", "plain")
    num, den = spec.numerator, spec.denominator
    additive = {a: a is not None and a.kind != "count_distinct" for a in (num, den)}
    return CellDefinition(
        kind=spec.disclosure_kind, scale=float(spec.scale),
        numerator=family(num, spec, measure, mode), denominator=family(den, spec, measure, mode) if den else None,
        numerator_counts=num.kind in COUNT_KINDS, denominator_counts=bool(den and den.kind in COUNT_KINDS),
        series=series, window=int(spec.window_periods or 0), start=int(start),
        numerator_part=family(num, spec, measure) if series and additive[num] else None,
        denominator_part=family(den, spec, measure) if series and den is not None and additive[den] else None,
        complement=_is_subset(spec), additive=spec.kind.additive, indicator_type=spec.type, quantile=spec.quantile,
    )


def _is_subset(spec: IndicatorSpec) -> bool:
    """The numerator counts a subset of the denominator's rows (a share; a ratio of counts over
    one source whose numerator only adds a filter)."""
    num, den = spec.numerator, spec.denominator
    if den is None or spec.type not in ("share", "ratio") or num.kind not in COUNT_KINDS or den.kind not in COUNT_KINDS:
        return False
    if spec.type == "share":
        return True
    return num.source == den.source and num.kind == den.kind and num.column == den.column \
        and (den.filter is None or den.filter == num.filter) and den.condition is None


# ---- the system --------------------------------------------------------------------


class SystemBuilder:
    """Cells and relations of several indicator tables (merged by family and coordinates)."""

    def __init__(self) -> None:
        self.cells: dict[Hashable, dict] = {}
        self.relations: list[Relation] = []
        self._margins: set = set()
        self._windows: set = set()
        self.atoms: dict[tuple, dict] = defaultdict(dict)  # (prefix, family) -> coordinates -> value

    def cell(self, key: Hashable, value: float | None, *, sensitive: bool = False, published: bool = False,
             fixed: bool = False, priority: int = 1, size: float | None = None) -> Hashable:
        entry = self.cells.setdefault(key, {"value": value, "sensitive": False, "published": False,
                                            "fixed": False, "priority": priority, "size": 0.0})
        entry["sensitive"] |= sensitive
        entry["published"] |= published
        entry["fixed"] |= fixed
        entry["priority"] = min(entry["priority"], priority)
        if entry["value"] is None:
            entry["value"] = value
        entry["size"] = max(entry["size"], float(abs(size if size is not None else (value or 0.0))))
        return key

    def add(self, table: IndicatorTable, prefix: Any, fixed: bool = False) -> None:
        d = table.definition
        by_coordinates = {r.coordinates: r for r in table.rows}
        for row in table.rows:
            shown = True if table.published is None else bool(table.published.get(row.coordinates, False))
            self._row(table, prefix, row, shown, fixed)
        if not d.additive:
            return  # neither groups nor periods add up: no margin or series relation holds
        self._add_margins(prefix, d.numerator, by_coordinates, "numerator")
        if d.denominator:
            self._add_margins(prefix, d.denominator, by_coordinates, "denominator")
        if d.series:
            self._add_series(table, prefix, by_coordinates)

    def _row(self, table: IndicatorTable, prefix: Any, row: Row, shown: bool, fixed: bool) -> None:
        d, t = table.definition, table.thresholds
        if d.kind == "quantile":
            self._quantile(table, prefix, row, shown, fixed)
            return
        dominated = t.is_dominated(row.numerator, row.top)
        num_key = (prefix, d.numerator, *row.coordinates)
        num_sensitive = dominated or (d.numerator_counts and t.count_is_sensitive(row.numerator)) or \
            (d.kind == "sum" and t.count_is_sensitive(row.denominator))
        own = d.kind in ("count", "sum")
        self.cell(num_key, row.numerator, sensitive=num_sensitive, published=own and shown and not fixed,
                  fixed=own and shown and fixed)
        self.atoms[(prefix, d.numerator)][row.coordinates] = row.numerator
        if d.denominator is None:
            return
        den_key = (prefix, d.denominator, *row.coordinates)
        self.cell(den_key, row.denominator, sensitive=d.denominator_counts and t.count_is_sensitive(row.denominator))
        self.atoms[(prefix, d.denominator)][row.coordinates] = row.denominator
        if d.kind == "rate" and row.value is not None:
            rate_key = (prefix, "rate", table.model_id, table.indicator_id, *row.coordinates)
            self.cell(rate_key, row.value, sensitive=dominated or t.rate_is_sensitive(row.denominator),
                      published=shown and not fixed, fixed=shown and fixed, priority=0, size=row.denominator or 0)
            self.relations.append(Relation((num_key, den_key, rate_key), scale=d.scale, rate=True))
        if d.complement and row.numerator is not None and row.denominator is not None:
            rest = row.denominator - row.numerator
            key = (prefix, "complement", d.numerator, d.denominator, *row.coordinates)
            self.cell(key, rest, sensitive=t.count_is_sensitive(rest))
            self.relations.append(Relation((den_key, num_key, key)))

    def _quantile(self, table: IndicatorTable, prefix: Any, row: Row, shown: bool, fixed: bool) -> None:
        """A quantile (or duration) cell: published, sensitive by its kind's rule, tied to nothing
        (it is no sum of anything and implies no count that is published)."""

        d = table.definition
        if row.value is None:
            return
        sensitive = kind_of(d.indicator_type).sensitive(d, row.numerator, row.denominator, table.thresholds)
        key = (prefix, "quantile", table.model_id, table.indicator_id, *row.coordinates)
        self.cell(key, row.value, sensitive=sensitive, published=shown and not fixed, fixed=shown and fixed,
                  priority=0, size=row.numerator or 0)

    def _add_margins(self, prefix: Any, fam: str, rows: dict, _which: str) -> None:
        groups: dict[tuple, list] = defaultdict(list)
        for (p, dim, group) in rows:
            if dim != "total":
                groups[(p, dim)].append((prefix, fam, p, dim, group))
        for (p, dim), keys in groups.items():
            marker = (prefix, fam, p, dim)
            if marker in self._margins or (p, "total", "") not in rows:
                continue
            self._margins.add(marker)
            self.relations.append(Relation(((prefix, fam, p, "total", ""), *sorted(keys))))

    def _add_series(self, table: IndicatorTable, prefix: Any, rows: dict) -> None:
        d, t = table.definition, table.thresholds
        for whole, part, attr, counts in ((d.numerator, d.numerator_part, "numerator_part", d.numerator_counts),
                                          (d.denominator, d.denominator_part, "denominator_part", d.denominator_counts)):
            if whole is None or part is None or (prefix, whole) in self._windows:
                continue
            self._windows.add((prefix, whole))
            for (p, dim, group), row in rows.items():
                value = getattr(row, attr)
                key = self.cell((prefix, part, p, dim, group), value,
                                sensitive=counts and t.count_is_sensitive(value))
                self.atoms[(prefix, part)][(p, dim, group)] = value
                whole_key = (prefix, whole, p, dim, group)
                if d.series == "rolling":
                    months = [(prefix, part, p - k, dim, group) for k in range(d.window)]
                    for m in months[1:]:
                        self.cell(m, None)
                    self.relations.append(Relation((whole_key, *months)))
                elif (p - 1, dim, group) in rows:
                    self.relations.append(Relation((whole_key, (prefix, whole, p - 1, dim, group), key)))
                else:
                    self.relations.append(Relation((whole_key, key)))

    def link_equal_families(self, prefix: Any) -> None:
        """Two aggregates with the same values in every common cell count the same people."""
        families = sorted(f for (pre, f) in self.atoms if pre == prefix)
        by_context: dict[tuple, list[str]] = defaultdict(list)
        for fam in families:
            by_context[tuple(fam.split("|")[-2:])].append(fam)  # grain and window mode
        for group in by_context.values():
            for n, first in enumerate(group):
                for second in group[n + 1:]:
                    self._link(prefix, first, second)

    def _link(self, prefix: Any, first: str, second: str) -> None:
        a, b = self.atoms[(prefix, first)], self.atoms[(prefix, second)]
        common = [c for c in a if c in b]
        if len(common) < 3 or any(a[c] != b[c] for c in common) or not any(a[c] for c in common):
            return
        for c in common:
            self.relations.append(Relation(((prefix, first, *c), (prefix, second, *c)), (1.0, -1.0)))

    def link_revisions(self, current: Any, earlier: Any) -> None:
        """The change of every implied value between an earlier release and this one."""
        for (prefix, fam), cells in list(self.atoms.items()):
            if prefix != earlier or (current, fam) not in self.atoms:
                continue
            now = self.atoms[(current, fam)]
            for coordinates, old in cells.items():
                new = now.get(coordinates)
                if new is None or old is None or new == old:
                    continue
                delta = new - old
                key = ("revision", earlier, fam, *coordinates)
                counts = fam.split("|")[1] in COUNT_KINDS
                self.cell(key, delta, sensitive=counts and 0 < abs(delta) < self._threshold(), size=abs(delta))
                self.relations.append(Relation(((current, fam, *coordinates), (earlier, fam, *coordinates), key)))

    def _threshold(self) -> int:
        return self.min_count

    min_count = 5

    def system(self) -> tuple[list[Cell], list[Relation]]:
        cells = [Cell(k, e["size"], e["sensitive"], e["published"] or e["fixed"], e["fixed"], e["priority"], e["value"])
                 for k, e in self.cells.items()]
        return cells, self.relations


def decide(current: Sequence[IndicatorTable], earlier: Iterable[tuple[int, Sequence[IndicatorTable]]] = ()) -> frozenset:
    """Keys ``(model, indicator, period, dimension, group)`` of the current cells to suppress."""
    builder = SystemBuilder()
    builder.min_count = max((t.thresholds.min_count for t in current), default=5)
    for table in current:
        builder.add(table, "now")
    builder.link_equal_families("now")
    for release_id, tables in earlier:
        prefix = ("release", release_id)
        for table in tables:
            builder.add(table, prefix, fixed=True)
        builder.link_revisions("now", prefix)
    cells, relations = builder.system()
    hidden = suppress(cells, relations)
    return frozenset(_cell_of(key, current) for key in hidden if key[0] == "now") - {None}


def _cell_of(key: tuple, current: Sequence[IndicatorTable]) -> tuple | None:
    """The (model, indicator, coordinates) cells a suppressed system key stands for."""
    if key[1] in ("rate", "quantile"):
        return (key[2], key[3], *key[4:])
    return ("family", key[1], *key[2:])


def suppressed_cells(current: Sequence[IndicatorTable], hidden: frozenset) -> set[tuple]:
    """(model, indicator, period, dimension, group) of the cells shown as suppressed."""
    out = set()
    for table in current:
        d = table.definition
        for row in table.rows:
            c = row.coordinates
            if d.kind in ("rate", "quantile"):
                if (table.model_id, table.indicator_id, *c) in hidden:
                    out.add((table.model_id, table.indicator_id, *c))
            elif ("family", d.numerator, *c) in hidden:
                out.add((table.model_id, table.indicator_id, *c))
    return out


# ---- the store ---------------------------------------------------------------------


def current_tables(con, models: Sequence[Any]) -> list[IndicatorTable]:
    """The stored cells of every monitored indicator of ``models``."""

    tables = []
    for model in models:
        start_day = dt.date(model.start_month // 12, model.start_month % 12 + 1, 1)
        for spec in model.specs:
            definition = cell_definition(spec, model.measure, index_of_date(start_day, spec.grain))
            rows = [Row(*r[:6], tuple(r[6]) if r[6] is not None else None, r[7], r[8]) for r in con.execute(
                "SELECT period_index, dimension, group_value, numerator, denominator, value, top_contributions, "
                "numerator_part, denominator_part FROM monitoring_values WHERE model_id = ? AND indicator_id = ? "
                "ORDER BY period_index, dimension, group_value", [model.id, spec.id]).fetchall()]
            tables.append(IndicatorTable(model.id, spec.id, definition, model.thresholds, rows))
    return tables


def earlier_releases(con) -> list[tuple[int, list[IndicatorTable]]]:
    """The latest release of every model in the store, as fixed tables."""
    latest = con.execute(f"SELECT model_id, max(release_id) FROM {DEFINITION_TABLE} GROUP BY model_id "
                         "ORDER BY 2, 1").fetchall()
    by_release: dict[int, list[str]] = defaultdict(list)
    for model_id, release_id in latest:
        by_release[int(release_id)].append(model_id)
    out = []
    for release_id, model_ids in sorted(by_release.items()):
        tables = []
        for model_id, indicator_id, text, mc, md, dc, ds in con.execute(
                f"SELECT model_id, indicator_id, definition, min_count, min_denominator, dominance_contributors, "
                f"dominance_share FROM {DEFINITION_TABLE} WHERE release_id = ? AND list_contains(?, model_id) "
                "ORDER BY model_id, indicator_id", [release_id, model_ids]).fetchall():
            rows, shown = [], {}
            for r in con.execute(
                    f"SELECT period_index, dimension, group_value, numerator, denominator, value, top_contributions, "
                    f"numerator_part, denominator_part, suppressed FROM {RELEASE_TABLE} WHERE release_id = ? "
                    "AND model_id = ? AND indicator_id = ? ORDER BY period_index, dimension, group_value",
                    [release_id, model_id, indicator_id]).fetchall():
                row = Row(*r[:5], r[5], tuple(r[6]) if r[6] is not None else None, r[7], r[8])
                rows.append(row)
                shown[row.coordinates] = not r[9]
            tables.append(IndicatorTable(model_id, indicator_id, CellDefinition.from_json(text),
                                         Thresholds(int(mc), int(md), int(dc), float(ds)), rows, shown))
        out.append((release_id, tables))
    return out


def needs_release(con, models: Sequence[Any]) -> bool:
    """True when a model's latest release is missing or was made from other definitions."""
    tables = current_tables(con, models) if models else []
    released = {(m, i): d for m, i, d in con.execute(
        f"SELECT model_id, indicator_id, arg_max(definition, release_id) FROM {DEFINITION_TABLE} "
        "GROUP BY model_id, indicator_id").fetchall()}
    return any(released.get((t.model_id, t.indicator_id)) != t.definition.to_json() for t in tables if t.rows)


def publish(con, models: Sequence[Any], release_id: int) -> int:
    """Decide and store the release of ``models`` (inside the caller's transaction); returns
    the number of cells shown as suppressed."""
    import pandas as pd

    current = current_tables(con, models)
    hidden = suppressed_cells(current, decide(current, earlier_releases(con)))
    rows, definitions = [], []
    for table in current:
        grain = table.definition.numerator.split("|")[-2]

        for r in table.rows:
            off = (table.model_id, table.indicator_id, *r.coordinates) in hidden
            rows.append((release_id, table.model_id, table.indicator_id, grain, period_label(r.period_index, grain),
                         r.period_index, r.dimension, r.group_value, None if off else r.value, off, r.numerator,
                         r.denominator, r.numerator_part, r.denominator_part, list(r.top) if r.top else None))
        t = table.thresholds
        definitions.append((release_id, table.model_id, table.indicator_id, table.definition.to_json(),
                            t.min_count, t.min_denominator, t.dominance_contributors, t.dominance_share))
    columns = ["release_id", "model_id", "indicator_id", "grain", "period", "period_index", "dimension", "group_value",
               "value", "suppressed", "numerator", "denominator", "numerator_part", "denominator_part", "top_contributions"]
    frame = pd.DataFrame(rows, columns=columns)
    con.register("_release_frame", frame)
    select = ", ".join(columns).replace("top_contributions", "CAST(top_contributions AS DOUBLE[]) AS top_contributions")
    con.execute(f"INSERT INTO {RELEASE_TABLE} ({', '.join(columns)}) SELECT {select} FROM _release_frame")
    con.unregister("_release_frame")
    con.executemany(f"INSERT INTO {DEFINITION_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", definitions)
    return len(hidden)


def released(con, model_id: str, indicator_id: str) -> dict[tuple, tuple[float | None, bool]]:
    """Coordinates -> (published value, suppressed) of the latest release of one indicator."""
    rows = con.execute(
        f"SELECT period_index, dimension, group_value, value, suppressed FROM {RELEASE_TABLE} "
        f"WHERE model_id = ? AND indicator_id = ? AND release_id = (SELECT max(release_id) FROM {DEFINITION_TABLE} "
        "WHERE model_id = ? AND indicator_id = ?)", [model_id, indicator_id, model_id, indicator_id]).fetchall()
    return {(p, d, g): (v, bool(s)) for p, d, g, v, s in rows}
