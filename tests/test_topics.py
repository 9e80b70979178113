"""Topics: NMF over TF-IDF for corpora of fifty articles or more (issue 6)."""
from __future__ import annotations

import re

import pytest

from pipeline.extract.keywords import is_numeral, keyword_terms, load_stopwords
from pipeline.extract.topics import default_n_topics, fit_topics
from pipeline.segment import segment
from tests.conftest import peoples_daily_texts, sogou_contents



@pytest.fixture(scope="module")
def news_term_lists():
    texts = list(sogou_contents()) + peoples_daily_texts()
    return [keyword_terms(segment(t)) for t in texts]


@pytest.fixture(scope="module")
def news_topics(news_term_lists):
    return fit_topics(news_term_lists)


def test_small_corpus_is_skipped():
    docs = [["社会组织", "公益创投"]] * 5
    assert fit_topics(docs) is None
    assert fit_topics(docs * 10, min_articles=60) is None
    assert fit_topics([]) is None


def test_news_topics_have_clean_top_terms(news_term_lists, news_topics):
    assert len(news_term_lists) >= 50
    result = news_topics
    assert result is not None
    assert result.n_topics == default_n_topics(len(news_term_lists))
    stopwords = load_stopwords()
    for topic in range(result.n_topics):
        terms = result.top_terms(topic)
        assert len(terms) == 10
        for term in terms:
            assert len(term) >= 2, term
            assert not is_numeral(term), term
            assert not re.search(r"[0-9０-９]", term), term
            assert term.lower() not in stopwords, term
    assert len(result.labels) == result.n_topics


def test_news_topic_tables_are_well_formed(news_term_lists, news_topics):
    result = news_topics
    ranks = {}
    for row in result.topics:
        assert set(row) == {"topic", "rank", "term", "weight"}
        assert row["weight"] > 0
        ranks.setdefault(row["topic"], []).append((row["rank"], row["weight"]))
    for topic, pairs in ranks.items():
        assert [r for r, _ in pairs] == list(range(len(pairs)))
        weights = [w for _, w in pairs]
        assert weights == sorted(weights, reverse=True)
    per_article = {}
    for row in result.article_topics:
        assert 0 <= row["article_index"] < len(news_term_lists)
        assert 0 <= row["topic"] < result.n_topics
        assert 0 < row["weight"] <= 1
        per_article[row["article_index"]] = per_article.get(row["article_index"], 0) + row["weight"]
    assert all(total <= 1.0001 for total in per_article.values())
    # most articles belong somewhere
    assert len(per_article) >= 0.8 * len(news_term_lists)
    # topic 0 is the most prevalent
    mass = [sum(r["weight"] for r in result.article_topics if r["topic"] == t)
            for t in range(result.n_topics)]
    assert mass[0] == max(mass)


def test_topics_are_deterministic(news_term_lists, news_topics):
    again = fit_topics([list(t) for t in news_term_lists])
    assert again.topics == news_topics.topics
    assert again.article_topics == news_topics.article_topics


def test_topics_separate_two_distinct_vocabularies():
    sport = ["比赛", "球队", "球员", "进球", "冠军", "教练", "联赛", "射门"]
    money = ["银行", "利率", "存款", "贷款", "理财", "基金", "债券", "央行"]
    shared = ["记录", "表现"]
    docs, groups = [], []
    for i in range(60):
        vocab, group = (sport, 0) if i % 2 == 0 else (money, 1)
        # each article: five of its field's words (rotating) and a shared word
        docs.append([vocab[(i + k) % len(vocab)] for k in range(5)] + [shared[(i // 2) % 2]])
        groups.append(group)
    result = fit_topics(docs, n_topics=2)
    assert result.n_topics == 2
    top_sets = [set(result.top_terms(t)[:5]) for t in range(2)]
    # one topic is the sports words, the other the money words
    assert sorted(bool(s <= set(sport)) for s in top_sets) == [False, True]
    assert sorted(bool(s <= set(money)) for s in top_sets) == [False, True]
    sport_topic = 0 if top_sets[0] <= set(sport) else 1
    dominant = {}
    for row in result.article_topics:
        best = dominant.get(row["article_index"])
        if best is None or row["weight"] > best[1]:
            dominant[row["article_index"]] = (row["topic"], row["weight"])
    for i, group in enumerate(groups):
        assert (dominant[i][0] == sport_topic) == (group == 0), i


def test_large_corpus_is_fitted_on_a_sample_and_transformed_in_full(news_term_lists):
    result = fit_topics(news_term_lists, max_fit_articles=120, chunk_size=50, n_topics=4)
    assert result.n_fit_articles == 120
    assert result.n_articles == len(news_term_lists)
    indexes = {r["article_index"] for r in result.article_topics}
    assert max(indexes) >= len(news_term_lists) - 60  # articles outside any one chunk are covered
