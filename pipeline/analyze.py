"""The per-article stages, as one pure function.

``analyze_article`` depends only on its arguments (and read-only data files),
so it can run in this process, in a pool of worker processes, or on a Dask
worker and give the same result.  What a run's configuration says about the
per-article stages travels with it as an :class:`AnalysisSettings`: small,
frozen and picklable, so it crosses process boundaries and is part of the
cache key.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from pipeline.config import DATA_DIR, Config, load_config
from pipeline.extract.dates import resolve_base_date
from pipeline.extract.figures import extract_figures
from pipeline.extract.keywords import keyword_terms, load_domain_phrases, load_stopwords
from pipeline.extract.orgs import extract_orgs
from pipeline.extract.orgs_lexicon import load_lexicon
from pipeline.extract.themes import load_taxonomy, score_themes
from pipeline.model import Article, ArticleAnalysis
from pipeline.segment import (_jieba, default_dictionary, read_user_dictionary, resolve_engine,
                              segment)

#: ``[themes]`` keys that tune theme scoring (see ``pipeline.extract.themes.Taxonomy``)
_THEME_THRESHOLDS = (("min_score", float), ("relative_min", float), ("max_themes", int))


@dataclass(frozen=True)
class AnalysisSettings:
    """What the per-article stages take from a run's configuration.

    Attributes
    ----------
    user_dictionary : str or None
        jieba user dictionary (``[segment] user_dictionary``).
    engine : str
        Segmentation engine (``[segment] engine``).
    stopwords : str or None
        Stopword file (``[keywords] stopwords``); None means no stopwords.
    taxonomies : tuple of str
        Theme taxonomy files: ``--themes FILE``, else ``[themes] taxonomies``.
    min_score, relative_min, max_themes : optional
        Theme thresholds a user's config set; None keeps the taxonomy's own
        (its ``[taxonomy]`` table, else the shipped defaults).
    """
    user_dictionary: Optional[str]
    engine: str
    stopwords: Optional[str]
    taxonomies: tuple
    min_score: Optional[float] = None
    relative_min: Optional[float] = None
    max_themes: Optional[int] = None
    #: folder of the organization data files (``[orgs] data_dir``); None: the shipped one
    orgs_data: Optional[str] = None

    @classmethod
    def from_config(cls, config: Optional[Config] = None, *,
                    themes_path: Optional[str] = None) -> "AnalysisSettings":
        """The settings of ``config`` (the defaults when None), ``--themes`` first."""
        config = config or load_config()
        shipped = load_config()

        def path(section: str, key: str) -> Optional[str]:
            p = config.path(section, key)
            return str(p) if p else None

        if themes_path:
            taxonomies = (str(themes_path),)
        else:
            raw = config.get("themes", "taxonomies") or []
            if not raw:
                raise ValueError("[themes] taxonomies names no theme taxonomy file")
            raw = [raw] if isinstance(raw, str) else list(raw)
            base = config.origins.get(("themes", "taxonomies"), DATA_DIR)
            taxonomies = tuple(str(Path(p) if Path(p).is_absolute() else base / p)
                               for p in map(str, raw))
        # A threshold the user's own config sets wins over a taxonomy file's
        # [taxonomy] table; one left at the shipped default does not.
        thresholds = {}
        for key, kind in _THEME_THRESHOLDS:
            origin = config.origins.get(("themes", key))
            if origin is not None and origin != shipped.origins.get(("themes", key)):
                thresholds[key] = _number(config.get("themes", key), kind, key)
        return cls(user_dictionary=path("segment", "user_dictionary"),
                   engine=str(config.get("segment", "engine", "auto") or "auto"),
                   stopwords=path("keywords", "stopwords"), taxonomies=taxonomies,
                   orgs_data=path("orgs", "data_dir"), **thresholds)

    def files(self) -> list[str]:
        """The files these settings read (for the cache key)."""
        orgs = sorted(str(p) for p in Path(self.orgs_data).rglob("*") if p.is_file()) \
            if self.orgs_data and Path(self.orgs_data).is_dir() else []
        return [f for f in (self.user_dictionary, self.stopwords, *self.taxonomies, *orgs) if f]

    def check(self) -> None:
        """Read every file once; a ValueError names the file and what is wrong.

        Run before any article is analysed, so a bad setting stops the run
        instead of failing every article.  The files read here stay cached in
        this process (and in the worker processes forked from it).
        """
        try:
            resolve_engine(self.engine)
        except ValueError as exc:
            raise ValueError(f"[segment] engine: {exc}") from exc
        if self.user_dictionary:
            read_user_dictionary(self.user_dictionary)
        _stopwords(self.stopwords)
        _taxonomy(self.taxonomies)
        load_lexicon(self.orgs_data)

    def preload(self) -> None:
        """Load every dictionary the per-article stages use, in this process.

        A process about to fork workers calls this: the workers then share
        one copy of each, read once, instead of each reading its own on its
        first article (jieba's dictionary, which the fast engine falls back
        on, takes half a second to read).
        """
        self.check()
        user_dictionary = self.user_dictionary or default_dictionary()
        segment("", user_dictionary=user_dictionary, engine=self.engine)
        # jieba itself: the only engine, or the one rjieba's cut falls back on
        # around the (few) places the two may cut differently.
        _jieba(user_dictionary)

    def as_dict(self) -> dict:
        return asdict(self)


def _number(value, kind, key: str):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"[themes] {key} must be a non-negative number, got {value!r}")
    return kind(value)


@lru_cache(maxsize=4)
def _taxonomy(paths: tuple):
    # Loaded once per process, not once per article.
    return load_taxonomy(list(paths))


def _stopwords(path: Optional[str]) -> frozenset:
    return load_stopwords(path) if path else frozenset()


def analyze_article(article: Article, *, base_date: Optional[str] = None,
                    themes_path: Optional[str] = None,
                    settings: Optional[AnalysisSettings] = None) -> ArticleAnalysis:
    """Segment one article and extract its figures, mentions, terms and themes.

    Parameters
    ----------
    article : Article
        The article; every offset in the result indexes ``article.text``.
    base_date : str, optional
        The run's ``--base-date``, used when the article has no date of its own.
    themes_path : str, optional
        A theme taxonomy file; the configured default when None.  Ignored
        when ``settings`` is given (they carry the taxonomy).
    settings : AnalysisSettings, optional
        The run's configuration of these stages; the shipped defaults (with
        ``themes_path``) when None.
    """
    if settings is None:
        settings = _default_settings(themes_path)
    text = article.text
    base, base_source = resolve_base_date(article, default=base_date)
    tokens = segment(text, user_dictionary=settings.user_dictionary, engine=settings.engine)
    figures = extract_figures(text, base_date=base, exclude=article.garbled)
    mentions = extract_orgs(text, tokens=tokens, exclude=article.garbled,
                            data_dir=settings.orgs_data)
    domain_phrases = (load_domain_phrases(settings.user_dictionary) if settings.user_dictionary
                      else frozenset())
    terms = keyword_terms(tokens, stopwords=_stopwords(settings.stopwords),
                          domain_phrases=domain_phrases, exclude_spans=article.garbled)
    themes = score_themes(text, tokens, taxonomy=_taxonomy(settings.taxonomies),
                          min_score=settings.min_score, relative_min=settings.relative_min,
                          max_themes=settings.max_themes, exclude_spans=article.garbled)
    return ArticleAnalysis(article=article, base_date=base, base_date_source=base_source,
                           figures=figures, mentions=mentions, terms=terms, themes=themes)


@lru_cache(maxsize=4)
def _default_settings(themes_path: Optional[str]) -> AnalysisSettings:
    return AnalysisSettings.from_config(load_config(), themes_path=themes_path)
