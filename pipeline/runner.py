"""Orchestration: read -> analyze each article -> corpus steps -> tables -> report.

The per-article work (``pipeline.analyze.analyze_article``) is pure; this
module only decides where it runs and gathers the results in input order, so
the output does not depend on the number of workers.
"""
from __future__ import annotations

import gc
import json
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

from pipeline import atomic
from pipeline.analyze import AnalysisSettings, analyze_article
from pipeline.cache import CACHE_FILE, AnalysisCache, context_fingerprint
from pipeline.config import Config, load_config
from pipeline.engine import Engine, available_cores
from pipeline.extract.dates import is_iso_date
from pipeline.extract.keywords import corpus_keywords
from pipeline.extract.orgs import resolve_organizations
from pipeline.extract.themes import theme_shares, themes_by_month
from pipeline.extract.topics import fit_topics
from pipeline.ingest import read_documents
from pipeline.model import Article, ArticleAnalysis, Document
from pipeline.review import apply_reviews, load_reviews, write_review_outputs
from pipeline import tables as T

#: articles looked up in the cache at a time (one SQLite query, one commit)
CACHE_BATCH = 256


@dataclass
class RunResult:
    """What a run produced: the tables, and counts for the closing summary."""
    tables: dict
    documents: list
    analyses: list
    notes: list = field(default_factory=list)
    #: what the editors' reviews did (pipeline.review.apply_reviews)
    reviews: dict = field(default_factory=dict)
    seconds: float = 0.0
    #: articles whose per-article work came from the cache
    cached: int = 0
    #: what recovery did with a previous run that was killed ("finished", "discarded", "")
    recovered: str = ""
    #: (article_id, message) of articles whose analysis raised; kept with empty results
    failures: list = field(default_factory=list)
    #: seconds spent in each phase of the run (written to run_log.jsonl only)
    phases: dict = field(default_factory=dict)

    @property
    def n_articles(self) -> int:
        return len(self.analyses)

    @property
    def n_characters(self) -> int:
        return sum(len(a.article.text) for a in self.analyses)


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


def _analyze_detached(article: Article, *, base_date: Optional[str],
                      settings: AnalysisSettings):
    """``analyze_article`` without the article in the result.

    The caller has the article already; not sending its text back from a
    worker (or into the cache) halves what crosses process boundaries.  An
    exception on one article is returned, not raised: one bad article must
    not lose a long run.
    """
    try:
        analysis = analyze_article(article, base_date=base_date, settings=settings)
    except Exception as exc:  # noqa: BLE001 - reported per article, never hidden
        return AnalysisFailed(f"{type(exc).__name__}: {exc}"[:500])
    analysis.article = None
    return analysis


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
    work = partial(_analyze_detached, base_date=base_date, settings=settings)
    planned: deque = deque()
    batch: list = []

    def plan(items: list) -> list:
        keys = [cache.key(a) for a in items]
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
    """Corpus-level steps over the per-article results, as the output tables."""
    notes = []
    figure_rows, mention_rows, theme_rows = [], [], []
    by_article = {}
    for an in analyses:
        figure_rows.extend(T.figure_rows(an))
        by_article[an.article.article_id] = an.mentions
        theme_rows.extend(dict(r, article_id=an.article.article_id) for r in an.themes)
    orgs_dir = config.path("orgs", "data_dir")
    organizations, resolved = resolve_organizations(
        by_article, data_dir=str(orgs_dir) if orgs_dir else None)
    for an in analyses:
        mention_rows.extend(T.mention_rows(an.article.article_id,
                                           resolved.get(an.article.article_id, [])))
    term_lists = [an.terms for an in analyses]
    keywords = corpus_keywords(term_lists, top_n=int(config.get("report", "top_keywords", 30)))
    dates = {an.article.article_id: an.base_date for an in analyses}
    min_articles = int(config.get("themes", "topic_min_articles", 50))
    topics = fit_topics(term_lists, min_articles=min_articles,
                        n_topics=int(config.get("themes", "n_topics", 0) or 0) or None,
                        top_terms=int(config.get("themes", "topic_terms", 10)))
    topic_rows, article_topic_rows = [], []
    if topics is None:
        if len(analyses) < max(min_articles, 2):
            notes.append(f"主题模型（NMF）需要至少 {max(min_articles, 2)} 篇文章，"
                         "本期文章较少，已跳过。")
        else:
            notes.append("主题模型（NMF）：文章之间共享的词语太少，无法建模，已跳过。")
    else:
        topic_rows = topics.topic_rows()
        ids = [an.article.article_id for an in analyses]
        article_topic_rows = [dict(r, article_id=ids[r["article_index"]])
                              for r in topics.article_topic_rows()]
    tables = {
        "documents": T.frame("documents", T.document_rows(documents)),
        "articles": T.frame("articles", T.article_rows(analyses)),
        "figures": T.frame("figures", T.disambiguate_figure_ids(figure_rows)),
        "organizations": T.frame("organizations", [
            dict(o, aliases="|".join(o["aliases"])) for o in organizations]),
        "mentions": T.frame("mentions", mention_rows),
        "keywords": T.frame("keywords", keywords),
        "article_themes": T.frame("article_themes", [
            dict(r, evidence="|".join(r.get("evidence", []))) for r in theme_rows]),
        "themes": T.frame("themes", theme_shares(theme_rows, len(analyses))),
        "themes_by_month": T.frame("themes_by_month", themes_by_month(theme_rows, dates)),
        "topics": T.frame("topics", topic_rows),
        "article_topics": T.frame("article_topics", article_topic_rows),
    }
    return tables, notes


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
    from pipeline.report import render_briefing  # the report stage imports matplotlib

    config = config or load_config()
    started = time.monotonic()
    workers = workers or int(config.get("run", "workers", 0) or 0) or available_cores()
    settings, base_date = check_settings(config, themes_path=themes_path, base_date=base_date)
    out = Path(output)
    # The run freezes its long-lived results for the garbage collector (see
    # _run_into); it gives them back unless the caller had frozen objects itself.
    thaw = gc.get_freeze_count() == 0
    try:
        return _locked_run(inputs, out, started=started, base_date=base_date, workers=workers,
                           settings=settings, reviews_dir=reviews_dir, engine=engine,
                           scheduler=scheduler, config=config, progress=progress,
                           cache_dir=cache_dir, use_cache=use_cache,
                           render_briefing=render_briefing)
    finally:
        if thaw:
            gc.unfreeze()


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
    try:
        settings = AnalysisSettings.from_config(config, themes_path=themes_path)
        settings.check()
    except (OSError, ValueError) as exc:
        where = "--themes: " if themes_path and str(themes_path) in str(exc) else ""
        raise InvalidSettings(f"{where}{exc}", from_config=not where) from exc
    return settings, base_date


def _locked_run(inputs, out: Path, *, started: float, base_date, workers, settings,
                reviews_dir, engine, scheduler, config, progress, cache_dir, use_cache,
                render_briefing) -> RunResult:
    with atomic.OutputLock(out):
        recovered = atomic.recover(out)
        staging = atomic.begin(out)
        try:
            result = _run_into(staging, inputs, out=out, base_date=base_date, workers=workers,
                               settings=settings, reviews_dir=reviews_dir,
                               engine=engine, scheduler=scheduler, config=config,
                               progress=progress, cache_dir=cache_dir, use_cache=use_cache,
                               render_briefing=render_briefing)
            result.recovered = recovered
            result.seconds = time.monotonic() - started
            _write_run_log(staging, result.documents, result)
            atomic.commit(out)
        except BaseException:
            atomic.discard(out)
            raise
    return result


def _run_into(staging: Path, inputs: Sequence[str], *, out: Path, base_date, workers,
              settings, reviews_dir, engine, scheduler, config, progress, cache_dir,
              use_cache, render_briefing) -> RunResult:
    documents: list = []
    cache_folder = Path(cache_dir) if cache_dir else out / ".cache"

    def articles() -> Iterator[Article]:
        # The output and cache folders are never input, even inside an input folder.
        for d in read_documents(inputs, config=config, exclude=[out, cache_folder]):
            documents.append(d)
            yield from d.articles

    context = context_fingerprint(
        # [run] and [report] settings change no article's analysis (the base
        # date is an option below), so editing them keeps the cache.
        config_values={k: dict(v) for k, v in config.values.items() if k not in ("run", "report")},
        files=settings.files(),
        options={"base_date": base_date, "settings": settings.as_dict()})
    cache_path = cache_folder / CACHE_FILE
    cache = AnalysisCache(cache_path if use_cache else None, context=context)
    bar = _progress_bar(progress)
    failures: list = []
    clock = time.monotonic()
    try:
        with Engine(engine, workers=workers, scheduler=scheduler, cost=_article_cost) as eng:
            analyses = []
            for analysis in analyze_stream(articles(), engine=eng, cache=cache,
                                           base_date=base_date, settings=settings,
                                           progress=bar, failures=failures):
                analyses.append(analysis)
                if len(analyses) % CACHE_BATCH == 0:
                    # The analyses live until the run ends; frozen, the cyclic
                    # garbage collector stops walking all of them again and
                    # again (a tenth of a long run's time).  run() unfreezes them.
                    gc.freeze()
    finally:
        cache.close()
        if bar is not None:
            bar.close()
    phases = {"read_and_analyze": time.monotonic() - clock}
    clock = time.monotonic()
    tables, notes = build_tables(documents, analyses, config=config)
    reviews = load_reviews(Path(reviews_dir)) if reviews_dir else None
    tables["figures"], review_summary = apply_reviews(tables["figures"], reviews)
    phases["corpus_steps"] = time.monotonic() - clock
    gc.freeze()  # the tables live to the end too
    clock = time.monotonic()
    result = RunResult(tables=tables, documents=documents, analyses=analyses, notes=notes,
                       reviews=review_summary, cached=cache.hits, failures=failures,
                       phases=phases)
    if workers > 1 and available_cores() > 1:
        # The tables and review sheets do not depend on the briefing: write
        # them in a second process while this one renders the briefing.
        with _in_child(_write_files, tables, staging, review_summary):
            render_briefing(result, staging, config=config)
    else:
        _write_files(tables, staging, review_summary)
        render_briefing(result, staging, config=config)
    phases["tables_reviews_briefing"] = time.monotonic() - clock
    return result


def _write_files(tables: dict, staging: Path, review_summary: dict) -> None:
    """The tables (CSV and Parquet) and the editors' review sheets, into ``staging``."""
    for name, df in tables.items():
        T.write_table(df, staging / "tables", name)
    write_review_outputs(tables, staging / "review", summary=review_summary)


class _in_child:
    """Run ``func(*args)`` in a forked process for the length of a ``with`` block.

    Leaving the block waits for the child; a child that failed raises here
    (an ``OSError`` as the same ``OSError``, anything else as a
    ``RuntimeError`` carrying its message), and leaving on an exception
    (Ctrl-C) stops the child first.
    """

    def __init__(self, func, *args):
        import multiprocessing
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._sender = sender
        self._proc = context.Process(target=_child_main, args=(sender, func, *args), daemon=True)

    def __enter__(self):
        self._proc.start()
        self._sender.close()  # the child holds its own end
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None:
                self._proc.terminate()
                self._proc.join()
                return False
            problem = None
            try:
                problem = self._receiver.recv()  # blocks until the child reports or ends
            except EOFError:
                pass  # the child died without a word (killed)
            self._proc.join()
        finally:
            self._receiver.close()
        if problem and problem[0] == "oserror":
            raise OSError(*problem[1:])
        if problem and problem[0] == "error":
            raise RuntimeError(f"writing the tables and review sheets failed: {problem[1]}")
        if self._proc.exitcode != 0:
            raise RuntimeError(f"writing the tables and review sheets failed: the helper "
                               f"process ended with exit code {self._proc.exitcode}")
        return False


def _child_main(sender, func, *args) -> None:
    import os
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    status = 0
    try:
        func(*args)
        sender.send(None)
    except OSError as exc:
        sender.send(("oserror", exc.errno, exc.strerror or str(exc), exc.filename))
        status = 1
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        sender.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
        status = 1
    finally:
        sender.close()
    # No traceback here: the parent reports the failure once.  _exit skips
    # the atexit handlers the forked child inherited from the parent.
    os._exit(status)


def _article_cost(article: Article) -> int:
    return len(article.text)


def _progress_bar(enabled: bool):
    """A tqdm bar counting characters, only when asked for and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(unit="char", unit_scale=True, desc="articles", file=sys.stderr, leave=False)


def _write_run_log(out: Path, documents: Iterable[Document], result: RunResult) -> None:
    """One JSON line per document that was not simply ok, then a summary line."""
    with open(out / "run_log.jsonl", "w", encoding="utf-8") as fh:
        for d in documents:
            if d.status != "ok" or d.message:
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
