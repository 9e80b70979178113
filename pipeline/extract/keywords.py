"""Keywords: candidate terms per article, then corpus-level TF-IDF.

Two steps, so the per-article part stays pure and can run in worker processes:

1. :func:`keyword_terms` turns one article's tokens into candidate terms:
   stopwords (``pipeline/data/stopwords.txt``), numerals, single characters,
   punctuation and news boilerplate out; domain phrases of the user dictionary
   kept whole even where the segmenter split them.
2. :func:`corpus_keywords` scores the terms of the whole corpus with TF-IDF
   (scikit-learn).  A handful of articles gives no useful document frequency,
   so the IDF is a blend of the corpus's own IDF and jieba's IDF table (shipped
   inside the jieba package), weighted towards the corpus as it grows.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from functools import lru_cache
from itertools import accumulate, compress
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from pipeline.config import load_config
from pipeline.model import Token
from pipeline.text import fold_width

#: digits (ASCII or full-width, folded beforehand) anywhere in a token make it a numeral
_DIGIT_RE = re.compile(r"\d")
#: Chinese numerals, optionally with an ordinal prefix and a counter or "是"
#: ("十二", "第三", "一是", "三个", "两年"); "十佳" or "一线" are words, not numerals.
_CN_NUMERAL_RE = re.compile(
    r"^[第]?[〇零一二三四五六七八九十百千万亿两几数半多余]+"
    r"[年月日号时点分秒个名家位项次届期天周批人元岁倍条件种类是]?$")
#: a term needs a CJK ideograph or a latin letter; everything else is punctuation or symbols
_WORDLIKE_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z]")
#: ids, URLs and e-mail fragments are never keywords
_ID_LIKE_RE = re.compile(r"^(?:www|http|https|com|cn|html?|shtml)$", re.IGNORECASE)


def _read_word_list(path: Path, *, what: str) -> frozenset[str]:
    """Words of a one-word-a-line file (``#`` comments); a clear error if unreadable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the {what} file ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: the {what} file is not UTF-8 (byte {exc.start})") from exc
    words = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words.add(fold_width(line.split()[0]).lower())
    return frozenset(words)


@lru_cache(maxsize=8)
def load_stopwords(path: Optional[str] = None) -> frozenset[str]:
    """The stopword set; ``None`` reads the configured file (``[keywords] stopwords``)."""
    p = Path(path) if path else load_config().path("keywords", "stopwords")
    if p is None:
        return frozenset()
    return _read_word_list(p, what="stopwords")


@lru_cache(maxsize=8)
def load_domain_phrases(path: Optional[str] = None) -> frozenset[str]:
    """Multi-character words of the jieba user dictionary (``[segment] user_dictionary``)."""
    p = Path(path) if path else load_config().path("segment", "user_dictionary")
    if p is None:
        return frozenset()
    return frozenset(w for w in _read_word_list(p, what="user dictionary") if len(w) >= 2)


def is_numeral(term: str) -> bool:
    """True for numbers, amounts, dates and ordinals written in digits or Chinese numerals."""
    folded = fold_width(term)
    return bool(_DIGIT_RE.search(folded) or _CN_NUMERAL_RE.match(folded))


def is_candidate(term: str, *, stopwords: frozenset[str]) -> bool:
    """Whether ``term`` may be a keyword: not a stopword, numeral, single character or symbol."""
    folded = fold_width(term).strip().lower()
    if len(folded) < 2 or not _WORDLIKE_RE.search(folded):
        return False
    if folded in stopwords or is_numeral(folded) or _ID_LIKE_RE.match(folded):
        return False
    # a word of only latin letters needs two letters and is kept as written (ETF, IPO)
    return True


@lru_cache(maxsize=8)
def _phrase_prefixes(phrases: frozenset[str]) -> frozenset[str]:
    """Every proper prefix of every phrase, so a merge attempt stops as soon as it cannot succeed."""
    return frozenset(p[:k] for p in phrases for k in range(1, len(p)))


_START, _END, _TEXT = attrgetter("start"), attrgetter("end"), attrgetter("text")
#: entries per memo before it is emptied, which bounds memory on any corpus
_CACHE_LIMIT = 200_000
#: token text -> its folded, stripped, lower-cased form (for phrase merging)
_FOLDED_PARTS: dict[str, str] = {}
#: stopword set -> {term as written -> term as kept, or None when it is no candidate}
_DECISIONS: dict[frozenset, dict[str, Optional[str]]] = {}


def _merge_domain_phrases(tokens: Sequence[Token], phrases: frozenset[str],
                          *, max_parts: int = 6) -> tuple[list, list, list]:
    """Starts, ends and texts of the tokens, with adjacent tokens that spell a domain phrase joined.

    The segmenter normally keeps dictionary words whole; this is the safety net for
    text where it did not (an OCR line break inside 社会组织, or 共享社·幸福里, whose
    middle dot jieba always cuts), so the keyword list never shows 社会 + 组织 for one
    phrase.  Longest phrase wins; linear in the number of tokens.  Only tokens
    that begin some phrase are looked at one by one; the rest pass as columns.
    """
    starts = list(map(_START, tokens))
    ends = list(map(_END, tokens))
    texts = list(map(_TEXT, tokens))
    if not phrases:
        return starts, ends, texts
    prefixes = _phrase_prefixes(phrases)
    folded_parts = _FOLDED_PARTS
    if len(folded_parts) > _CACHE_LIMIT:
        folded_parts.clear()
    for text in set(texts).difference(folded_parts):
        folded_parts[text] = fold_width(text.strip()).lower()
    folded = list(map(folded_parts.__getitem__, texts))
    n = len(texts)
    merges = []         # (first, last) token index of each joined phrase
    free = 0            # tokens before this one are inside a phrase already joined
    for i in compress(range(n), map(prefixes.__contains__, folded)):
        if i < free:
            continue
        joined = folded[i]
        best_j = None
        j = i
        # extend while the joined text can still grow into a phrase; tokens must be
        # contiguous (at most one dropped whitespace character between them)
        while joined in prefixes and j + 1 < n and j + 1 - i < max_parts \
                and starts[j + 1] - ends[j] <= 1:
            j += 1
            joined += folded[j]
            if joined in phrases:
                best_j = j
        if best_j is not None:
            merges.append((i, best_j))
            free = best_j + 1
    for i, j in reversed(merges):  # from the end, so earlier indices stay valid
        starts[i:j + 1] = [starts[i]]
        texts[i:j + 1] = ["".join(t.strip() for t in texts[i:j + 1])]
        ends[i:j + 1] = [ends[j]]
    return starts, ends, texts


def span_overlap_test(excluded: Sequence[tuple[int, int]]):
    """A test ``(start, end) -> bool``: does the span overlap one of ``excluded``?

    Same answer as ``any(a < end and start < b for a, b in excluded)``, in
    O(log n): of the spans starting before ``end`` (a prefix once sorted),
    the one reaching furthest decides.
    """
    excluded = sorted(excluded)
    starts = [a for a, _ in excluded]
    reach = list(accumulate((b for _, b in excluded), max))

    def test(start: int, end: int) -> bool:
        k = bisect_left(starts, end)
        return k > 0 and reach[k - 1] > start
    return test


def keyword_terms(tokens: Sequence[Token], *, stopwords: Optional[frozenset[str]] = None,
                  domain_phrases: Optional[frozenset[str]] = None,
                  exclude_spans: Iterable[Sequence[int]] = ()) -> list[str]:
    """Candidate terms of one article, in text order (pure, per article).

    Parameters
    ----------
    tokens : sequence of Token
        The article's tokens from :func:`pipeline.segment.segment`.
    stopwords : frozenset of str, optional
        Folded, lower-cased stopwords; default the configured stopword file.
    domain_phrases : frozenset of str, optional
        Phrases kept whole when the segmenter split them; default the
        multi-character words of the configured user dictionary.
    exclude_spans : iterable of (start, end)
        Character spans never mined, such as garbled runs (``Article.garbled``).

    Returns
    -------
    list of str
        Terms with stopwords, numerals, single characters, punctuation and
        boilerplate removed; repeated terms repeat (they are term frequencies).
    """
    stopwords = load_stopwords() if stopwords is None else stopwords
    domain_phrases = load_domain_phrases() if domain_phrases is None else domain_phrases
    excluded = sorted((int(a), int(b)) for a, b in exclude_spans)
    overlaps = span_overlap_test(excluded) if excluded else None
    # The decision depends only on the term and the stopword set, so it is
    # made once per distinct term, not once per occurrence.
    decisions = _DECISIONS.get(stopwords)
    if decisions is None or len(decisions) > _CACHE_LIMIT:
        if len(_DECISIONS) > 8:
            _DECISIONS.clear()
        decisions = _DECISIONS[stopwords] = {}
    starts, ends, texts = _merge_domain_phrases(tokens, domain_phrases)
    for text in set(texts).difference(decisions):
        decisions[text] = (fold_width(text).strip()
                           if is_candidate(text, stopwords=stopwords) else None)
    kept = map(decisions.__getitem__, texts)
    if overlaps is not None:
        kept = (term if term is not None and not overlaps(start, end) else None
                for term, start, end in zip(kept, starts, ends))
    # a kept term is never empty (it has two characters or more), so filter(None, ...) keeps it
    return list(filter(None, kept))


@lru_cache(maxsize=1)
def jieba_idf() -> tuple[dict, float]:
    """jieba's IDF table (term -> idf) and its median, read from the installed package."""
    import jieba.analyse  # the table ships inside the package: nothing is downloaded

    path = Path(jieba.analyse.__file__).resolve().parent / "idf.txt"
    table = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 2:
                try:
                    table[parts[0]] = float(parts[1])
                except ValueError:
                    continue
    median = float(np.median(list(table.values()))) if table else 1.0
    return table, median


def _identity(terms):
    return terms


def corpus_keywords(term_lists: Sequence[Sequence[str]], *, top_n: int = 30,
                    prior_articles: float = 200.0, chunk_size: int = 2000,
                    max_vocabulary: int = 500_000) -> list[dict]:
    """Corpus-level keywords by TF-IDF over per-article term lists.

    Each article's term counts are weighted ``(1 + log tf) * idf`` and
    L2-normalized (scikit-learn), and a term's score is its mean weight over
    all articles.  The IDF blends the corpus's smoothed IDF with jieba's IDF
    table as a prior: ``w * idf_corpus + (1 - w) * idf_jieba`` with
    ``w = n / (n + prior_articles)``, so five articles lean on the prior (社会
    and 工作 stay low) and fifty thousand on themselves.  Terms unknown to
    jieba get its median IDF, as in ``jieba.analyse``.

    Parameters
    ----------
    term_lists : sequence of sequences of str
        Per-article terms from :func:`keyword_terms`; read twice (document
        frequencies, then weights), chunk by chunk.
    top_n : int, default 30
        Number of rows returned.
    prior_articles : float, default 200
        Corpus size at which the corpus IDF and the prior weigh the same.
    chunk_size : int, default 2000
        Articles per sparse matrix, which bounds memory on large corpora.
    max_vocabulary : int, default 500000
        Terms kept (by document frequency) when a corpus has more; bounds memory.

    Returns
    -------
    list of dict
        Rows ``term``, ``score``, ``df`` (articles containing the term), sorted by
        score descending, then term.
    """
    n_articles = len(term_lists)
    if n_articles == 0 or top_n <= 0:
        return []
    df = Counter()
    for terms in term_lists:
        df.update(set(terms))
    if not df:
        return []
    if len(df) > max_vocabulary:
        kept = sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:max_vocabulary]
        df = Counter(dict(kept))
    vocabulary = {term: i for i, term in enumerate(sorted(df))}
    terms_sorted = sorted(df)
    df_vector = np.array([df[t] for t in terms_sorted], dtype=float)

    prior, median = jieba_idf()
    prior_vector = np.array([prior.get(t, median) for t in terms_sorted], dtype=float)
    corpus_idf = np.log((1.0 + n_articles) / (1.0 + df_vector)) + 1.0
    w = n_articles / (n_articles + prior_articles)
    idf = w * corpus_idf + (1.0 - w) * prior_vector
    idf_row = idf[np.newaxis, :]

    # scikit-learn takes a second to import: only the corpus step needs it, not the workers
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    counter = CountVectorizer(analyzer=_identity, vocabulary=vocabulary)
    totals = np.zeros(len(vocabulary))
    for lo in range(0, n_articles, chunk_size):
        chunk = [[t for t in terms if t in vocabulary] for terms in term_lists[lo:lo + chunk_size]]
        counts = counter.transform(chunk).astype(float)
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf: one long article cannot own the list
        weights = normalize(counts.multiply(idf_row).tocsr(), norm="l2", copy=False)
        totals += np.asarray(weights.sum(axis=0)).ravel()
    scores = totals / n_articles

    order = sorted(range(len(terms_sorted)), key=lambda i: (-round(scores[i], 12), terms_sorted[i]))
    rows = []
    for i in order[:top_n]:
        if scores[i] <= 0:
            break
        rows.append({"term": terms_sorted[i], "score": round(float(scores[i]), 6),
                     "df": int(df_vector[i])})
    return rows


__all__ = ["keyword_terms", "corpus_keywords", "load_stopwords", "load_domain_phrases",
           "is_numeral", "is_candidate", "jieba_idf"]
