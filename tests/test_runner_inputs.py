"""What a run reads and with which settings: inputs, exclusions, config, failures."""
import errno
import json

import pandas as pd
import pytest

from pipeline.bench.scale import sample_records
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.extract.dates import document_year
from pipeline.ingest import read_documents
from pipeline.runner import InvalidSettings, run
from tests.conftest import SEED_PAGE


def _records(n):
    texts = [r["text"] for r in sample_records()]
    return [{"id": f"r{i}", "title": f"第{i}篇", "date": "2022-08-15",
             "text": texts[i % len(texts)][:400] + f"（编号{i}）"} for i in range(n)]


def _corpus(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "news.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records(n)),
                    encoding="utf-8")
    return path


def _files(documents):
    """The files documents came from (a JSONL file gives a document per record)."""
    return sorted({d.path.split("#")[0] for d in documents})


def _published(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] not in (".cache", ".lock")}


def _config(tmp_path, text):
    path = tmp_path / "user.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- #1 output inside the input

def test_an_output_folder_inside_the_input_folder_is_not_read_on_the_next_run(tmp_path):
    corpus = tmp_path / "in"
    _corpus(corpus)
    out = corpus / "out"
    first = run([str(corpus)], str(out), workers=1, reviews_dir=None)
    second = run([str(corpus)], str(out), workers=1, reviews_dir=None, use_cache=False)
    assert first.n_articles == second.n_articles == 3
    # nothing of the output (tables, briefing, log, cache, staging) is even listed
    assert _files(second.documents) == [str(corpus / "news.jsonl")]


def test_read_documents_passes_over_excluded_folders_and_names_an_excluded_input(tmp_path):
    corpus = tmp_path / "in"
    _corpus(corpus)
    _corpus(corpus / "cache", n=2)
    docs = list(read_documents([corpus], exclude=[corpus / "cache"]))
    assert _files(docs) == [str(corpus / "news.jsonl")]
    named = list(read_documents([corpus / "cache"], exclude=[corpus / "cache"]))
    assert [d.status for d in named] == ["skipped"] and "output or cache" in named[0].message
    # without the exclusion the nested folder is input like any other
    assert len(_files(d for d in read_documents([corpus]) if d.status == "ok")) == 2


def test_hidden_entries_are_listed_as_skipped_not_read(tmp_path):
    corpus = tmp_path / "in"
    _corpus(corpus)
    _corpus(corpus / ".hidden")
    docs = list(read_documents([corpus]))
    assert [d.status for d in docs] == ["skipped", "ok", "ok", "ok"]
    assert "hidden folder" in docs[0].message


# ---------------------------------------------------------------- #8 the same file twice

def test_a_file_named_twice_or_with_its_folder_is_read_once(tmp_path, monkeypatch):
    corpus = tmp_path / "in"
    path = _corpus(corpus)
    monkeypatch.chdir(tmp_path)
    docs = list(read_documents(["in", str(path), "./in"]))
    assert [d.status for d in docs] == ["ok", "ok", "ok", "skipped", "skipped"]
    for d in docs[3:]:
        assert "already read" in d.message and "not counted twice" in d.message
        assert not d.articles
    result = run(["in", str(path), "./in"], str(tmp_path / "out"), workers=1, reviews_dir=None)
    assert result.n_articles == 3


# ---------------------------------------------------------------- #3 bad settings stop the run

@pytest.mark.parametrize("content, problem", [(None, "cannot read"),
                                              ("[[themes]\nnot toml", "not valid TOML")])
def test_a_bad_themes_file_exits_2_and_leaves_the_previous_output(tmp_path, capsys,
                                                                    content, problem):
    corpus = tmp_path / "in"
    _corpus(corpus)
    out = tmp_path / "out"
    assert main(["run", "--input", str(corpus), "--output", str(out), "--workers", "1",
                 "--reviews", str(tmp_path / "none")]) == 0
    before = _published(out)
    themes = tmp_path / "themes.toml"
    if content is not None:
        themes.write_text(content, encoding="utf-8")
    capsys.readouterr()
    code = main(["run", "--input", str(corpus), "--output", str(out), "--workers", "1",
                 "--themes", str(themes)])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(themes) in lines[0] and problem in lines[0]
    assert _published(out) == before


def test_a_config_base_date_that_is_not_a_date_exits_2_naming_the_config(tmp_path, capsys):
    corpus = tmp_path / "in"
    _corpus(corpus)
    config = _config(tmp_path, '[run]\nbase_date = "15/08/2022"\n')
    code = main(["run", "--input", str(corpus), "--output", str(tmp_path / "out"),
                 "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and str(config) in err and "base_date" in err and "15/08/2022" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["0", '"3"', "true", "1.5"])
def test_a_cache_contexts_that_is_not_a_count_exits_2_naming_the_config(tmp_path, capsys, value):
    corpus = tmp_path / "in"
    _corpus(corpus)
    config = _config(tmp_path, f"[run]\ncache_contexts = {value}\n")
    code = main(["run", "--input", str(corpus), "--output", str(tmp_path / "out"),
                 "--config", str(config), "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2 and str(config) in err and "cache_contexts" in err
    assert not (tmp_path / "out").exists()


def test_the_cache_keeps_only_the_configured_number_of_contexts(tmp_path):
    import sqlite3
    corpus = tmp_path / "in"
    _corpus(corpus, n=3)
    out = tmp_path / "out"
    config = load_config(str(_config(tmp_path, "[run]\ncache_contexts = 1\n")))
    for base in ("2022-01-01", "2022-02-01"):   # the base date is part of the context
        run([str(corpus)], str(out), workers=1, reviews_dir=None, base_date=base, config=config)
    with sqlite3.connect(out / ".cache" / "analyses.sqlite") as db:
        assert db.execute("SELECT COUNT(DISTINCT context), COUNT(*) FROM analyses").fetchone() == (1, 3)
    again = run([str(corpus)], str(out), workers=1, reviews_dir=None, base_date="2022-02-01",
                config=config)
    assert again.cached == 3


def test_run_refuses_bad_settings_before_touching_the_output(tmp_path):
    corpus = tmp_path / "in"
    _corpus(corpus)
    with pytest.raises(InvalidSettings, match="stopwords"):
        run([str(corpus)], str(tmp_path / "out"), workers=1, reviews_dir=None,
            config=load_config(str(_config(tmp_path, '[keywords]\nstopwords = "nope.txt"\n'))))
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- #2, #12 the config reaches every stage

def test_a_user_config_changes_themes_keywords_and_topics_and_misses_the_cache(tmp_path):
    corpus = tmp_path / "in"
    _corpus(corpus, n=6)
    out = tmp_path / "out"
    plain = run([str(corpus)], str(out), workers=1, reviews_dir=None)
    themes = pd.read_parquet(out / "tables" / "article_themes.parquet")
    keywords = pd.read_parquet(out / "tables" / "keywords.parquet")
    assert not themes.empty and not keywords.empty
    assert plain.tables["topics"].empty and any("至少 50 篇" in n for n in plain.notes)

    stop = tmp_path / "stop.txt"
    stop.write_text("\n".join(keywords["term"]) + "\n", encoding="utf-8")
    config = _config(tmp_path, "[themes]\nmin_score = 1000\ntopic_min_articles = 4\n"
                               "n_topics = 2\ntopic_terms = 3\n"
                               f'[keywords]\nstopwords = "{stop.name}"\n')
    tuned = run([str(corpus)], str(out), workers=1, reviews_dir=None,
                config=load_config(str(config)))
    assert tuned.cached == 0  # a changed setting is a changed cache key
    assert pd.read_parquet(out / "tables" / "article_themes.parquet").empty
    new_terms = set(pd.read_parquet(out / "tables" / "keywords.parquet")["term"])
    assert not new_terms & set(keywords["term"])
    topics = tuned.tables["topics"]
    assert set(topics["topic"]) == {0, 1} and topics.groupby("topic").size().max() <= 3


def test_the_topics_note_names_the_configured_minimum(tmp_path):
    corpus = tmp_path / "in"
    _corpus(corpus, n=3)
    config = _config(tmp_path, "[themes]\ntopic_min_articles = 7\n")
    result = run([str(corpus)], str(tmp_path / "out"), workers=1, reviews_dir=None,
                 config=load_config(str(config)))
    assert any("至少 7 篇" in n for n in result.notes)


# ---------------------------------------------------------------- #11 failures end with a message

def _disk_full(*args):
    raise OSError(errno.ENOSPC, "No space left on device", "/full/tables/figures.csv")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_table_writing_failure_exits_74_with_one_line_and_publishes_nothing(
        tmp_path, capsys, monkeypatch, workers):
    import pipeline.tables as T
    monkeypatch.setattr(T.TableWriter, "write", _disk_full)
    corpus = tmp_path / "in"
    _corpus(corpus)
    got = main(["run", "--input", str(corpus), "--output", str(tmp_path / "out"),
                "--workers", str(workers), "--reviews", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert got == 74 and "No space left" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "tables").exists()


def test_an_engine_error_exits_70_with_one_line(tmp_path, capsys, monkeypatch):
    from pipeline.engine import Engine

    def unreachable(self):
        raise RuntimeError(f"cannot reach the Dask scheduler at {self.scheduler}: refused")
    monkeypatch.setattr(Engine, "_start_dask", unreachable)
    corpus = tmp_path / "in"
    _corpus(corpus)
    got = main(["run", "--input", str(corpus), "--output", str(tmp_path / "out"),
                "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert got == 70 and "cannot reach the Dask scheduler" in err and "Traceback" not in err


# ---------------------------------------------------------------- #15 the page year comes with ingest

def test_read_documents_gives_a_pages_articles_the_year_the_page_names_most():
    docs = [d for d in read_documents([SEED_PAGE]) if len(d.articles) > 1]
    assert docs
    for d in docs:
        year = document_year(a.text for a in d.articles)
        assert year == 2022
        assert {a.context_year for a in d.articles} == {year}


def test_the_configured_user_dictionary_reaches_segmentation_and_keywords(tmp_path):
    import re

    from pipeline.analyze import AnalysisSettings, analyze_article
    from pipeline.model import Article
    from pipeline.segment import segment

    text = _records(1)[0]["text"]
    tokens = segment(text)
    han = re.compile(r"[\u4e00-\u9fff]{2}")
    # two neighbouring two-character words, as one word the shipped dictionary lacks
    word = next(a.text + b.text for a, b in zip(tokens, tokens[1:])
                if han.fullmatch(a.text) and han.fullmatch(b.text) and a.end == b.start)
    (tmp_path / "words.txt").write_text(f"{word} 100000 n\n", encoding="utf-8")
    config = load_config(str(_config(tmp_path, '[segment]\nuser_dictionary = "words.txt"\n')))
    settings = AnalysisSettings.from_config(config)
    settings.check()
    article = Article(article_id="a-000", doc_id="a", seq=0, text=text)
    assert word not in analyze_article(article).terms
    assert word in analyze_article(article, settings=settings).terms
