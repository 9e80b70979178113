"""Engines: results in input order whatever the number of workers or the engine."""
import os

import pandas as pd
import pytest

from pipeline.engine import Engine, available_cores


def _square_with_pid(x):
    return x * x, os.getpid()


def test_serial_and_process_engines_give_results_in_input_order():
    items = list(range(200))
    with Engine("local", workers=1) as one:
        serial = [r for r, _ in one.map(_square_with_pid, iter(items))]
    with Engine("local", workers=2, chunk_size=3, in_flight=2) as two:
        results = list(two.map(_square_with_pid, iter(items)))
    assert serial == [r for r, _ in results] == [x * x for x in items]
    assert {pid for _, pid in results} - {os.getpid()}, "work ran in worker processes"


def test_engine_pulls_a_bounded_number_of_items_ahead():
    pulled = []

    def source():
        for i in range(1000):
            pulled.append(i)
            yield i

    with Engine("local", workers=2, chunk_size=4, in_flight=3) as eng:
        stream = eng.map(_square_with_pid, source())
        next(stream)
        # three chunks in flight, plus the chunk being filled
        assert len(pulled) <= 4 * 4
        assert sum(1 for _ in stream) == 999


def test_bad_engine_settings_are_refused():
    with pytest.raises(ValueError, match="engine"):
        Engine("spark")
    with pytest.raises(ValueError, match="workers"):
        Engine("local", workers=0)
    assert available_cores() >= 1


def _tables(inputs, engine, workers):
    from pipeline.cache import AnalysisCache
    from pipeline.config import load_config
    from pipeline.ingest import read_documents
    from pipeline.runner import analyze_stream, build_tables

    config = load_config()
    documents = list(read_documents(inputs, config=config))
    articles = [a for d in documents for a in d.articles]
    with Engine(engine, workers=workers) as eng:
        analyses = list(analyze_stream(iter(articles), engine=eng,
                                       cache=AnalysisCache(None, context="test"),
                                       base_date="2022-08-15", themes_path=None))
    return build_tables(documents, analyses, config=config)[0]


def test_dask_local_cluster_with_two_workers_writes_the_local_engines_tables():
    from tests.conftest import SEEDS, SOGOU, require
    inputs = [str(SEEDS), str(require(SOGOU))]
    local = _tables(inputs, "local", 1)
    dask = _tables(inputs, "dask", 2)
    assert set(local) == set(dask)
    for name in local:
        pd.testing.assert_frame_equal(local[name], dask[name], obj=name)
    assert len(local["figures"]) > 100


def test_chunks_close_on_cost_so_long_items_travel_alone():
    from pipeline.engine import _chunks
    items = ["a" * 5, "b" * 30, "c", "d", "e" * 12]
    assert list(_chunks(items, 16, len, 10)) == [["a" * 5, "b" * 30], ["c", "d", "e" * 12]]
    assert list(_chunks(range(5), 2, None, 10)) == [[0, 1], [2, 3], [4]]


def test_results_from_worker_processes_equal_the_ones_computed_here():
    # Results cross processes packed as plain tuples; rebuilt, they are the
    # same analyses (figures, mentions, terms, themes) as computed in-process.
    from pipeline.cache import AnalysisCache
    from pipeline.config import load_config
    from pipeline.ingest import read_documents
    from pipeline.runner import analyze_stream
    from tests.conftest import SEEDS

    articles = [a for d in read_documents([str(SEEDS)], config=load_config()) for a in d.articles]
    streams = {}
    for workers in (1, 2):
        with Engine("local", workers=workers, chunk_size=2) as eng:
            assert eng.in_process == (workers == 1)
            streams[workers] = list(analyze_stream(iter(articles), engine=eng,
                                                   cache=AnalysisCache(None, context="test"),
                                                   base_date=None))
    assert streams[1] == streams[2]
    assert sum(len(a.figures) for a in streams[2]) > 20
    assert all(a.article is b for a, b in zip(streams[2], articles))


class _Stopped(Exception):
    pass


def test_a_stop_while_the_workers_start_leaves_no_worker_behind(monkeypatch):
    # SIGTERM landing right after the pool forked its workers, before the
    # pool's thread that tells them to quit was running, once left a worker
    # waiting for work for good (and the interpreter's exit waiting on it).
    import multiprocessing
    import signal
    import time
    from concurrent.futures import process

    launch = process.ProcessPoolExecutor._launch_processes

    def launch_then_stop(self):
        launch(self)
        os.kill(os.getpid(), signal.SIGTERM)

    def stop(signum, frame):
        raise _Stopped

    before = set(multiprocessing.active_children())
    monkeypatch.setattr(process.ProcessPoolExecutor, "_launch_processes", launch_then_stop)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(_Stopped):
            with Engine("local", workers=2) as eng:
                list(eng.map(abs, range(10)))
    finally:
        signal.signal(signal.SIGTERM, previous)
    deadline = time.monotonic() + 20
    while set(multiprocessing.active_children()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(multiprocessing.active_children()) - before
