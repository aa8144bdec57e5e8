"""`tiltak estimate` shares the models out over worker processes (tiltak.estimating.estimate_store):
the same results and store rows as one process, a failing worker's models made here, an
error the one it would be in one process, nothing written to the store when one is raised."""

from __future__ import annotations

import dataclasses
import io
import pickle
from types import SimpleNamespace

import duckdb
import pytest

from tiltak import estimating, pipeline, worker_process
from tiltak.errors import TiltakError


def memo_free(value) -> bytes:
    """The value pickled without the pickler's memo: every float's bits and every type, but not
    which equal strings are one object (that differs between objects made here and objects
    unpickled from a worker, and is no part of the results)."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(value)
    return out.getvalue()


@pytest.fixture(scope="module")
def in_one_process(store, inputs, tmp_path_factory):
    return _estimated(store, inputs, 1, tmp_path_factory.mktemp("one"))


def _estimated(store, inputs, processes, folder, monkeypatch=None):
    """run_estimates on a copy of ``store`` with ``processes`` CPUs; (results, estimates rows)."""
    db = folder / "copy.duckdb"
    db.write_bytes(store.read_bytes())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(estimating, "processes", lambda: processes)
        results = pipeline.run_estimates(db, inputs, seed=4)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT * FROM estimates").fetchall()
    return results, rows


class CountedWorkers:
    """tiltak.estimating.EstimateWorker, counting the models each worker was given."""

    def __init__(self, monkeypatch, spoil=None):
        self.given: list[list[str]] = []
        real = estimating.EstimateWorker

        def make(db, models, seed, rules, read_only=True):
            assert read_only  # the shares read the store itself, beside this process
            self.given.append([m.model.id for m in models])
            worker = real(db, models, seed, rules, read_only)
            if spoil is not None:
                spoil(worker)
            return worker

        monkeypatch.setattr(estimating, "EstimateWorker", make)


def _same(results, other) -> None:
    assert list(results) == list(other)
    for model_id in results:
        assert memo_free(results[model_id]) == memo_free(other[model_id]), model_id


@pytest.mark.parametrize("processes", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_the_models_shared_out_over_processes_give_the_results_and_rows_of_one_process(
        store, inputs, in_one_process, processes, tmp_path, monkeypatch):
    workers = CountedWorkers(monkeypatch)
    results, rows = _estimated(store, inputs, processes, tmp_path)
    assert len(workers.given) == processes - 1  # the work was shared out, not done here alone
    assert sorted(sum(workers.given, [])) != sorted(i.model.id for i in inputs)  # this process kept a share
    one_results, one_rows = in_one_process
    _same(results, one_results)
    assert rows == one_rows and rows


def test_a_worker_lost_before_it_answers_leaves_its_models_to_this_process(
        store, inputs, in_one_process, tmp_path, monkeypatch):
    workers = CountedWorkers(monkeypatch, spoil=lambda worker: worker._process.kill())
    results, rows = _estimated(store, inputs, 2, tmp_path)
    assert workers.given
    _same(results, in_one_process[0])
    assert rows == in_one_process[1]


def test_a_worker_that_answers_for_other_models_is_not_taken(store, inputs, in_one_process, tmp_path, monkeypatch):
    def wrong(worker):
        worker._ids = ["another model", *worker._ids]

    CountedWorkers(monkeypatch, spoil=wrong)
    results, rows = _estimated(store, inputs, 2, tmp_path)
    _same(results, in_one_process[0])
    assert rows == in_one_process[1]


@pytest.mark.slow  # four estimates of the small store
@pytest.mark.parametrize("broken", [0, 2])  # the first model (a worker's, at --scale 0.1), the last (this process's)
def test_an_error_is_the_one_of_one_process_and_nothing_is_written(store, inputs, broken, tmp_path):
    spoilt = list(inputs)
    spoilt[broken] = dataclasses.replace(spoilt[broken], outcomes={})  # its outcomes missing from the catalogue
    messages = []
    for processes in (1, 2):
        folder = tmp_path / str(processes)
        folder.mkdir()
        with pytest.raises(TiltakError) as caught:
            _estimated(store, spoilt, processes, folder)
        messages.append(str(caught.value))
        with duckdb.connect(str(folder / "copy.duckdb"), read_only=True) as con:
            tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            assert "estimates" not in tables or not con.execute("SELECT count(*) FROM estimates").fetchone()[0]
    assert messages[0] == messages[1] and str(spoilt[broken].path) in messages[0]


def _item(model_id, measure, changes):
    evaluation = SimpleNamespace(treatment=SimpleNamespace(measure=measure))
    return SimpleNamespace(model=SimpleNamespace(id=model_id, evaluation=evaluation, changes=changes))


@pytest.fixture
def four_models(monkeypatch):
    monkeypatch.setattr(estimating, "tested_changes", lambda model: range(model.changes))
    monkeypatch.setattr(estimating, "_participants", lambda con: {"A": 1000, "B": 4000, "C": 6000, "D": 500})
    return [_item("a", "A", 3), _item("b", "B", 4), _item("c", "C", 4), _item("d", "D", 4)]


def test_the_largest_model_stays_here_and_the_rest_go_to_the_least_loaded(four_models):
    # work (participants + 1) x changes: a 3003, b 16004, c 24004, d 2004; a worker starts at 10 %
    assert estimating.model_shares(None, four_models, 2) == [[2], [0, 1, 3]]
    assert estimating.model_shares(None, four_models, 3) == [[2], [1], [0, 3]]
    assert estimating.model_shares(None, four_models, 8) == [[2], [1], [0], [3]]


def test_one_cpu_one_model_or_the_same_id_twice_is_one_share(four_models):
    assert estimating.model_shares(None, four_models, 1) == [[0, 1, 2, 3]]
    assert estimating.model_shares(None, four_models[:1], 2) == [[0]]
    twice = [four_models[0], four_models[1], four_models[0]]
    assert estimating.model_shares(None, twice, 2) == [[0, 1, 2]]


@pytest.mark.parametrize("cpus, load, expected", [(1, 0.0, 1), (2, 0.0, 2), (2, 1.2, 2), (2, 1.95, 2), (2, 2.0, 1),
                                                  (2, 9.0, 1), (8, 3.5, 6), (8, 7.5, 2), (8, 0.0, 8)])
def test_one_process_and_one_more_per_cpu_not_wholly_busy(cpus, load, expected, monkeypatch):
    monkeypatch.setattr(worker_process, "threads", lambda: cpus)
    monkeypatch.setattr(worker_process.os, "getloadavg", lambda: (load, load, load))
    assert estimating.processes() == expected
