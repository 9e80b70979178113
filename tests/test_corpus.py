"""The tables stage: streamed chunk by chunk, the tables are those of one pass."""
import os
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

import pipeline.corpus as corpus_module
from pipeline.cache import AnalysisCache
from pipeline.config import load_config
from pipeline.corpus import CorpusTables
from pipeline.engine import Engine
from pipeline.ingest import read_documents
from pipeline.runner import analyze_stream
from pipeline.tables import COLUMNS, TableSet
from tests.conftest import SEEDS, SOGOU, require


@pytest.fixture(scope="module")
def analysed():
    config = load_config()
    documents = list(read_documents([str(SEEDS), str(require(SOGOU))], config=config))
    articles = [a for d in documents for a in d.articles]
    with Engine("local", workers=1) as eng:
        analyses = list(analyze_stream(iter(articles), engine=eng,
                                       cache=AnalysisCache(None, context="test"),
                                       base_date=None, themes_path=None))
    return config, documents, analyses


def _build(folder, config, documents, analyses, *, parallel=False):
    with CorpusTables(folder, config=config) as corpus:
        for d in documents:
            corpus.add_document(d)
        for an in analyses:
            corpus.add(an)
        notes = corpus.finish(parallel=parallel)
    return TableSet(folder), notes


def test_the_tables_do_not_depend_on_how_the_stream_is_chunked(tmp_path, monkeypatch, analysed):
    # ... nor on whether the topics are fitted in a second process
    config, documents, analyses = analysed
    whole, notes = _build(tmp_path / "whole", config, documents, analyses)
    monkeypatch.setattr(corpus_module, "CHUNK_ARTICLES", 3)
    chunked, parallel_notes = _build(tmp_path / "chunked", config, documents, analyses,
                                     parallel=True)
    assert notes == parallel_notes and len(whole["topics"]) > 0
    for name in COLUMNS:
        pd.testing.assert_frame_equal(whole[name], chunked[name], obj=name)
        assert ((tmp_path / "whole" / f"{name}.csv").read_bytes()
                == (tmp_path / "chunked" / f"{name}.csv").read_bytes()), name
    # a chunk is a Parquet row group: the figures of 3 articles at a time
    import pyarrow.parquet as pq
    assert pq.ParquetFile(tmp_path / "chunked" / "figures.parquet").num_row_groups > 10
    assert len(whole["articles"]) == len(analyses) and len(whole["documents"]) == len(documents)


def test_repeated_figure_ids_get_numbered_across_chunks(tmp_path, monkeypatch, analysed):
    from pipeline.tables import disambiguate_figure_ids, figure_rows
    config, documents, analyses = analysed
    monkeypatch.setattr(corpus_module, "CHUNK_ARTICLES", 2)
    twice = list(analyses) + list(analyses)  # a reprinted corpus: every id repeats
    tables, _ = _build(tmp_path, config, documents, twice)
    ids = tables["figures"]["figure_id"].tolist()
    expected = [r["figure_id"] for r in disambiguate_figure_ids(
        [row for an in twice for row in figure_rows(an)])]
    assert ids == expected and len(set(ids)) == len(ids)
    assert ids[len(ids) // 2:] != ids[:len(ids) // 2]


def test_working_files_are_removed_when_the_tables_are_done_or_fail(tmp_path, analysed):
    config, documents, analyses = analysed
    _build(tmp_path / "done", config, documents, analyses[:5])
    assert not list((tmp_path / "done").glob(".corpus-*"))
    with pytest.raises(RuntimeError):
        with CorpusTables(tmp_path / "failed", config=config) as corpus:
            corpus.add(analyses[0])
            raise RuntimeError("stopped")
    assert not list((tmp_path / "failed").glob(".corpus-*"))


def _build_with_reviews(folder, config, documents, analyses, *, parallel, writer_process=False):
    with CorpusTables(folder / "tables", config=config, review_dir=folder / "review",
                      writer_process=writer_process) as corpus:
        for d in documents:
            corpus.add_document(d)
        for an in analyses:
            corpus.add(an)
        notes = corpus.finish(parallel=parallel)
    return notes


def test_the_files_do_not_depend_on_which_process_finishes_what(tmp_path, analysed):
    # parallel: the corpus steps and the topics in forked processes;
    # writer_process: the streamed tables and review sheets written in one
    config, documents, analyses = analysed
    serial = _build_with_reviews(tmp_path / "serial", config, documents, analyses,
                                 parallel=False)
    for parallel, writer_process in ((True, False), (True, True), (False, True)):
        folder = tmp_path / f"p{parallel:d}w{writer_process:d}"
        notes = _build_with_reviews(folder, config, documents, analyses, parallel=parallel,
                                    writer_process=writer_process)
        assert notes == serial
        expected = sorted(p.relative_to(tmp_path / "serial")
                          for p in (tmp_path / "serial").rglob("*"))
        assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == expected
        for name in expected:
            if (tmp_path / "serial" / name).is_file():
                assert (folder / name).read_bytes() == (tmp_path / "serial" / name).read_bytes(), name


def test_a_failure_in_the_writer_process_fails_the_run_naming_it(tmp_path, monkeypatch, analysed):
    from pipeline import corpus as corpus_module
    config, documents, analyses = analysed

    def broken(self, articles):
        raise ValueError("disk on fire")

    monkeypatch.setattr(corpus_module.StreamWriters, "review", broken)
    with pytest.raises(RuntimeError, match="the table and review writer failed: ValueError: disk on fire"):
        _build_with_reviews(tmp_path / "w", config, documents, analyses, parallel=True,
                            writer_process=True)
    assert not list((tmp_path / "w" / "tables").glob(".corpus-*"))


def test_an_abandoned_run_leaves_no_review_sheet_from_the_writer_process(tmp_path, analysed):
    config, documents, analyses = analysed
    with pytest.raises(RuntimeError, match="stopped"):
        with CorpusTables(tmp_path / "tables", config=config, review_dir=tmp_path / "review",
                          writer_process=True) as corpus:
            topic_step = corpus._topic_step
            for an in analyses:
                corpus.add(an)
            raise RuntimeError("stopped")
    assert not (tmp_path / "review" / "figures_review.xlsx").exists()
    assert not topic_step._proc.is_alive()   # the topic model's process is stopped too


def test_a_failed_topic_fit_in_its_own_process_fails_the_tables_naming_it(
        tmp_path, monkeypatch, analysed):
    config, documents, analyses = analysed

    def broken(*args, **kwargs):
        raise ValueError("a bug in the topics")

    # patched before the topic model's process is forked at the start of the tables
    monkeypatch.setattr(corpus_module, "fit_topics", broken)
    with pytest.raises(RuntimeError, match="the topic model failed: ValueError: a bug in the"):
        _build_with_reviews(tmp_path / "w", config, documents, analyses, parallel=True,
                            writer_process=True)
    assert not list((tmp_path / "w" / "tables").glob(".corpus-*"))


def _mark_prepared(folder: Path) -> None:
    # module level: it is pickled to the writer process
    (folder / "prepared").write_text(str(os.getpid()), encoding="utf-8")


def _what_the_briefing_sees(folder: Path) -> tuple:
    # what the briefing needs where it is rendered: prepared, the tables it
    # reads written, and the review sheets closed with the final tally
    return (os.getpid(), (folder / "prepared").exists(),
            (folder / "tables" / "keywords.parquet").exists(),
            (folder / "tables" / "figures.parquet").exists(),
            (folder / "review" / "figures_review.xlsx").exists())


@pytest.mark.parametrize("writer_process", [False, True])
def test_the_briefing_is_prepared_while_the_corpus_steps_run_then_rendered(
        tmp_path, analysed, writer_process):
    config, documents, analyses = analysed
    seen = []
    with CorpusTables(tmp_path / "tables", config=config, review_dir=tmp_path / "review",
                      writer_process=writer_process) as corpus:
        for an in analyses:
            corpus.add(an)
        corpus.finish(parallel=True, prepare=partial(_mark_prepared, tmp_path),
                      then=lambda notes: seen.append(
                          corpus.run_in_writer(_what_the_briefing_sees, tmp_path)))
    pid, *ready = seen[0]
    assert ready == [True, True, True, True]
    # run where the streamed tables are written: in the writer process, if any
    assert (pid != os.getpid()) == writer_process
    assert (tmp_path / "prepared").read_text(encoding="utf-8") == str(pid)


def _broken_briefing(folder: Path) -> None:
    raise ValueError(f"no template in {folder.name}")


def test_a_failure_rendering_in_the_writer_process_fails_the_run_naming_it(tmp_path, analysed):
    config, documents, analyses = analysed
    with pytest.raises(RuntimeError,
                       match="the table and review writer failed: ValueError: no template in"):
        with CorpusTables(tmp_path / "tables", config=config, writer_process=True) as corpus:
            for an in analyses:
                corpus.add(an)
            corpus.finish(parallel=True, then=lambda notes: corpus.run_in_writer(
                _broken_briefing, tmp_path))
    assert not list((tmp_path / "tables").glob(".corpus-*"))


def test_a_failed_corpus_step_fails_the_tables_either_way(tmp_path, monkeypatch, analysed):
    config, documents, analyses = analysed

    def broken(*args, **kwargs):
        raise ValueError("a bug in the keywords")

    monkeypatch.setattr(corpus_module, "corpus_keywords", broken)
    for folder, parallel in (("serial", False), ("parallel", True)):
        with pytest.raises(ValueError, match="a bug in the keywords"):
            _build_with_reviews(tmp_path / folder, config, documents, analyses[:60],
                                parallel=parallel, writer_process=parallel)
    for folder in ("serial", "parallel"):
        assert not list((tmp_path / folder / "tables").glob(".corpus-*"))
        assert not list((tmp_path / folder / "review").glob(".*.tmp"))


def test_the_documents_table_does_not_depend_on_how_far_reading_runs_ahead(
        tmp_path, monkeypatch, analysed):
    # with more workers, more documents are read before their analyses come back
    config, documents, analyses = analysed
    monkeypatch.setattr(corpus_module, "CHUNK_ARTICLES", 3)
    _build(tmp_path / "ahead", config, documents, analyses)
    by_doc: dict = {}
    for an in analyses:
        by_doc.setdefault(an.article.doc_id, []).append(an)
    with CorpusTables(tmp_path / "in_step", config=config) as corpus:
        for d in documents:
            corpus.add_document(d)
            for an in by_doc.get(d.doc_id, []):
                corpus.add(an)
        corpus.finish()
    for name in ("documents.parquet", "documents.csv", "figures.parquet"):
        assert (tmp_path / "ahead" / name).read_bytes() == (tmp_path / "in_step" / name).read_bytes()


def test_topics_are_fitted_with_one_blas_thread(tmp_path, monkeypatch, analysed):
    # Spinning BLAS threads beside another busy process doubled a run's time.
    from threadpoolctl import threadpool_info

    config, documents, analyses = analysed
    seen = []
    real_fit = corpus_module.fit_topics

    def fit_and_look(*args, **kwargs):
        import numpy  # noqa: F401 - its BLAS is what the fit uses
        seen.extend(pool["num_threads"] for pool in threadpool_info()
                    if pool.get("user_api") == "blas")
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(corpus_module, "fit_topics", fit_and_look)
    _build(tmp_path / "t", config, documents, analyses)
    assert seen and set(seen) == {1}
