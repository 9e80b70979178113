"""The per-article stages, as one pure function.

``analyze_article`` depends only on its arguments (and read-only data files),
so it can run in this process, in a pool of worker processes, or on a Dask
worker and give the same result.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional

from pipeline.extract.dates import resolve_base_date
from pipeline.extract.figures import extract_figures
from pipeline.extract.keywords import keyword_terms
from pipeline.extract.orgs import extract_orgs
from pipeline.extract.themes import load_taxonomy, score_themes
from pipeline.model import Article, ArticleAnalysis
from pipeline.segment import segment


@lru_cache(maxsize=4)
def _taxonomy(path: Optional[str]):
    # Loaded once per process, not once per article.
    return load_taxonomy(path)


def analyze_article(article: Article, *, base_date: Optional[str] = None,
                    themes_path: Optional[str] = None) -> ArticleAnalysis:
    """Segment one article and extract its figures, mentions, terms and themes.

    Parameters
    ----------
    article : Article
        The article; every offset in the result indexes ``article.text``.
    base_date : str, optional
        The run's ``--base-date``, used when the article has no date of its own.
    themes_path : str, optional
        A theme taxonomy file; the configured default when None.
    """
    text = article.text
    base, base_source = resolve_base_date(article, default=base_date)
    tokens = segment(text)
    figures = extract_figures(text, base_date=base, exclude=article.garbled)
    mentions = extract_orgs(text, tokens=tokens, exclude=article.garbled)
    terms = keyword_terms(tokens, exclude_spans=article.garbled)
    themes = score_themes(text, tokens, taxonomy=_taxonomy(themes_path), exclude_spans=article.garbled)
    return ArticleAnalysis(article=article, base_date=base, base_date_source=base_source,
                           figures=figures, mentions=mentions, terms=terms, themes=themes)
