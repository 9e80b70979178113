"""The tables stage: streamed chunk by chunk, the tables are those of one pass."""
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
