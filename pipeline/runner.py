"""Orchestration: read -> analyze each article -> corpus steps -> tables -> report.

The per-article work (``pipeline.analyze.analyze_article``) is pure; this
module only decides where it runs and gathers the results in input order, so
the output does not depend on the number of workers.
"""
from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterable, Optional, Sequence

from pipeline.analyze import analyze_article
from pipeline.config import Config, load_config
from pipeline.extract.keywords import corpus_keywords
from pipeline.extract.orgs import resolve_organizations
from pipeline.extract.themes import theme_shares, themes_by_month
from pipeline.extract.topics import fit_topics
from pipeline.ingest import read_documents
from pipeline.model import ArticleAnalysis, Document
from pipeline.review import apply_reviews, load_reviews, write_review_outputs
from pipeline import tables as T


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

    @property
    def n_articles(self) -> int:
        return len(self.analyses)

    @property
    def n_characters(self) -> int:
        return sum(len(a.article.text) for a in self.analyses)


def _analyze_all(articles: list, *, base_date: Optional[str], themes_path: Optional[str],
                 workers: int) -> list[ArticleAnalysis]:
    work = partial(analyze_article, base_date=base_date, themes_path=themes_path)
    if workers <= 1 or len(articles) < 2:
        return [work(a) for a in articles]
    chunk = max(1, min(64, len(articles) // (workers * 4) or 1))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, articles, chunksize=chunk))


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
    organizations, resolved = resolve_organizations(by_article)
    for an in analyses:
        mention_rows.extend(T.mention_rows(an.article.article_id,
                                           resolved.get(an.article.article_id, [])))
    term_lists = [an.terms for an in analyses]
    keywords = corpus_keywords(term_lists, top_n=int(config.get("report", "top_keywords", 30)))
    dates = {an.article.article_id: an.base_date for an in analyses}
    topics = fit_topics(term_lists)
    topic_rows, article_topic_rows = [], []
    if topics is None:
        notes.append("主题模型（NMF）需要至少 50 篇文章，本期文章较少，已跳过。")
    else:
        topic_rows = topics.topic_rows()
        ids = [an.article.article_id for an in analyses]
        article_topic_rows = [dict(r, article_id=ids[r["article_index"]])
                              for r in topics.article_topic_rows()]
    tables = {
        "documents": T.frame("documents", T.document_rows(documents)),
        "articles": T.frame("articles", T.article_rows(analyses)),
        "figures": T.frame("figures", figure_rows),
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
        progress: bool = False) -> RunResult:
    """Run the whole pipeline on ``inputs`` and write everything under ``output``.

    Parameters
    ----------
    inputs : list of str
        Files or folders.
    output : str
        Output folder: ``tables/``, ``charts``, ``briefing.html``, ``briefing.md``,
        ``run_log.jsonl``.
    base_date : str, optional
        ISO date for documents that carry no date of their own.
    workers : int, optional
        Processes for the per-article stages; all cores when None or 0.
    reviews_dir : str, optional
        Folder of editors' review sheets to apply (read only; missing is fine).
    engine : {"local", "dask"}
        Where the per-article stages run; ``scheduler`` is a Dask scheduler
        address (a LocalCluster when None).
    """
    from pipeline.report import render_briefing  # the report stage imports matplotlib

    config = config or load_config()
    started = time.monotonic()
    workers = workers or int(config.get("run", "workers", 0)) or os.cpu_count() or 1
    base_date = base_date or config.get("run", "base_date") or None
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)

    documents = list(read_documents(inputs, config=config))
    articles = [a for d in documents for a in d.articles]
    analyses = _analyze_all(articles, base_date=base_date, themes_path=themes_path,
                            workers=workers)
    tables, notes = build_tables(documents, analyses, config=config)
    reviews = load_reviews(Path(reviews_dir)) if reviews_dir else None
    tables["figures"], review_summary = apply_reviews(tables["figures"], reviews)
    for name, df in tables.items():
        T.write_table(df, out / "tables", name)
    result = RunResult(tables=tables, documents=documents, analyses=analyses, notes=notes,
                       reviews=review_summary)
    write_review_outputs(tables, out / "review")
    render_briefing(result, out, config=config)
    result.seconds = time.monotonic() - started
    _write_run_log(out, documents, result)
    return result


def _write_run_log(out: Path, documents: Iterable[Document], result: RunResult) -> None:
    """One JSON line per document that was not simply ok, then a summary line."""
    with open(out / "run_log.jsonl", "w", encoding="utf-8") as fh:
        for d in documents:
            if d.status != "ok" or d.message:
                fh.write(json.dumps({"event": "document", "path": d.path, "status": d.status,
                                     "message": d.message}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"event": "summary", "articles": result.n_articles,
                             "characters": result.n_characters,
                             "seconds": round(result.seconds, 3)}, ensure_ascii=False) + "\n")


def summary_line(result: RunResult) -> str:
    secs = max(result.seconds, 1e-9)
    return (f"{result.n_articles} articles, {result.n_characters} characters, "
            f"{result.seconds:.1f} s, {result.n_characters / secs:,.0f} characters/s")
