"""``monitor show`` and ``monitor quality`` from the results written back into an engine
(``--results engine``).

The engine holds only the published release (:mod:`monitoring.engines.results`): the value
of every cell (NULL where suppressed) and its suppression flag. That is all the published
table needs: the same rows, targets, status and trends as ``monitor show`` on the local
store that decided the release, byte for byte.
"""

from __future__ import annotations

from typing import Sequence

from monitoring.disclosure import ValueRow
from monitoring.engines.results import QUALITY, RELEASES, RESULTS_VERSION, RUNS, ResultsTarget, ordered
from monitoring.monitored import MonitoredModel
from monitoring.provisional import footnote
from monitoring.quality import QualityFinding
from monitoring.runs import PeriodRange
from monitoring.show import ShowError, ShownValue, indicator_table


def _last_complete(target: ResultsTarget) -> int | None:
    runs = [r for r in target.read(RUNS) if r[5]]
    if not runs:
        return None
    year, month = max(runs)[5].split("-")
    return int(year) * 12 + int(month) - 1


def engine_value_table(target: ResultsTarget, model: MonitoredModel, span: PeriodRange = PeriodRange(),
                       by: Sequence[str] = (), indicators: Sequence[str] = ()) -> tuple[list[ShownValue], str]:
    """(published rows, provisional footnote) of a model from the results in ``target``."""

    unknown = [i for i in indicators if i not in {s.id for s in model.specs}]
    if unknown:
        raise ShowError(f"--indicator {unknown[0]!r}: not monitored by model '{model.id}'; expected one of "
                        + ", ".join(repr(s.id) for s in model.specs))
    cells: dict[str, list[tuple]] = {}
    for r in target.read(RELEASES):
        if r[1] == model.id:
            cells.setdefault(r[2], []).append(r)
    if not cells:
        raise ShowError(f"{target.name}: holds no results of model '{model.id}'; run 'tiltak monitor run "
                        f"{model.path} --db FILE --engine URL --results engine' first")
    last_complete = _last_complete(target)
    out = []
    for spec in (s for s in model.specs if not indicators or s.id in indicators):
        published = sorted(cells.get(spec.id, []), key=lambda r: (r[5], r[6], r[7]))
        rows = [ValueRow(r[5], r[6], r[7], None, None, r[8]) for r in published]
        release = {(r[5], r[6], r[7]): (r[8], bool(r[9])) for r in published}
        out += indicator_table(model, spec, rows, span, by, release, last_complete)
    marked = {r.indicator for r in out if r.provisional}
    note = footnote([s for s in model.specs if s.id in marked], last_complete) if marked else ""
    return out, note


def engine_findings(target: ResultsTarget, run_id: int | None = None) -> tuple[int, list[QualityFinding]]:
    """(run id, published quality findings) of a run in ``target``; the latest run by default
    (as :func:`monitoring.quality.stored_findings` on the local store)."""
    version = target.version()
    runs = [r[0] for r in target.read(RUNS)]
    if not runs:
        raise ShowError(f"{target.name}: holds no results yet; run 'tiltak monitor run MODEL --db FILE --engine URL "
                        "--results engine' first")
    if version is not None and version < RESULTS_VERSION:
        raise ShowError(f"{target.name}: the results there were written by an earlier tiltak (layout version "
                        f"{version}), without quality findings; run 'tiltak monitor run MODEL --db FILE --engine URL "
                        "--results engine' again to add them")
    run = max(runs) if run_id is None else run_id
    if run not in runs:
        raise ShowError(f"--run {run}: no such run in {target.name}; it holds run(s) "
                        + ", ".join(map(str, sorted(runs))))
    rows = ordered(r for r in target.read(QUALITY) if r[0] == run)  # as the store's ORDER BY (NULLs last)
    rows.sort(key=lambda r: tuple((v is None, "" if v is None else v) for v in (r[2], r[1], r[4], r[5], r[6])))
    return run, [QualityFinding(r[2], r[3], r[8], r[1], r[4], r[5], r[6], r[7]) for r in rows]
