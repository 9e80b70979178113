"""Topics: NMF over TF-IDF, for corpora large enough to have topics.

Themes (``pipeline.extract.themes``) say what an article is about in words a
reader chose beforehand; topics let the corpus say it in its own words.  A
topic model over five articles finds nothing a reader would call a topic, so
:func:`fit_topics` runs only from ``min_articles`` articles on (50 by default,
``[themes] topic_min_articles``) and returns ``None`` below that, for the
briefing to note that topics were skipped.

The input is the per-article term lists of
:func:`pipeline.extract.keywords.keyword_terms`, so stopwords, numerals and
single characters never become topic terms.  Everything is deterministic for a
given ``random_state``: the vocabulary is sorted, NMF starts from NNDSVDa, and
ties are broken by term.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class TopicResult:
    """A fitted topic model, as rows for two tables.

    Attributes
    ----------
    n_topics : int
    n_articles : int
        Articles the model describes (all of ``term_lists``).
    n_fit_articles : int
        Articles the model was fitted on (a deterministic sample on large corpora).
    topics : list of dict
        Rows ``topic``, ``rank`` (0 = strongest term), ``term``, ``weight``.
        Topic 0 is the most prevalent topic of the corpus.
    article_topics : list of dict
        Rows ``article_index`` (position in ``term_lists``), ``topic``,
        ``weight`` (the article's share of that topic, 0..1); shares below
        ``min_weight`` are left out, and an article without terms has no row.
    labels : list of str
        A label per topic: its top three terms joined by "、".
    """
    n_topics: int
    n_articles: int
    n_fit_articles: int
    topics: list
    article_topics: list
    labels: list
    method: str = "nmf"

    def topic_rows(self) -> list[dict]:
        """Rows of the ``topics`` table: topic, rank, term, weight."""
        return [dict(r) for r in self.topics]

    def article_topic_rows(self) -> list[dict]:
        """Rows of the ``article_topics`` table: article_index, topic, weight."""
        return [dict(r) for r in self.article_topics]

    def top_terms(self, topic: int) -> list[str]:
        """The terms of ``topic``, strongest first."""
        return [r["term"] for r in self.topics if r["topic"] == topic]


def _identity(terms):
    return terms


def import_estimators() -> tuple:
    """scikit-learn's ``NMF``, ``ConvergenceWarning`` and ``TfidfVectorizer``, imported.

    scikit-learn (with SciPy) takes longer to import than a small corpus
    takes to run: imported here, only a run that fits topics pays for it,
    and only in the process that fits them.  A process that will fit topics
    later can call this early, while a core is idle
    (:class:`pipeline.corpus.TopicStep`).
    """
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    return NMF, ConvergenceWarning, TfidfVectorizer


def default_n_topics(n_articles: int) -> int:
    """Topics for a corpus of ``n_articles``: sqrt(n / 10), clipped to 3..20."""
    return int(min(20, max(3, round(math.sqrt(n_articles / 10)))))


def fit_topics(term_lists: Sequence[Sequence[str]], *, min_articles: int = 50,
               n_topics: Optional[int] = None, random_state: int = 0, top_terms: int = 10,
               min_df: int = 2, max_df: float = 0.5, max_features: int = 20_000,
               max_fit_articles: int = 2_000, min_weight: float = 0.1,
               chunk_size: int = 5_000) -> Optional[TopicResult]:
    """Fit NMF topics over the TF-IDF of per-article term lists.

    Parameters
    ----------
    term_lists : sequence of sequences of str
        Per-article terms (:func:`pipeline.extract.keywords.keyword_terms`).
    min_articles : int, default 50
        Below this many articles no model is fitted and ``None`` is returned.
    n_topics : int, optional
        Number of topics; default :func:`default_n_topics` of the corpus size.
    random_state : int, default 0
    top_terms : int, default 10
        Terms listed per topic.
    min_df, max_df, max_features :
        Vocabulary of the TF-IDF (scikit-learn's meaning): a term must occur
        in ``min_df`` articles and at most a ``max_df`` fraction of them, so
        one article's names and the corpus's filler words do not make topics.
    max_fit_articles : int, default 2000
        Larger corpora are fitted on a deterministic sample of this size and
        all articles are then transformed chunk by chunk, which bounds memory.
    min_weight : float, default 0.1
        Smallest article share of a topic written to ``article_topics``.
    chunk_size : int, default 5000
        Articles transformed at a time.

    Returns
    -------
    TopicResult or None
        ``None`` when there are fewer than ``min_articles`` articles, or too few
        shared terms to fit ``n_topics`` topics.
    """
    n_articles = len(term_lists)
    if n_articles < max(min_articles, 2):
        return None
    NMF, ConvergenceWarning, TfidfVectorizer = import_estimators()

    k = int(n_topics) if n_topics else default_n_topics(n_articles)
    if k < 1:
        raise ValueError(f"n_topics must be at least 1, got {n_topics!r}")

    if n_articles > max_fit_articles:
        rng = np.random.RandomState(random_state)
        fit_index = np.sort(rng.choice(n_articles, size=max_fit_articles, replace=False))
    else:
        fit_index = np.arange(n_articles)
    fit_docs = [list(term_lists[i]) for i in fit_index]

    vectorizer = TfidfVectorizer(analyzer=_identity, lowercase=False, min_df=min_df,
                                 max_df=max_df, max_features=max_features,
                                 sublinear_tf=True, norm="l2")
    try:
        X_fit = vectorizer.fit_transform(fit_docs)
    except ValueError:  # no term passes min_df / max_df: nothing to model
        return None
    vocabulary = vectorizer.get_feature_names_out()
    k = min(k, len(vocabulary), X_fit.shape[0])
    if k < 1 or X_fit.nnz == 0:
        return None

    model = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=500)
    with warnings.catch_warnings():
        # a topic summary does not need full convergence; the result is still deterministic
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        W_fit = model.fit_transform(X_fit)
        if n_articles == len(fit_index):
            W = W_fit
        else:
            W = np.vstack([model.transform(vectorizer.transform(
                [list(t) for t in term_lists[lo:lo + chunk_size]]))
                for lo in range(0, n_articles, chunk_size)])

    # number topics by prevalence, so topic 0 is what the corpus is most about
    order = sorted(range(k), key=lambda j: (-float(W[:, j].sum()), j))
    components = model.components_
    topics, labels = [], []
    for new_id, j in enumerate(order):
        row = components[j]
        # stable sort on a sorted vocabulary: weight descending, then term
        ranked = np.argsort(-row, kind="stable")
        terms = [(vocabulary[i], float(row[i])) for i in ranked[:top_terms] if row[i] > 0]
        for rank, (term, weight) in enumerate(terms):
            topics.append({"topic": new_id, "rank": rank, "term": str(term),
                           "weight": round(weight, 6)})
        labels.append("、".join(str(t) for t, _ in terms[:3]))

    W = W[:, order]
    totals = W.sum(axis=1, keepdims=True)
    shares = np.divide(W, totals, out=np.zeros_like(W), where=totals > 0)
    articles, topic_ids = np.nonzero(shares >= max(min_weight, 1e-12))
    article_topics = [{"article_index": int(a), "topic": int(t),
                       "weight": round(float(shares[a, t]), 4)}
                      for a, t in zip(articles, topic_ids)]
    return TopicResult(n_topics=k, n_articles=n_articles, n_fit_articles=len(fit_index),
                       topics=topics, article_topics=article_topics, labels=labels)


__all__ = ["TopicResult", "fit_topics", "default_n_topics", "import_estimators"]
