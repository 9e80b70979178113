"""Scale: the same output for any number of workers, and incremental re-runs."""
import json
import shutil

import pandas as pd

from pipeline.bench.scale import sample_records, write_corpus
from pipeline.runner import run


def _records(n):
    """``n`` distinct articles cut from the shared samples (short, to keep the test quick)."""
    texts = [r["text"] for r in sample_records()]
    return [{"id": f"r{i}", "title": f"第{i}篇", "date": "2022-08-15",
             "text": texts[i % len(texts)][:400] + f"（编号{i}）"} for i in range(n)]


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")


def _published(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] not in (".cache", ".lock")
            and p.name != "run_log.jsonl"}


def test_one_and_two_workers_write_the_same_bytes_and_a_rerun_uses_the_cache(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    records = _records(40)
    for k in range(4):  # four files of ten records
        _write_jsonl(corpus / f"part{k}.jsonl", records[k * 10:(k + 1) * 10])
    one = run([str(corpus)], str(tmp_path / "one"), workers=1, reviews_dir=None)
    two = run([str(corpus)], str(tmp_path / "two"), workers=2, reviews_dir=None)
    assert one.n_articles == two.n_articles == 40 and one.cached == two.cached == 0
    assert _published(tmp_path / "one") == _published(tmp_path / "two")

    # One file changes: only its ten articles are analyzed again.
    changed = records[10:20]
    changed[3] = dict(changed[3], text=changed[3]["text"] + "另拨付专项资金300万元。")
    _write_jsonl(corpus / "part1.jsonl", changed)
    again = run([str(corpus)], str(tmp_path / "one"), workers=2, reviews_dir=None)
    assert again.cached == 39
    figures = pd.read_parquet(tmp_path / "one" / "tables" / "figures.parquet")
    assert (figures["text"] == "300万元").sum() == 1

    # The cached run publishes what a fresh run would.
    fresh = tmp_path / "fresh"
    run([str(corpus)], str(fresh), workers=1, reviews_dir=None, use_cache=False)
    assert _published(tmp_path / "one") == _published(fresh)
    assert not (fresh / ".cache").exists()


def test_cache_folder_can_live_elsewhere(tmp_path):
    corpus = tmp_path / "c.jsonl"
    _write_jsonl(corpus, _records(3))
    run([str(corpus)], str(tmp_path / "a"), workers=1, reviews_dir=None,
        cache_dir=str(tmp_path / "shared-cache"))
    shutil.rmtree(tmp_path / "a")
    second = run([str(corpus)], str(tmp_path / "a"), workers=1, reviews_dir=None,
                 cache_dir=str(tmp_path / "shared-cache"))
    assert second.cached == 3 and not (tmp_path / "a" / ".cache").exists()


def test_benchmark_corpus_marks_every_replica_and_is_accepted_by_run(tmp_path):
    records = sample_records()[:3]
    path = tmp_path / "bench.jsonl"
    chars = write_corpus(path, records, 3)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 9 and chars == sum(len(r["text"]) for r in rows)
    assert len({r["id"] for r in rows}) == 9 and len({r["text"] for r in rows}) == 9
    result = run([str(path)], str(tmp_path / "out"), workers=1, reviews_dir=None)
    assert result.n_articles == 9 and result.cached == 0


def test_an_article_whose_analysis_raises_is_kept_and_reported(tmp_path, monkeypatch):
    import pipeline.runner as R
    real = R.analyze_article

    def flaky(article, **kw):
        if "编号1）" in article.text:
            raise RuntimeError("extractor bug")
        return real(article, **kw)

    monkeypatch.setattr(R, "analyze_article", flaky)
    corpus = tmp_path / "c.jsonl"
    _write_jsonl(corpus, _records(3))
    result = run([str(corpus)], str(tmp_path / "out"), workers=1, reviews_dir=None)
    assert result.n_articles == 3
    assert [(a, m) for a, m in result.failures] and "extractor bug" in result.failures[0][1]
    log = (tmp_path / "out" / "run_log.jsonl").read_text(encoding="utf-8")
    assert '"article_failed"' in log
    # a failure is not cached: the next run tries the article again
    monkeypatch.setattr(R, "analyze_article", real)
    again = run([str(corpus)], str(tmp_path / "out"), workers=1, reviews_dir=None)
    assert again.cached == 2 and not again.failures
