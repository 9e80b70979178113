"""Dates: base dates of articles, relative dates and holidays resolved against them.

A base date is an ISO string as precise as known: ``"2022"``, ``"2012-06"`` or
``"2012-06-12"``.  Relative dates (今年, 去年, 昨日, 本月) and holidays (七夕,
春节, 国庆) are resolved against it; the lunar holidays are converted with
``lunardate``.  The holiday table and the dateline words are data files under
``pipeline/data/figures/``.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from functools import lru_cache
from typing import NamedTuple, Optional

from pipeline.extract.numerals import DATA_DIR
from pipeline.text import fold_width

_ISO_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


class Holiday(NamedTuple):
    """One row of ``holidays.tsv``."""
    name: str
    calendar: str      # solar | lunar | qingming | eve
    month: int
    day: int
    needs_context: bool


def read_rows(name: str, *, columns: int) -> list[list[str]]:
    """The rows of a tab-separated data file (comments and blank lines skipped).

    Raises ValueError naming the file and line when a row has too few columns.
    """
    path = DATA_DIR / name
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < columns:
                raise ValueError(f"{path}:{n}: expected {columns} tab-separated columns, got {line!r}")
            rows.append(parts)
    return rows


def read_words(name: str) -> list[str]:
    """The words of a one-word-a-line data file."""
    return [r[0].strip() for r in read_rows(name, columns=1) if r[0].strip()]


@lru_cache(maxsize=1)
def holidays() -> dict[str, Holiday]:
    """Holiday name -> Holiday, from ``holidays.tsv``."""
    out = {}
    for name, calendar, month, day, ctx in (r[:5] for r in read_rows("holidays.tsv", columns=5)):
        if calendar not in ("solar", "lunar", "qingming", "eve"):
            raise ValueError(f"{DATA_DIR / 'holidays.tsv'}: unknown calendar {calendar!r} for {name}")
        out[name] = Holiday(name, calendar, int(month), int(day), ctx.strip() == "yes")
    return out


@lru_cache(maxsize=1)
def relative_words() -> dict[str, tuple[str, int]]:
    """Relative date word -> (field, offset), from ``relative_dates.tsv``."""
    return {w: (f, int(o)) for w, f, o in (r[:3] for r in read_rows("relative_dates.tsv", columns=3))}


def parse_iso(date: Optional[str]) -> tuple[Optional[int], Optional[int], Optional[int]]:
    """``"2012-06-12"`` -> (2012, 6, 12); ``"2022"`` -> (2022, None, None).

    Anything else (None, empty, malformed) gives (None, None, None).
    """
    if not date:
        return None, None, None
    m = _ISO_RE.match(date.strip()[:10])
    if not m:
        return None, None, None
    y, mo, d = (int(g) if g else None for g in m.groups())
    if mo is not None and not 1 <= mo <= 12:
        return y, None, None
    if d is not None and not _valid(y, mo, d):
        return y, mo, None
    return y, mo, d


def _valid(y: int, m: int, d: int) -> bool:
    try:
        _dt.date(y, m, d)
    except (ValueError, TypeError):
        return False
    return True


def format_date(year: Optional[int], month: Optional[int] = None, day: Optional[int] = None) -> Optional[str]:
    """ISO text as precise as the parts given; None without a valid year."""
    if year is None or not 1 <= year <= 9999:
        return None
    if month is None or not 1 <= month <= 12:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not _valid(year, month, day):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


@lru_cache(maxsize=4096)
def resolve_relative(word: str, base: Optional[str]) -> Optional[str]:
    """The date a relative word (今年, 昨日, 本月) names, against ``base``.

    A word about days against a base known only to the year or month gives
    that year or month (今天 with base 2022 is "2022"); None when the base does
    not name the field the word moves (本月 against "2022").
    """
    field, offset = relative_words()[word]
    y, m, d = parse_iso(base)
    if y is None:
        return None
    if field == "year":
        return format_date(y + offset)
    if m is None:
        return format_date(y) if field in ("day", "week") and offset == 0 else None
    if field == "month":
        total = y * 12 + (m - 1) + offset
        return format_date(total // 12, total % 12 + 1)
    if field == "week":
        # a week is named to the month it falls in (上周 from 2012-06-12 is 2012-06)
        if d is None:
            return format_date(y, m) if offset == 0 else None
        day = _dt.date(y, m, d) + _dt.timedelta(days=7 * offset)
        return format_date(day.year, day.month)
    if d is None:
        return format_date(y, m) if offset == 0 else None
    day = _dt.date(y, m, d) + _dt.timedelta(days=offset)
    return format_date(day.year, day.month, day.day)


def _qingming(year: int) -> int:
    """Day of April of the Qingming solar term (the 21st/20th-century rule)."""
    yy = year % 100
    c = 4.81 if year >= 2000 else 5.59
    return int(yy * 0.2422 + c) - yy // 4


def shift_date(base: Optional[str], *, years: int = 0, months: int = 0, days: int = 0) -> Optional[str]:
    """``base`` moved back or forward (两年前, 三个月前, 5天前), at the precision
    the move needs; None when the base is not that precise or the date falls
    outside the years 1..9999."""
    y, m, d = parse_iso(base)
    if y is None:
        return None
    if years:
        return format_date(y + years)
    if months:
        if m is None:
            return None
        total = y * 12 + (m - 1) + months
        return format_date(total // 12, total % 12 + 1)
    if d is None:
        return None
    try:
        day = _dt.date(y, m, d) + _dt.timedelta(days=days)
    except OverflowError:
        return None  # 5亿天前: before year 1, no date
    return format_date(day.year, day.month, day.day)


def holiday_date(name: str, year: Optional[int]) -> Optional[str]:
    """The Gregorian date of holiday ``name`` in ``year`` (None without a year)."""
    h = holidays().get(name)
    if h is None or year is None:
        return None
    try:
        if h.calendar == "solar":
            return format_date(year, h.month, h.day)
        if h.calendar == "qingming":
            return format_date(year, 4, _qingming(year))
        from lunardate import LunarDate
        if h.calendar == "lunar":
            day = LunarDate(year, h.month, h.day).to_solar_date()
        else:  # eve: the day before the lunar new year of ``year``
            day = LunarDate(year, 1, 1).to_solar_date() - _dt.timedelta(days=1)
    except (ValueError, OverflowError):
        return None  # outside the lunar table's years
    return format_date(day.year, day.month, day.day)


# A year the text names: 2012年 (not 90年代), or the year of 2012-06-12.  It
# is matched on the text as stored, full-width forms (２０１２年, ２０１２－６－１２)
# spelled out, instead of on ``fold_width(text)``: folding a whole article
# costs more than the search.  The pattern starts with a character class
# (the first digit) and checks what precedes it by a look-behind after it,
# so the regex engine can skip straight to each 1 or 2 of the text; with
# the look-behind first it tried a match at every character (seven times
# slower).  ``int`` reads full-width digits as well.
_YEAR_RE = re.compile(
    r"([12１２](?<![\d.．].)(?:(?<=[1１])[5-9５-９]|(?<=[2２])[0０])\d{2})"
    r"(?:\s?年(?!代)"
    r"|(?<=[1１][9９]..|[2２][0０]..)[-/.－／．](?:[1１][0-2０-２]|[0０]?[1-9１-９])[-/.－／．]\d{1,2}(?!\d))")


def infer_year(text: str) -> Optional[int]:
    """The year most absolute dates in ``text`` name (the latest on a tie)."""
    counts = Counter(int(y) for y in _YEAR_RE.findall(text))
    if not counts:
        return None
    best = max(counts.values())
    return max(y for y, c in counts.items() if c == best)


def is_iso_date(value) -> bool:
    """Whether ``value`` is an ISO date as precise as a base date may be:
    YYYY-MM-DD, YYYY-MM or YYYY."""
    if not isinstance(value, str):
        return False
    for fmt, length in (("%Y-%m-%d", 10), ("%Y-%m", 7), ("%Y", 4)):
        if len(value) == length:
            try:
                _dt.datetime.strptime(value, fmt)
                return True
            except ValueError:
                return False
    return False


def document_year(texts: Iterable[str]) -> Optional[int]:
    """The year the texts of one document (a newspaper page's articles) name most."""
    return infer_year("\n".join(texts))


@lru_cache(maxsize=1)
def _dateline_re() -> re.Pattern:
    ends = "|".join(map(re.escape, sorted(read_words("datelines.txt"), key=len, reverse=True)))
    return re.compile(
        r"^[^。！？\n]{0,40}?(?:(?P<y>(?:19|20)\d{2})\s?年\s?)?(?P<m>1[0-2]|0?[1-9])\s?月\s?"
        r"(?P<d>3[01]|[12]\d|0?[1-9])\s?日\s?(?:" + ends + ")")


def dateline_date(text: str, *, year: Optional[int] = None) -> Optional[str]:
    """The date of a news dateline at the start of ``text`` (新华网仰光６月１２日电).

    The year is the dateline's own, else ``year``, else the year the text
    names most; None when there is no dateline or no year.
    """
    head = text[:120]
    if "日" not in head or "月" not in head:
        return None  # no dateline can be there: spares folding the head of most articles
    m = _dateline_re().match(fold_width(head).lstrip())
    if not m:
        return None
    y = int(m.group("y")) if m.group("y") else (year if year is not None else infer_year(text))
    return format_date(y, int(m.group("m")), int(m.group("d"))) if y is not None else None


def resolve_base_date(article, *, default: Optional[str] = None,
                      context: Optional[str] = None) -> tuple[Optional[str], Optional[str]]:
    """The date an article's relative dates resolve against, and where it came from.

    Parameters
    ----------
    article : pipeline.model.Article
        Its ``date`` (with ``date_source``) wins; else a dateline in its text.
    default : str, optional
        The run's ``--base-date``; also completes the year of a dateline.
    context : str, optional
        The text of the whole document the article comes from (a newspaper
        page). When neither the article nor ``default`` dates it, the year the
        document names most is used (``article.context_year`` when set, which
        is the same thing computed once per document), else the year the
        article names most: a page's articles share one publication date, and
        a single article often names past years as often as its own.

    Returns
    -------
    (date, source) : tuple
        source is ``article.date_source`` (or ``"document"``), ``"dateline"``,
        ``"base-date"`` or ``"inferred"``; ``(None, None)`` when nothing is known.
    """
    own = getattr(article, "date", None)
    if own and parse_iso(str(own))[0] is not None:
        return format_date(*parse_iso(str(own))), getattr(article, "date_source", None) or "document"
    text = getattr(article, "text", "") or ""
    default_year = parse_iso(default)[0]
    year = default_year
    if year is None:
        year = getattr(article, "context_year", None) or (infer_year(context) if context else None)
    if year is None:
        year = infer_year(text)
    found = dateline_date(text, year=year)
    if found:
        return found, "dateline"
    if default and default_year is not None:
        return default, "base-date"
    if year is not None:
        return format_date(year), "inferred"
    return None, None
