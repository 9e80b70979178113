"""The tables stage: per-article results streamed into tables, then the corpus steps.

:class:`CorpusTables` takes documents and article analyses one at a time, in
input order, and writes the tables that need nothing but the article
(``documents``, ``articles``, ``figures``, ``article_themes``, and the
editors' review sheets) chunk by chunk as they come.  What needs the whole
corpus waits for :meth:`CorpusTables.finish`: alias resolution across
articles (``organizations``, ``mentions``), keywords, topics and theme
shares.  Those keep only small per-article records in memory (mentions,
themes, dates); the keyword terms go to a :class:`~pipeline.spill.SpillList`
on disk, read back chunk by chunk.  So the memory of a run does not grow with
the length of its articles, and a chunk of rows is all a table holds at once.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Optional

from pipeline import tables as T
from pipeline.config import Config
from pipeline.extract.keywords import corpus_keywords
from pipeline.extract.orgs import resolve_organizations
from pipeline.extract.themes import theme_shares, themes_by_month
from pipeline.extract.topics import fit_topics, import_estimators
from pipeline.forked import InChildObject
from pipeline.model import ArticleAnalysis, Document
from pipeline.review import ReviewTally, ReviewWriter
from pipeline.spill import SpillList

#: niceness added to the topic model's process when it starts fitting
TOPIC_NICENESS = 5

#: articles whose rows are written together (a Parquet row group, a CSV append)
CHUNK_ARTICLES = 512

#: tables written while articles stream in; the others at the end
STREAMED = ("documents", "articles", "figures", "article_themes")
#: the streamed tables written every CHUNK_ARTICLES articles
_WITH_ARTICLES = ("articles", "figures", "article_themes")


class StreamWriters:
    """The files written while articles stream in: the streamed tables and the review sheets.

    Everything it writes is decided by the rows it is given, so it can work
    in this process or, fed through :class:`pipeline.forked.InChildObject`,
    in a forked one: then encoding Parquet, CSV and the review sheets (about
    a third of what the main process does per article) runs on another core
    while this one reads input and gathers the workers' results.
    """

    def __init__(self, tables_dir: Path, review_dir: Optional[Path]):
        self._tables = {name: T.TableWriter(tables_dir, name) for name in STREAMED}
        self._review = ReviewWriter(review_dir) if review_dir is not None else None

    def write(self, chunks: dict) -> None:
        """Append ``{table: rows}``; each non-empty list is one row group of its table."""
        for name, rows in chunks.items():
            self._tables[name].write(rows)

    def review(self, articles: list) -> None:
        """Add ``(article_id, title, text, figure rows)`` to the review sheets, in order."""
        if self._review is not None:
            for article_id, title, text, rows in articles:
                self._review.add(article_id, title, text, rows)

    def write_and_review(self, chunks: dict, articles: list) -> None:
        """:meth:`write` ``chunks``, then :meth:`review` ``articles``."""
        self.write(chunks)
        self.review(articles)

    def run(self, func: Callable, *args) -> Any:
        """``func(*args)`` in the writer's process (:meth:`CorpusTables.run_in_writer`)."""
        return func(*args)

    def close_tables(self) -> None:
        """Finish the streamed tables (once; later calls do nothing)."""
        for writer in self._tables.values():
            writer.close()
        self._tables = {}

    def close_reviews(self, summary: dict) -> None:
        """Finish the review sheets and page with the run's final review counts."""
        if self._review is not None:
            self._review.close(summary)
            self._review = None

    def close(self, summary: dict) -> None:
        self.close_tables()
        self.close_reviews(summary)

    def discard(self) -> None:
        """The run failed: an unfinished review sheet goes (the tables are in staging)."""
        if self._review is not None:
            self._review.discard()
            self._review = None


class _HereWriters:
    """:class:`StreamWriters` in this process, called as :class:`InChildObject` calls its child's."""

    def __init__(self, writers: StreamWriters):
        self._writers = writers

    def call(self, method: str, *args):
        return getattr(self._writers, method)(*args)

    ask = finish = call

    def abandon(self) -> None:
        self._writers.discard()


def write_topics(tables_dir: Path, config: Config, terms, article_ids: list) -> list[str]:
    """Fit the topics of ``terms`` (one list per article); write ``topics``, ``article_topics``.

    Returns the run's notes about topics: empty unless no model was fitted.
    The fit uses one BLAS thread: OpenBLAS's threads wait for work by
    spinning, and beside another busy process (a second run, the other
    steps of this one) they burned the cores: two one-worker runs of the
    bench corpus started together took 37 s each instead of 17 s.  Alone,
    a second thread saved about 0.4 s of a 16 s run.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        topics = fit_topics(
            terms, min_articles=int(config.get("themes", "topic_min_articles", 50)),
            n_topics=int(config.get("themes", "n_topics", 0) or 0) or None,
            top_terms=int(config.get("themes", "topic_terms", 10)),
            max_fit_articles=int(config.get("themes", "topic_fit_articles", 2000)))
    notes = []
    if topics is None:
        if len(article_ids) < min_topic_articles(config):
            notes.append(few_articles_note(config))
        else:
            notes.append("主题模型（NMF）：文章之间共享的词语太少，无法建模，已跳过。")
        topic_rows, article_rows = [], []
    else:
        topic_rows = topics.topic_rows()
        article_rows = [dict(r, article_id=article_ids[r["article_index"]])
                        for r in topics.article_topic_rows()]
    _write(tables_dir, "topics", topic_rows)
    _write(tables_dir, "article_topics", article_rows)
    return notes


def min_topic_articles(config: Config) -> int:
    """Articles a run needs before a topic model is fitted."""
    return max(int(config.get("themes", "topic_min_articles", 50)), 2)


def few_articles_note(config: Config) -> str:
    """The run's note when it has too few articles for a topic model."""
    return f"主题模型（NMF）需要至少 {min_topic_articles(config)} 篇文章，本期文章较少，已跳过。"


def _write(tables_dir: Path, name: str, rows: list[dict]) -> None:
    with T.TableWriter(tables_dir, name) as writer:
        writer.write(rows)


class TopicStep:
    """The topic model of a run with a second core, in a process started with the run.

    Built through :class:`pipeline.forked.InChildObject` before any article
    is read, it imports scikit-learn (1.3 s of CPU on the bench machine)
    while the run starts up, when the second core has little else to do,
    rather than after the articles, when the other corpus steps and the
    briefing need both cores.  The import runs in a thread, so a run too
    small for topics never waits for it.
    """

    def __init__(self, tables_dir: Path, config: Config):
        self.tables_dir, self.config = tables_dir, config
        self._notes: list[str] = []
        threading.Thread(target=import_estimators, daemon=True).start()

    def fit(self, terms, article_ids: list) -> None:
        """Fit and write the topics (:func:`write_topics`)."""
        # Nothing waits for the topics but the end of the run, while the
        # briefing waits for the other corpus steps: those go first (a lower
        # priority for this process, which takes what they leave of the cores).
        os.nice(TOPIC_NICENESS)
        self._notes = write_topics(self.tables_dir, self.config, terms, article_ids)

    def notes(self) -> list[str]:
        """The notes of :meth:`fit`."""
        return self._notes


class CorpusTables:
    """Builds every table of a run into ``tables_dir`` from streamed results.

    Parameters
    ----------
    tables_dir : Path
        Gets ``<table>.csv`` and ``<table>.parquet`` for every table of
        :data:`pipeline.tables.COLUMNS`.
    config : Config
        ``[orgs]``, ``[report]`` and ``[themes]`` settings of the corpus steps.
    reviews : pipeline.review.ReviewSet, optional
        Editors' verdicts, applied to figure rows as they are written.
    review_dir : Path, optional
        Where the review sheets and page go; none are written when None.
    writer_process : bool, default False
        Write the streamed tables and the review sheets in a forked process
        (:class:`StreamWriters`), for runs with a core to spare for it, and
        start the topic model's process (:class:`TopicStep`) now.

    Use as a context manager: :meth:`add_document` for each document read,
    :meth:`add` for each article's analysis (input order), then
    :meth:`finish`, which returns the run's notes.
    """

    def __init__(self, tables_dir: Path, *, config: Config, reviews=None,
                 review_dir: Optional[Path] = None, writer_process: bool = False):
        self.tables_dir = Path(tables_dir)
        self.config = config
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        self._work = Path(tempfile.mkdtemp(prefix=".corpus-", dir=self.tables_dir))
        # Forked before anything else is opened here, so the writer's process
        # holds no copy of this one's files.
        self._out = (InChildObject(StreamWriters, self.tables_dir, review_dir,
                                   what="the table and review writer")
                     if writer_process else _HereWriters(StreamWriters(self.tables_dir, review_dir)))
        self._topic_step = self._start_topic_step() if writer_process else None
        self._out_open = True
        self._pending: dict[str, list] = {name: [] for name in STREAMED}
        self._pending_articles: list = []   # (article_id, title, text, figure rows) for reviews
        self.tally = ReviewTally(reviews)
        self._terms = SpillList(self._work / "terms.pickle")
        self._article_ids: list[str] = []
        self._dates: dict[str, Optional[str]] = {}
        self._mentions: dict[str, list] = {}
        self._theme_rows: list[dict] = []
        self._figure_ids: dict[str, int] = {}
        self.n_articles = 0
        self.n_characters = 0
        self.n_documents = 0

    # ------------------------------------------------------------------ streaming

    def add_document(self, document: Document) -> None:
        """Write ``document``'s row (its articles come through :meth:`add`)."""
        self.n_documents += 1
        pending = self._pending["documents"]
        pending.extend(T.document_rows([document]))
        # Documents are chunked by their own count, not at the articles'
        # flushes: how far reading runs ahead of the analyses (more with more
        # workers) then leaves the row groups, and the bytes, as they are.
        if len(pending) >= CHUNK_ARTICLES:
            self._out.call("write", {"documents": pending})
            self._pending["documents"] = []

    def add(self, analysis: ArticleAnalysis) -> None:
        """Take one article's analysis (``analysis.article`` set), in input order."""
        a = analysis.article
        self.n_articles += 1
        self.n_characters += len(a.text)
        self._article_ids.append(a.article_id)
        self._dates[a.article_id] = analysis.base_date
        self._terms.append(list(analysis.terms))
        if analysis.mentions:
            self._mentions[a.article_id] = analysis.mentions
        article_id = a.article_id
        theme_rows, pending_themes = self._theme_rows, self._pending["article_themes"]
        for r in analysis.themes:
            theme_rows.append({"article_id": article_id, "theme": r.get("theme"),
                               "parent": r.get("parent"), "score": r.get("score")})
            pending_themes.append(dict(r, article_id=article_id,
                                       evidence="|".join(r.get("evidence", []))))
        self._pending["articles"].extend(T.article_rows([analysis]))
        figures = self._unique_ids(T.figure_rows(analysis))
        self._pending["figures"].extend(figures)
        self._pending_articles.append((a.article_id, a.title, a.text, figures))
        if len(self._pending_articles) >= CHUNK_ARTICLES:
            self._flush()

    def _unique_ids(self, rows: list[dict]) -> list[dict]:
        # The id hashes only the text around a figure, so a reprinted passage
        # repeats it: later occurrences get -2, -3 ... in input order
        # (pipeline.tables.disambiguate_figure_ids, kept across chunks).
        seen = self._figure_ids
        for row in rows:
            n = seen.get(row["figure_id"], 0) + 1
            seen[row["figure_id"]] = n
            if n > 1:
                row["figure_id"] = f"{row['figure_id']}-{n}"
        return rows

    def _flush(self, *, last: bool = False) -> None:
        self.tally.apply(self._pending["figures"])
        names = STREAMED if last else _WITH_ARTICLES
        # One call, pickled at once: the review sheets' figure rows are the
        # figures table's rows, and one pickle sends each row once.
        self._out.call("write_and_review", {name: self._pending[name] for name in names},
                       self._pending_articles)
        for name in names:
            self._pending[name] = []
        self._pending_articles = []

    # ------------------------------------------------------------------ corpus steps

    def finish(self, *, parallel: bool = False,
               then: Optional[Callable[[list[str]], None]] = None,
               prepare: Optional[Callable[[], None]] = None) -> list[str]:
        """Write the remaining rows and the corpus-level tables; return the run's notes.

        Parameters
        ----------
        parallel : bool, default False
            Use a second core: the topic model is fitted in a process of its
            own (:class:`TopicStep`, started with the tables, or now) while
            the other corpus steps (organizations, mentions, keywords, theme
            shares) run in this one, and the streamed tables and review
            sheets are finished beside them (by the writer process, if there
            is one).  The files are the same either way.
        then : callable, optional
            Called with the run's notes once every table but the topics is
            written; with ``parallel`` the topic model may still be fitting,
            and the notes are the ones it is expected to add
            (:meth:`expected_notes`), which the returned notes can differ from
            only when it finds too few shared terms.  The runner renders the
            briefing, which reads no topic table, from here (through
            :meth:`run_in_writer`) while the topics are fitted.
        prepare : callable, optional
            Called with ``parallel`` while the corpus steps run, where the
            streamed tables are written (the writer process, if there is one;
            so it must pickle: a module-level function), before ``then``:
            work that ``then`` can have done ahead (loading what the briefing
            needs), off the path from the last article to the end.
        """
        self._flush(last=True)
        if parallel and self._topic_step is None:
            self._topic_step = self._start_topic_step()
        if self._topic_step is None:
            self._corpus_steps()
            notes = write_topics(self.tables_dir, self.config, self._terms, self._article_ids)
            self._finish_writers()
            if then is not None:
                then(notes)
        else:
            # Neither forked step touches the streamed tables or the review
            # sheets: their files are the writer's alone (a forked child ends
            # without flushing its copies).
            self._topic_step.call("fit", self._terms, self._article_ids)
            # The writer finishes the streamed tables and the review sheets
            # (the tally is final: every row went through _flush) while the
            # corpus steps run here.
            self._out.call("close_tables")
            if parallel and prepare is not None:
                self._out.call("run", prepare)
            self._out.call("close_reviews", self.tally.summary())
            self._corpus_steps()
            if then is not None:
                then(self.expected_notes())
            self._finish_writers()
            notes, self._topic_step = self._topic_step.finish("notes"), None
        self._mentions = {}
        self.close()
        return notes

    def _start_topic_step(self) -> InChildObject:
        return InChildObject(TopicStep, self.tables_dir, self.config, what="the topic model")

    def run_in_writer(self, func: Callable, *args) -> Any:
        """``func(*args)``, run where the streamed tables are written; its result.

        With a writer process, ``func`` and ``args`` are pickled to it (a
        module-level function) and this waits for the result; the calls made
        to the writer before it are done first, in order.  Rendering the
        briefing goes there: the review page has loaded the report's fonts
        and matplotlib in that process already, which would otherwise be
        loaded a second time in this one.
        """
        return self._out.ask("run", func, *args)

    def expected_notes(self) -> list[str]:
        """The notes the topic step gives unless it finds too few shared terms."""
        return ([] if self.n_articles >= min_topic_articles(self.config)
                else [few_articles_note(self.config)])

    def _finish_writers(self) -> None:
        """Close the streamed tables; finish the review sheets with the final tally."""
        self._out_open = False
        self._out.finish("close", self.tally.summary())  # what is closed already stays so

    def _corpus_steps(self) -> None:
        """Resolve organizations; write ``organizations``, ``mentions``, ``keywords``, themes."""
        config = self.config
        orgs_dir = config.path("orgs", "data_dir")
        organizations, resolved = resolve_organizations(
            self._mentions, data_dir=str(orgs_dir) if orgs_dir else None)
        self._mentions = {}
        _write(self.tables_dir, "organizations", [dict(o, aliases="|".join(o["aliases"]))
                                      for o in organizations])
        with T.TableWriter(self.tables_dir, "mentions") as writer:
            rows: list[dict] = []
            for article_id, mentions in resolved.items():
                rows.extend(T.mention_rows(article_id, mentions))
                if len(rows) >= 20 * CHUNK_ARTICLES:
                    writer.write(rows)
                    rows = []
            writer.write(rows)
        keywords = corpus_keywords(self._terms,
                                   top_n=int(config.get("report", "top_keywords", 30)))
        _write(self.tables_dir, "keywords", keywords)
        _write(self.tables_dir, "themes", theme_shares(self._theme_rows, self.n_articles))
        _write(self.tables_dir, "themes_by_month", themes_by_month(self._theme_rows, self._dates))

    def close(self) -> None:
        """Remove the working files; an unfinished review sheet is discarded."""
        if self._out_open:
            # not finished: the run failed, and its half-written sheets go with it
            self._out_open = False
            self._out.abandon()
        if self._topic_step is not None:
            self._topic_step.abandon()
            self._topic_step = None
        self._terms.close()
        shutil.rmtree(self._work, ignore_errors=True)

    def __enter__(self) -> "CorpusTables":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()


__all__ = ["CorpusTables", "CHUNK_ARTICLES"]
