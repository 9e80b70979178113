"""The per-article cache: hits for unchanged articles, misses for changed context or content."""
import dataclasses
import sqlite3

import pytest

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
        db.execute("insert into analyses values ('k', x'00ff', 'c')")
    assert AnalysisCache(path, context="c").get_many(["k"]) == {}


def test_disabled_cache_stores_nothing():
    cache = AnalysisCache(None, context="c")
    cache.put("k", _analysis())
    cache.commit()
    assert not cache.enabled and cache.get_many(["k"]) == {}


def _fill(path, context, n, *, keep=2):
    cache = AnalysisCache(path, context=context, keep_contexts=keep)
    for i in range(n):
        cache.put(cache.key(_article(f"{context} 第{i}篇 拨款{i}万元")), _analysis())
    cache.close()


def _contexts(path):
    with sqlite3.connect(path) as db:
        return dict(db.execute("select context, count(*) from analyses group by context"))


def test_only_the_most_recently_used_contexts_keep_their_entries(tmp_path):
    path = tmp_path / "analyses.sqlite"
    for context in ("c1", "c2", "c3"):
        _fill(path, context, 5)
    assert _contexts(path) == {"c2": 5, "c3": 5}
    # reading with c2 makes it the most recent: c3 goes when c4 comes
    again = AnalysisCache(path, context="c2", keep_contexts=2)
    assert len(again.get_many([again.key(_article(f"c2 第{i}篇 拨款{i}万元"))
                               for i in range(5)])) == 5
    again.close()
    _fill(path, "c4", 1)
    assert _contexts(path) == {"c2": 5, "c4": 1}


def test_entries_without_a_kept_context_go_too(tmp_path):
    # a run whose context was pruned while it still wrote (more contexts at
    # once than are kept) leaves entries with no context row
    path = tmp_path / "analyses.sqlite"
    early = AnalysisCache(path, context="early", keep_contexts=1)
    _fill(path, "late", 2, keep=1)
    early.put("k", _analysis())
    early.commit()
    assert _contexts(path) == {"late": 2, "early": 1}
    early._db.execute("delete from contexts where context = 'early'")   # as the prune did
    early._db.commit()
    _fill(path, "late", 0, keep=1)
    assert _contexts(path) == {"late": 2}


def test_the_file_stays_the_size_of_the_kept_contexts(tmp_path):
    path = tmp_path / "analyses.sqlite"
    sizes = []
    for i in range(8):
        _fill(path, f"c{i}", 300)
        wal = path.with_name(path.name + "-wal")
        sizes.append(path.stat().st_size + (wal.stat().st_size if wal.exists() else 0))
    # 2 contexts kept: after the third, deleted pages are reused
    assert max(sizes[3:]) <= 1.5 * sizes[2]


def test_a_cache_of_an_older_layout_is_started_afresh(tmp_path):
    path = tmp_path / "analyses.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table analyses (key text primary key, value blob not null)")
        db.execute("insert into analyses values ('old', x'00ff')")
    cache = AnalysisCache(path, context="c")
    assert cache.get_many(["old"]) == {}
    key = cache.key(_article())
    cache.put(key, _analysis())
    cache.close()
    assert _contexts(path) == {"c": 1}
    assert list(AnalysisCache(path, context="c").get_many([key])) == [key]


def test_an_older_checkout_can_still_write_a_cache_of_this_layout(tmp_path):
    # what the previous layout's code runs: entries of (key, value) only
    path = tmp_path / "analyses.sqlite"
    AnalysisCache(path, context="new").close()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS analyses (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        db.execute("INSERT OR REPLACE INTO analyses (key, value) VALUES ('k', x'00')")
        assert db.execute("SELECT value FROM analyses WHERE key IN ('k')").fetchall() == [(b"\0",)]
    _fill(path, "new", 1)
    assert _contexts(path) == {"new": 1}   # its entry, with no context, went at the prune


def test_keeping_no_context_is_refused(tmp_path):
    with pytest.raises(ValueError, match="keep_contexts must be at least 1"):
        AnalysisCache(tmp_path / "a.sqlite", context="c", keep_contexts=0)
