"""Keywords: candidate terms per article, then corpus-level TF-IDF.

Two steps, so the per-article part stays pure and can run in worker processes:

1. :func:`keyword_terms` turns one article's tokens into candidate terms:
   stopwords (``pipeline/data/stopwords.txt``), numerals, single characters,
   punctuation and news boilerplate out; domain phrases of the user dictionary
   kept whole even where the segmenter split them.
2. :func:`corpus_keywords` scores the terms of the whole corpus with TF-IDF
   (scikit-learn's arithmetic, done with numpy to spare the second its import
   takes).  A handful of articles gives no useful document frequency, so the
   IDF is a blend of the corpus's own IDF and jieba's IDF table (shipped
   inside the jieba package), weighted towards the corpus as it grows.
"""
from __future__ import annotations

import heapq
import importlib.util
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from functools import lru_cache
from itertools import accumulate, chain, compress
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


class _TermMemo(dict):
    """What :func:`keyword_terms` decides about a token text, once per distinct text.

    For one stopword set and one phrase set.  Every decision depends on the
    text alone, so a text is looked at once, not once per occurrence: the
    memo maps a text to the term it is kept as (None when it is no
    candidate) and decides about a text it has not seen when it is first
    looked up (``__missing__``), so an article's texts are looked up in one
    pass at C speed.  On the way it notes which texts can begin a phrase
    (``starters``) or continue one (``continuers``: a part of a phrase after
    its first character, empty for whitespace), each with its folded form.
    A phrase can be joined only where a starter is followed by a continuer
    that extends it (``next_parts``), so an article without such a pair skips
    the token-by-token search of :func:`_phrase_merges`.
    """
    __slots__ = ("stopwords", "phrases", "prefixes", "next_parts", "parts",
                 "starters", "continuers", "phrase_texts")

    def __init__(self, stopwords: frozenset, phrases: frozenset):
        super().__init__()
        self.stopwords = stopwords
        self.phrases = phrases
        self.prefixes = _phrase_prefixes(phrases) if phrases else frozenset()
        #: proper prefix -> every g such that prefix + g is a prefix or a phrase
        next_parts: dict[str, set] = {}
        for phrase in phrases:
            for k in range(1, len(phrase)):
                next_parts.setdefault(phrase[:k], set()).update(
                    phrase[k:m] for m in range(k, len(phrase) + 1))
        self.next_parts = {f: frozenset(g) for f, g in next_parts.items()}
        self.parts = frozenset().union(*self.next_parts.values())
        self.starters: dict[str, str] = {}
        self.continuers: dict[str, str] = {}
        #: the keys of starters and of continuers
        self.phrase_texts: set[str] = set()

    def __missing__(self, text: str) -> Optional[str]:
        term = self[text] = (fold_width(text).strip()
                             if is_candidate(text, stopwords=self.stopwords) else None)
        if self.prefixes:
            folded = _fold_part(text)
            if folded in self.prefixes:
                self.starters[text] = folded
                self.phrase_texts.add(text)
            if folded in self.parts:
                self.continuers[text] = folded
                self.phrase_texts.add(text)
        return term

    def trim(self) -> None:
        """Forget everything once the memo is large; called between articles."""
        if len(self) > _CACHE_LIMIT:
            self.clear()
            self.starters.clear()
            self.continuers.clear()
            self.phrase_texts.clear()

    def may_join(self, texts: list) -> bool:
        """Whether a text of ``texts`` can be followed by one that extends it into a phrase.

        ``texts`` must have been looked up.  False guarantees that
        :func:`_phrase_merges` finds nothing in an article whose token texts
        are ``texts``.
        """
        present = self.phrase_texts.intersection(texts)  # one pass, tiny set lookups
        starters = [self.starters[t] for t in present if t in self.starters]
        if not starters:
            return False
        continuations = {self.continuers[t] for t in present if t in self.continuers}
        return any(not self.next_parts[f].isdisjoint(continuations) for f in starters)


#: (stopwords, phrases) -> its _TermMemo
_MEMOS: dict[tuple, _TermMemo] = {}


def _memo(stopwords: frozenset, phrases: frozenset) -> _TermMemo:
    memo = _MEMOS.get((stopwords, phrases))
    if memo is None:
        if len(_MEMOS) > 8:
            _MEMOS.clear()
        memo = _MEMOS[(stopwords, phrases)] = _TermMemo(stopwords, phrases)
    return memo


def _fold_part(text: str) -> str:
    """A token's text as it takes part in a phrase: folded, stripped, lower-cased."""
    return fold_width(text.strip()).lower()


def _phrase_merges(tokens: Sequence[Token], texts: list, memo: _TermMemo,
                   *, max_parts: int = 6) -> list[tuple[int, int]]:
    """(first, last) token index of each run of adjacent tokens that spells a domain phrase.

    The segmenter normally keeps dictionary words whole; this is the safety net for
    text where it did not (an OCR line break inside 社会组织, or 共享社·幸福里, whose
    middle dot jieba always cuts), so the keyword list never shows 社会 + 组织 for one
    phrase.  Longest phrase wins; linear in the number of tokens.  Only the
    tokens whose text can begin a phrase (``memo.starters``) are looked at one by one.
    """
    phrases, next_parts = memo.phrases, memo.next_parts
    starters, continuers = memo.starters, memo.continuers
    n = len(texts)
    merges = []         # (first, last) token index of each joined phrase
    free = 0            # tokens before this one are inside a phrase already joined
    for i in compress(range(n), map(starters.__contains__, texts)):
        if i < free:
            continue
        joined = starters[texts[i]]
        best_j = None
        j = i
        # extend while the joined text can still grow into a phrase (it is a proper
        # prefix, and the next token's folded text is one of the parts that may
        # follow it); tokens must be contiguous (at most one dropped whitespace
        # character between them)
        while joined in next_parts and j + 1 < n and j + 1 - i < max_parts \
                and tokens[j + 1].start - tokens[j].end <= 1:
            part = continuers.get(texts[j + 1])
            if part is None or part not in next_parts[joined]:
                break  # joined + part is neither a phrase nor the prefix of one
            j += 1
            joined += part
            if joined in phrases:
                best_j = j
        if best_j is not None:
            merges.append((i, best_j))
            free = best_j + 1
    return merges


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
        The article's tokens from :func:`pipeline.segment.segment`: in text
        order and not overlapping.
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
    memo = _memo(stopwords, domain_phrases)
    memo.trim()
    texts = list(map(_TEXT, tokens))
    kept = list(map(memo.__getitem__, texts))
    merges = (_phrase_merges(tokens, texts, memo)
              if domain_phrases and memo.may_join(texts) else [])
    if excluded:
        # Tokens are in text order and never overlap, so both their starts and
        # their ends ascend, and the tokens overlapping a span are one run,
        # found by bisection: no per-token work for the garbled runs.
        for a, b in excluded:
            first = bisect_right(tokens, a, key=_END)   # first token ending after a
            stop = bisect_left(tokens, b, key=_START)   # first token starting at or after b
            if first < stop:
                kept[first:stop] = [None] * (stop - first)
        overlaps = span_overlap_test(excluded) if merges else None
    for i, j in reversed(merges):  # from the end, so earlier indices stay valid
        term = memo["".join(t.strip() for t in texts[i:j + 1])]
        # a phrase is dropped whole when any of it, the gaps included, is excluded
        if excluded and overlaps(tokens[i].start, tokens[j].end):
            term = None
        kept[i:j + 1] = [term]
    # a kept term is never empty (it has two characters or more), so filter(None, ...) keeps it
    return list(filter(None, kept))


@lru_cache(maxsize=1)
def jieba_idf() -> tuple[dict, float]:
    """jieba's IDF table (term -> idf) and its median, read from the installed package."""
    # The table ships inside the package (nothing is downloaded).  It is found
    # without importing jieba.analyse, whose import reads the table once more
    # and costs half a second.
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ValueError("jieba is not installed: its IDF table (jieba/analyse/idf.txt) "
                         "is the keyword prior")
    path = Path(spec.origin).resolve().parent / "analyse" / "idf.txt"
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


def _chunk_weights(docs: Sequence[Sequence[str]], vocabulary: dict, idf: np.ndarray,
                   *, complete: bool) -> np.ndarray:
    """Summed TF-IDF weights of ``docs``, one entry per vocabulary term.

    Each document's counts are weighted ``(1 + log tf) * idf`` and
    L2-normalized.  The arithmetic is scikit-learn's (``CountVectorizer``,
    ``normalize`` and a sparse column sum), step for step and in the same
    order, so the sums are the same floats: a row's entries sorted by term,
    its squares added one by one from the first, each column summed over the
    rows in order (``np.add.at`` adds in index order, never pairwise).
    ``complete`` says every term of ``docs`` is in ``vocabulary``.
    """
    n_terms = len(vocabulary)
    if not complete:
        docs = [[t for t in terms if t in vocabulary] for terms in docs]
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    ids = np.fromiter(map(vocabulary.__getitem__, chain.from_iterable(docs)),
                      dtype=np.int64, count=int(lengths.sum()))
    # (document, term) cells, sorted by document then term, with their counts
    cells, counts = np.unique(np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
                              * n_terms + ids, return_counts=True)
    rows, columns = np.divmod(cells, n_terms)
    # sublinear tf: one long article cannot own the list
    weights = 1.0 + np.log(counts.astype(float))
    weights *= idf[columns]
    squares = np.zeros(len(docs))
    np.add.at(squares, rows, weights * weights)
    weights /= np.sqrt(squares)[rows]  # a document with cells has a positive sum
    totals = np.zeros(n_terms)
    np.add.at(totals, columns, weights)
    return totals


def corpus_keywords(term_lists: Sequence[Sequence[str]], *, top_n: int = 30,
                    prior_articles: float = 200.0, chunk_size: int = 2000,
                    max_vocabulary: int = 500_000) -> list[dict]:
    """Corpus-level keywords by TF-IDF over per-article term lists.

    Each article's term counts are weighted ``(1 + log tf) * idf`` and
    L2-normalized, and a term's score is its mean weight over all articles
    (scikit-learn's ``sublinear_tf`` TF-IDF, computed with numpy).  The IDF
    blends the corpus's smoothed IDF with jieba's IDF table as a prior:
    ``w * idf_corpus + (1 - w) * idf_jieba`` with ``w = n / (n + prior_articles)``,
    so five articles lean on the prior (社会 and 工作 stay low) and fifty
    thousand on themselves.  Terms unknown to jieba get its median IDF, as in
    ``jieba.analyse``.

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
        Articles weighted at a time, which bounds memory on large corpora.
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
    complete = len(df) <= max_vocabulary
    if not complete:
        kept = sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:max_vocabulary]
        df = Counter(dict(kept))
    terms_sorted = sorted(df)
    vocabulary = {term: i for i, term in enumerate(terms_sorted)}
    df_vector = np.array([df[t] for t in terms_sorted], dtype=float)

    prior, median = jieba_idf()
    prior_vector = np.array([prior.get(t, median) for t in terms_sorted], dtype=float)
    corpus_idf = np.log((1.0 + n_articles) / (1.0 + df_vector)) + 1.0
    w = n_articles / (n_articles + prior_articles)
    idf = w * corpus_idf + (1.0 - w) * prior_vector

    totals = np.zeros(len(vocabulary))
    for lo in range(0, n_articles, chunk_size):
        totals += _chunk_weights(term_lists[lo:lo + chunk_size], vocabulary, idf,
                                 complete=complete)
    scores = totals / n_articles

    # the order of round(numpy float, 12), then term; terms are unique, so no ties
    ranked = heapq.nsmallest(top_n, zip((-np.round(scores, 12)).tolist(), terms_sorted,
                                        range(len(terms_sorted))))
    rows = []
    for _, term, i in ranked:
        if scores[i] <= 0:
            break
        rows.append({"term": term, "score": round(float(scores[i]), 6),
                     "df": int(df_vector[i])})
    return rows


__all__ = ["keyword_terms", "corpus_keywords", "load_stopwords", "load_domain_phrases",
           "is_numeral", "is_candidate", "jieba_idf"]
