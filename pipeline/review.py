"""Editors' review sheets: written every run, read back from ``reviews/`` and applied.

Every run writes ``review/figures_review.xlsx`` (and a CSV twin): one row per
figure with its sentence, the figure marked 【like this】, and the columns
``status`` (ok / wrong / fix), ``corrected_value`` and ``note``.  Editors save
filled sheets into a reviews folder; the next run reads every sheet there and
attaches each verdict to its figure by ``figure_id``.

Rules, in one place:

* A row with no status, no corrected value and no note is "not reviewed" and ignored.
* ``fix`` needs a numeric ``corrected_value``; ``ok`` and ``wrong`` must not carry one.
  A note alone (no status) is kept as a note; the figure stays unverified.
* A file with any bad row (unknown status, non-numeric value, the same figure
  twice with different verdicts, missing columns, not a spreadsheet) is not
  applied at all; every problem is reported with file, row and column.
* The same figure in several good files must carry the same verdict (status,
  corrected value and note).  When they differ, *neither* is applied and the
  error names both places: a silent "last file wins" would lose a verdict.
* A review whose figure no longer exists is kept and reported as stale.
* The reviews folder is only ever read.

The sheet written is prefilled with the verdicts that were applied, so editors
continue where they left off; reading a prefilled sheet back gives the same
verdicts again (idempotent), and it agrees with the file it came from.

A run streams its figures: :class:`ReviewTally` applies the reviews chunk by
chunk and counts them, :class:`ReviewWriter` writes the sheets and the page
(``index.html``, then ``page-2.html`` … every ``PAGE_FIGURES`` figures) as
the figures come, so memory does not grow with the corpus.
"""
from __future__ import annotations

import base64
import csv
import datetime as _dt
import hashlib
import io
import itertools
import json
import math
import operator
import os
import re
import shutil
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from pipeline.atomic import fsync_dir
from pipeline.tables import writable
from pipeline.text import (FORMULA_TRIGGERS, escape_formula, fold_width, needs_formula_guard,
                           unescape_formula)

#: the verdicts an editor can give
REVIEW_STATUSES = ("ok", "wrong", "fix")

#: columns of the review sheet, in order; the last three are the editors'
SHEET_COLUMNS = ("figure_id", "article", "sentence", "figure", "kind", "value", "low", "high",
                 "unit", "qualifier", "object", "date", "status", "corrected_value", "note")
EDITOR_COLUMNS = ("status", "corrected_value", "note")
#: columns a review file must have; corrected_value and note may be left out
REQUIRED_COLUMNS = ("figure_id", "status")
NUMERIC_COLUMNS = frozenset({"value", "low", "high", "corrected_value"})

SHEET_NAME = "figures"
HELP_SHEET_NAME = "说明"
XLSX_NAME = "figures_review.xlsx"
CSV_NAME = "figures_review.csv"
PAGE_NAME = "index.html"

#: marks around the figure in its sentence
MARK_OPEN, MARK_CLOSE = "【", "】"
#: characters of sentence kept either side of the figure; a text without
#: punctuation would otherwise put a whole article (or more than Excel's
#: 32767 characters per cell) into one cell
CONTEXT_LIMIT = 400
EXCEL_CELL_LIMIT = 32767

#: a cell starting with one of these is a formula to Excel or LibreOffice

#: fixed document dates, so two runs write byte-identical workbooks
FIXED_TIMESTAMP = _dt.datetime(2000, 1, 1)
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".csv")
#: errors listed per file before "and N more", so one broken sheet cannot flood the briefing
MAX_ERRORS_PER_FILE = 20

# characters XML 1.0 cannot carry (openpyxl refuses them) and lone surrogates
# (from undecodable file names or bytes), which no UTF-8 writer accepts
_UNWRITABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTROL_RE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


# --------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class Review:
    """One editor's verdict on one figure, and where it was written."""
    figure_id: str
    status: Optional[str]
    corrected_value: Optional[float]
    note: Optional[str]
    file: str
    row: int

    @property
    def verdict(self) -> tuple:
        return (self.status, self.corrected_value, self.note)

    @property
    def place(self) -> str:
        return f"{self.file}, row {self.row}"


@dataclass
class ReviewSet:
    """The reviews read from a folder: verdicts to apply, files applied, errors.

    Attributes
    ----------
    reviews : list of Review
        One per reviewed figure, in file then row order; conflicting ones removed.
    files : list of str
        Names of the files that were applied.
    errors : list of str
        One message per problem, naming file, row and column.
    """
    reviews: list = field(default_factory=list)
    files: list = field(default_factory=list)
    errors: list = field(default_factory=list)


class _FileError(Exception):
    """A review file that cannot be read at all."""


def load_reviews(reviews_dir: Path) -> ReviewSet:
    """Read every review sheet in ``reviews_dir``; never write there.

    Parameters
    ----------
    reviews_dir : Path
        Folder of ``.xlsx`` / ``.csv`` sheets, any names, subfolders included
        (one per editor, say), read in path order; a missing folder gives an
        empty set.  Hidden files and Excel's lock files (``~$name.xlsx``) are
        skipped.  Files are named by their path inside the folder.

    Returns
    -------
    ReviewSet
        A file with any bad row contributes errors and no reviews; the others
        apply.  See the module docstring for the conflict rule.
    """
    reviews_dir = Path(reviews_dir)
    result = ReviewSet()
    if not reviews_dir.exists():
        return result
    if not reviews_dir.is_dir():
        result.errors.append(f"{display_name(Path(reviews_dir.name))}: the reviews folder is "
                             "not a folder")
        return result
    paths = sorted((p for p in reviews_dir.rglob("*") if p.is_file() and not any(
        part.startswith((".", "~$")) for part in p.relative_to(reviews_dir).parts)),
        key=lambda p: p.relative_to(reviews_dir).as_posix())
    accepted: list[Review] = []
    for path in paths:
        name = display_name(path.relative_to(reviews_dir))
        try:
            reviews, errors = _read_review_file(path, name)
        except _FileError as exc:
            result.errors.append(f"{name}: {exc}")
            continue
        except OSError as exc:  # unreadable (permissions, vanished while reading)
            result.errors.append(f"{name}: cannot be read ({exc.strerror or exc})")
            continue
        if errors:
            result.errors.extend(_capped(errors, name))
            continue
        accepted.extend(reviews)
        result.files.append(name)
    result.reviews, conflicts = _resolve_across_files(accepted)
    result.errors.extend(conflicts)
    return result


def _capped(errors: list[str], name: str) -> list[str]:
    if len(errors) <= MAX_ERRORS_PER_FILE:
        return errors
    rest = len(errors) - MAX_ERRORS_PER_FILE
    return errors[:MAX_ERRORS_PER_FILE] + [f"{name}: … and {rest} more problems"]


def _resolve_across_files(reviews: list[Review]) -> tuple[list[Review], list[str]]:
    """Keep one review per figure; figures with differing verdicts get none, and an error."""
    by_id: dict[str, list[Review]] = {}
    for r in reviews:
        by_id.setdefault(r.figure_id, []).append(r)
    kept, errors = [], []
    for fid, group in by_id.items():
        verdicts = {r.verdict for r in group}
        if len(verdicts) == 1:
            kept.append(group[0])
            continue
        places = "; ".join(f"{r.place} says {_verdict_text(r)}" for r in group)
        errors.append(f"figure {fid}: conflicting reviews in different files ({places}); "
                      "neither is applied until they agree")
    return kept, errors


def _verdict_text(r: Review) -> str:
    parts = [r.status or "(no status)"]
    if r.corrected_value is not None:
        parts.append(f"corrected_value {format_plain_number(r.corrected_value)}")
    if r.note:
        parts.append(f"note {r.note!r}")
    return " ".join(parts)


def _read_review_file(path: Path, name: str) -> tuple[list[Review], list[str]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(path)
        unescape = False
    elif suffix == ".csv":
        header, rows = _read_csv(path)
        unescape = True
    elif suffix in (".xls", ".ods", ".numbers", ".et"):
        raise _FileError(f"{suffix} workbooks are not read; save the sheet as .xlsx or .csv")
    else:
        raise _FileError("not a review sheet (expected a .xlsx or .csv file)")
    return _parse_rows(name, header, rows, unescape=unescape)


def _read_xlsx(path: Path) -> tuple[list, list[tuple[int, tuple]]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # openpyxl warns about extensions it drops (data validation, conditional formats)
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl's own errors all mean "broken file"
        raise _FileError(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
        rows_iter = ws.iter_rows(values_only=True)
        header = list(next(rows_iter, ()) or ())
        rows = [(i, tuple(r)) for i, r in enumerate(rows_iter, start=2)]
    except Exception as exc:  # a damaged sheet part surfaces only while iterating
        raise _FileError(f"the sheet cannot be read ({type(exc).__name__}: {exc})") from None
    finally:
        wb.close()
    return header, rows


def _read_csv(path: Path) -> tuple[list, list[tuple[int, tuple]]]:
    data = path.read_bytes()
    if b"\x00" in data:
        raise _FileError("not a CSV text file (it contains NUL bytes)")
    for encoding in ("utf-8-sig", "gb18030"):
        # Excel on Chinese Windows saves CSV in GBK, which GB18030 contains
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _FileError("not a CSV text file (neither UTF-8 nor GB18030)")
    first_line = text.split("\n", 1)[0]
    # Excel writes ';' or tab separated files in some locales
    delimiter = max(",;\t", key=lambda d: (first_line.count(d), d == ","))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise _FileError(f"not a well-formed CSV file ({exc})") from None
    if not records:
        return [], []
    return records[0], [(i, tuple(r)) for i, r in enumerate(records[1:], start=2)]


def _parse_rows(name: str, header: Sequence, rows: Iterable[tuple[int, tuple]],
                *, unescape: bool) -> tuple[list[Review], list[str]]:
    """Rows of one sheet as reviews, or the list of what is wrong with them."""
    from openpyxl.utils import get_column_letter

    names = [_clean_header(h, unescape=unescape) for h in header]
    errors: list[str] = []
    index: dict[str, int] = {}
    for i, h in enumerate(names):
        if not h:
            continue
        if h in index:
            errors.append(f"{name}, row 1, column {get_column_letter(i + 1)}: "
                          f"column {h!r} appears twice")
        index.setdefault(h, i)
    missing = [c for c in REQUIRED_COLUMNS if c not in index]
    if missing:
        errors.append(f"{name}, row 1: missing column(s) {', '.join(missing)} — the header row "
                      f"must name at least {', '.join(REQUIRED_COLUMNS)} "
                      f"(found: {', '.join(h for h in names if h) or 'nothing'})")
    if errors:
        return [], errors

    def where(row: int, col: str) -> str:
        return f"{name}, row {row}, column {col} ({get_column_letter(index[col] + 1)})"

    def cell(values: tuple, col: str) -> Any:
        i = index.get(col)
        return values[i] if i is not None and i < len(values) else None

    reviews: dict[str, Review] = {}
    for row, values in rows:
        fid = _text(cell(values, "figure_id"), unescape=unescape)
        raw_status = _text(cell(values, "status"), unescape=unescape)
        raw_value = cell(values, "corrected_value")
        note = _text(cell(values, "note"), unescape=unescape)
        if raw_status is None and _text(raw_value, unescape=False) is None and note is None:
            continue  # not reviewed
        row_errors = []
        status = fold_width(raw_status).lower() if raw_status is not None else None
        if status is not None and status not in REVIEW_STATUSES:
            row_errors.append(f"{where(row, 'status')}: unknown status {raw_status!r}; "
                              f"use one of {', '.join(REVIEW_STATUSES)}")
        value = None
        if _text(raw_value, unescape=False) is not None:
            value = parse_number(raw_value)
            if value is None:
                row_errors.append(f"{where(row, 'corrected_value')}: {raw_value!r} is not a "
                                  "number (write digits only, e.g. 5000000 or 12.5)")
            elif status != "fix" and status in REVIEW_STATUSES:
                row_errors.append(f"{where(row, 'corrected_value')}: a corrected value goes "
                                  f"with status fix, not {status!r}")
            elif status is None:
                row_errors.append(f"{where(row, 'status')}: a corrected value is given but the "
                                  "status is empty; set it to fix")
        elif status == "fix":
            place = (where(row, "corrected_value") if "corrected_value" in index else
                     f"{name}, row {row}, column corrected_value (not in the header)")
            row_errors.append(f"{place}: status fix needs a corrected value")
        if fid is None:
            row_errors.append(f"{where(row, 'figure_id')}: a review without a figure_id")
        if row_errors:
            errors.extend(row_errors)
            continue
        review = Review(figure_id=fid, status=status, corrected_value=value, note=note,
                        file=name, row=row)
        first = reviews.get(fid)
        if first is None:
            reviews[fid] = review
        elif first.verdict != review.verdict:
            errors.append(f"{where(row, 'status')}: figure {fid} was already reviewed in row "
                          f"{first.row} as {_verdict_text(first)}, here as "
                          f"{_verdict_text(review)}")
    if errors:
        return [], errors
    return list(reviews.values()), []


def _clean_header(value: Any, *, unescape: bool) -> Optional[str]:
    text = _text(value, unescape=unescape)
    return text.lower() if text is not None else None


def _text(value: Any, *, unescape: bool) -> Optional[str]:
    """A cell as trimmed text, None when empty; CSV cells lose the formula-guard quote."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        text = format_plain_number(value)
    elif isinstance(value, (_dt.datetime, _dt.date)):
        text = value.isoformat()
    else:
        text = str(value)
    if unescape:
        text = unescape_formula(text)
    text = text.strip()
    return text or None


def parse_number(value: Any) -> Optional[float]:
    """A corrected value as a float, or None when it is not a finite number.

    Accepts spreadsheet numbers and text such as ``"5,000,000"``, ``"１２.５"``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = fold_width(str(value)).strip().lstrip("'").replace(",", "").replace(" ", "")
        try:
            number = float(text)
        except ValueError:
            return None
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------- applying

#: the figures table's columns the reviews fill
REVIEW_COLUMNS = ("review_status", "corrected_value", "review_note")


class ReviewTally:
    """Apply reviews to figure rows chunk by chunk, and count what they did.

    Memory grows with the number of reviews, never with the number of
    figures: a run streams its figures through :meth:`apply` and asks for
    :meth:`summary` at the end.

    Parameters
    ----------
    reviews : ReviewSet or None
        None applies nothing: rows keep the review columns they have.

    Examples
    --------
    >>> tally = ReviewTally(load_reviews(Path("reviews")))   # doctest: +SKIP
    >>> for rows in chunks:                                  # doctest: +SKIP
    ...     tally.apply(rows)
    >>> tally.summary()["n_verified"]                        # doctest: +SKIP
    """

    def __init__(self, reviews: Optional[ReviewSet]):
        self._reviews = reviews
        self._by_id = {r.figure_id: r for r in reviews.reviews} if reviews is not None else {}
        self._matched: set[str] = set()
        self._counts = dict.fromkeys(REVIEW_STATUSES, 0)
        self._n_figures = 0

    def apply(self, rows: list[dict]) -> None:
        """Fill ``review_status``, ``corrected_value`` and ``review_note`` of ``rows`` in place.

        Parameters
        ----------
        rows : list of dict
            Figure rows (keys of ``pipeline.tables.COLUMNS['figures']``, as
            ``pipeline.tables.figure_rows`` makes them).  A figure without a
            review gets None in the three columns; with ``reviews=None`` the
            rows keep theirs (missing ones are added as None).
        """
        if self._reviews is None:
            for row in rows:
                for col in REVIEW_COLUMNS:
                    row.setdefault(col, None)
            self._count(_value(row["review_status"]) for row in rows)
            return
        for row, review in zip(rows, self._match([row["figure_id"] for row in rows])):
            if review is None:
                row["review_status"] = row["corrected_value"] = row["review_note"] = None
            else:
                row["review_status"] = review.status
                row["corrected_value"] = review.corrected_value
                row["review_note"] = review.note

    def _match(self, figure_ids: Sequence[str]) -> list[Optional[Review]]:
        """The review of each figure (None when it has none); counts and remembers them."""
        found = [self._by_id.get(fid) for fid in figure_ids]
        for review in found:
            if review is not None:
                self._matched.add(review.figure_id)
        self._count(r.status if r is not None else None for r in found)
        return found

    def _count(self, statuses: Iterable) -> None:
        counts = self._counts
        n = 0
        for status in statuses:
            n += 1
            if status in counts:  # None, NA and NaN are "not reviewed"
                counts[status] += 1
        self._n_figures += n

    def summary(self) -> dict:
        """What the reviews did to the figures seen so far.

        Returns
        -------
        dict
            ``n_figures``, ``n_verified`` (ok + fix), ``n_wrong``, ``n_fixed``,
            ``n_unreviewed``, ``n_reviews``, ``files`` (applied), ``stale``
            (reviews whose figure was not seen, in review order: figure_id,
            file, row, status, note, corrected_value) and ``errors``.
        """
        n_ok, n_wrong, n_fixed = (self._counts[s] for s in REVIEW_STATUSES)
        reviews = self._reviews
        stale = [{"figure_id": r.figure_id, "file": r.file, "row": r.row, "status": r.status,
                  "note": r.note, "corrected_value": r.corrected_value}
                 for r in (reviews.reviews if reviews is not None else ())
                 if r.figure_id not in self._matched]
        return {
            "n_figures": self._n_figures,
            "n_verified": n_ok + n_fixed,
            "n_wrong": n_wrong,
            "n_fixed": n_fixed,
            "n_unreviewed": self._n_figures - n_ok - n_wrong - n_fixed,
            "n_reviews": len(reviews.reviews) if reviews is not None else 0,
            "files": list(reviews.files) if reviews is not None else [],
            "stale": stale,
            "errors": list(reviews.errors) if reviews is not None else [],
        }


def apply_reviews(figures: pd.DataFrame, reviews: Optional[ReviewSet]
                  ) -> tuple[pd.DataFrame, dict]:
    """Fill ``review_status``, ``corrected_value`` and ``review_note`` from ``reviews``.

    The whole-table form of :class:`ReviewTally`.

    Parameters
    ----------
    figures : DataFrame
        The figures table (``pipeline.tables.COLUMNS['figures']``); not modified.
    reviews : ReviewSet or None
        None applies nothing.

    Returns
    -------
    figures : DataFrame
        A copy with the review columns filled; dtypes and column order kept.
    summary : dict
        As :meth:`ReviewTally.summary`.
    """
    figures = figures.copy()
    n = len(figures)
    tally = ReviewTally(reviews)
    if reviews is not None:
        found = tally._match(figures["figure_id"].tolist() if n else [])
        figures["review_status"] = pd.array([r.status if r else None for r in found],
                                            dtype="string")
        figures["corrected_value"] = pd.Series(
            [r.corrected_value if r and r.corrected_value is not None else math.nan
             for r in found], index=figures.index, dtype="float64")
        figures["review_note"] = pd.array([r.note if r else None for r in found], dtype="string")
    for col, dtype in (("review_status", "string"), ("corrected_value", "float64"),
                       ("review_note", "string")):
        if col not in figures.columns:
            figures[col] = pd.Series([None] * n, index=figures.index, dtype=dtype)
    if reviews is None:
        tally._count(_value(v) for v in figures["review_status"].tolist())
    return figures, tally.summary()


# --------------------------------------------------------------------------- writing

#: figures per page of the review page: a larger run gets ``index.html`` and
#: ``page-2.html``, ``page-3.html`` …, each a page a browser filters quickly
PAGE_FIGURES = 5000
#: the file name of page ``n`` (2, 3, …); page 1 is ``PAGE_NAME``
PAGE_FILE = "page-{}.html"
_PAGE_FILE_RE = re.compile(r"page-(\d+)\.html")
#: where a page's figure rows go into the rendered page (see review.html.j2)
_ROWS_SLOT = "<!-- figure rows -->"
#: sheet rows serialized per batch, and page rows rendered per batch
_BATCH = 1000
_PAGE_BATCH = 100
_RECORDS_SLICE = 10000


def write_review_outputs(tables: dict, out_dir: Path, *, summary: Optional[dict] = None) -> None:
    """Write the review sheet (XLSX and CSV) and the review page into ``out_dir``.

    The whole-table form of :class:`ReviewWriter`.

    Parameters
    ----------
    tables : dict of DataFrame
        Needs ``figures`` and ``articles``.
    out_dir : Path
        Gets ``figures_review.xlsx``, ``figures_review.csv`` and ``index.html``
        (with ``page-2.html`` … beyond ``PAGE_FIGURES`` figures), each written
        under a temporary name and renamed into place.
    summary : dict, optional
        The summary of ``apply_reviews``; the page then lists stale reviews and
        review-file errors too.

    Notes
    -----
    The editor columns are prefilled with the verdicts already applied, so a
    sheet can be filled over several rounds; reading it back gives the same
    verdicts.
    """
    with ReviewWriter(out_dir) as writer:
        batch = []
        for row in _iter_sheet_rows(tables):
            batch.append(row)
            if len(batch) == _BATCH:
                writer.add_rows(batch)
                batch = []
        writer.add_rows(batch)
        writer.close(summary)


class ReviewWriter:
    """Write the review sheet (XLSX and CSV) and the review page as figures arrive.

    Memory does not grow with the number of figures: the sheet is compressed
    into the workbook row by row, the CSV written line by line, and the page's
    rows rendered into a temporary file while the characters they show are
    collected; :meth:`close` then writes each page's head (with the font cut
    down to those characters and the counts) around its rows.  Every file is
    written under a temporary name and renamed into place by :meth:`close`;
    :meth:`discard` (or leaving the ``with`` block on an exception) removes
    them and leaves the files already in place as they were.

    Parameters
    ----------
    out_dir : Path
        Gets ``figures_review.xlsx``, ``figures_review.csv``, ``index.html``
        and, beyond ``page_figures`` figures, ``page-2.html`` … (page files of
        an earlier, longer run are removed).
    page_figures : int, default PAGE_FIGURES
        Figures per page; a page ends between two articles, so an article's
        figures stay on one page.

    Examples
    --------
    >>> with ReviewWriter(out / "review") as writer:             # doctest: +SKIP
    ...     for analysis in analyses:
    ...         a, rows = analysis.article, figure_rows(analysis)
    ...         tally.apply(rows)
    ...         writer.add(a.article_id, a.title, a.text, rows)
    ...     writer.close(tally.summary())
    """

    def __init__(self, out_dir: Path, *, page_figures: int = PAGE_FIGURES):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._files: list[_StagedFile] = []
        self._closed = False
        try:
            xlsx = self._staged(XLSX_NAME, "wb")
            self._xlsx = _XlsxStream(xlsx.fh)
            csv_file = self._staged(CSV_NAME, "w", encoding="utf-8-sig", newline="")
            self._csv = csv_file.fh
            self._csv.write(_csv_lines([[c] for c in SHEET_COLUMNS], 1))
            self._pages = _PageStream(self.out_dir, page_figures)
        except BaseException:
            self.discard()
            raise
        self._counts = dict.fromkeys(REVIEW_STATUSES, 0)
        self._n_figures = 0
        self._pending: list[dict] = []

    def _staged(self, name: str, mode: str, **kwargs) -> "_StagedFile":
        staged = _StagedFile(self.out_dir / name, mode, **kwargs)
        self._files.append(staged)
        return staged

    def add(self, article_id: str, title: Optional[str], text: Optional[str],
            figure_rows: Sequence[dict]) -> None:
        """Add one article's figures, in the order they are to appear.

        Parameters
        ----------
        article_id, title, text : str
            The article the figures stand in; ``text`` is what their offsets
            point into.
        figure_rows : sequence of dict
            Its figure rows (keys of ``pipeline.tables.COLUMNS['figures']``)
            with the reviews applied (:meth:`ReviewTally.apply`).
        """
        title = _value(title) or "（无标题）"
        rows = [_sheet_row(f, title, text) for f in figure_rows]
        if _SURROGATE_RE.search(title) or (isinstance(text, str) and _SURROGATE_RE.search(text)):
            # spelled out as the tables spell them, so every file can hold the text
            rows = [{k: writable(v) for k, v in r.items()} for r in rows]
        self.add_rows(rows)

    def add_rows(self, rows: Sequence[dict]) -> None:
        """Add figures as rows of :func:`sheet_rows`, in the order they are to appear.

        The rows are kept (not copied) until their batch is written.
        """
        if self._closed:
            raise ValueError("the review writer is closed")
        # Rows are written a batch at a time: an article's dozen rows would
        # pay each file's per-call cost (a zip write, a page fill) alone.
        self._pending.extend(rows)
        if len(self._pending) >= _BATCH:
            self._write_pending()

    def _write_pending(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        # one column-wise view of the batch serves the three files
        batch = _Batch(rows)
        self._xlsx.add_batch(batch)
        self._csv.write(_csv_lines([_csv_column(batch.columns[col], numeric)
                                    for col, numeric in _CSV_PLAN], batch.n))
        self._pages.add_batch(batch)
        counts = self._counts
        for status in counts:
            counts[status] += batch.columns["status"].count(status)
        self._n_figures += batch.n

    def close(self, summary: Optional[dict] = None) -> None:
        """Finish every file and rename it into place.

        Parameters
        ----------
        summary : dict, optional
            The summary of :meth:`ReviewTally.summary` (or ``apply_reviews``);
            the page then lists stale reviews and review-file errors too.
        """
        if self._closed:
            return
        try:
            self._write_pending()
            self._xlsx.close()
            counts = dict(self._counts, total=self._n_figures,
                          verified=self._counts["ok"] + self._counts["fix"])
            for name, write in self._pages.pages(counts, summary or {}):
                write(self._staged(name, "wb").fh)
            for staged in self._files:
                staged.commit()
        except BaseException:
            self.discard()
            raise
        finally:
            self._pages.cleanup()
        self._closed = True
        self._remove_pages_beyond(self._pages.n_pages)
        fsync_dir(self.out_dir)

    def discard(self) -> None:
        """Stop and remove what was written: the files in place are left as they were.

        Every temporary file goes, whatever state the writing was stopped in
        (a stop can land in the middle of :meth:`close`).
        """
        self._closed = True
        xlsx = getattr(self, "_xlsx", None)
        try:
            if xlsx is not None:
                xlsx.abandon()
        finally:
            for staged in self._files:
                staged.discard()
            pages = getattr(self, "_pages", None)
            if pages is not None:
                pages.cleanup()

    def _remove_pages_beyond(self, n_pages: int) -> None:
        for path in self.out_dir.glob("page-*.html"):
            m = _PAGE_FILE_RE.fullmatch(path.name)
            if m and int(m.group(1)) > n_pages:
                path.unlink(missing_ok=True)

    def __enter__(self) -> "ReviewWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


#: the keys of a sheet row (see :func:`_sheet_row`)
_ROW_KEYS = ("figure_id", "article_id", "article", "before", "figure", "after", "sentence", "kind",
             "value", "low", "high", "unit", "qualifier", "object", "date", "status",
             "corrected_value", "note")
_ROW_VALUES = operator.itemgetter(*_ROW_KEYS)


class _Batch:
    """Sheet rows (dicts of :func:`_sheet_row`) and the same rows column by column.

    The three files are written a column at a time: checks and escapes that
    hold for a whole column of a batch are done once for it, not per cell.
    ``columns`` maps each key of ``_ROW_KEYS`` to a tuple, a missing key to Nones.
    """

    def __init__(self, rows: Sequence[dict]):
        self.rows = rows
        self.n = len(rows)
        try:
            values = list(zip(*map(_ROW_VALUES, rows))) if rows else [()] * len(_ROW_KEYS)
        except KeyError:
            values = [tuple(r.get(k) for r in rows) for k in _ROW_KEYS]
        self.columns = dict(zip(_ROW_KEYS, values))


class _StagedFile:
    """A file written under a temporary name next to ``path``, renamed into place on commit."""

    def __init__(self, path: Path, mode: str, **kwargs):
        self.path = Path(path)
        # the temporary name write_bytes_atomic uses, which recovery knows
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.fh = open(self.tmp, mode, **kwargs)

    def commit(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        try:
            self.fh.close()
        except Exception:  # noqa: BLE001 - a failed flush: the file is deleted anyway
            pass
        finally:  # even when a stop lands in the close
            try:
                self.tmp.unlink(missing_ok=True)
            except OSError:
                pass  # a folder that no longer lets us: nothing else to do


def sheet_rows(tables: dict) -> list[dict]:
    """One dict per figure: the sheet's columns plus the sentence in three parts."""
    return list(_iter_sheet_rows(tables))


def _iter_sheet_rows(tables: dict) -> Iterable[dict]:
    figures = tables["figures"]
    articles = tables["articles"]
    text_by_article = dict(zip(articles["article_id"], articles["text"]))
    title_by_article = dict(zip(articles["article_id"], articles["title"]))
    for start in range(0, len(figures), _RECORDS_SLICE):
        # a slice at a time: the records of a whole large table would not be small
        for f in _records(figures.iloc[start:start + _RECORDS_SLICE]):
            aid = f["article_id"]
            yield _sheet_row(f, _value(title_by_article.get(aid)) or "（无标题）",
                             _value(text_by_article.get(aid)))


def _sheet_row(f: dict, title: str, text: Optional[str]) -> dict:
    """The sheet row of figure row ``f`` of the article titled ``title`` with ``text``."""
    before, figure, after = _sentence_parts(f, text)
    get = f.get
    return {
        "figure_id": _value(f["figure_id"]),
        "article_id": _value(f["article_id"]),
        "article": title,
        "before": before, "figure": figure, "after": after,
        "sentence": f"{before}{MARK_OPEN}{figure}{MARK_CLOSE}{after}",
        "kind": _value(get("kind")), "value": _value(get("value")),
        "low": _value(get("low")), "high": _value(get("high")), "unit": _value(get("unit")),
        "qualifier": _value(get("qualifier")), "object": _value(get("object")),
        "date": _value(get("date")), "status": _value(get("review_status")),
        "corrected_value": _value(get("corrected_value")), "note": _value(get("review_note")),
    }


def _records(frame: pd.DataFrame) -> Iterable[dict]:
    """``frame.to_dict("records")``, built column by column.

    ``to_dict`` boxes every cell of an extension column (string, Int64) one at
    a time; ``tolist`` gives the same Python values (missing ones as NA or
    NaN, which ``_value`` maps to None like to_dict's None) many times faster.
    Object columns may hold NumPy scalars that only ``to_dict`` unboxes, so a
    frame with one goes the slow way.
    """
    if any(dtype == object for dtype in frame.dtypes) or not frame.columns.is_unique:
        return frame.to_dict("records")
    columns = list(frame.columns)
    return (dict(zip(columns, row)) for row in zip(*(frame[c].tolist() for c in columns)))


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v


def _sentence_parts(f: dict, text: Optional[str]) -> tuple[str, str, str]:
    """(before, figure, after) of the figure's sentence, trimmed to CONTEXT_LIMIT."""
    surface = _value(f.get("text"))
    try:
        s, e = int(f["sentence_start"]), int(f["sentence_end"])
        a, b = int(f["start"]), int(f["end"])
        ok = (isinstance(text, str) and 0 <= s <= a <= b <= e <= len(text)
              and text[a:b] == surface)
    except (TypeError, ValueError, KeyError):
        ok = False
    if ok:
        before, figure, after = text[s:a].lstrip(), text[a:b], text[b:e].rstrip()
    else:
        # offsets do not fit the article: mark the figure inside the stored sentence
        sentence, figure = _value(f.get("sentence")) or "", surface or ""
        at = sentence.find(figure) if figure else -1
        before, after = (sentence[:at], sentence[at + len(figure):]) if at >= 0 else (sentence, "")
        figure = figure if at >= 0 else ""
    if len(before) > CONTEXT_LIMIT:
        before = "…" + before[-CONTEXT_LIMIT:]
    if len(after) > CONTEXT_LIMIT:
        after = after[:CONTEXT_LIMIT] + "…"
    return before, figure, after


def writable_text(text: str) -> str:
    """``text`` without characters a workbook cannot hold (control characters, lone surrogates)."""
    # every character the pattern replaces is unprintable; most text has none
    return text if text.isprintable() else _UNWRITABLE_RE.sub("\ufffd", text)


def display_name(path: Path) -> str:
    """A (relative) file name fit for a message: control characters and undecodable bytes as '?'."""
    return _CONTROL_RE.sub("?", Path(path).as_posix())


def format_plain_number(v: float) -> str:
    """A number for a CSV cell: integral values without ``.0``, others in full precision."""
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def csv_bytes(rows: Sequence[dict]) -> bytes:
    """The review sheet as CSV: UTF-8 with BOM, formula triggers guarded with ``'``."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SHEET_COLUMNS)
    writer.writerows(_csv_cells(r) for r in rows)
    return buf.getvalue().encode("utf-8-sig")


def _csv_cells(r: dict) -> list[str]:
    out = []
    for col, numeric in _CSV_PLAN:
        v = r.get(col)
        if v is None:
            out.append("")
        elif numeric:
            out.append(format_plain_number(v))
        else:
            out.append(escape_formula(writable_text(str(v))))
    return out


_CSV_PLAN = tuple((col, col in NUMERIC_COLUMNS) for col in SHEET_COLUMNS)

#: characters that make a value odd wherever they are (see _odd_rows): control
#: characters but the line break (the values' separator), and what
#: writable_text replaces
_ODD_CHARS = "\x00-\x09\x0b-\x1f\ud800-\udfff\ufffe\uffff"
#: whitespace but the line break
_SPACE = "[^\\S\n]"
#: a value ending in whitespace, as a pattern of _odd_rows (``ends``)
_ENDS_IN_SPACE = re.compile(f"\n(?<={_SPACE}\n)")

# Text whose cells a whole column of the batch can take as they are: no
# character writable_text replaces, no formula trigger after leading quotes
# at the start of a cell (escape_formula keeps it) and nothing the csv module
# quotes (its delimiter, quote character or line terminator).
_CSV_ODD_STARTS = re.compile("\n(?='*[" + re.escape("".join(FORMULA_TRIGGERS)) + "])")
_CSV_ODD_CHARS = re.compile(f'[,"{_ODD_CHARS}]')


def _odd_rows(values: Sequence, *, starts: Optional[re.Pattern] = None,
              ends: Optional[re.Pattern] = None, chars: Optional[re.Pattern] = None,
              limit: Optional[int] = None) -> Optional[set]:
    """The indices of ``values`` that are odd; None when some value is not text.

    A value is odd when it holds a line break, is longer than ``limit`` or
    one of the patterns matches it.  The patterns are searched in the values
    joined by line breaks, with one before the first and after the last, so
    most batches, which have no odd value, cost one search each: ``starts``
    matches the line break before a value (``\\n(?=…)``), ``ends`` the one
    after it (``\\n(?<=…)``) and ``chars`` a character inside it.  A pattern
    that starts with a literal character or a character set is searched fast.
    """
    try:
        joined = "\n" + "\n".join(values) + "\n"
    except TypeError:
        return None
    odd = set()
    if joined.count("\n") != len(values) + 1:
        odd.update(i for i, v in enumerate(values) if "\n" in v)
    if limit is not None and len(joined) > limit:
        odd.update(i for i, v in enumerate(values) if len(v) > limit)
    found = []  # positions inside (or at the start of) odd values
    for pattern, shift in ((starts, 1), (ends, -1), (chars, 0)):
        if pattern is not None and pattern.search(joined):
            found.extend(m.start() + shift for m in pattern.finditer(joined))
    if found:
        # where each value ends in the joined text, its line break included
        value_ends = 1 + np.cumsum(np.fromiter(map(len, values), dtype=np.int64,
                                               count=len(values)) + 1)
        odd.update(np.searchsorted(value_ends, found, side="right").tolist())
    return odd


def _split_odd(values: Sequence, odd: set) -> tuple[Optional[list], Sequence]:
    """(indices of the values not in ``odd``, or None for all; those values)."""
    if not odd:
        return None, values
    kept = [i for i in range(len(values)) if i not in odd]
    return kept, [values[i] for i in kept]


def _escaped(values: Sequence[str]) -> Sequence[str]:
    """Printable ``values`` escaped as lxml escapes text, all at once."""
    joined = "\n".join(values)
    if "&" in joined or "<" in joined or ">" in joined:
        return _escape_text(joined).split("\n")
    return values


def _csv_column(values: Sequence, numeric: bool) -> Sequence[str]:
    """The CSV fields of one column of a batch, as :func:`_csv_cells` and ``csv.writer`` give them."""
    if numeric:
        return ["" if v is None else format_plain_number(v) for v in values]
    out = ["" if v is None else v for v in values] if None in values else list(values)
    odd = _odd_rows(out, starts=_CSV_ODD_STARTS, chars=_CSV_ODD_CHARS)
    for i in (range(len(out)) if odd is None else odd):
        v = values[i]
        if v is not None:
            out[i] = _csv_field(escape_formula(writable_text(str(v))))
    return out


def _csv_field(text: str) -> str:
    """``text`` quoted as ``csv.writer`` (excel dialect, ``"\\n"`` line ends) quotes a field."""
    if "," in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_lines(columns: Sequence[Sequence[str]], n_rows: int) -> str:
    """The CSV lines of ``n_rows`` rows given column by column as fields."""
    if not n_rows:
        return ""
    # csv.writer writes a row of one empty field as "" (an empty line would be no row)
    lines = map(",".join, zip(*columns))
    if len(columns) == 1:
        # csv.writer writes a row of one empty field as "" (an empty line is no row)
        lines = [line or '""' for line in lines]
    return "\n".join(lines) + "\n"


#: column widths (in characters) of the XLSX sheet
_WIDTHS = {"figure_id": 18, "article": 24, "sentence": 70, "figure": 14, "kind": 10,
           "value": 14, "low": 12, "high": 12, "unit": 7, "qualifier": 9, "object": 12,
           "date": 11, "status": 9, "corrected_value": 16, "note": 30}

_HELP_LINES = (
    ("列", "含义"),
    ("status", "ok = 数字无误；wrong = 不是数字或抽取错误（不计入合计与图表）；fix = 需更正，填写 corrected_value"),
    ("corrected_value", "status 为 fix 时填写正确的数值（纯数字，如 5000000）"),
    ("note", "备注，可选"),
    ("保存", "把填好的表（.xlsx 或 .csv，文件名随意）放进 reviews/ 文件夹，再运行一次即可"),
    ("figure_id", "勿改：审核按此编号对应到数字"),
)

#: the zip member of the figures sheet
_SHEET_PART = "xl/worksheets/sheet1.xml"
#: deflate level of the workbook: on a large sheet level 4 takes under half
#: the time of zlib's default (6) for a file about a tenth larger
XLSX_COMPRESSLEVEL = 4


def xlsx_bytes(rows: Sequence[dict], *, openpyxl_rows: bool = False) -> bytes:
    """The review sheet as an XLSX workbook, byte-identical for identical rows.

    Parameters
    ----------
    rows : sequence of dict
        The rows of :func:`sheet_rows`.
    openpyxl_rows : bool, default False
        Write the figure rows through openpyxl's cells too.  By default
        openpyxl builds the workbook (styles, frozen header, filter,
        validation, help sheet) but the rows are serialized by
        :class:`_SheetRows` straight into the zip, as :class:`ReviewWriter`
        writes them (about four times faster; one Python object per cell is
        the cost of a large sheet); the tests compare the two.  Both leave out
        the sheet's optional ``<dimension>`` (its size), which a streamed sheet
        does not know before its rows are written, as openpyxl's own
        write-only sheets do.
    """
    buf = io.BytesIO()
    if not openpyxl_rows:
        stream = _XlsxStream(buf)
        for i in range(0, len(rows), _BATCH):
            stream.add(rows[i:i + _BATCH])
        stream.close()
        return buf.getvalue()

    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    wb, ws, mark_font, wrap = _workbook()
    _fill_cells(ws, rows, mark_font=mark_font, wrap=wrap)
    _size_sheet(ws, len(rows))
    last = get_column_letter(len(SHEET_COLUMNS))
    dimension = f'<dimension ref="A1:{last}{len(rows) + 1}"/>'.encode()
    # ExcelWriter directly: Workbook.save stamps the current time into docProps/core.xml
    with _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSLEVEL,
                       replace={_SHEET_PART: {dimension: b""}}) as archive:
        ExcelWriter(wb, archive).save()
    return buf.getvalue()


def _workbook():
    """The review workbook without its figure rows: (workbook, sheet, mark font, wrap)."""
    from openpyxl import Workbook
    from openpyxl.cell.text import InlineFont
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append(list(SHEET_COLUMNS))
    header_fill = PatternFill("solid", fgColor="FFDCE6F1")
    editor_fill = PatternFill("solid", fgColor="FFFFF2CC")
    for i, col in enumerate(SHEET_COLUMNS, start=1):
        c = ws.cell(row=1, column=i)
        c.font = Font(bold=True)
        c.fill = editor_fill if col in EDITOR_COLUMNS else header_fill
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(col, 12)
    ws.freeze_panes = "A2"
    validation = DataValidation(type="list", formula1='"' + ",".join(REVIEW_STATUSES) + '"',
                                allow_blank=True, showErrorMessage=True,
                                errorTitle="status", error="ok / wrong / fix")
    ws.add_data_validation(validation)
    _size_sheet(ws, 0)

    help_ws = wb.create_sheet(HELP_SHEET_NAME)
    for line in _HELP_LINES:
        help_ws.append(list(line))
    help_ws.column_dimensions["A"].width = 18
    help_ws.column_dimensions["B"].width = 90

    wb.properties.creator = "cn-news-pipeline"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    return wb, ws, InlineFont(b=True, color="FFC00000"), Alignment(wrap_text=True, vertical="top")


def _size_sheet(ws, n_rows: int) -> None:
    """Stretch the filter and the status drop-down over ``n_rows`` figure rows."""
    from openpyxl.utils import get_column_letter

    n = n_rows + 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SHEET_COLUMNS))}{n}"
    status_col = get_column_letter(SHEET_COLUMNS.index("status") + 1)
    (validation,) = ws.data_validations.dataValidation
    validation.sqref = f"{status_col}2:{status_col}{max(n, 2)}"


class _XlsxStream:
    """The review workbook, written into ``fileobj`` as its figure rows arrive.

    openpyxl builds the workbook (styles, frozen header, filter, validation,
    help sheet) with the header row only.  The parts before the figures sheet
    and the sheet's own start are taken from a twin workbook saved at once
    (saving changes a workbook a little, so the one that is kept is saved
    once only), then the rows follow (serialized by :class:`_SheetRows` and
    compressed as they come); :meth:`close` saves the workbook into the zip,
    where the figures sheet's end closes the streamed sheet and the parts
    after it are written as openpyxl writes them, once the rows' cell styles
    are all known.  Member order and bytes are openpyxl's, except the sheet's
    optional ``<dimension>``, which is left out.
    """

    def __init__(self, fileobj):
        wb, ws, mark_font, wrap = _workbook()
        # The styles the figure cells carry, taken from cells styled through
        # openpyxl's own API on a scratch sheet (then removed).
        scratch = wb.create_sheet("scratch")
        sentence_style = scratch.cell(row=1, column=1)
        sentence_style.alignment = wrap
        quoted_sentence_style = scratch.cell(row=1, column=2)
        quoted_sentence_style.alignment = wrap
        quoted_sentence_style.quotePrefix = True
        quoted_style = scratch.cell(row=1, column=3)
        quoted_style.quotePrefix = True
        self._rows = _SheetRows(wb, ws, mark_font=mark_font,
                                sentence_style=sentence_style._style,
                                quoted_sentence_style=quoted_sentence_style._style,
                                quoted_style=quoted_style._style)
        wb.remove(scratch)
        self._wb, self._ws = wb, ws
        self._n = 0
        parts = _PartsCapture.of(_workbook()[0])
        self._zip = _FixedTimeZip(fileobj, "w", zipfile.ZIP_DEFLATED,
                                  compresslevel=XLSX_COMPRESSLEVEL)
        for name, data in parts.items():
            if name == _SHEET_PART:
                break
            self._zip.writestr(name, data)
            self._zip.divert[name] = None
        head, _, _ = self._split_sheet(parts[_SHEET_PART])
        head = re.sub(rb"<dimension [^>]*/>", b"", head, count=1)
        self._sheet = self._zip.open(self._zip.member(_SHEET_PART), "w")
        self._sheet.write(head + b"<sheetData>" + self._rows.header_row)

    def _split_sheet(self, part: bytes) -> tuple[bytes, bytes, bytes]:
        """(start, header row, end) of the figures sheet openpyxl wrote with its header row only."""
        expected = b"<sheetData>" + self._rows.header_row + b"</sheetData>"
        if part.count(expected) != 1:
            raise RuntimeError(f"{_SHEET_PART}: the header row openpyxl wrote is not the expected one")
        head, tail = part.split(expected)
        return head, self._rows.header_row, tail

    def add(self, rows: Sequence[dict]) -> None:
        self.add_batch(_Batch(rows))

    def add_batch(self, batch: "_Batch") -> None:
        self._sheet.write(self._rows.serialize_batch(batch, first=self._n + 2))
        self._n += batch.n

    def close(self) -> None:
        from openpyxl.writer.excel import ExcelWriter

        _size_sheet(self._ws, self._n)
        self._zip.divert[_SHEET_PART] = self._finish_sheet
        ExcelWriter(self._wb, self._zip).save()  # the other parts; closes the zip

    def _finish_sheet(self, part: bytes) -> None:
        _, _, tail = self._split_sheet(part)
        self._sheet.write(b"</sheetData>" + tail)
        self._sheet.close()

    def abandon(self) -> None:
        """Stop writing: the file is being thrown away."""
        try:
            self._sheet.close()
            self._zip.close()
        except Exception:  # noqa: BLE001 - see below
            # the error (or stop) that ended the writing may have left the zip in
            # any state; its file is deleted next, so only silence at garbage
            # collection matters
            self._zip.fp = None


class _PartsCapture:
    """An archive stand-in that keeps the parts openpyxl writes, in order."""

    def __init__(self):
        self.parts: dict[str, bytes] = {}

    @classmethod
    def of(cls, wb) -> dict:
        """The parts of workbook ``wb`` as openpyxl writes them: {member name: bytes}."""
        from openpyxl.writer.excel import ExcelWriter

        capture = cls()
        ExcelWriter(wb, capture).save()
        return capture.parts

    def writestr(self, name, data, *args, **kwargs) -> None:
        name = getattr(name, "filename", name)
        self.parts[name] = data.encode("utf-8") if isinstance(data, str) else data

    def write(self, filename, arcname=None, *args, **kwargs) -> None:
        with open(filename, "rb") as fh:
            self.writestr(arcname or os.path.basename(filename), fh.read())

    def namelist(self) -> list[str]:
        return list(self.parts)

    def close(self) -> None:
        pass


def _fill_cells(ws, rows: Sequence[dict], *, mark_font, wrap) -> None:
    """The figure rows as openpyxl cells (the reference for :class:`_SheetRows`)."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock

    for r_i, r in enumerate(rows, start=2):
        for c_i, col in enumerate(SHEET_COLUMNS, start=1):
            cell = ws.cell(row=r_i, column=c_i)
            if col == "sentence":
                parts = [writable_text(r["before"]),
                         TextBlock(mark_font, writable_text(MARK_OPEN + r["figure"] + MARK_CLOSE)),
                         writable_text(r["after"])]
                cell.value = CellRichText([p for p in parts if not isinstance(p, str) or p])
                cell.alignment = wrap
                if needs_formula_guard(writable_text(r["before"] or MARK_OPEN)):
                    cell.quotePrefix = True
                continue
            v = r.get(col)
            if v is None:
                continue
            if col in NUMERIC_COLUMNS:
                cell.value = float(v)
                continue
            text = writable_text(str(v))[:EXCEL_CELL_LIMIT]
            cell.value = text
            if needs_formula_guard(text):
                # a string cell, shown with Excel's "text" apostrophe: never a formula
                cell.data_type = "s"
                cell.quotePrefix = True


class _SheetRows:
    """The rows of the review sheet's ``<sheetData>``, as openpyxl (with lxml) writes them.

    It follows ``openpyxl.cell._writer.lxml_write_cell`` and
    ``openpyxl.cell.cell.Cell._bind_value``: a cell's style id is assigned
    on first use, in the order cells are written; empty unstyled cells are
    skipped; strings are inline (``t="inlineStr"``), except error codes
    (``t="e"``); numbers are written with ``%.16g``; text is escaped as lxml
    escapes it with ASCII output (``&#NNNN;`` for every other character).
    ``tests/test_review_xlsx.py`` compares the bytes with openpyxl's on hostile rows.

    A batch is put together column by column (:meth:`serialize_batch`): the
    values of a column that need nothing but escaping (most) are found with
    one search over the whole column (:func:`_odd_rows`), escaped at once and
    written by one f-string per cell; the others go through the general
    cell writers, whose markup is spelled ``_LT`` / ``_GT`` and restored by
    :func:`_unmark` cell by cell.
    """

    def __init__(self, wb, ws, *, mark_font, sentence_style, quoted_sentence_style, quoted_style):
        from openpyxl.cell.cell import ERROR_CODES
        from openpyxl.utils import get_column_letter
        from openpyxl.xml.functions import tostring

        self._styles = wb._cell_styles
        self._error_codes = frozenset(ERROR_CODES)
        self._letters = [get_column_letter(i) for i in range(1, len(SHEET_COLUMNS) + 1)]
        self._mark_props = _mark(tostring(mark_font.to_tree(tagname="rPr")).decode("ascii"))
        self._style_of = {"sentence": sentence_style, "quoted_sentence": quoted_sentence_style,
                          "quoted": quoted_style}
        self._style_attrs: dict[str, str] = {}
        self._new_styles: dict[str, tuple] = {}
        self._at = (0, 0)  # (row, column) of the cell being written in its batch
        self._plan = [(letter, col, _SENTENCE if col == "sentence" else
                       _NUMBER if col in NUMERIC_COLUMNS else _TEXT)
                      for letter, col in zip(self._letters, SHEET_COLUMNS)]
        # Printable text (no whitespace but " ") starting with none of these
        # and not ending in " " is written as it is: no formula guard, no
        # error code, no xml:space.
        self._plain_first = " " + "".join(FORMULA_TRIGGERS) + "".join(
            {code[0] for code in self._error_codes})
        self._mark_run = _mark(f"<r>{self._mark_props}<t>") + MARK_OPEN
        self._plain_mark_run = _unmark(self._mark_run)
        # values none of these match are written as they are (see _text_cells,
        # _sentence_cells): no edge whitespace (xml:space), formula guard, error
        # code, character writable_text replaces or \r (escaped as &#13;)
        self._odd_chars = re.compile(f"[{_ODD_CHARS}]")
        # text cells: empty, or starting with a trigger, "#" or whitespace
        self._odd_text_starts = re.compile(
            f"\\n(?=[{re.escape(self._plain_first)}\\n]|{_SPACE})")
        # the sentence's part before the figure: a formula, or whitespace first
        self._odd_before_starts = re.compile(
            f"\\n(?=[{re.escape(''.join(FORMULA_TRIGGERS))}]|{_SPACE})")
        self._space_starts = re.compile(f"\\n(?={_SPACE})")
        #: the header row, ``<row r="1">…</row>``
        self.header_row = _unmark(self._row(1, [
            self._string_cell(f"{self._letters[i]}1", cell.value, self._style_attr(cell._style))
            for i, cell in enumerate(ws[1])])).encode("ascii")

    def _style_attr(self, style) -> str:
        # openpyxl registers a cell's style when the cell is written
        return f' s="{self._styles.add(style)}"' if style is not None and any(style) else ""

    def _named_style(self, name: str) -> str:
        attr = self._style_attrs.get(name)
        if attr is not None:
            return attr
        # openpyxl numbers styles in the order cells are written, row by row;
        # a batch is put together column by column, so a style first used in
        # it is a placeholder until the batch knows where it is used first
        first = self._new_styles.get(name)
        if first is None or self._at < first:
            self._new_styles[name] = self._at
        return _STYLE_SLOT + name + _STYLE_SLOT

    def _register_new_styles(self, text: str) -> str:
        """``text`` with the placeholders of styles first used in it replaced, in row order."""
        for name in sorted(self._new_styles, key=self._new_styles.__getitem__):
            attr = self._style_attrs[name] = self._style_attr(self._style_of[name])
            text = text.replace(_STYLE_SLOT + name + _STYLE_SLOT, attr)
        self._new_styles = {}
        return text

    @staticmethod
    def _row(r: int, cells: list) -> str:
        return _ROW_OPEN + str(r) + _ROW_MID + "".join(cells) + _ROW_CLOSE

    def _string_cell(self, ref: str, text: str, style: str, *, quoted: bool = False) -> str:
        if not quoted and text in self._error_codes:
            return _ERROR_CELL.format(ref=ref, style=style, text=text)
        if text == "":
            return _EMPTY_CELL.format(ref=ref, style=style)
        # lxml keeps leading or trailing whitespace with xml:space (text != text.strip())
        space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
        return _STRING_CELL.format(ref=ref, style=style, space=space, text=text)

    @staticmethod
    def _run(text: str, props: str = "") -> str:
        space = (' xml:space="preserve"' if (text[0].isspace() or text[-1].isspace())
                 and not text.isspace() else "")
        return _RUN.format(props=props, space=space, text=text)

    def _sentence_cell(self, letter: str, n: str, r: dict) -> str:
        """The sentence cell of row ``r``, the figure marked, in every case."""
        before = writable_text(r["before"])
        after = writable_text(r["after"])
        quoted = needs_formula_guard(before or MARK_OPEN)
        style = self._named_style("quoted_sentence" if quoted else "sentence")
        runs = [self._run(before)] if before else []
        runs.append(self._run(writable_text(MARK_OPEN + r["figure"] + MARK_CLOSE),
                              self._mark_props))
        if after:
            runs.append(self._run(after))
        return (_mark(f'<c r="{letter}{n}"') + style + _SENTENCE_OPEN + "".join(runs)
                + _SENTENCE_CLOSE)

    def _text_cell(self, letter: str, n: str, v: Any) -> str:
        """The cell of text ``v`` in every case: unwritable characters, long, formula-like."""
        text = writable_text(str(v))[:EXCEL_CELL_LIMIT]
        if needs_formula_guard(text):
            return self._string_cell(letter + n, text, self._named_style("quoted"), quoted=True)
        return self._string_cell(letter + n, text, "")

    def serialize(self, rows: Sequence[dict], *, first: int) -> bytes:
        """``<row>`` elements of ``rows``, numbered from ``first``, as bytes."""
        return self.serialize_batch(_Batch(rows), first=first)

    def serialize_batch(self, batch: "_Batch", *, first: int) -> bytes:
        """``<row>`` elements of the rows of ``batch``, numbered from ``first``, as bytes."""
        columns, n = batch.columns, batch.n
        numbers = list(map(str, range(first, first + n)))
        cells = []
        for c_i, (letter, col, kind) in enumerate(self._plan):
            if kind is _SENTENCE:
                column = self._sentence_cells(letter, c_i, numbers, columns["before"],
                                              columns["figure"], columns["after"])
            elif kind is _NUMBER:
                column = self._number_cells(letter, numbers, columns[col])
            else:
                # an article's title repeats on each of its rows: spelled as
                # character references once per title, not once per cell
                column = self._text_cells(letter, c_i, numbers, columns[col],
                                          once_each=col == "article")
            if column is not None:
                cells.append(column)
        text = "".join(itertools.chain.from_iterable(zip(
            [f'<row r="{r}">' for r in numbers], *cells, itertools.repeat("</row>", n))))
        if self._new_styles:
            text = self._register_new_styles(text)
        return text.encode("ascii", "xmlcharrefreplace")

    def _text_cells(self, letter: str, c_i: int, numbers: list, values: Sequence, *,
                    once_each: bool = False) -> Optional[list]:
        """The cells of one text column (None when the batch has no value in it).

        Values that are printable, not empty, start with no formula trigger
        or error code's ``#`` or space and end with no space are written as
        they are; the others by :meth:`_text_cell`.
        """
        n = len(values)
        if None in values:
            where = [i for i, v in enumerate(values) if v is not None]
            if not where:
                return None
            present = [values[i] for i in where]
        else:
            where, present = None, values
        odd = _odd_rows(present, starts=self._odd_text_starts, ends=_ENDS_IN_SPACE,
                        chars=self._odd_chars, limit=EXCEL_CELL_LIMIT)
        if odd is None:  # not all text
            odd = set(range(len(present)))
        kept, plain = _split_odd(present, odd)
        plain = _escaped(plain)
        if once_each:
            spelled = {v: v.encode("ascii", "xmlcharrefreplace").decode("ascii")
                       for v in dict.fromkeys(plain)}
            plain = [spelled[v] for v in plain]
        cell_open = f'<c r="{letter}'
        if where is None and kept is None:
            return [f"{cell_open}{r}{_P_TEXT_OPEN}{v}{_P_TEXT_CLOSE}"
                    for r, v in zip(numbers, plain)]
        rows = where if where is not None else range(n)
        out = [""] * n
        for i, v in zip(rows if kept is None else [rows[k] for k in kept], plain):
            out[i] = f"{cell_open}{numbers[i]}{_P_TEXT_OPEN}{v}{_P_TEXT_CLOSE}"
        for k in sorted(odd):
            i = rows[k]
            self._at = (i, c_i)
            out[i] = _unmark(self._text_cell(letter, numbers[i], values[i]))
        return out

    @staticmethod
    def _number_cells(letter: str, numbers: list, values: Sequence) -> Optional[list]:
        """The cells of one number column (None when the batch has no value in it)."""
        if values.count(None) == len(values):
            return None
        cell_open = f'<c r="{letter}'
        return ["" if v is None else
                f"{cell_open}{r}{_P_NUMBER_OPEN}{_number_text(v)}{_P_NUMBER_CLOSE}"
                for r, v in zip(numbers, values)]

    def _sentence_cells(self, letter: str, c_i: int, numbers: list, befores: Sequence,
                        figures: Sequence, afters: Sequence) -> list:
        """The sentence cells of a batch, the figure marked.

        Rows whose parts are printable, the part before the figure neither
        formula-like nor with a space at an edge and the part after it
        without one, are written here; the others by :meth:`_sentence_cell`.
        """
        n = len(numbers)
        odd = set()
        for values, starts, ends in ((befores, self._odd_before_starts, _ENDS_IN_SPACE),
                                     (figures, None, None),
                                     (afters, self._space_starts, _ENDS_IN_SPACE)):
            odd_here = _odd_rows(values, starts=starts, ends=ends, chars=self._odd_chars)
            if odd_here is None:  # not all text
                odd = set(range(n))
                break
            odd |= odd_here
        kept, (befores_kept, figures_kept, afters_kept) = _split_odd(
            range(n), odd)[0], [_split_odd(v, odd)[1] for v in (befores, figures, afters)]
        out = [""] * n
        if len(odd) < n:
            self._at = ((kept[0] if kept else 0), c_i)
            head = f'"{self._named_style("sentence")}{_P_SENTENCE_OPEN}'
            cell_open, mark_run = f'<c r="{letter}', self._plain_mark_run
            cells = [f"{cell_open}{r}{head}{_P_RUN_OPEN + b + _P_RUN_CLOSE if b else ''}"
                     f"{mark_run}{f}{MARK_CLOSE}{_P_RUN_CLOSE}"
                     f"{_P_RUN_OPEN + a + _P_RUN_CLOSE if a else ''}{_P_SENTENCE_CLOSE}"
                     for r, b, f, a in zip(numbers if kept is None else [numbers[i] for i in kept],
                                           _escaped(befores_kept), _escaped(figures_kept),
                                           _escaped(afters_kept))]
            if kept is None:
                return cells
            for i, cell in zip(kept, cells):
                out[i] = cell
        for i in sorted(odd):
            self._at = (i, c_i)
            out[i] = _unmark(self._sentence_cell(letter, numbers[i], {
                "before": befores[i], "figure": figures[i], "after": afters[i]}))
        return out


def _number_text(v: Any) -> str:
    """A number cell's value as openpyxl writes it (``%.16g``; empty for NaN and infinities)."""
    if v.__class__ is not float:
        v = float(v)
    # v - v is 0 for a finite number, NaN for NaN and infinities
    return "%.16g" % v if v - v == 0 else ""


def _escape_text(text: str) -> str:
    """Printable text escaped as lxml escapes it."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


#: markup while a batch of sheet rows is put together: no written text holds
#: these (writable_text removes them), so text needs no escaping until the
#: whole batch is escaped at once
_LT, _GT = "\x01", "\x02"


def _mark(markup: str) -> str:
    """``markup`` with its brackets spelled ``_LT`` / ``_GT``."""
    return markup.replace("<", _LT).replace(">", _GT)


def _unmark(text: str) -> str:
    """A batch put together with ``_mark``: text escaped as lxml does, markup restored."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;").replace(_LT, "<").replace(_GT, ">"))


_ROW_OPEN, _ROW_MID, _ROW_CLOSE = _mark('<row r="'), _mark('">'), _mark("</row>")
_TEXT_OPEN, _TEXT_CLOSE = _mark('" t="inlineStr"><is><t>'), _mark("</t></is></c>")
_NUMBER_OPEN, _NUMBER_CLOSE = _mark('" t="n"><v>'), _mark("</v></c>")
_SENTENCE_OPEN, _SENTENCE_CLOSE = _mark(' t="inlineStr"><is>'), _mark("</is></c>")
_RUN_OPEN, _RUN_CLOSE = _mark("<r><t>"), _mark("</t></r>")
_ERROR_CELL = _mark('<c r="{ref}"{style} t="e"><v>{text}</v></c>')
_EMPTY_CELL = _mark('<c r="{ref}"{style} t="inlineStr"></c>')
_STRING_CELL = _mark('<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')
_RUN = _mark("<r>{props}<t{space}>{text}</t></r>")


#: the same markup as it is written (a batch is put together column by column)
_P_TEXT_OPEN, _P_TEXT_CLOSE = '" t="inlineStr"><is><t>', "</t></is></c>"
_P_NUMBER_OPEN, _P_NUMBER_CLOSE = '" t="n"><v>', "</v></c>"
_P_SENTENCE_OPEN, _P_SENTENCE_CLOSE = ' t="inlineStr"><is>', "</is></c>"
_P_RUN_OPEN, _P_RUN_CLOSE = "<r><t>", "</t></r>"
#: around the name of a style while its number is not known (see _SheetRows._named_style)
_STYLE_SLOT = "\x03"

#: how _SheetRows writes a column's cells
_SENTENCE, _NUMBER, _TEXT = "sentence", "number", "text"


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose members all carry one fixed date, so equal content gives equal bytes.

    ``replace`` maps a member name to {old bytes: new bytes}, each old part
    occurring exactly once in that member.  ``divert`` maps a member name to
    None (the member is not written: it was written before) or to a function
    that gets its bytes instead (see :class:`_XlsxStream`).
    """

    def __init__(self, *args, replace: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._replace = replace or {}
        self.divert: dict = {}

    def member(self, name: str, compress_type=None) -> zipfile.ZipInfo:
        """The entry of a member named ``name``: fixed date, private permissions."""
        zinfo = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
        zinfo.compress_type = compress_type or self.compression
        # what ZipFile.writestr sets for a member given by name (the
        # attribute is compress_level from Python 3.13 on, with this alias)
        zinfo._compresslevel = self.compresslevel
        zinfo.external_attr = 0o600 << 16
        return zinfo

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        name = getattr(zinfo_or_arcname, "filename", zinfo_or_arcname)
        if name in self.divert:
            receive = self.divert[name]
            if receive is not None:
                receive(data.encode("utf-8") if isinstance(data, str) else data)
            return
        if name in self._replace:
            data = data.encode("utf-8") if isinstance(data, str) else data
            for old, new in self._replace[name].items():
                if data.count(old) != 1:
                    raise RuntimeError(f"{name}: expected one {old[:40]!r} in the part openpyxl wrote")
                data = data.replace(old, new)
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self.member(zinfo_or_arcname, compress_type)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl streams worksheets through a temporary file, whose mtime would leak in
        arcname = arcname or os.path.basename(filename)
        with open(filename, "rb") as fh:
            data = fh.read()
        self.writestr(arcname, data, compress_type, compresslevel)


class _PageStream:
    """The review page, in pages of about ``page_figures`` figures, written in bounded memory.

    Each page's rows are rendered (the template's ``rows`` block) into a
    temporary file as they come, and the characters they show collected;
    what a page's head needs (its kinds and articles for the filters) is
    kept in a small file when the page is full.  :meth:`pages` then renders
    each page around the slot its rows go into, with the font cut down to
    the characters of all pages (one subset, computed once) and the counts.
    """

    def __init__(self, out_dir: Path, page_figures: int):
        from pipeline.report import labels

        self._page_figures = max(1, int(page_figures))
        self._template = _page_template()
        self._fill = _RowsFill.of(self._template)
        self._kind_labels = labels().get("kinds", {})
        self._status_labels = labels().get("review_statuses", {})
        self._dir = Path(tempfile.mkdtemp(prefix=".review-pages-", dir=out_dir))
        # which code points the pages show: a bitmap, so collecting them costs
        # a few nanoseconds per character rather than a set insertion each
        self._shown = np.zeros(sys.maxunicode + 1, dtype=bool)
        self._fh = None
        self._kinds: dict = {}
        self._articles: dict = {}
        self._n = 0
        self._last_article = None
        self.n_pages = 0

    def add(self, rows: Sequence[dict]) -> None:
        self.add_batch(_Batch(rows))

    def add_batch(self, batch: "_Batch") -> None:
        """Add the rows of ``batch``: a new page starts at the first article past a full page."""
        articles = batch.columns["article_id"]
        i, n = 0, batch.n
        while i < n:
            if self._fh is None or (self._n >= self._page_figures
                                    and articles[i] != self._last_article):
                self._start_page()
            # the rows up to a full page, then the rest of the last article
            j = min(n, i + max(0, self._page_figures - self._n))
            last = articles[j - 1] if j > i else self._last_article
            while j < n and articles[j] == last:
                j += 1
            self._render_columns(self._fields(batch, i, j), j - i)
            self._n += j - i
            self._last_article = last
            i = j

    def _fields(self, batch: "_Batch", i: int, j: int) -> list:
        """The columns of page fields (``_PAGE_FIELDS``) of rows ``i:j`` of ``batch``."""
        from pipeline.report import figure_value_text

        columns = batch.columns
        kind_labels, status_labels = self._kind_labels, self._status_labels
        kinds = [k or "" for k in columns["kind"][i:j]]
        kind_label = [kind_labels.get(k, k) for k in kinds]
        for kind, label in dict(zip(kinds, kind_label)).items():
            self._kinds.setdefault(kind, label)
        article_ids, titles = columns["article_id"][i:j], columns["article"][i:j]
        articles = self._articles
        for article_id, title in zip(article_ids, titles):
            if article_id not in articles:
                articles[article_id] = title
        statuses, corrected = columns["status"][i:j], columns["corrected_value"][i:j]
        m = j - i
        if statuses.count(None) == m:  # not reviewed yet: the common case
            status_key, status_label = ["none"] * m, [status_labels.get(None, "")] * m
        else:
            status_key = [s or "none" for s in statuses]
            status_label = [status_labels.get(s, s or "") for s in statuses]
        return [columns["figure_id"][i:j], article_ids, titles, kinds, kind_label,
                columns["before"][i:j], columns["figure"][i:j], columns["after"][i:j],
                [figure_value_text(r) for r in batch.rows[i:j]], _or_empty(columns["object"][i:j]),
                status_key, status_label,
                ["" if c is None else format_plain_number(c) for c in corrected],
                _or_empty(columns["note"][i:j])]

    def _render_columns(self, fields: list, n: int) -> None:
        if not n:
            return
        if self._fill is not None:
            self._fh.write(self._fill.columns(fields, n))
        else:
            self._render(list(zip(*fields)))
            return
        # the characters the rows show (the markup's are the page's too)
        try:
            shown = "".join(["".join(column) for column in fields])
        except TypeError:  # a field that is not text (its empty values are left out)
            shown = "".join([v for column in fields for v in column if v])
        self._show(shown)

    def _render(self, figures: list) -> None:
        if not figures:
            return
        if self._fill is not None:
            self._fh.write(self._fill(figures))
        else:
            # Only the rows block: the page around it is rendered by pages().
            context = self._template.new_context(
                {"figures": [dict(zip(_PAGE_FIELDS, f)) for f in figures]})
            self._fh.write("".join(self._template.blocks["rows"](context)))
        # the characters the rows show (the markup's are the page's too)
        self._show("".join([v for f in figures for v in f if v]))

    def _show(self, text: str) -> None:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        self._shown[codes] = True

    def _start_page(self) -> None:
        self._finish_page()
        self.n_pages += 1
        self._fh = open(self._dir / f"rows-{self.n_pages}.html", "w", encoding="utf-8",
                        newline="")

    def _finish_page(self) -> None:
        if self._fh is None:
            return
        self._fh.close()
        self._fh = None
        # kinds in the order the labels file lists them, unknown ones after
        order = {k: i for i, k in enumerate(self._kind_labels)}
        kinds = sorted(self._kinds.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        meta = {"n": self._n, "kinds": kinds, "articles": list(self._articles.items())}
        (self._dir / f"meta-{self.n_pages}.json").write_text(
            json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        self._kinds, self._articles, self._n, self._last_article = {}, {}, 0, None

    def pages(self, counts: dict, summary: dict) -> Iterable[tuple[str, Any]]:
        """(file name, function writing the page into a binary file) for each page, in order."""
        from pipeline.report import font_face_css

        if self._fh is None and self.n_pages == 0:
            self._start_page()  # no figures: one page that says so
        self._finish_page()
        for number in range(1, self.n_pages + 1):
            # the page around its rows, rendered once without the font to
            # learn its characters, as the briefing is
            for part in self._frame(number, counts, summary, font_face=""):
                self._show(part)
        font_face = font_face_css("".join(map(chr, np.flatnonzero(self._shown))))
        for number in range(1, self.n_pages + 1):
            head, tail = self._frame(number, counts, summary, font_face=font_face)
            yield page_file(number), self._writer(number, head, tail)

    def _writer(self, number: int, head: str, tail: str):
        rows = self._dir / f"rows-{number}.html"

        def write(fh) -> None:
            fh.write(head.encode("utf-8"))
            with open(rows, "rb") as src:
                shutil.copyfileobj(src, fh, 1 << 20)
            fh.write(tail.encode("utf-8"))
        return write

    def _frame(self, number: int, counts: dict, summary: dict, *, font_face: str
               ) -> tuple[str, str]:
        """Page ``number`` before and after its rows."""
        from markupsafe import Markup
        from pipeline.report import EMBEDDED_FONT_FAMILY

        meta = json.loads((self._dir / f"meta-{number}.json").read_text(encoding="utf-8"))
        stale, errors = summary.get("stale", []), summary.get("errors", [])
        html = self._template.render(
            figures=(), rows_slot=Markup(_ROWS_SLOT), page_figures=meta["n"],
            kinds=[{"kind": k, "label": v} for k, v in meta["kinds"]],
            articles=[{"article_id": k, "title": v} for k, v in meta["articles"]],
            statuses=[{"status": s, "label": self._status_labels.get(s, s)}
                      for s in REVIEW_STATUSES],
            counts=counts,
            # stale reviews and file errors are listed on the first page
            stale=stale if number == 1 else [], errors=errors if number == 1 else [],
            n_stale=len(stale), n_errors=len(errors),
            page=number, n_pages=self.n_pages,
            nav=[{"number": i, "href": page_file(i)} if i else None
                 for i in _nav_numbers(number, self.n_pages)],
            embedded_font=EMBEDDED_FONT_FAMILY, font_face=font_face)
        if html.count(_ROWS_SLOT) != 1:
            raise RuntimeError("review.html.j2 must place {{ rows_slot }} once")
        head, tail = html.split(_ROWS_SLOT)
        return head, tail

    def cleanup(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        shutil.rmtree(self._dir, ignore_errors=True)


#: the fields of a row of the review page (``f["name"]`` in the template's rows block)
_PAGE_FIELDS = ("figure_id", "article_id", "article", "kind", "kind_label", "before", "figure",
                "after", "value_text", "object", "status_key", "status_label", "corrected_text",
                "note")


class _RowsFill:
    """The template's ``rows`` block as literal markup with slots for escaped fields.

    Rendering the block through Jinja costs an escape call and a Markup
    object per field of every figure.  A block that only prints fields
    (``{{ f["name"] }}``, autoescaped) is rendered once with a mark in each
    field; the markup between the marks is then filled for a whole batch of
    figures with one escape of all their fields and one join.  :meth:`of`
    checks the fill against Jinja on probe rows (empty, hostile, with braces)
    and gives None for a block that does more, which Jinja then renders.
    """

    _MARK = re.compile("\ue000(\\d+)\ue001")
    #: never in a field a fill escapes at once (checked): splits the escaped batch again
    _SEP = "\x00"

    def __init__(self, literals: list, slots: list):
        self._first, self._between, self._last = literals[0], literals[1:-1], literals[-1]
        self._slots = slots
        # the fields of one figure in slot order, as a tuple (one slot included)
        self._fields = (operator.itemgetter(*slots) if len(slots) > 1 else
                        lambda f, i=slots[0]: (f[i],))

    @classmethod
    def of(cls, template) -> Optional["_RowsFill"]:
        """The fill of ``template``'s rows block, or None when it is not a plain fill."""
        def render(figures: list) -> str:
            context = template.new_context({"figures": [dict(zip(_PAGE_FIELDS, f))
                                                        for f in figures]})
            return "".join(template.blocks["rows"](context))

        marked = render([tuple(f"\ue000{i}\ue001" for i in range(len(_PAGE_FIELDS)))])
        parts = cls._MARK.split(marked)
        if render([]) != "" or len(parts) < 3:
            return None
        literals, slots = parts[0::2], [int(i) for i in parts[1::2]]
        if any("\ue000" in x or "\ue001" in x for x in literals) or \
                any(i >= len(_PAGE_FIELDS) for i in slots):
            return None
        fill = cls(literals, slots)
        n = len(_PAGE_FIELDS)
        probes = [("",) * n,
                  tuple(f"<&>\"'{{{i}}}\x00 {k}" for i, k in enumerate(_PAGE_FIELDS)),
                  tuple(f"{k}{i}" for i, k in enumerate(_PAGE_FIELDS))]
        for batch in ([probes[0]], probes, [probes[2], probes[2]]):
            if fill(batch) != render(batch):
                return None
        return fill

    def __call__(self, figures: list) -> str:
        """The rows of ``figures`` (tuples of ``_PAGE_FIELDS``), as the block renders them."""
        values = list(itertools.chain.from_iterable(map(self._fields, figures)))
        return self._filled(values, len(figures))

    def columns(self, fields: Sequence[Sequence], n: int) -> str:
        """:meth:`__call__` of ``n`` figures given as columns of ``_PAGE_FIELDS``."""
        values = list(itertools.chain.from_iterable(zip(*[fields[i] for i in self._slots])))
        return self._filled(values, n)

    def _filled(self, values: list, n_figures: int) -> str:
        """The rows of ``n_figures`` figures whose fields, in slot order, are ``values``."""
        from markupsafe import escape

        sep = self._SEP
        try:
            joined = sep.join(values)
        except TypeError:  # a field that is not text: Jinja prints str(value)
            values = [v if isinstance(v, str) else str(v) for v in values]
            joined = sep.join(values)
        if joined.count(sep) == len(values) - 1:
            escaped = str(escape(joined)).split(sep)
        else:  # a field holds the separator
            escaped = [str(escape(v)) for v in values]
        # literal, field, literal, field … : one row's literals between the
        # fields, the last and the first joined between two rows
        out = [self._first] * (len(escaped) * 2 + 1)
        row = [*self._between, self._last + self._first]
        literals = row * n_figures
        literals[-1] = self._last
        out[1::2] = escaped
        out[2::2] = literals
        return "".join(out)


def _or_empty(values: Sequence) -> Sequence:
    """``v or ""`` of each value."""
    return [""] * len(values) if values.count(None) == len(values) else [v or "" for v in values]


def _nav_numbers(page: int, n_pages: int, *, around: int = 3) -> list[int]:
    """The page numbers the navigation of ``page`` links: the first, the last and
    ``around`` either side of it, with 0 for each gap (shown as …)."""
    shown = sorted({1, n_pages, *range(max(1, page - around), min(n_pages, page + around) + 1)})
    out: list[int] = []
    for i in shown:
        if out and i > out[-1] + 1:
            out.append(0)
        out.append(i)
    return out


def page_file(number: int) -> str:
    """The file name of page ``number`` of the review page (1 is ``index.html``)."""
    return PAGE_NAME if number == 1 else PAGE_FILE.format(number)


def _page_template():
    from pipeline.report import environment

    env = environment(autoescape=True)
    env.filters["csp_sha256"] = _csp_sha256
    return env.get_template("review.html.j2")


def _csp_sha256(script: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script."""
    digest = hashlib.sha256(str(script).encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
