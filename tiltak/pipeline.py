"""The application pipeline: models -> monitoring -> estimation -> verdicts -> report.

This is the one place that wires the libraries together:

* :func:`load_inputs` reads logic models (files or folders) with their catalogues through
  ``logicmodel`` (every schema or rule error reported at its line);
* :func:`run_estimates` runs each model's evaluation design against the store and writes
  the ``estimates`` table;
* :func:`evaluate` runs monitoring for the models (a no-op when up to date), estimates,
  judges every expected change, rates links and pathways, computes costs, and writes
  ``evaluation.json`` and ``report.html``;
* :func:`demo` does all of it on synthetic registers.

Outputs are written to a temporary file next to the target and renamed into place, so a
failure never leaves a half-written report.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

import monitoring
from logicmodel.catalogue import Catalogue
from logicmodel.model import LogicModel
from monitoring.runs import run_models
from monitoring.store import Store
from tiltak.early_charts import EarlyCharts
from tiltak.errors import TiltakError
from tiltak.estimating import estimate_store
from tiltak.estimates_aside import EstimatesAside
from tiltak.evaluation.assemble import assemble_document
from tiltak.evaluation.estimates_table import merge_estimates
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.verdicts import VerdictRules
from tiltak.loading import load_models
from tiltak.report.build import Drawer, build_report
from tiltak.report.drawing import drawer_for_this_machine, worker_count
from tiltak.synth import SynthConfig, generate
from tiltak_base.catalogue import REFERENCE, languages

Progress = Callable[[str], None]


class PipelineError(TiltakError):
    """An input the pipeline cannot use (missing model, store or output folder)."""


@dataclass(frozen=True)
class EvaluationInput:
    """A validated logic model, loaded once: the frozen model and its catalogue as loaded
    (``logicmodel.LogicModel``, ``logicmodel.Catalogue``), the catalogue's outcomes as the
    estimation reads them, and monitoring's view built from the same objects."""

    path: Path
    model: LogicModel
    catalogue: Catalogue
    outcomes: dict[str, OutcomeSpec]
    monitored: Any = None  # monitoring.monitored.MonitoredModel, built from the same load


def load_inputs(paths: Sequence[str | Path]) -> list[EvaluationInput]:
    """Load and validate every model among ``paths`` (files and folders; catalogue files
    are checked, not returned) and its catalogue; raises on any error. Each file is read
    once: every later step uses these objects."""

    inputs = []
    for loaded in load_models([os.fspath(p) for p in paths]):
        model, catalogue = loaded.bundle.model, loaded.bundle.catalogue
        outcomes = {o.id: OutcomeSpec.of(o) for o in catalogue.outcomes}
        inputs.append(EvaluationInput(loaded.path, model, catalogue, outcomes, loaded.monitored))
    ids = [i.model.id for i in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PipelineError(f"the same model id was given twice: {', '.join(duplicates)}")
    return inputs


def _require_store(db: str | Path) -> Path:
    path = Path(db)
    if not path.is_file():
        raise PipelineError(
            f"{path}: no such store; create it with 'tiltak synth --db {path}' or 'tiltak load --db {path} DIR'"
        )
    return path


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def run_estimates(db: str | Path, inputs: Sequence[EvaluationInput], seed: int = 0,
                  rules: VerdictRules | None = None, progress: Progress | None = None,
                  charts: EarlyCharts | None = None) -> dict[str, list[Any]]:
    """Estimate every model's design and replace its rows in the store's ``estimates`` table
    (``charts``: told of each model's estimates as soon as they are made)."""


    path = _require_store(db)
    results = estimate_store(path, inputs, seed, rules, progress, charts.estimates if charts is not None else None)
    with Store.open(path, analysis=True) as store:
        merge_estimates(store, results, {i.model.id: i.model.measure for i in inputs})
    return results


def _estimates(db: Path, inputs: Sequence[EvaluationInput], seed: int, rules: VerdictRules,
               progress: Progress | None, charts: EarlyCharts | None, aside: EstimatesAside | None) -> dict[str, list[Any]]:
    """:func:`run_estimates`, or the results of ``aside`` (made while monitoring ran) written into the store."""
    results = aside.results(db, inputs) if aside is not None else None
    if results is None:  # no worker, or it failed: estimated here
        return run_estimates(db, inputs, seed, rules, progress, charts)
    for item in inputs:
        _say(progress, f"estimated {item.model.id}")
        if charts is not None:
            charts.estimates(item, results[item.model.id])
    return results


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    try:
        _write_atomically(path, text)
    except OSError as exc:
        raise PipelineError(f"{path}: cannot write the file: {exc.strerror or exc}") from None


def _write_atomically(path: Path, text: str) -> None:
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False, newline="\n")
    try:
        with handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def dump_json(document: Any) -> str:
    """Deterministic JSON text (UTF-8, two-space indent, trailing newline)."""
    return json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def prepare_out_dir(out: str | Path) -> Path:
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise PipelineError(f"--out {path}: exists and is not a folder; expected a folder for report.html and evaluation.json")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PipelineError(f"--out {path}: cannot create the folder: {exc.strerror}") from None
    return path


def evaluate(db: str | Path, inputs: Sequence[EvaluationInput], out: str | Path, lang: str = REFERENCE, seed: int = 0,
             rules: VerdictRules | None = None, progress: Progress | None = None,
             drawer: Drawer | None = None, aside: EstimatesAside | None = None) -> tuple[Path, Path]:
    """Monitor, estimate, judge and report; returns the paths of report.html and evaluation.json.

    With a ``drawer`` that has worker processes (``tiltak.report.drawing.FigurePool``) each
    chart is handed to it as soon as its data are known (:class:`tiltak.early_charts.EarlyCharts`):
    the indicator charts once monitoring is done, a model's estimate charts once it is
    estimated; they are drawn while the work goes on, and the report takes them (the same
    bytes as drawn here). With ``aside`` (:class:`tiltak.estimates_aside.EstimatesAside`, started
    on a copy of this store as loaded, for the same ``inputs``, ``seed`` and ``rules``) the
    estimates are its results, made while monitoring ran.
    """


    if lang not in languages():
        raise PipelineError(f"--lang: expected one of {', '.join(languages())}; got {lang!r}")
    path = _require_store(db)
    out_dir = prepare_out_dir(out)
    rules = rules or VerdictRules()
    run_monitoring(path, inputs, progress)
    charts = EarlyCharts(drawer, lang, rules) if drawer is not None else None
    if charts is not None:
        charts.indicators(path, inputs)
    estimates = _estimates(path, inputs, seed, rules, progress, charts, aside)
    _say(progress, "judging expected changes")
    document, context = assemble_document(path, inputs, estimates, rules,
                                          charts.indicator_entries if charts is not None else None)
    _say(progress, "drawing the figures and writing the report")
    html = build_report(document, context, lang, drawer)
    json_path, html_path = out_dir / "evaluation.json", out_dir / "report.html"
    write_atomically(json_path, dump_json(document))
    write_atomically(html_path, html)
    return html_path, json_path


def run_monitoring(db: Path, inputs: Sequence[EvaluationInput], progress: Progress | None = None) -> None:
    """Bring the models' monitoring values up to date (a no-op when they are)."""

    _say(progress, "monitoring " + ", ".join(i.model.id for i in inputs))
    run_models(db, [i.monitored for i in inputs])


def shipped_models_dir() -> Path:
    """The folder of the shipped models: package data, else the repository's ``models/``."""
    packaged = Path(__file__).resolve().parent / "models"
    if (packaged / "indicators.yaml").is_file():
        return packaged
    repository = Path(__file__).resolve().parent.parent / "models"
    if (repository / "indicators.yaml").is_file():
        return repository
    raise PipelineError("the shipped models were not found (tiltak/models or models/ next to the package); "
                        "reinstall tiltak or run from a checkout of the repository")


def write_synthetic_store(db: Path, seed: int, progress: Progress | None = None, **options: Any) -> None:
    """Generate synthetic registers and load them (and their ground truth) into a fresh store."""


    for stale in (db, db.with_name(db.name + ".wal"), db.with_name(db.name + ".lock")):
        stale.unlink(missing_ok=True)
    registers = generate(SynthConfig(seed=seed, **options))
    _say(progress, "loading the registers into the store")
    monitoring.load_tables(db, dict(registers.tables), source=f"synthetic seed={seed}")
    with monitoring.Store.open(db) as store:
        store.write_auxiliary_table("truth_effects", registers.truth_effects)
        store.write_auxiliary_table("truth_outcomes", registers.truth_outcomes)


def demo(out: str | Path = "tiltak-demo", seed: int = 1, lang: str = REFERENCE, progress: Progress | None = None,
         synth_options: dict[str, Any] | None = None) -> Path:
    """Synthetic registers -> store -> monitoring -> estimation -> report; returns the report path.

    The store is ``OUT/registers.duckdb`` and is created afresh on every run.
    """
    out_dir = prepare_out_dir(out)
    db = out_dir / "registers.duckdb"
    with drawer_for_this_machine() as drawer:  # its workers start now, importing matplotlib meanwhile
        _say(progress, "generating synthetic registers")
        write_synthetic_store(db, seed, progress=progress, **(synth_options or {}))
        inputs = load_inputs([shipped_models_dir()])
        with _aside(db, inputs, seed) as aside:  # the estimates made in a worker while monitoring runs here
            html, _ = evaluate(db, inputs, out_dir, lang=lang, seed=seed, progress=progress, drawer=drawer, aside=aside)
    return html


def _aside(db: Path, inputs: Sequence[EvaluationInput], seed: int) -> EstimatesAside | contextlib.nullcontext[None]:
    return EstimatesAside(db, inputs, seed, VerdictRules()) if worker_count() else contextlib.nullcontext()


class StageBar:
    """A progress bar over the pipeline's stages on stderr, shown only on a terminal.

    Use as a context manager; call the instance with a stage message to advance it.
    """

    def __init__(self, stages: int, label: str) -> None:


        self._bar = None
        if sys.stderr.isatty():
            self._bar = click.progressbar(length=stages, label=label, file=sys.stderr,
                                          item_show_func=lambda item: item)

    def __enter__(self) -> "StageBar":
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def __call__(self, message: str) -> None:
        if self._bar is not None:
            self._bar.current_item = message
            self._bar.update(1)
