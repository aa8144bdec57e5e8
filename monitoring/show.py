"""Tables of stored indicator values for display and export, with disclosure control applied.

Every table leaves this module through :func:`value_table`, which applies primary and
secondary suppression (:mod:`monitoring.disclosure`) over *all* stored cells of an
indicator (every period and disaggregation), so that what is shown is protected
whatever subset is asked for. Only aggregates are ever read: numerators and denominators
stay in the store, person-level rows are never touched.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from monitoring.disclosure import ValueRow, protect
from monitoring.errors import MonitoringError
from monitoring.indicators import GRAIN_MONTHS, IndicatorSpec
from monitoring.monitored import MonitoredModel
from monitoring.runs import PeriodRange
from monitoring.sqlcompile import period_label
from monitoring.targets import NO_TARGET, NO_VALUE, status, trend

SUPPRESSED_MARK = ":"
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


def stored_rows(con, model_id: str, indicator_id: str) -> list[ValueRow]:
    """All stored cells of one indicator of one model."""
    rows = con.execute(
        "SELECT period_index, dimension, group_value, numerator, denominator, value, top_contributions FROM monitoring_values "
        "WHERE model_id = ? AND indicator_id = ? ORDER BY period_index, dimension, group_value",
        [model_id, indicator_id]).fetchall()
    return [ValueRow(*r[:6], tuple(r[6]) if r[6] is not None else None) for r in rows]


def _rounded(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(float(value), decimals)


def indicator_table(model: MonitoredModel, spec: IndicatorSpec, rows: list[ValueRow],
                    span: PeriodRange, by: Sequence[str], release: dict | None = None) -> list[ShownValue]:
    """Published rows of one indicator: totals plus the disaggregations in ``by``.

    ``release`` (coordinates -> (value, suppressed)) is the decision of the latest release
    (:mod:`monitoring.release`); without it the indicator is protected on its own."""
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
        digits = spec.decimals
        out.append(ShownValue(model.id, spec.id, period_label(r.period_index, spec.grain), r.dimension, r.group_value,
                              _rounded(value, digits), key in hidden, spec.unit, baseline, _rounded(target, digits),
                              st,
                              _rounded(tr.change, digits + 1), _rounded(tr.slope * per_year if tr.slope is not None else None, digits + 1)))
    return out


def value_table(con, model: MonitoredModel, span: PeriodRange = PeriodRange(), by: Sequence[str] = (),
                indicators: Sequence[str] = (), progress=None) -> list[ShownValue]:
    """The published table of a model (all its monitored indicators, or those named)."""
    _require_tables(con)
    unknown = [i for i in indicators if i not in {s.id for s in model.specs}]
    if unknown:
        raise ShowError(f"--indicator {unknown[0]!r}: not monitored by model '{model.id}'; expected one of "
                        + ", ".join(repr(s.id) for s in model.specs))
    from monitoring.release import released

    out = []
    chosen = [spec for spec in model.specs if not indicators or spec.id in indicators]
    for n, spec in enumerate(chosen, 1):
        rows = stored_rows(con, model.id, spec.id)
        release = released(con, model.id, spec.id)
        if rows and not release:
            raise ShowError(f"model '{model.id}': indicator '{spec.id}' has values that were never released; run "
                            f"'tiltak monitor run {model.path} --db FILE' first (it decides what may be published)")
        out += indicator_table(model, spec, rows, span, by, release)
        if progress:
            progress(n, len(chosen))
    return out


def _require_tables(con) -> None:
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "monitoring_values" not in names or "monitoring_releases" not in names:
        raise ShowError("the store holds no monitoring values yet; run 'tiltak monitor run MODEL --db FILE' first")


# ---- rendering ----------------------------------------------------------------------

COLUMNS = ("indicator", "period", "dimension", "group", "value", "unit", "baseline", "target", "status", "change", "slope_per_year")


def _cell(row: ShownValue, column: str) -> str:
    value = getattr(row, column)
    if column == "value" and row.suppressed:
        return SUPPRESSED_MARK
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else f"{value:.0f}"
    return str(value)


def render_table(rows: Sequence[ShownValue]) -> str:
    """Aligned text, with a note on the suppression mark."""
    if not rows:
        return "(no values in the selection)\n"
    body = [[_cell(r, c) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(b[n]) for b in body)) for n, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths)).rstrip() for b in body]
    if any(r.suppressed for r in rows):
        lines.append(f"{SUPPRESSED_MARK} suppressed (disclosure control: small counts or rates on few cases)")
    return "\n".join(lines) + "\n"


def render_csv(rows: Sequence[ShownValue]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    fields = ["model", *COLUMNS, "suppressed"]
    writer.writerow(fields)
    for r in rows:
        writer.writerow([str(r.suppressed).lower() if f == "suppressed" else _cell(r, f) for f in fields])
    return buffer.getvalue()


def render_json(rows: Sequence[ShownValue]) -> str:
    return json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1) + "\n"


def write_xlsx(rows: Sequence[ShownValue], path: str) -> None:
    """An Excel sheet; suppressed values are the text ':' (never an empty or zero cell).

    The workbook is built in memory and written with one write, so a full disk gives one
    OSError and leaves no half-open zip file behind."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "values"
    fields = ["model", *COLUMNS, "suppressed"]
    sheet.append(fields)
    for r in rows:
        sheet.append([SUPPRESSED_MARK if (f == "value" and r.suppressed) else getattr(r, f) for f in fields])
    book.properties.created = book.properties.modified = _EPOCH
    buffer = io.BytesIO()
    book.save(buffer)
    data = _fixed_zip_times(buffer.getvalue())
    with open(path, "wb") as handle:
        handle.write(data)


def _fixed_zip_times(data: bytes) -> bytes:
    """The xlsx zip rewritten with fixed entry times, so the same table gives the same bytes."""
    import io
    import re
    import zipfile

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
    import datetime as dt

    return dt.datetime(2000, 1, 1)


_EPOCH = _epoch()
