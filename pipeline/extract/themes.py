"""Themes: what each article is about, from a taxonomy kept in data files.

A taxonomy is one or more TOML files (``pipeline/data/themes/*.toml``, or the
user's own with ``--themes FILE``): each theme has a name, an optional parent
and words or phrases with weights.  :func:`score_themes` matches the words on
the article text itself, longest match first, so a phrase the segmenter split
still counts and 公益创投 is not also counted as 公益; Chinese words of two
characters must not straddle a token boundary, so 国家 is not found in
中国/家庭.  A theme's score is ``sum(weight * (1 + log count))`` over its
matched words; an article gets every theme above a threshold (several, or
none), not just the best one.

:func:`theme_shares` and :func:`themes_by_month` aggregate the per-article rows
for the briefing and the tables.
"""
from __future__ import annotations

import math
import re
import tomllib
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from pipeline.config import DATA_DIR, load_config
from pipeline.matching import PairMatcher
from pipeline.model import Token
from pipeline.text import fold_width

PathLike = Union[str, Path]

#: Chinese words this short must not straddle a token boundary (see module docstring)
_STRICT_LENGTH = 2
_START = attrgetter("start")
_MATCH_START, _MATCH_END, _WORD = itemgetter(0), itemgetter(1), itemgetter(2)
_HAN_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


@dataclass(frozen=True)
class Theme:
    """One theme: its name, its parent (or None) and its weighted words."""
    name: str
    parent: Optional[str]
    #: folded, lower-cased word -> weight (> 0)
    weights: Mapping[str, float]


@dataclass(frozen=True)
class Taxonomy:
    """Themes with the settings that decide which of them an article carries.

    Attributes
    ----------
    name : str
        Name of the taxonomy (the file names joined by "+" when combined).
    themes : tuple of Theme
    sources : tuple of str
        The files it was read from.
    min_score : float
        A theme needs at least this score (2.0: two typical words, or one
        phrase that alone says the theme).
    relative_min : float
        ... and at least this fraction of the article's best theme score, so a
        long article does not carry every theme it mentions in passing.
    max_themes : int
        At most this many themes per article.
    """
    name: str
    themes: tuple
    sources: tuple = ()
    min_score: float = 2.0
    relative_min: float = 0.2
    max_themes: int = 8
    #: word -> ((theme index, weight), ...); derived in __post_init__
    _index: Mapping[str, tuple] = field(init=False, repr=False, compare=False)
    #: first character -> words starting with it, longest first
    _by_first: Mapping[str, tuple] = field(init=False, repr=False, compare=False)
    #: short all-Chinese words, checked against token boundaries (the segmenter
    #: always splits where the script changes, so "A股" is exempt)
    _strict: frozenset = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        index = defaultdict(list)
        for i, theme in enumerate(self.themes):
            for word, weight in theme.weights.items():
                index[word].append((i, weight))
        by_first = defaultdict(list)
        for word in index:
            by_first[word[0]].append(word)
        object.__setattr__(self, "_index", {w: tuple(v) for w, v in index.items()})
        object.__setattr__(self, "_strict", frozenset(
            w for w in index if len(w) <= _STRICT_LENGTH and _HAN_RE.match(w)))
        object.__setattr__(self, "_by_first", {
            c: tuple(sorted(ws, key=lambda w: (-len(w), w))) for c, ws in by_first.items()})

    @property
    def theme_names(self) -> list[str]:
        return [t.name for t in self.themes]

    def parent_of(self, theme: str) -> Optional[str]:
        for t in self.themes:
            if t.name == theme:
                return t.parent
        return None


# --------------------------------------------------------------------------- loading

def _fail(path: Path, message: str) -> None:
    raise ValueError(f"{path}: {message}")


def _read_toml(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        _fail(path, f"cannot read the theme taxonomy ({exc.strerror or exc})")
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        _fail(path, f"the theme taxonomy is not UTF-8 (byte {exc.start})")
    except tomllib.TOMLDecodeError as exc:
        _fail(path, f"not valid TOML: {exc}")


def _word(path: Path, theme: str, raw) -> str:
    if not isinstance(raw, str) or not raw.strip():
        _fail(path, f"theme {theme!r}: every keyword must be a non-empty string, got {raw!r}")
    word = fold_width(raw.strip()).lower()
    if len(word) < 2:
        _fail(path, f"theme {theme!r}: keyword {raw!r} has one character and would match "
                    "inside unrelated words; use a word of two or more characters")
    return word


def _parse_themes(path: Path, data: dict) -> list[Theme]:
    entries = data.get("themes")
    if not isinstance(entries, list) or not entries:
        _fail(path, "no themes: expected one [[themes]] table per theme")
    themes = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            _fail(path, f"theme #{n} is not a table")
        name = entry.get("theme")
        if not isinstance(name, str) or not name.strip():
            _fail(path, f"theme #{n} has no 'theme' name")
        name = name.strip()
        parent = entry.get("parent")
        if parent is not None and (not isinstance(parent, str) or not parent.strip()):
            _fail(path, f"theme {name!r}: 'parent' must be a theme name")
        keywords = entry.get("keywords", [])
        if not isinstance(keywords, list):
            _fail(path, f"theme {name!r}: 'keywords' must be a list of strings")
        weighted = entry.get("weights", {})
        if not isinstance(weighted, dict):
            _fail(path, f"theme {name!r}: 'weights' must be a table of word = weight")
        unknown = set(entry) - {"theme", "parent", "keywords", "weights"}
        if unknown:
            _fail(path, f"theme {name!r}: unknown key(s) {', '.join(sorted(unknown))}")
        weights: dict[str, float] = {}
        for raw in keywords:
            weights[_word(path, name, raw)] = 1.0
        for raw, value in weighted.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                _fail(path, f"theme {name!r}: weight of {raw!r} must be a positive number, got {value!r}")
            weights[_word(path, name, raw)] = float(value)
        if not weights:
            _fail(path, f"theme {name!r} has no keywords")
        themes.append(Theme(name=name, parent=parent.strip() if parent else None, weights=weights))
    return themes


def _settings(path: Path, data: dict) -> dict:
    table = data.get("taxonomy", {})
    if not isinstance(table, dict):
        _fail(path, "[taxonomy] must be a table")
    out = {}
    for key, kind in (("min_score", float), ("relative_min", float), ("max_themes", int)):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                _fail(path, f"[taxonomy] {key} must be a non-negative number, got {value!r}")
            out[key] = kind(value)
    return out


def _default_paths() -> list[Path]:
    config = load_config()
    raw = config.get("themes", "taxonomies") or ["themes/civil_affairs.toml"]
    if isinstance(raw, str):
        raw = [raw]
    base = config.origins.get(("themes", "taxonomies"), DATA_DIR)
    return [Path(p) if Path(p).is_absolute() else base / p for p in raw]


def load_taxonomy(path: PathLike | Sequence[PathLike] | None = None) -> Taxonomy:
    """Read a theme taxonomy from one TOML file, or several combined.

    Parameters
    ----------
    path : str, Path, sequence of them, or None
        ``None`` reads the configured default (``[themes] taxonomies`` in
        ``pipeline/data/config.toml``).  Themes of the same name in several
        files are merged (their words united, the higher weight kept).

    Returns
    -------
    Taxonomy

    Raises
    ------
    ValueError
        Naming the file and what is wrong with it (missing, not TOML, a theme
        without a name or keywords, a bad weight, a one-character keyword).
    """
    if path is None:
        paths = _default_paths()
    elif isinstance(path, (str, Path)):
        paths = [Path(path)]
    else:
        paths = [Path(p) for p in path]
    if not paths:
        raise ValueError("no theme taxonomy file given")
    config = load_config()
    settings = {"min_score": float(config.get("themes", "min_score", 2.0)),
                "relative_min": float(config.get("themes", "relative_min", 0.2)),
                "max_themes": int(config.get("themes", "max_themes", 8))}
    merged: dict[str, Theme] = {}
    names = []
    for p in paths:
        data = _read_toml(p)
        settings.update(_settings(p, data))
        table = data.get("taxonomy", {})
        names.append(str(table.get("name") or p.stem) if isinstance(table, dict) else p.stem)
        for theme in _parse_themes(p, data):
            if theme.name in merged:
                old = merged[theme.name]
                weights = dict(old.weights)
                for w, v in theme.weights.items():
                    weights[w] = max(v, weights.get(w, 0.0))
                theme = Theme(theme.name, old.parent or theme.parent, weights)
            merged[theme.name] = theme
    return Taxonomy(name="+".join(names), themes=tuple(merged.values()),
                    sources=tuple(str(p) for p in paths), **settings)


# --------------------------------------------------------------------------- scoring

#: id(taxonomy) -> (taxonomy, matcher over its words); the taxonomy is kept
#: so that its id cannot be reused by another object
_MATCHERS: dict[int, tuple] = {}


def _matcher(taxonomy: Taxonomy) -> PairMatcher:
    """A matcher of the taxonomy's words (built once per taxonomy)."""
    hit = _MATCHERS.get(id(taxonomy))
    if hit is not None and hit[0] is taxonomy:
        return hit[1]
    # every word has two characters or more
    matcher = PairMatcher(taxonomy._index, unbroken=taxonomy._strict)
    if len(_MATCHERS) > 16:
        _MATCHERS.clear()
    _MATCHERS[id(taxonomy)] = (taxonomy, matcher)
    return matcher


def _width_table() -> np.ndarray:
    """UTF-16 code unit -> the unit ``fold_width`` makes of it.

    Full-width forms shift to ASCII and the ideographic space becomes a space.
    """
    table = np.arange(1 << 16, dtype=np.uint16)
    table[0xFF01:0xFF5F] -= np.uint16(0xFEE0)
    table[0x3000] = 0x20
    return table


_WIDTH_TABLE = _width_table()


def _fold_lower(text: str) -> str:
    """``fold_width(text).lower()``, with the fold done on code units by numpy.

    ``str.translate`` looks every character up in a dict, which made it the
    largest single cost of scoring; the fold is one table lookup per UTF-16
    code unit instead.  Surrogates map to themselves, so characters beyond
    the BMP pass through; only a lone high surrogate followed by a lone low
    one would pair up when decoded, which the length check catches.
    """
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    folded = _WIDTH_TABLE[units].tobytes().decode("utf-16-le", "surrogatepass")
    if len(folded) != len(text):
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
        codes[(codes - np.uint32(0xFF01)) < np.uint32(0xFF5F - 0xFF01)] -= np.uint32(0xFEE0)
        codes[codes == np.uint32(0x3000)] = 0x20
        folded = codes.tobytes().decode("utf-32-le", "surrogatepass")
    return folded.lower()


def _matches(folded: str, taxonomy: Taxonomy, tokens: Sequence[Token]) -> list[tuple[int, int, str]]:
    """Leftmost-longest, non-overlapping occurrences of the taxonomy's words.

    A short word may not straddle a token boundary (国家 in 中国/家庭 is no
    match): the token starts are the matcher's breaks, read only when such a
    word is a candidate.
    """
    if not taxonomy._index:
        return []
    breaks = map(_START, tokens) if tokens else None
    return _matcher(taxonomy).leftmost_longest(folded, breaks=breaks)


def score_themes(text: str, tokens: Sequence[Token], *, taxonomy: Taxonomy,
                 min_score: Optional[float] = None, relative_min: Optional[float] = None,
                 max_themes: Optional[int] = None,
                 exclude_spans: Iterable[Sequence[int]] = ()) -> list[dict]:
    """Themes of one article (pure, per article).

    Parameters
    ----------
    text : str
        The article text the tokens refer to (title and body, as the caller
        chooses).
    tokens : sequence of Token
        Tokens of ``text`` from :func:`pipeline.segment.segment`; only their
        start offsets are used, to reject short words across token boundaries.
        An empty sequence for a non-empty text disables that check.
    taxonomy : Taxonomy
    min_score, relative_min, max_themes : optional
        Override the taxonomy's settings (see :class:`Taxonomy`).
    exclude_spans : iterable of (start, end)
        Character spans never mined, such as garbled runs (``Article.garbled``).

    Returns
    -------
    list of dict
        Rows ``theme``, ``parent``, ``score`` (rounded to 4 places) and
        ``evidence`` (the matched words, strongest first), sorted by score
        descending then theme; empty when no theme reaches the threshold.
    """
    if not text:
        return []
    min_score = taxonomy.min_score if min_score is None else min_score
    relative_min = taxonomy.relative_min if relative_min is None else relative_min
    max_themes = taxonomy.max_themes if max_themes is None else max_themes
    folded = _fold_lower(text)  # same length as text: token offsets still apply

    matches = _matches(folded, taxonomy, tokens)
    words = list(map(_WORD, matches))
    for a, b in exclude_spans:
        # matches are in text order and never overlap, so both their starts and
        # their ends ascend, and those overlapping a span are one run
        first = bisect_right(matches, int(a), key=_MATCH_END)  # first match ending after a
        stop = bisect_left(matches, int(b), key=_MATCH_START)  # first starting at or after b
        if first < stop:
            words[first:stop] = [None] * (stop - first)
    counts = Counter(words)
    counts.pop(None, None)

    scores: dict[int, float] = defaultdict(float)
    evidence: dict[int, list] = defaultdict(list)
    for word, count in counts.items():
        for i, weight in taxonomy._index[word]:
            contribution = weight * (1.0 + math.log(count))
            scores[i] += contribution
            evidence[i].append((contribution, word))
    if not scores:
        return []
    best = max(scores.values())
    threshold = max(min_score, relative_min * best)
    kept = sorted((i for i, s in scores.items() if s >= threshold - 1e-9),
                  key=lambda i: (-scores[i], taxonomy.themes[i].name))[:max_themes]
    rows = []
    for i in kept:
        theme = taxonomy.themes[i]
        words = [w for _, w in sorted(evidence[i], key=lambda e: (-e[0], e[1]))]
        rows.append({"theme": theme.name, "parent": theme.parent,
                     "score": round(scores[i], 4), "evidence": words})
    return rows


# --------------------------------------------------------------------------- aggregates

def _require_ids(article_themes: Iterable[Mapping]) -> list[Mapping]:
    rows = list(article_themes)
    for row in rows:
        if "article_id" not in row or "theme" not in row:
            raise ValueError("article_themes rows need 'article_id' and 'theme' "
                             f"(got keys {sorted(row)})")
    return rows


def _group_key(row: Mapping, by: str) -> tuple[str, Optional[str]]:
    if by == "theme":
        return row["theme"], row.get("parent")
    if by == "parent":
        return (row.get("parent") or row["theme"]), None
    raise ValueError(f"by must be 'theme' or 'parent', got {by!r}")


def theme_shares(article_themes: Sequence[dict], n_articles: int, *, by: str = "theme") -> list[dict]:
    """Share of the corpus's articles that carry each theme.

    Parameters
    ----------
    article_themes : sequence of dict
        Rows of the ``article_themes`` table: ``article_id``, ``theme``,
        ``parent``, ``score`` (the rows of :func:`score_themes` with the id).
    n_articles : int
        All articles of the corpus, with or without a theme (the denominator).
    by : {"theme", "parent"}
        ``"parent"`` rolls themes up to their parent (a theme without one
        stands for itself), counting each article once per parent.

    Returns
    -------
    list of dict
        Rows ``theme``, ``parent``, ``articles`` (how many carry it), ``share``
        (0..1) and ``mean_score``, sorted by articles descending then theme.  Shares sum
        to more than 1 when articles carry several themes.
    """
    rows = _require_ids(article_themes)
    articles: dict[tuple, set] = defaultdict(set)
    score_sum: dict[tuple, float] = defaultdict(float)
    for row in rows:
        key = _group_key(row, by)
        if row["article_id"] not in articles[key]:
            articles[key].add(row["article_id"])
            score_sum[key] += float(row.get("score") or 0.0)
    out = []
    for key, ids in articles.items():
        n = len(ids)
        out.append({"theme": key[0], "parent": key[1], "articles": n,
                    "share": round(n / n_articles, 6) if n_articles else 0.0,
                    "mean_score": round(score_sum[key] / n, 4)})
    out.sort(key=lambda r: (-r["articles"], r["theme"]))
    return out


def _month(date: Optional[str]) -> Optional[str]:
    """"YYYY-MM" of an ISO date (or month), None when there is no usable date."""
    if not date or not isinstance(date, str) or len(date) < 7:
        return None
    month = date[:7]
    year, sep, mm = month.partition("-")
    if sep != "-" or not (year.isdigit() and mm.isdigit() and 1 <= int(mm) <= 12):
        return None
    return month


def themes_by_month(article_themes: Sequence[dict], article_dates: Mapping[str, Optional[str]],
                    *, by: str = "theme") -> list[dict]:
    """Articles per theme and month, for articles that have a date.

    Parameters
    ----------
    article_themes : sequence of dict
        Rows ``article_id``, ``theme``, ``parent`` (see :func:`theme_shares`).
    article_dates : mapping of article_id -> ISO date or None
        Every article of the corpus (themed or not); undated articles are left out.
    by : {"theme", "parent"}

    Returns
    -------
    list of dict
        Rows ``month`` ("YYYY-MM"), ``theme``, ``articles``, ``month_articles``
        (dated articles of that month) and ``share`` (``articles /
        month_articles``), sorted by month, then articles descending, then theme.
    """
    rows = _require_ids(article_themes)
    month_of = {aid: _month(d) for aid, d in article_dates.items()}
    month_totals: dict[str, int] = defaultdict(int)
    for m in month_of.values():
        if m:
            month_totals[m] += 1
    cells: dict[tuple, set] = defaultdict(set)
    for row in rows:
        m = month_of.get(row["article_id"])
        if m:
            cells[(m, _group_key(row, by)[0])].add(row["article_id"])
    out = [{"month": m, "theme": theme, "articles": len(ids), "month_articles": month_totals[m],
            "share": round(len(ids) / month_totals[m], 6)}
           for (m, theme), ids in cells.items()]
    out.sort(key=lambda r: (r["month"], -r["articles"], r["theme"]))
    return out


__all__ = ["Theme", "Taxonomy", "load_taxonomy", "score_themes", "theme_shares", "themes_by_month"]
