"""The demo's charts handed to a drawer early: the same report, and every chart drawn once."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from tiltak import pipeline
from tiltak.report.drawing import HereDrawer

pytestmark = pytest.mark.slow  # two evaluations of a small store


class CountingDrawer(HereDrawer):
    """Draws here, and notes every job asked for, by its pickled bytes, in order."""

    def __init__(self) -> None:
        self.asked: list[bytes] = []

    def ask(self, job):
        self.asked.append(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
        return job


def digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in ("report.html", "evaluation.json")}


def test_early_charts_give_the_same_report_and_each_chart_is_asked_for_early(tmp_path):
    db = tmp_path / "registers.duckdb"
    pipeline.write_synthetic_store(db, 3, scale=0.1)
    inputs = pipeline.load_inputs([pipeline.shipped_models_dir()])
    pipeline.evaluate(db, inputs, tmp_path / "plain", seed=3)
    drawer = CountingDrawer()
    pipeline.evaluate(db, inputs, tmp_path / "early", seed=3, drawer=drawer)
    assert digests(tmp_path / "early") == digests(tmp_path / "plain")
    early, final = drawer.asked[: len(drawer.asked) // 2], drawer.asked[len(drawer.asked) // 2:]
    assert early and sorted(early) == sorted(final)  # the report asked again for exactly what was drawn early


def test_estimates_made_aside_on_the_store_as_loaded_are_those_made_after_monitoring(tmp_path):
    from tiltak.estimates_aside import EstimatesAside
    from tiltak.estimating import estimate_all
    from tiltak.evaluation.verdicts import VerdictRules

    db = tmp_path / "registers.duckdb"
    pipeline.write_synthetic_store(db, 4, scale=0.1)
    inputs = pipeline.load_inputs([pipeline.shipped_models_dir()])
    with EstimatesAside(db, inputs, 4, VerdictRules()) as aside:
        pipeline.run_monitoring(db, inputs)
        made_aside = aside.results(db, inputs)
    assert made_aside is not None
    made_here = estimate_all(db, inputs, 4, VerdictRules())
    passed = pickle.loads(pickle.dumps(made_here, protocol=pickle.HIGHEST_PROTOCOL))  # as the worker's come
    assert pickle.dumps(made_aside) == pickle.dumps(passed)


def test_a_failed_worker_says_so_and_leaves_the_estimates_to_this_process(tmp_path):
    from tiltak.estimates_aside import EstimatesAside
    from tiltak.evaluation.verdicts import VerdictRules

    db = tmp_path / "registers.duckdb"
    pipeline.write_synthetic_store(db, 4, scale=0.1)
    inputs = pipeline.load_inputs([pipeline.shipped_models_dir()])
    with EstimatesAside(db, inputs, 4, VerdictRules()) as aside:
        copies = [p for p in tmp_path.iterdir() if p.name.startswith(".tiltak-estimates-")]
        assert copies == [aside._folder] and (aside._folder.stat().st_mode & 0o077) == 0  # beside the store, private
        aside._worker._process.kill()  # a worker lost before it answers
        assert aside.results(db, inputs) is None
    assert not aside._folder.exists()  # the copy of the store is removed


def test_with_early_charts_the_indicator_entries_are_read_once_per_model(tmp_path, monkeypatch):
    from tiltak import early_charts
    from tiltak.evaluation import assemble

    db = tmp_path / "registers.duckdb"
    pipeline.write_synthetic_store(db, 3, scale=0.1)
    inputs = pipeline.load_inputs([pipeline.shipped_models_dir()])
    pipeline.evaluate(db, inputs, tmp_path / "plain", seed=3)
    calls = []

    def counted(real):
        def entries(con, item):
            calls.append(item.model.id)
            return real(con, item)
        return entries

    monkeypatch.setattr(early_charts, "indicator_entries", counted(early_charts.indicator_entries))
    monkeypatch.setattr(assemble, "indicator_entries", counted(assemble.indicator_entries))
    pipeline.evaluate(db, inputs, tmp_path / "early", seed=3, drawer=CountingDrawer())
    assert sorted(calls) == sorted(i.model.id for i in inputs)  # the document took the early charts' entries
    assert digests(tmp_path / "early") == digests(tmp_path / "plain")
