"""A spare estimate worker started as `tiltak estimate` begins (round 9, issue 14): the first
share takes it (its imports done beside this process's), the results and store rows are those of
one process, and a spare not taken is killed, not left running."""

from __future__ import annotations

import io
import pickle

import duckdb
import pytest

from tiltak import estimating, pipeline, worker_process


@pytest.fixture(autouse=True)
def no_spares_left():
    yield
    worker_process.drop_spares()
    assert not any(worker_process._spares.values())


def _same(results, other) -> None:
    """The same models, every float's bits and type (pickled without the memo: see
    test_estimate_parallel.memo_free)."""
    def memo_free(value) -> bytes:
        out = io.BytesIO()
        pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.fast = True
        pickler.dump(value)
        return out.getvalue()

    assert list(results) == list(other)
    for model_id in results:
        assert memo_free(results[model_id]) == memo_free(other[model_id]), model_id


def _run(store, inputs, folder, processes, monkeypatch, spare):
    db = folder / "copy.duckdb"
    db.write_bytes(store.read_bytes())
    monkeypatch.setattr(worker_process, "processes", lambda: processes)
    monkeypatch.setattr(estimating, "processes", lambda: processes)
    taken = []
    real_start = worker_process.start

    def start(module):
        spares = list(worker_process._spares.get(module, []))
        process = real_start(module)
        taken.append(process in spares)
        return process

    monkeypatch.setattr(worker_process, "start", start)
    if spare:
        worker_process.prestart_when_idle(worker_process.ESTIMATE_WORKER)
    started = list(worker_process._spares.get(worker_process.ESTIMATE_WORKER, []))
    results = pipeline.run_estimates(db, inputs, seed=4)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT * FROM estimates").fetchall()
    return results, rows, taken, started


def test_the_first_share_takes_the_spare_and_the_results_are_those_of_one_process(store, inputs, tmp_path, monkeypatch):
    (tmp_path / "one").mkdir()
    (tmp_path / "spare").mkdir()
    one, one_rows, taken_one, _ = _run(store, inputs, tmp_path / "one", 1, monkeypatch, spare=True)
    assert taken_one == []  # one process: no prestart (processes() says 1), no worker
    results, rows, taken, started = _run(store, inputs, tmp_path / "spare", 2, monkeypatch, spare=True)
    assert len(started) == 1 and taken == [True]  # the share's worker is the spare
    assert started[0].returncode == 0  # it answered and ended
    _same(results, one)
    assert rows == one_rows and rows


def test_a_spare_not_taken_is_killed_when_the_models_are_not_shared_out(store, inputs, tmp_path, monkeypatch):
    worker_process.prestart(worker_process.ESTIMATE_WORKER)  # as if the load rose after the command began
    spare = worker_process._spares[worker_process.ESTIMATE_WORKER][0]
    _, _, taken, _ = _run(store, inputs[:1], tmp_path, 2, monkeypatch, spare=False)  # one model: no share
    assert taken == []
    assert spare.poll() is not None and not worker_process._spares[worker_process.ESTIMATE_WORKER]


def test_a_spare_that_died_is_not_handed_out(monkeypatch):
    worker_process.prestart(worker_process.ESTIMATE_WORKER)
    dead = worker_process._spares[worker_process.ESTIMATE_WORKER][0]
    dead.kill()
    dead.wait()
    process = worker_process.start(worker_process.ESTIMATE_WORKER)
    try:
        assert process is not dead and process.poll() is None
    finally:
        process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()


def test_a_spare_given_no_request_ends_quietly(capfd):
    worker_process.prestart(worker_process.ESTIMATE_WORKER)
    spare = worker_process._spares[worker_process.ESTIMATE_WORKER].pop()
    spare.stdin.close()
    assert spare.wait(timeout=60) == 1
    assert spare.stdout.read() == b""
    spare.stdout.close()
    assert capfd.readouterr().err == ""
