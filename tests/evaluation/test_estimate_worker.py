"""One estimate worker (tiltak.estimating.EstimateWorker) for `tiltak estimate`'s shares and the
demo's estimates aside: one request shape, the request sent without holding this process up,
and a failed worker that prints nothing and leaves the estimates to this process."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tiltak import estimating, worker_process
from tiltak.estimates_aside import EstimatesAside
from tiltak.evaluation.verdicts import VerdictRules

# A stand-in for tiltak.estimate_worker: waits for the file GO (at most a minute), reads the
# request and answers, for each model, what it was given and whether GO was there in time.
FAKE = r'''
import os, pickle, sys, time
go = os.environ["FAKE_WORKER_GO"]
for _ in range(600):
    if os.path.exists(go):
        break
    time.sleep(0.1)
released = os.path.exists(go)
request = pickle.load(sys.stdin.buffer)
db, models = request[0], request[1]
shape = [len(request), type(db).__name__, [type(m).__name__ for m in models], *request[2:4], request[4:]]
pickle.dump({m.model.id: [shape, released, db] for m in models}, sys.stdout.buffer)
'''


@pytest.fixture
def fake_worker(tmp_path, monkeypatch):
    (tmp_path / "fake_estimate_worker.py").write_text(FAKE, encoding="utf-8")
    go = tmp_path / "go"
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("FAKE_WORKER_GO", str(go))
    started = []

    def start(module):
        started.append(module)
        return real_start("fake_estimate_worker")

    real_start = worker_process.start
    monkeypatch.setattr(worker_process, "start", start)
    return SimpleNamespace(go=go, started=started)


def _inputs(padding: int = 0):
    """Two models as the estimation reads them; ``padding`` bytes in the first's outcomes."""
    return [SimpleNamespace(path=Path(f"{name}.yaml"), model=SimpleNamespace(id=name, measure="M"),
                            outcomes={"pad": "x" * padding} if padding and name == "a" else {})
            for name in ("a", "b")]


def test_the_shares_and_the_aside_send_one_request_shape(fake_worker, tmp_path):
    fake_worker.go.touch()
    rules = VerdictRules()
    db = tmp_path / "store.duckdb"
    db.write_bytes(b"not a store")
    shared = estimating.EstimateWorker(db, _inputs(), 7, rules)
    try:
        from_shares = shared.results()
    finally:
        shared.stop()
    with EstimatesAside(db, _inputs(), 7, rules) as aside:
        from_aside = aside._worker.results()
        copy = aside._folder / db.name
    assert fake_worker.started == ["tiltak.estimate_worker"] * 2
    expected = [5, "str", ["ModelToEstimate"] * 2, 7, rules]
    assert from_shares == {name: [[*expected, (True,)], True, str(db)] for name in ("a", "b")}
    assert from_aside == {name: [[*expected, (False,)], True, str(copy)] for name in ("a", "b")}  # its own copy


@pytest.mark.parametrize("aside", [False, True])
def test_a_request_larger_than_a_pipe_buffer_does_not_wait_for_the_worker(fake_worker, tmp_path, aside):
    db = tmp_path / "store.duckdb"
    db.write_bytes(b"not a store")
    inputs = _inputs(padding=4 << 20)  # far more than a pipe holds
    if aside:
        with EstimatesAside(db, inputs, 1, VerdictRules()) as made:
            fake_worker.go.touch()  # only once the worker was started and handed its request
            answer = made._worker.results()
    else:
        worker = estimating.EstimateWorker(db, inputs, 1, VerdictRules())
        fake_worker.go.touch()
        try:
            answer = worker.results()
        finally:
            worker.stop()
    assert answer is not None and all(released for _, released, _ in answer.values())


@pytest.mark.parametrize("read_only", [True, False])
def test_a_failed_worker_prints_nothing_and_answers_none(tmp_path, capfd, read_only):
    folder = tmp_path / "a folder, not a store"
    folder.mkdir()
    worker = estimating.EstimateWorker(folder, _inputs(), 1, VerdictRules(), read_only=read_only)
    try:
        assert worker.results() is None
    finally:
        worker.stop()
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""  # the error is this process's to raise, with its message


def test_a_worker_stopped_before_it_reads_its_request_is_stopped_cleanly(fake_worker, tmp_path):
    inputs = _inputs(padding=4 << 20)
    worker = estimating.EstimateWorker(tmp_path / "store.duckdb", inputs, 1, VerdictRules())
    worker.stop()  # the worker waits for GO: the request is not read, the sender must not hang
    assert worker._process.returncode not in (None, 0) and not worker._sending.is_alive()
