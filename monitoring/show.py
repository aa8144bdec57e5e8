"""Tables of stored indicator values for display and export, with disclosure control applied.

Every table leaves this module through :func:`value_table`, which applies primary and
secondary suppression (:mod:`monitoring.disclosure`) over *all* stored cells of an
indicator (every period and disaggregation), so that what is shown is protected
whatever subset is asked for. Only aggregates are ever read: numerators and denominators
stay in the store, person-level rows are never touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from monitoring.disclosure import ValueRow, protect
from monitoring.errors import MonitoringError
from monitoring.indicators import GRAIN_MONTHS, IndicatorSpec
from monitoring.monitored import MonitoredModel
from monitoring.provisional import footnote, is_provisional, latest_last_month
from monitoring.release import released
from monitoring.runs import PeriodRange
from monitoring.sqlcompile import period_label
from monitoring.targets import NO_TARGET, NO_VALUE, status, trend

SUPPRESSED_MARK = ":"
PROVISIONAL_MARK = "*"
FORMATS = ("table", "csv", "json", "xlsx")


class ShowError(MonitoringError):
    """Nothing to show, or an export that cannot be written."""


@dataclass(frozen=True)
class ShownValue:
    """One published row: never a person, never an unprotected small cell."""

    model: str
    indicator: str
    period: str
    dimension: str
    group: str
    value: float | None
    suppressed: bool
    unit: str
    baseline: float | None
    target: float | None
    status: str
    change: float | None
    slope_per_year: float | None
    decimals: int = 2
    title: str = ""
    provisional: bool = False  # at the edge of the data (monitoring.provisional): may still change


def stored_rows(con, model_id: str, indicator_id: str) -> list[ValueRow]:
    """All stored cells of one indicator of one model."""
    rows = con.execute(
        "SELECT period_index, dimension, group_value, numerator, denominator, value, top_contributions FROM monitoring_values "
        "WHERE model_id = ? AND indicator_id = ? ORDER BY period_index, dimension, group_value",
        [model_id, indicator_id]).fetchall()
    return [ValueRow(*r[:6], tuple(r[6]) if r[6] is not None else None) for r in rows]


def _full(value: float | None) -> float | None:
    return None if value is None else float(value)


def indicator_table(model: MonitoredModel, spec: IndicatorSpec, rows: list[ValueRow],
                    span: PeriodRange, by: Sequence[str], release: dict | None = None,
                    last_complete: int | None = None) -> list[ShownValue]:
    """Published rows of one indicator: totals plus the disaggregations in ``by``.

    ``release`` (coordinates -> (value, suppressed)) is the decision of the latest release
    (:mod:`monitoring.release`); without it the indicator is protected on its own.
    ``last_complete`` (month index of the latest run's last complete month) marks the
    provisional periods."""

    if release is None:
        hidden = protect(spec.disclosure_kind, rows, model.thresholds, series=bool(spec.cumulative or spec.window_months))
    else:
        hidden = {key for key, (_v, off) in release.items() if off}
        rows = [r for r in rows if (r.period_index, r.dimension, r.group_value) in release]
    published = {(r.period_index, r.dimension, r.group_value): (None if (r.period_index, r.dimension, r.group_value) in hidden else r.value)
                 for r in rows}
    line = model.targets.get(spec.id)
    per_year = 12 // GRAIN_MONTHS[spec.grain] if spec.grain != "year" else 1
    out = []
    for r in rows:
        if not span.covers(r.period_index, spec.grain) or (r.dimension != "total" and r.dimension not in by):
            continue
        key = (r.period_index, r.dimension, r.group_value)
        value = published[key]
        series = [(p, v) for (p, d, g), v in published.items() if d == r.dimension and g == r.group_value]
        tr = trend(series, r.period_index, per_year)
        target = line.target(r.period_index) if line and r.dimension == "total" else None
        baseline = line.baseline[1] if line and line.baseline and r.dimension == "total" else None
        st = status(value, target, spec.direction, line.tolerance) if line and r.dimension == "total" else NO_TARGET
        # Full precision here: csv, json and xlsx carry the stored value; only the text table rounds.
        out.append(ShownValue(model.id, spec.id, period_label(r.period_index, spec.grain), r.dimension, r.group_value,
                              _full(value), key in hidden, spec.unit, baseline, _full(target), st,
                              _full(tr.change), _full(tr.slope * per_year if tr.slope is not None else None),
                              spec.decimals, spec.title, is_provisional(spec, r.period_index, last_complete)))
    return out


def value_table(con, model: MonitoredModel, span: PeriodRange = PeriodRange(), by: Sequence[str] = (),
                indicators: Sequence[str] = (), progress=None) -> list[ShownValue]:
    """The published table of a model (all its monitored indicators, or those named)."""
    _require_tables(con)
    unknown = [i for i in indicators if i not in {s.id for s in model.specs}]
    if unknown:
        raise ShowError(f"--indicator {unknown[0]!r}: not monitored by model '{model.id}'; expected one of "
                        + ", ".join(repr(s.id) for s in model.specs))

    last_complete = latest_last_month(con)
    out = []
    chosen = [spec for spec in model.specs if not indicators or spec.id in indicators]
    for n, spec in enumerate(chosen, 1):
        rows = stored_rows(con, model.id, spec.id)
        release = released(con, model.id, spec.id)
        if rows and not release:
            raise ShowError(f"model '{model.id}': indicator '{spec.id}' has values that were never released; run "
                            f"'tiltak monitor run {model.path} --db FILE' first (it decides what may be published)")
        out += indicator_table(model, spec, rows, span, by, release, last_complete)
        if progress:
            progress(n, len(chosen))
    return out


def provisional_note(con, model: MonitoredModel, rows: Sequence[ShownValue]) -> str:
    """The footnote explaining the provisional marker for ``rows`` ('' when none is provisional)."""

    marked = {r.indicator for r in rows if r.provisional}
    if not marked:
        return ""
    return footnote([s for s in model.specs if s.id in marked], latest_last_month(con))


def _require_tables(con) -> None:
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "monitoring_values" not in names or "monitoring_releases" not in names:
        raise ShowError("the store holds no monitoring values yet; run 'tiltak monitor run MODEL --db FILE' first")


# ---- rendering ----------------------------------------------------------------------

COLUMNS = ("indicator", "period", "dimension", "group", "value", "unit", "baseline", "target", "status", "change", "slope_per_year")


ROUNDED = {"value": 0, "baseline": 0, "target": 0, "change": 1, "slope_per_year": 1}
"""Columns the text table rounds: to the indicator's decimals plus this many."""


def _cell(row: ShownValue, column: str, rounded: bool = False) -> str:
    """A cell as text: full precision (the shortest text that reads back as the same float), or
    rounded to the indicator's decimals for the table people read."""
    value = getattr(row, column)
    if column == "value" and row.suppressed:
        return SUPPRESSED_MARK
    if column == "provisional":
        return str(row.provisional).lower()
    if value is None:
        return ""
    if isinstance(value, float):
        if rounded and column in ROUNDED:
            return f"{value:.{max(row.decimals + ROUNDED[column], 0)}f}"
        return repr(value) if value != int(value) or abs(value) >= 1e16 else str(int(value))
    return str(value)


def render_table(rows: Sequence[ShownValue], provisional_footnote: str = "") -> str:
    """Aligned text rounded to each indicator's decimals, with notes on the suppression mark
    and on the provisional mark (``*`` after the period; ``provisional_footnote`` explains it)."""
    if not rows:
        return "(no values in the selection)\n"
    body = [[_cell(r, c, rounded=True) + (PROVISIONAL_MARK if c == "period" and r.provisional else "")
             for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(b[n]) for b in body)) for n, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths)).rstrip() for b in body]
    if any(r.suppressed for r in rows):
        lines.append(f"{SUPPRESSED_MARK} suppressed (disclosure control: small counts or rates on few cases)")
    if any(r.provisional for r in rows):
        lines.append(f"{PROVISIONAL_MARK} " + (provisional_footnote or "provisional: at the edge of the data; "
                                               "the value may still change"))
    return "\n".join(lines) + "\n"


def render_csv(rows: Sequence[ShownValue]) -> str:

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    fields = ["model", *COLUMNS, "suppressed", "provisional"]
    writer.writerow(fields)
    for r in rows:
        writer.writerow([str(r.suppressed).lower() if f == "suppressed" else _cell(r, f) for f in fields])
    return buffer.getvalue()


def render_json(rows: Sequence[ShownValue]) -> str:
    """Every row at full precision (JSON numbers read back as the same floats)."""
    return json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1) + "\n"


XLSX_COLUMNS = (  # (field, header, width)
    ("model", "Model", 16), ("indicator", "Indicator (id)", 24), ("title", "Indicator", 40), ("period", "Period", 10),
    ("dimension", "Breakdown", 12), ("group", "Group", 14), ("value", "Value", 12), ("flag", "Flag", 6),
    ("unit", "Unit", 18), ("baseline", "Baseline", 11), ("target", "Target", 11), ("status", "Status", 14),
    ("change", "Change (period on period)", 14), ("slope_per_year", "Trend per year", 13),
    ("provisional", "Provisional", 11),
)
NUMERIC = {"value", "baseline", "target", "change", "slope_per_year"}


@dataclass(frozen=True)
class SheetContext:
    """What the explanation sheet says about the table: the model, the rule, the period."""

    model_id: str
    model_path: str
    thresholds: Any
    title: str = ""
    provisional_note: str = ""  # why rows are provisional (provisional_note), for the about sheet


def _number_format(decimals: int) -> str:
    return "#,##0" if decimals <= 0 else "#,##0." + "0" * decimals


def write_xlsx(rows: Sequence[ShownValue], path: str, context: SheetContext | None = None) -> None:
    """A workbook an officer can hand on: a ``values`` sheet and an ``about`` sheet.

    ``values``: one header row (frozen, with filters), titles next to ids, units, numbers as
    numbers at full precision shown with the indicator's decimals. A suppressed value is an
    empty cell (so the column stays numeric and sums still work) shaded grey, with ':' in the
    ``Flag`` column beside it. ``about`` explains the symbols, the model, the data period and
    the suppression rule. Suppression is the disclosure system's: the rows are what
    :func:`value_table` published.

    The workbook is built in memory and written with one write, so a full disk gives one
    OSError and leaves no half-open zip file behind."""

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "values"
    sheet.append([header for _f, header, _w in XLSX_COLUMNS])
    bold, grey = Font(bold=True), PatternFill("solid", fgColor="D9D9D9")
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    value_col = [f for f, _h, _w in XLSX_COLUMNS].index("value") + 1
    for r in rows:
        line = []
        for field, _header, _width in XLSX_COLUMNS:
            if field == "flag":
                line.append(SUPPRESSED_MARK if r.suppressed else None)
            elif field == "value" and r.suppressed:
                line.append(None)
            elif field == "provisional":
                line.append(PROVISIONAL_MARK if r.provisional else None)
            else:
                line.append(getattr(r, field))
        sheet.append(line)
        n = sheet.max_row
        for col, (field, _header, _width) in enumerate(XLSX_COLUMNS, 1):
            if field in NUMERIC:
                extra = 1 if field in ("change", "slope_per_year") else 0
                sheet.cell(n, col).number_format = _number_format(r.decimals + extra)
        if r.suppressed:
            sheet.cell(n, value_col).fill = grey
    for col, (_field, _header, width) in enumerate(XLSX_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(XLSX_COLUMNS))}{max(sheet.max_row, 1)}"
    _about_sheet(book.create_sheet("about"), rows, context, bold)
    book.properties.created = book.properties.modified = _EPOCH
    buffer = io.BytesIO()
    book.save(buffer)
    data = _fixed_zip_times(buffer.getvalue())
    with open(path, "wb") as handle:
        handle.write(data)


def _about_sheet(sheet: Any, rows: Sequence[ShownValue], context: SheetContext | None, bold: Any) -> None:
    from openpyxl.styles import Alignment

    periods = sorted({r.period for r in rows if len(r.period) == 7})  # months, YYYY-MM
    every = sorted({r.period for r in rows})
    first, last = (periods[0], periods[-1]) if periods else ((every[0], every[-1]) if every else ("–", "–"))
    lines: list[tuple[str, str]] = [("About this table", "")]
    if context is not None:
        lines += [("Model", f"{context.title} ({context.model_id})" if context.title else context.model_id),
                  ("Model file", context.model_path)]
    lines += [
        ("Data period", f"{first} to {last}"),
        ("Rows", str(len(rows))),
        ("", ""),
        ("Symbols", ""),
        (SUPPRESSED_MARK, "Suppressed by disclosure control: the Value cell is left empty (shaded grey) so the "
                          "column stays numeric; the Flag column holds ':'. Never read an empty cell as zero."),
        (PROVISIONAL_MARK, "Provisional (Provisional column): the period ends within a reporting lag the data "
                           "contract declares, or needs a month after the last complete month of the data; "
                           "the value may still change. Alerts and quality checks leave it out unless asked."),
        ("(empty)", "No value: nothing to compute for that period or group (also in Baseline, Target, Change)."),
        ("Status", "on_track / off_track against the model's target and tolerance; no_target when none is set; "
                   "no_value when the value is suppressed or missing."),
        ("", ""),
        ("Suppression rule", ""),
    ]
    if context is not None:
        t = context.thresholds
        lines += [
            ("Counts", f"A count below {t.min_count} (but above 0) is suppressed."),
            ("Rates and shares", f"A rate or share whose denominator is below {t.min_denominator} is suppressed."),
            ("Sums (e.g. costs)", f"A total where the {t.dominance_contributors} largest contributors make up more than "
                                  f"{t.dominance_share:.0%} is suppressed."),
        ]
    lines += [
        ("Secondary suppression", "Further cells are suppressed where a suppressed value could be worked out from "
                                  "totals, other groups or other periods; what is published is the same in every "
                                  "output (table, csv, json, xlsx) and in every release."),
        ("Precision", "Values are stored at full precision; the number format shows the indicator's decimals."),
    ]
    if context is not None and context.provisional_note:
        lines += [("", ""), ("Provisional periods", context.provisional_note[:1].upper() + context.provisional_note[1:] + ".")]
    for key, text in lines:
        sheet.append([key, text])
        if key and not text or key in ("About this table",):
            sheet.cell(sheet.max_row, 1).font = bold
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 100
    for row in sheet.iter_rows(min_col=2, max_col=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _fixed_zip_times(data: bytes) -> bytes:
    """The xlsx zip rewritten with fixed entry times, so the same table gives the same bytes."""

    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info, content in entries:
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, content)
    return out.getvalue()


def _epoch() -> Any:

    return dt.datetime(2000, 1, 1)


_EPOCH = _epoch()
