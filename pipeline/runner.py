"""Orchestration: read -> analyze each article -> corpus steps -> tables -> report.

The per-article work (``pipeline.analyze.analyze_article``) is pure; this
module only decides where it runs and gathers the results in input order, so
the output does not depend on the number of workers.
"""
from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import partial
from itertools import starmap
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Optional, Sequence

from pipeline import atomic
from pipeline.analyze import AnalysisSettings, analyze_article
from pipeline.cache import CACHE_FILE, KEEP_CONTEXTS, AnalysisCache, context_fingerprint
from pipeline.config import Config, load_config
from pipeline.engine import Engine, available_cores
from pipeline.corpus import CorpusTables
from pipeline.extract.dates import is_iso_date
from pipeline.ingest import read_documents
from pipeline.model import Article, ArticleAnalysis, Document, Figure, Mention
from pipeline.review import load_reviews
from pipeline import tables as T

#: articles looked up in the cache at a time (one SQLite query, one commit)
CACHE_BATCH = 256
#: net allocations between two young-generation collections during a run (Python's
#: default: 700); see _collector_for_batch
GC_YOUNG_THRESHOLD = 10_000


@dataclass
class RunResult:
    """What a run produced: where its tables are, and counts for the closing summary.

    ``tables`` maps table names to DataFrames read from the output's Parquet
    files on access (:class:`pipeline.tables.TableSet`); nothing of the
    corpus is held in memory.
    """
    tables: Mapping
    #: documents that were not simply read (status other than ok, or a message)
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    #: what the editors' reviews did (pipeline.review.ReviewTally.summary)
    reviews: dict = field(default_factory=dict)
    seconds: float = 0.0
    n_documents: int = 0
    n_articles: int = 0
    n_characters: int = 0
    #: articles whose per-article work came from the cache
    cached: int = 0
    #: what recovery did with a previous run that was killed ("finished", "discarded", "")
    recovered: str = ""
    #: (article_id, message) of articles whose analysis raised; kept with empty results
    failures: list = field(default_factory=list)
    #: seconds spent in each phase of the run (written to run_log.jsonl only)
    phases: dict = field(default_factory=dict)

    @property
    def documents(self) -> list:
        """Every document of the run (path, status, message, ...), from the documents table."""
        from types import SimpleNamespace
        frame = self.tables["documents"]
        import pandas as pd
        return [SimpleNamespace(**{k: (None if pd.isna(v) else v) for k, v in row.items()})
                for row in frame.astype(object).to_dict("records")]


class InvalidSettings(ValueError):
    """A run setting (``--themes``, a config file's values) that cannot be used.

    Raised by :func:`run` before it touches the output folder, so the previous
    output stays as it was.  ``from_config`` tells whether the value came
    from the configuration (rather than a ``run`` argument).
    """

    def __init__(self, message: str, *, from_config: bool):
        super().__init__(message)
        self.from_config = from_config


class AnalysisFailed:
    """What a worker returns when ``analyze_article`` raised on one article."""
    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


_figure_values = attrgetter(*(f.name for f in fields(Figure)))
_mention_values = attrgetter(*(f.name for f in fields(Mention)))


def _analyze_detached(article: Article, *, base_date: Optional[str],
                      settings: AnalysisSettings, packed: bool = False):
    """``analyze_article`` without the article in the result.

    The caller has the article already: not sending its text back from a
    worker halves what crosses process boundaries.  With ``packed`` the
    result is a tuple of plain values (:func:`_attach` rebuilds the
    analysis): figures and mentions as tuples of their fields pickle to
    fewer bytes and unpickle in about half the time of the objects, and the
    parent, which unpickles every result, is the busy process of a run with
    workers.  An exception on one article is returned, not raised: one bad
    article must not lose a long run.
    """
    try:
        a = analyze_article(article, base_date=base_date, settings=settings)
    except Exception as exc:  # noqa: BLE001 - reported per article, never hidden
        return AnalysisFailed(f"{type(exc).__name__}: {exc}"[:500])
    if not packed:
        a.article = None
        return a
    return (a.base_date, a.base_date_source, list(map(_figure_values, a.figures)),
            list(map(_mention_values, a.mentions)), a.terms, a.themes)


def _attach(packed: tuple, article: Optional[Article]) -> ArticleAnalysis:
    """The :class:`ArticleAnalysis` of a packed result of :func:`_analyze_detached`."""
    base, source, figures, mentions, terms, themes = packed
    return ArticleAnalysis(article=article, base_date=base, base_date_source=source,
                           figures=list(starmap(Figure, figures)),
                           mentions=list(starmap(Mention, mentions)), terms=terms, themes=themes)


def _empty_analysis(article: Article, base_date: Optional[str]) -> ArticleAnalysis:
    """The row of an article whose analysis failed: its date, nothing extracted."""
    from pipeline.extract.dates import resolve_base_date
    try:
        base, source = resolve_base_date(article, default=base_date)
    except Exception:  # noqa: BLE001 - the article already failed once; keep it dateless
        base, source = None, None
    return ArticleAnalysis(article=None, base_date=base, base_date_source=source,
                           figures=[], mentions=[], terms=[], themes=[])


class _Planned:
    __slots__ = ("article", "key", "analysis")

    def __init__(self, article: Article, key: str, analysis: Optional[ArticleAnalysis]):
        self.article, self.key, self.analysis = article, key, analysis


def analyze_stream(articles: Iterable[Article], *, engine: Engine, cache: AnalysisCache,
                   base_date: Optional[str], themes_path: Optional[str] = None,
                   settings: Optional[AnalysisSettings] = None,
                   progress=None, failures: Optional[list] = None) -> Iterator[ArticleAnalysis]:
    """Each article's analysis, in input order: from the cache, else computed by ``engine``.

    Articles are looked up in batches; the ones missing are streamed to the
    engine, whose results are merged back in order and stored in the cache.
    Nothing here holds more than a few batches of articles at once.  An
    article whose analysis raised keeps its row with no figures, mentions,
    terms or themes; ``(article_id, message)`` goes to ``failures`` and
    nothing to the cache.  ``settings`` are the run's per-article settings
    (the shipped configuration with ``themes_path`` when None).
    """
    if settings is None:
        settings = AnalysisSettings.from_config(load_config(), themes_path=themes_path)
    work = partial(_analyze_detached, base_date=base_date, settings=settings,
                   packed=not engine.in_process)
    planned: deque = deque()
    batch: list = []

    def plan(items: list) -> list:
        # without a cache no key is needed (hashing every article costs time)
        keys = [cache.key(a) for a in items] if cache.enabled else [""] * len(items)
        found = cache.get_many(keys) if cache.enabled else {}
        entries = [_Planned(a, k, found.get(k)) for a, k in zip(items, keys)]
        planned.extend(entries)
        return [p.article for p in entries if p.analysis is None]

    def missing() -> Iterator[Article]:
        # The consumer pops ``planned`` while this generator runs, so each
        # batch yields from its own list.
        for article in articles:
            batch.append(article)
            if len(batch) >= CACHE_BATCH:
                todo = plan(batch)
                batch.clear()
                yield from todo
        if batch:
            todo = plan(batch)
            batch.clear()
            yield from todo

    def emit(p: _Planned) -> ArticleAnalysis:
        p.analysis.article = p.article
        if progress is not None:
            progress.update(len(p.article.text))
        return p.analysis

    done_since_commit = 0
    for result in engine.map(work, missing()):
        while planned[0].analysis is not None:
            yield emit(planned.popleft())
        p = planned.popleft()
        if isinstance(result, AnalysisFailed):
            if failures is not None:
                failures.append((p.article.article_id, result.message))
            result = _empty_analysis(p.article, base_date)
        else:
            if isinstance(result, tuple):
                result = _attach(result, None)
            cache.put(p.key, result)
        p.analysis = result
        done_since_commit += 1
        if done_since_commit >= CACHE_BATCH:
            cache.commit()
            done_since_commit = 0
        yield emit(p)
    cache.commit()
    while planned:
        yield emit(planned.popleft())


def build_tables(documents: Sequence[Document], analyses: Sequence[ArticleAnalysis],
                 *, config: Config) -> tuple[dict, list]:
    """The tables of in-memory results, as DataFrames, and the notes of the corpus steps.

    For notebooks and tests: a run streams its results through
    :class:`pipeline.corpus.CorpusTables` instead.  ``documents`` are written
    as given; ``analyses`` carry their articles.
    """
    import tempfile
    with tempfile.TemporaryDirectory(prefix="tables-") as tmp:
        with CorpusTables(Path(tmp), config=config) as corpus:
            for d in documents:
                corpus.add_document(d)
            for an in analyses:
                corpus.add(an)
            notes = corpus.finish()
        tables = T.TableSet(Path(tmp))
        return {name: tables[name] for name in tables}, notes


def run(inputs: Sequence[str], output: str, *, base_date: Optional[str] = None,
        workers: Optional[int] = None, themes_path: Optional[str] = None,
        reviews_dir: Optional[str] = "reviews", engine: str = "local",
        scheduler: Optional[str] = None, config: Optional[Config] = None,
        progress: bool = False, cache_dir: Optional[str] = None,
        use_cache: bool = True) -> RunResult:
    """Run the whole pipeline on ``inputs`` and write everything under ``output``.

    Parameters
    ----------
    inputs : list of str
        Files or folders.
    output : str
        Output folder: ``tables/``, ``review/``, ``briefing.html``, ``briefing.md``,
        ``run_log.jsonl``.  Everything is written into ``output/.staging`` and
        published only when complete (:mod:`pipeline.atomic`), under a lock
        that keeps a second run off the folder.
    base_date : str, optional
        ISO date for documents that carry no date of their own.
    workers : int, optional
        Processes for the per-article stages; all cores when None or 0.
    reviews_dir : str, optional
        Folder of editors' review sheets to apply (read only; missing is fine).
    engine : {"local", "dask"}
        Where the per-article stages run; ``scheduler`` is a Dask scheduler
        address (a LocalCluster of ``workers`` processes when None).
    progress : bool
        Show a progress bar on stderr.
    cache_dir : str, optional
        Folder of the per-article cache; ``output/.cache`` when None.
    use_cache : bool
        False runs every article afresh and leaves the cache alone.

    Raises
    ------
    InvalidSettings
        When ``themes_path``, a file the config names or ``[run] base_date``
        cannot be used; raised before the output folder is touched.
    pipeline.atomic.OutputBusy
        When another run is using ``output``.
    """
    config = config or load_config()
    started = time.monotonic()
    _use_system_allocator()
    workers = workers or int(config.get("run", "workers", 0) or 0) or available_cores()
    settings, base_date = check_settings(config, themes_path=themes_path, base_date=base_date)
    with _collector_for_batch():
        return _locked_run(inputs, Path(output), started=started, base_date=base_date,
                           workers=workers, settings=settings, reviews_dir=reviews_dir,
                           engine=engine, scheduler=scheduler, config=config, progress=progress,
                           cache_dir=cache_dir, use_cache=use_cache)


@contextmanager
def _collector_for_batch():
    """Tune the cyclic garbage collector for a run; restore its settings after.

    Nearly all of a run's garbage (tokens, spans, rows) is freed by reference
    counting as each article is done; what the collector costs is walking
    live objects.  Two changes keep it from walking the same ones again and
    again, in this process and in the worker processes forked from it:

    * the modules, dictionaries and lexicons loaded before the run are
      frozen (``gc.freeze``): they live as long as the process, and every
      full collection would otherwise traverse them all;
    * a young collection waits for ``GC_YOUNG_THRESHOLD`` allocations
      instead of 700, so an article's objects are mostly gone before one
      runs, rather than surviving into older generations that later full
      collections walk.

    On the 6,720-article benchmark corpus (one worker) this cut the time
    spent collecting from 2.0 to 0.9 s, with the same peak memory.
    """
    threshold = gc.get_threshold()
    # A caller that froze objects itself (a benchmark) keeps its own freezing.
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if freeze:
            gc.unfreeze()  # the frozen objects join the oldest generation again


def _use_system_allocator() -> None:
    """Let Arrow allocate with malloc, which gives memory back when tables are freed.

    Arrow's own pools (jemalloc, mimalloc) keep what a table read once used;
    reading the figures table for the briefing would then stay in the run's
    memory and make it grow with the corpus.  ``ARROW_DEFAULT_MEMORY_POOL``
    set by the user wins.
    """
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        import pyarrow
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())


def cache_contexts(config: Config) -> int:
    """``[run] cache_contexts``: how many contexts the per-article cache keeps.

    Raises
    ------
    InvalidSettings
        When it is not a whole number of at least 1.
    """
    value = config.get("run", "cache_contexts", KEEP_CONTEXTS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidSettings(f"[run] cache_contexts = {value!r} is not a whole number of at "
                              "least 1", from_config=True)
    return value


def check_settings(config: Config, *, themes_path: Optional[str] = None,
                   base_date: Optional[str] = None) -> tuple[AnalysisSettings, Optional[str]]:
    """The run's per-article settings and base date, every file they name read once.

    Raises
    ------
    InvalidSettings
        Naming the file or setting and what is wrong with it.
    """
    if not base_date:
        configured = config.get("run", "base_date") or None
        if configured is not None and not is_iso_date(configured):
            raise InvalidSettings(f"[run] base_date = {configured!r} is not a date "
                                  "(YYYY-MM-DD, YYYY-MM or YYYY)", from_config=True)
        base_date = configured
    elif not is_iso_date(base_date):
        raise InvalidSettings(f"base date {base_date!r} is not a date (YYYY-MM-DD, YYYY-MM "
                              "or YYYY)", from_config=False)
    cache_contexts(config)
    try:
        settings = AnalysisSettings.from_config(config, themes_path=themes_path)
        settings.check()
    except (OSError, ValueError) as exc:
        where = "--themes: " if themes_path and str(themes_path) in str(exc) else ""
        raise InvalidSettings(f"{where}{exc}", from_config=not where) from exc
    return settings, base_date


def _locked_run(inputs, out: Path, *, started: float, base_date, workers, settings,
                reviews_dir, engine, scheduler, config, progress, cache_dir,
                use_cache) -> RunResult:
    with atomic.OutputLock(out):
        recovered = atomic.recover(out)
        staging = atomic.begin(out)
        try:
            result = _run_into(staging, inputs, out=out, base_date=base_date, workers=workers,
                               settings=settings, reviews_dir=reviews_dir,
                               engine=engine, scheduler=scheduler, config=config,
                               progress=progress, cache_dir=cache_dir, use_cache=use_cache)
            result.recovered = recovered
            result.seconds = time.monotonic() - started
            _write_run_log(staging, result)
            atomic.commit(out)
        except BaseException:
            atomic.discard(out)
            raise
    result.tables.folder = out / "tables"  # published: read the tables where they now are
    return result


def _run_into(staging: Path, inputs: Sequence[str], *, out: Path, base_date, workers,
              settings, reviews_dir, engine, scheduler, config, progress, cache_dir,
              use_cache) -> RunResult:
    cache_folder = Path(cache_dir) if cache_dir else out / ".cache"
    # Reviews are read first: they are applied to figure rows as those are written.
    reviews = load_reviews(Path(reviews_dir)) if reviews_dir else None
    tables_dir = staging / "tables"
    problems: list = []
    # With workers on other cores this process only gathers their results:
    # it writes the streamed tables and review sheets through a process of
    # their own, and runs the corpus steps beside the topic model.
    parallel = workers > 1 and available_cores() > 1
    with CorpusTables(tables_dir, config=config, reviews=reviews,
                      review_dir=staging / "review", writer_process=parallel) as corpus:

        def articles() -> Iterator[Article]:
            # The output and cache folders are never input, even inside an input folder.
            for d in read_documents(inputs, config=config, exclude=[out, cache_folder]):
                corpus.add_document(d)
                if d.status != "ok" or d.message:
                    problems.append(Document(doc_id=d.doc_id, path=d.path, format=d.format,
                                             status=d.status, encoding=d.encoding,
                                             message=d.message, characters=d.characters,
                                             date=d.date))
                yield from d.articles

        context = context_fingerprint(
            # [run] and [report] settings change no article's analysis (the base
            # date is an option below), so editing them keeps the cache.
            config_values={k: dict(v) for k, v in config.values.items()
                           if k not in ("run", "report")},
            files=settings.files(),
            options={"base_date": base_date, "settings": settings.as_dict()})
        cache = AnalysisCache(cache_folder / CACHE_FILE if use_cache else None, context=context,
                              keep_contexts=cache_contexts(config))
        bar = _progress_bar(progress)
        failures: list = []
        clock = time.monotonic()
        if engine == "local" and workers > 1:
            settings.preload()  # before the workers fork: one copy of the dictionaries for all
        try:
            with Engine(engine, workers=workers, scheduler=scheduler, cost=_article_cost) as eng:
                for analysis in analyze_stream(articles(), engine=eng, cache=cache,
                                               base_date=base_date, settings=settings,
                                               progress=bar, failures=failures):
                    corpus.add(analysis)
        finally:
            cache.close()
            if bar is not None:
                bar.close()
        phases = {"read_analyze_write": time.monotonic() - clock}
        clock = time.monotonic()
        result = RunResult(tables=T.TableSet(tables_dir), problems=problems,
                           n_documents=corpus.n_documents, n_articles=corpus.n_articles,
                           n_characters=corpus.n_characters, cached=cache.hits,
                           failures=failures, phases=phases)

        def briefing(notes: list) -> None:
            # Called once every table the briefing reads is written (and the
            # review tally is final); with a second core the topic model is
            # still being fitted meanwhile.
            nonlocal clock
            phases["corpus_steps"] = time.monotonic() - clock
            clock = time.monotonic()
            result.reviews = corpus.tally.summary()
            result.notes = list(notes)
            corpus.run_in_writer(_render, result, notes, staging, config)
            phases["briefing"] = time.monotonic() - clock
            clock = time.monotonic()

        notes = corpus.finish(parallel=parallel, then=briefing, prepare=_prepare_briefing)
        phases["waiting_for_topics"] = time.monotonic() - clock
        if notes != result.notes:
            # the topic model found too few shared terms: the briefing shows its note
            clock = time.monotonic()
            _render(result, notes, staging, config)
            phases["briefing"] += time.monotonic() - clock
    return result


def _prepare_briefing() -> None:
    from pipeline.report import prepare_briefing
    prepare_briefing()


def _render(result: "RunResult", notes: list, staging: Path, config: Config) -> None:
    # Imported here, not with this module: the report stage imports matplotlib,
    # which nothing before it needs (nor the worker processes).  Run where the
    # streamed tables are written (CorpusTables.run_in_writer), and so pickled
    # there by name: a function of this module, not of the report's.
    from pipeline.report import render_briefing
    result.notes = list(notes)
    render_briefing(result, staging, config=config)


def _article_cost(article: Article) -> int:
    return len(article.text)


def _progress_bar(enabled: bool):
    """A tqdm bar counting characters, only when asked for and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(unit="char", unit_scale=True, desc="articles", file=sys.stderr, leave=False)


def _write_run_log(out: Path, result: RunResult) -> None:
    """One JSON line per document that was not simply ok, then a summary line."""
    with open(out / "run_log.jsonl", "w", encoding="utf-8") as fh:
        for d in result.problems:
            fh.write(json.dumps({"event": "document", "path": d.path, "status": d.status,
                                 "message": d.message}, ensure_ascii=False) + "\n")
        for article_id, message in result.failures:
            fh.write(json.dumps({"event": "article_failed", "article_id": article_id,
                                 "message": message, "action": "kept without figures, "
                                 "mentions, terms or themes"}, ensure_ascii=False) + "\n")
        if result.recovered:
            fh.write(json.dumps({"event": "recovered", "previous_run": result.recovered},
                                ensure_ascii=False) + "\n")
        fh.write(json.dumps({"event": "summary", "articles": result.n_articles,
                             "characters": result.n_characters, "cached": result.cached,
                             "seconds": round(result.seconds, 3),
                             "phases": {k: round(v, 3) for k, v in result.phases.items()}},
                            ensure_ascii=False) + "\n")


def summary_line(result: RunResult) -> str:
    secs = max(result.seconds, 1e-9)
    cached = f" ({result.cached} from cache)" if result.cached else ""
    return (f"{result.n_articles} articles{cached}, {result.n_characters} characters, "
            f"{result.seconds:.1f} s, {result.n_characters / secs:,.0f} characters/s")
