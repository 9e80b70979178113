"""Keywords: candidate terms per article and corpus-level TF-IDF (issue 6)."""
from __future__ import annotations

import re

import pytest

from pipeline.extract.keywords import (corpus_keywords, is_numeral, keyword_terms,
                                       load_stopwords)
from pipeline.model import Token
from pipeline.segment import segment
from tests.conftest import seed_bodies


#: first and last printed line of each article body of the seed page
_NUMERAL_RE = re.compile(r"[0-9０-９]|^[第]?[〇零一二三四五六七八九十百千万亿两]+[年月日个名家位项次是]?$")


@pytest.fixture(scope="module")
def seed_term_lists():
    return [keyword_terms(segment(text)) for text in seed_bodies().values()]


def test_seed_keywords_have_no_numeral_stopword_or_single_character(seed_term_lists):
    rows = corpus_keywords(seed_term_lists, top_n=50)
    assert len(rows) == 50
    stopwords = load_stopwords()
    for row in rows:
        term = row["term"]
        assert len(term) >= 2, term
        assert not _NUMERAL_RE.search(term), term
        assert term.lower() not in stopwords, term
        assert re.search(r"[\u4e00-\u9fffA-Za-z]", term), term
    terms = [r["term"] for r in rows]
    for boilerplate in ("记者", "据悉", "据了解", "最近", "日前", "一是", "二是"):
        assert boilerplate not in terms


def test_seed_keywords_keep_domain_phrases_whole(seed_term_lists):
    rows = corpus_keywords(seed_term_lists, top_n=30)
    terms = [r["term"] for r in rows]
    # the page is about social organizations: the phrase, not its halves, leads
    assert "社会组织" in terms[:5]
    for phrase in ("公益创投", "慈善助学", "慈善总会"):
        assert phrase in terms, phrase
    rank = {t: i for i, t in enumerate(terms)}
    for half in ("社会", "组织"):
        assert rank.get(half, len(terms)) > rank["社会组织"]


def test_seed_keywords_rows_are_sorted_and_count_articles(seed_term_lists):
    rows = corpus_keywords(seed_term_lists, top_n=40)
    keys = [(-r["score"], r["term"]) for r in rows]
    assert keys == sorted(keys)
    for row in rows:
        expected_df = sum(row["term"] in set(terms) for terms in seed_term_lists)
        assert row["df"] == expected_df
        assert row["score"] > 0


def test_keyword_terms_drop_boilerplate_numerals_and_punctuation():
    text = "本报讯（记者 王小明）据悉，2022年第15届公益创投大赛共收到24个项目，一是助老，二是助残。"
    terms = keyword_terms(segment(text))
    for dropped in ("本报讯", "记者", "据悉", "2022", "2022年", "24", "一是", "二是", "（", "，"):
        assert dropped not in terms
    assert "公益创投大赛" in terms
    assert all(len(t) >= 2 for t in terms)


def test_keyword_terms_rejoin_a_split_domain_phrase():
    # what the segmenter gives for an OCR line break inside the phrase
    text = "社会\n组织参与共享社·幸福里建设"
    tokens = [Token(0, 2, "社会"), Token(3, 5, "组织"), Token(5, 7, "参与"),
              Token(7, 9, "共享"), Token(9, 10, "社"), Token(10, 11, "·"),
              Token(11, 13, "幸福"), Token(13, 14, "里"), Token(14, 16, "建设")]
    assert all(text[t.start:t.end] == t.text for t in tokens)
    terms = keyword_terms(tokens)
    assert terms[0] == "社会组织"
    assert "共享社·幸福里" in terms
    assert "社会" not in terms and "组织" not in terms


def test_keyword_terms_rejoin_phrases_between_kept_terms_and_excluded_spans():
    # every character a token, as the segmenter gives for some OCR text
    text = "成立社会组织，社 会组织和社会"
    tokens = [Token(i, i + 1, c) for i, c in enumerate(text) if c != " "]
    phrases = frozenset({"社会组织"})
    assert keyword_terms(tokens, stopwords=frozenset(), domain_phrases=phrases) == ["社会组织"] * 2
    # a phrase overlapping an excluded span is dropped whole
    assert keyword_terms(tokens, stopwords=frozenset(), domain_phrases=phrases,
                         exclude_spans=[(3, 4)]) == ["社会组织"]
    # no phrases: nothing joined, and single characters are no terms
    assert keyword_terms(tokens, stopwords=frozenset(), domain_phrases=frozenset()) == []


def test_keyword_terms_do_not_depend_on_earlier_calls():
    # the per-text decisions are memoized: another stopword set or phrase set,
    # or an earlier article, must not leak into an article's terms
    tokens = [Token(0, 2, "社会"), Token(2, 4, "组织"), Token(4, 6, "参与"), Token(6, 8, "治理")]
    fresh = keyword_terms(tokens, stopwords=frozenset(), domain_phrases=frozenset())
    assert fresh == ["社会", "组织", "参与", "治理"]
    assert keyword_terms(tokens, stopwords=frozenset({"参与"}),
                         domain_phrases=frozenset()) == ["社会", "组织", "治理"]
    assert keyword_terms(tokens, stopwords=frozenset(),
                         domain_phrases=frozenset({"社会组织", "参与治理"})) == ["社会组织", "参与治理"]
    assert keyword_terms(tokens, stopwords=frozenset(), domain_phrases=frozenset()) == fresh


def test_keyword_terms_skip_excluded_spans():
    text = "慈善助学活动正式启动，泼鳎合衷谖倚乱码"
    garbled_start = text.index("泼")
    terms = keyword_terms(segment(text), exclude_spans=[(garbled_start, len(text))])
    assert "慈善助学" in terms
    assert not any(ch in "".join(terms) for ch in "泼鳎衷谖倚")


@pytest.mark.parametrize("term,expected", [
    ("2022", True), ("２０２２年", True), ("3·3", True), ("十二", True), ("第三", True),
    ("一是", True), ("三个", True), ("十佳", False), ("一线", False), ("社会组织", False)])
def test_is_numeral(term, expected):
    assert is_numeral(term) is expected


def test_corpus_keywords_is_deterministic_and_chunking_does_not_change_it(seed_term_lists):
    once = corpus_keywords(seed_term_lists, top_n=30)
    again = corpus_keywords([list(t) for t in seed_term_lists], top_n=30)
    chunked = corpus_keywords(seed_term_lists, top_n=30, chunk_size=2)
    assert once == again
    assert [r["term"] for r in chunked] == [r["term"] for r in once]
    assert [r["score"] for r in chunked] == pytest.approx([r["score"] for r in once])


def test_corpus_keywords_prior_lowers_common_words_in_a_small_corpus():
    # same counts: the prior (jieba's IDF) decides; 发展 is common, 长者食堂 is specific
    docs = [["发展", "长者食堂", "助老"], ["发展", "长者食堂", "敬老院"]]
    terms = [r["term"] for r in corpus_keywords(docs, top_n=10)]
    assert terms.index("长者食堂") < terms.index("发展")


def test_corpus_keywords_edge_cases():
    assert corpus_keywords([]) == []
    assert corpus_keywords([[], []]) == []
    assert corpus_keywords([["社会组织"]], top_n=0) == []
    rows = corpus_keywords([["社会组织", "社会组织"], ["公益创投"]], top_n=5)
    assert {r["term"]: r["df"] for r in rows} == {"社会组织": 1, "公益创投": 1}


def test_corpus_keywords_weights_are_scikit_learns_to_the_last_bit(seed_term_lists):
    # the TF-IDF is computed with numpy to spare scikit-learn's import; the
    # floats must be the ones CountVectorizer + normalize + a column sum give
    np = pytest.importorskip("numpy")
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    from pipeline.extract.keywords import _chunk_weights

    docs = seed_term_lists + [[], ["社会组织"]]
    terms = sorted({t for d in docs for t in d})
    vocabulary = {t: i for i, t in enumerate(terms)}
    idf = np.linspace(1.0, 9.0, len(terms))
    kept = set(terms[::3])
    for chunk, complete in ((docs, True), ([[t for t in d if t in kept] for d in docs], True),
                            (docs, False)):
        vocab = vocabulary if complete else {t: i for i, t in enumerate(sorted(kept))}
        weights_idf = idf if complete else idf[:len(vocab)]
        counts = CountVectorizer(analyzer=lambda d: d, vocabulary=vocab).transform(
            [[t for t in d if t in vocab] for d in chunk]).astype(float)
        counts.data = 1.0 + np.log(counts.data)
        expected = normalize(counts.multiply(weights_idf[np.newaxis, :]).tocsr(), norm="l2")
        expected = np.asarray(expected.sum(axis=0)).ravel()
        got = _chunk_weights(chunk, vocab, weights_idf, complete=complete)
        assert np.array_equal(got, expected)


def test_keyword_terms_exclude_exactly_the_overlapping_tokens():
    # every token overlapping an excluded span goes, however the spans lie
    import random

    rng = random.Random(3)
    text = "社会组织参与社区治理，慈善助学活动在县民政局启动。" * 3
    tokens = segment(text)
    none = frozenset()
    for _ in range(200):
        spans = [(a, a + rng.randint(0, 6)) for a in rng.sample(range(len(text)), rng.randint(1, 4))]
        kept = [t for t in tokens if not any(a < t.end and t.start < b for a, b in spans)]
        assert (keyword_terms(tokens, stopwords=none, domain_phrases=none, exclude_spans=spans)
                == keyword_terms(kept, stopwords=none, domain_phrases=none))


def test_unreadable_stopword_file_names_the_file(tmp_path):
    bad = tmp_path / "stop.txt"
    bad.write_bytes(b"\xff\xfe\xfa bad")
    with pytest.raises(ValueError, match="stop.txt"):
        load_stopwords(str(bad))
    with pytest.raises(ValueError, match="missing.txt"):
        load_stopwords(str(tmp_path / "missing.txt"))
