"""Document dates and metadata: record fields, sidecar files, file names, URLs, datelines.

A date is an ISO string as precise as the evidence (``2022-08-15``).  Where it
came from is kept next to it (``record``, ``sidecar``, ``url``, ``filename``,
``dateline``) so an editor can see why a relative date ("今天") resolved as it did.
"""
from __future__ import annotations

import datetime as _dt
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from pipeline.text import fold_width

_ISO_DAY = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-_./年]?\s*(0?[1-9]|1[0-2])\s*[-_./月]?\s*"
                      r"(0?[1-9]|[12]\d|3[01])(?!\d)")
_COMPACT_DAY = re.compile(r"(?<!\d)((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
_SEPARATED_DAY = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.](0?[1-9]|1[0-2])[-_.](0?[1-9]|[12]\d|3[01])(?!\d)")
_URL_DAY = re.compile(r"/((?:19|20)\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])/")
_URL_MONTH_DAY = re.compile(r"/((?:19|20)\d{2})-?(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/")
# A dateline: place (and agency) then month/day, then 电 / 讯 / 消息, near the start.
_DATELINE = re.compile(r"^[^。！？\n]{0,30}?(?:((?:19|20)\d{2})年)?(\d{1,2})月(\d{1,2})日"
                       r"\s*(?:专电|电|讯|消息|报道)")


def _iso(year: int, month: int, day: int) -> Optional[str]:
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(value: Any) -> Optional[str]:
    """A record's date field as ISO (``2022-08-15``, ``2022-08``, ``2022``), or None.

    Accepts dates, datetimes, ``2022-08-15``, ``2022/8/15``, ``20220815``,
    ``2022年8月15日`` and ISO timestamps; anything else gives None.
    """
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = fold_width(str(value)).strip()
    if not text:
        return None
    for pattern in (_SEPARATED_DAY, _COMPACT_DAY, _ISO_DAY):
        m = pattern.search(text)
        if m:
            iso = _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if iso:
                return iso
    m = re.fullmatch(r"((?:19|20)\d{2})\s*[-/.年]\s*(0?[1-9]|1[0-2])\s*月?", text)
    if m:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    m = re.fullmatch(r"((?:19|20)\d{2})\s*年?", text)
    if m:
        return m.group(1)
    return None


@lru_cache(maxsize=1024)  # asked once per record, and all records of a file share the path
def date_from_filename(relative_path: str) -> Optional[str]:
    """A date written in the file name, else in a folder name of ``relative_path``.

    ``2022-08-15.txt``, ``page_20220815.txt``, ``2022/2022-08-15/p1.txt``.
    """
    parts = Path(relative_path).parts
    for part in reversed(parts):
        for pattern in (_SEPARATED_DAY, _COMPACT_DAY):
            m = pattern.search(part)
            if m:
                iso = _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                if iso:
                    return iso
    return None


def date_from_url(url: Optional[str]) -> Optional[str]:
    """The ``/YYYYMMDD/`` (or ``/YYYY-MM-DD/``, ``/YYYYMM/DD/``) path segment of a URL."""
    if not url:
        return None
    for pattern in (_URL_DAY, _URL_MONTH_DAY):
        m = pattern.search(url)
        if m:
            iso = _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if iso:
                return iso
    return None


def date_from_dateline(text: str, *, context_date: Optional[str]) -> Optional[str]:
    """The date of a dateline at the start of ``text`` (新华网仰光６月１２日电).

    Month and day come from the dateline; the year from the dateline if it has
    one, else from ``context_date`` (the record, URL or file name date).  A
    dateline month after the context month is taken as last year's (a December
    dispatch printed in January).  None when the year is unknown.
    """
    m = _DATELINE.search(fold_width(text[:80]))
    if not m:
        return None
    month, day = int(m.group(2)), int(m.group(3))
    if m.group(1):
        return _iso(int(m.group(1)), month, day)
    if not context_date or len(context_date) < 4:
        return None
    year = int(context_date[:4])
    if len(context_date) >= 7 and month > int(context_date[5:7]) + 1:
        year -= 1
    return _iso(year, month, day)


@dataclass(frozen=True)
class Sidecar:
    """What a ``NAME.meta.toml`` next to ``NAME.txt`` says about it."""
    path: Path
    date: Optional[str] = None
    source: Optional[str] = None
    page: Optional[str] = None
    problem: str = ""


def sidecar_path(path: Path) -> Path:
    """``page.txt`` → ``page.meta.toml`` (same folder, same stem)."""
    return path.with_name(path.stem + ".meta.toml")


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(".meta.toml")


def read_sidecar(path: Path) -> Optional[Sidecar]:
    """The sidecar of ``path`` if there is one; problems are reported, not raised."""
    meta = sidecar_path(path)
    if not meta.is_file():
        return None
    try:
        with open(meta, "rb") as fh:
            values = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return Sidecar(meta, problem=f"sidecar {meta.name} unreadable ({exc}); ignored")
    date = parse_date(values.get("date"))
    problem = ""
    if values.get("date") is not None and date is None:
        problem = f"sidecar {meta.name}: date {values.get('date')!r} not understood; ignored"
    source = values.get("source")
    page = values.get("page")
    return Sidecar(meta, date=date, source=str(source) if source is not None else None,
                   page=str(page) if page is not None else None, problem=problem)
