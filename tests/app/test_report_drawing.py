"""Who draws the report's figures: worker processes give the same SVG as this process."""

from concurrent.futures import Future

import pytest

from tiltak.report.drawing import FigureJob, FigurePool, HereDrawer, WorkerFailed, draw
from tiltak.report.labels import LABELS

LOVE = FigureJob("love_plot", ([{"term": "age", "smd_before": 0.3, "smd_after": 0.05}], 0.1, LABELS["nb"], "Love"))
OVERLAP = FigureJob("overlap_plot", ({"edges": [0, 1, 2], "treated": [0.5, 0.5], "control": [0.9, 0.1]},
                                     LABELS["en"], "Overlap"))


@pytest.fixture(scope="module")
def pool():
    with FigurePool(2) as workers:
        yield workers


def test_workers_draw_the_same_bytes_as_this_process(pool):
    here = HereDrawer()
    handles = [pool.ask(job) for job in (LOVE, OVERLAP)]
    assert [pool.take(h) for h in handles] == [here.take(here.ask(job)) for job in (LOVE, OVERLAP)]


def test_a_job_asked_twice_is_drawn_once_and_changed_data_is_drawn_anew(pool):
    first = pool.ask(LOVE)
    assert pool.ask(FigureJob(LOVE.function, LOVE.args)) is first
    changed = FigureJob("love_plot", ([{"term": "age", "smd_before": 0.3, "smd_after": 0.06}], 0.1, LABELS["nb"], "Love"))
    assert pool.ask(changed) is not first
    assert pool.take(pool.ask(changed)) != pool.take(first)


def test_a_failed_drawing_is_drawn_again_here_and_raises_here(pool):
    bad = FigureJob("love_plot", ([{"term": "age"}], 0.1, LABELS["en"], "Love"))  # no smd_before: KeyError
    with pytest.raises(KeyError, match="smd_before"):
        pool.take(pool.ask(bad))


def test_a_lost_worker_costs_time_not_the_figure():
    future: Future[str] = Future()
    future.set_exception(WorkerFailed("gone"))
    with FigurePool(1) as workers:
        assert workers.take((OVERLAP, future)) == draw(OVERLAP)


def test_leaving_the_pool_stops_its_workers():
    with FigurePool(2) as workers:
        workers.take(workers.ask(OVERLAP))
        processes = list(workers._workers)
    assert all(p.poll() is not None for p in processes)
