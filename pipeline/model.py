"""Plain data objects that flow through the pipeline (dataclasses; tokens are named tuples).

Data flows one way: ingest -> segment -> extract -> tables -> report.  Every
span-bearing object (``Figure``, ``Mention``, ``Token``) carries character
offsets ``start``/``end`` (end exclusive) into the text it was found in, so
``text[start:end] == span.text`` always holds and an editor can see the
sentence.  The objects are small and picklable, so per-document work can run
in other processes or on a Dask cluster unchanged.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import NamedTuple, Optional

#: Kinds of figure, as fixed by the figure contract (shared/spec/figures.md).
FIGURE_KINDS = ("money", "count", "quantity", "percent", "date", "time",
                "duration", "ordinal", "number")

#: Qualifier values, as fixed by the figure contract.
QUALIFIERS = ("more", "about", "less", "at_least", "at_most")

#: Organization types (issue 4).
ORG_TYPES = ("government", "party", "social_organization", "enterprise",
             "school", "hospital", "judicial", "media", "international", "other")

#: Status of one input document (one file or one record).
DOC_STATUSES = ("ok", "empty", "skipped", "failed")


class Token(NamedTuple):
    """One segmented word with its offsets into the article text.

    A named tuple rather than a dataclass: an article has hundreds of tokens
    and ``segment`` builds them all in C (``tuple.__new__`` over zipped
    columns) instead of calling a Python ``__init__`` per token.  Tokens are
    read-only values; compare them with tokens, not with plain tuples.
    """
    start: int
    end: int
    text: str
    pos: Optional[str] = None


@dataclass(slots=True)
class Figure:
    """A numeric fact stated in a text; fields follow shared/spec/figures.md.

    ``value`` is null for ranges and dates; ``low``/``high`` bound ranges and
    values a qualifier makes open ("800余名": low 800).
    """
    start: int
    end: int
    text: str
    kind: str
    value: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    unit: Optional[str] = None
    qualifier: Optional[str] = None
    object: Optional[str] = None
    date: Optional[str] = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class Mention:
    """A surface mention of an organization, resolved to its canonical name."""
    start: int
    end: int
    text: str
    canonical: str
    type: str = "other"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class Article:
    """One news article; ``text`` is the body every offset refers to."""
    article_id: str
    doc_id: str
    seq: int
    text: str
    title: str = ""
    subtitle: str = ""
    byline: str = ""
    section: str = ""
    date: Optional[str] = None          # the document's own date (ISO), if any
    date_source: Optional[str] = None   # record / sidecar / filename / dateline
    source_id: Optional[str] = None     # the source's own id (Sogou docno, CSV id)
    source: Optional[str] = None
    url: Optional[str] = None
    #: character spans of garbled (mojibake) runs in ``text``; never mined.
    garbled: list = field(default_factory=list)
    #: the year the article's whole document names most: the articles of one
    #: newspaper page share its date, so the page, not the article, is the
    #: better evidence when nothing else dates it (set by the runner)
    context_year: Optional[int] = None


@dataclass(slots=True)
class Document:
    """One input file or record, with what became of it."""
    doc_id: str
    path: str
    format: str
    status: str = "ok"
    encoding: Optional[str] = None
    message: str = ""
    characters: int = 0
    date: Optional[str] = None
    articles: list = field(default_factory=list)

    @property
    def n_articles(self) -> int:
        return len(self.articles)


@dataclass(slots=True)
class ArticleAnalysis:
    """Everything the per-article (pure) stages produce for one article.

    Tokens are not kept: the corpus-level steps need only the keyword terms,
    and dropping the tokens keeps memory flat on large corpora.
    """
    article: Article
    base_date: Optional[str]
    base_date_source: Optional[str]
    figures: list
    mentions: list
    terms: list = field(default_factory=list)
    themes: list = field(default_factory=list)


def stable_hash(*parts: str, length: int = 16) -> str:
    """A short hex digest of ``parts``; stable across runs and machines."""
    # each part followed by \x1f, hashed in one update: the same digest as one
    # update per part
    data = "\x1f".join(parts) + "\x1f" if parts else ""
    return hashlib.sha1(data.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def figure_id(article_text: str, start: int, end: int, *, window: int = 40) -> str:
    """Stable id of a figure: its text, the text around it and its rank there.

    The id depends only on the figure and ``window`` characters either side,
    plus how many identical (context, figure) pairs precede it, so an edit
    elsewhere in the article leaves an editor's review attached.
    """
    left = article_text[max(0, start - window):start]
    figure = article_text[start:end]
    right = article_text[end:end + window]
    if 0 <= start <= end <= len(article_text) and window >= 0:
        rank = _context_rank(article_text, start, end, window)
    else:
        rank = _context_rank_by_probing(article_text, start, (left, figure, right), window)
    # stable_hash(left, figure, right, str(rank), length=15), spelled out: this
    # runs for every figure of a run
    key = f"{left}\x1f{figure}\x1f{right}\x1f{rank}\x1f".encode("utf-8", "surrogatepass")
    return "f" + hashlib.sha1(key).hexdigest()[:15]


def _context_rank(text: str, start: int, end: int, window: int) -> int:
    """How many earlier places of ``text`` repeat the figure at ``start:end``
    with the same ``window`` characters either side (overlaps count).

    The same count as :func:`_context_rank_by_probing`, found with one search
    for figure and context together instead of a check at every earlier
    occurrence of the figure.  Only full windows can match: an earlier place
    has more text after it, so a right context cut short by the end of the
    text has no earlier equal, and less text before it, so a left context cut
    short by the start leaves no room for an earlier one.
    """
    if start <= window or len(text) - end < window:
        return 0
    whole = text[start - window:end + window]
    # a match at q stands for the figure at q + window, which must be < start
    limit = start - window - 1 + len(whole)
    rank = 0
    q = text.find(whole, 0, limit)
    while q != -1:
        rank += 1
        q = text.find(whole, q + 1, limit)
    return rank


def _context_rank_by_probing(text: str, start: int, key: tuple, window: int) -> int:
    """:func:`_context_rank` for any span (offsets outside the text included):
    checks the context of every occurrence of the figure before ``start``."""
    left, figure, right = key
    rank = 0
    probe = text.find(figure)
    while probe != -1 and probe < start:
        if (text[max(0, probe - window):probe] == left
                and text[probe + len(figure):probe + len(figure) + window] == right):
            rank += 1
        probe = text.find(figure, probe + 1)
    return rank
