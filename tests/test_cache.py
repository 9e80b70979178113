"""The per-article cache: hits for unchanged articles, misses for changed context or content."""
import dataclasses
import sqlite3

from pipeline.cache import AnalysisCache, article_key, code_fingerprint, context_fingerprint
from pipeline.model import Article, ArticleAnalysis


def _article(text="苍南县民政局拨款500万元", **kw):
    return Article(article_id="d-001", doc_id="d", seq=1, text=text, **kw)


def _analysis():
    return ArticleAnalysis(article=None, base_date="2022-08-15", base_date_source="run",
                           figures=[], mentions=[], terms=["民政局"], themes=[])


def test_key_changes_with_content_and_context_only():
    ctx = context_fingerprint(config_values={"run": {"workers": 0}}, files=[],
                              options={"base_date": None})
    a = _article()
    assert article_key(a, ctx) == article_key(_article(), ctx)
    assert article_key(a, ctx) != article_key(_article("苍南县民政局拨款600万元"), ctx)
    assert article_key(a, ctx) != article_key(_article(date="2022-08-15"), ctx)
    other = context_fingerprint(config_values={"run": {"workers": 0}}, files=[],
                                options={"base_date": "2022-01-01"})
    assert article_key(a, ctx) != article_key(a, other)
    assert len(code_fingerprint()) == 40


def test_context_follows_the_bytes_of_a_user_dictionary(tmp_path):
    d = tmp_path / "dict.txt"
    d.write_text("苍南模式 10 n\n", encoding="utf-8")
    first = context_fingerprint(config_values={}, files=[str(d)], options={})
    d.write_text("苍南模式 20 n\n", encoding="utf-8")
    assert context_fingerprint(config_values={}, files=[str(d)], options={}) != first


def test_entries_round_trip_and_survive_reopening(tmp_path):
    path = tmp_path / ".cache" / "analyses.sqlite"
    cache = AnalysisCache(path, context="c1")
    key = cache.key(_article())
    assert cache.get_many([key]) == {} and cache.misses == 1
    cache.put(key, _analysis())
    cache.close()
    again = AnalysisCache(path, context="c1")
    got = again.get_many([key, "missing"])
    assert list(got) == [key] and dataclasses.asdict(got[key]) == dataclasses.asdict(_analysis())
    assert again.hits == 1 and again.misses == 1
    again.close()


def test_a_damaged_cache_file_is_replaced_not_fatal(tmp_path):
    path = tmp_path / "analyses.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    cache = AnalysisCache(path, context="c")
    cache.put("k", _analysis())
    cache.close()
    assert sqlite3.connect(path).execute("select count(*) from analyses").fetchone() == (1,)


def test_an_unreadable_entry_is_a_miss(tmp_path):
    path = tmp_path / "analyses.sqlite"
    AnalysisCache(path, context="c").close()
    with sqlite3.connect(path) as db:
        db.execute("insert into analyses values ('k', x'00ff')")
    assert AnalysisCache(path, context="c").get_many(["k"]) == {}


def test_disabled_cache_stores_nothing():
    cache = AnalysisCache(None, context="c")
    cache.put("k", _analysis())
    cache.commit()
    assert not cache.enabled and cache.get_many(["k"]) == {}
