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
"""
from __future__ import annotations

import base64
import csv
import datetime as _dt
import hashlib
import io
import math
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Optional, Sequence

import pandas as pd

from pipeline.atomic import write_bytes_atomic
from pipeline.text import escape_formula, fold_width, needs_formula_guard, unescape_formula

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

def apply_reviews(figures: pd.DataFrame, reviews: Optional[ReviewSet]
                  ) -> tuple[pd.DataFrame, dict]:
    """Fill ``review_status``, ``corrected_value`` and ``review_note`` from ``reviews``.

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
        ``n_figures``, ``n_verified`` (ok + fix), ``n_wrong``, ``n_fixed``,
        ``n_unreviewed``, ``n_reviews``, ``files`` (applied), ``stale`` (reviews
        whose figure no longer exists: figure_id, file, row, status, note) and
        ``errors``.
    """
    figures = figures.copy()
    n = len(figures)
    status = [None] * n
    corrected = [math.nan] * n
    note = [None] * n
    stale = []
    if reviews is not None:
        positions: dict[str, list[int]] = {}
        for i, fid in enumerate(figures["figure_id"].tolist() if n else []):
            positions.setdefault(fid, []).append(i)
        for r in reviews.reviews:
            where = positions.get(r.figure_id)
            if not where:
                stale.append({"figure_id": r.figure_id, "file": r.file, "row": r.row,
                              "status": r.status, "note": r.note,
                              "corrected_value": r.corrected_value})
                continue
            for i in where:
                status[i] = r.status
                corrected[i] = r.corrected_value if r.corrected_value is not None else math.nan
                note[i] = r.note
        figures["review_status"] = pd.array(status, dtype="string")
        figures["corrected_value"] = pd.Series(corrected, index=figures.index, dtype="float64")
        figures["review_note"] = pd.array(note, dtype="string")
    for col, dtype in (("review_status", "string"), ("corrected_value", "float64"),
                       ("review_note", "string")):
        if col not in figures.columns:
            figures[col] = pd.Series([None] * n, index=figures.index, dtype=dtype)
    counts = figures["review_status"].value_counts()
    n_ok, n_wrong, n_fixed = (int(counts.get(s, 0)) for s in REVIEW_STATUSES)
    summary = {
        "n_figures": n,
        "n_verified": n_ok + n_fixed,
        "n_wrong": n_wrong,
        "n_fixed": n_fixed,
        "n_unreviewed": n - n_ok - n_wrong - n_fixed,
        "n_reviews": len(reviews.reviews) if reviews is not None else 0,
        "files": list(reviews.files) if reviews is not None else [],
        "stale": stale,
        "errors": list(reviews.errors) if reviews is not None else [],
    }
    return figures, summary


# --------------------------------------------------------------------------- writing

def write_review_outputs(tables: dict, out_dir: Path, *, summary: Optional[dict] = None) -> None:
    """Write the review sheet (XLSX and CSV) and the review page into ``out_dir``.

    Parameters
    ----------
    tables : dict of DataFrame
        Needs ``figures`` and ``articles``.
    out_dir : Path
        Gets ``figures_review.xlsx``, ``figures_review.csv`` and ``index.html``,
        each written under a temporary name and renamed into place.
    summary : dict, optional
        The summary of ``apply_reviews``; the page then lists stale reviews and
        review-file errors too.

    Notes
    -----
    The editor columns are prefilled with the verdicts already applied, so a
    sheet can be filled over several rounds; reading it back gives the same
    verdicts.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = sheet_rows(tables)
    write_bytes_atomic(out_dir / XLSX_NAME, xlsx_bytes(rows))
    write_bytes_atomic(out_dir / CSV_NAME, csv_bytes(rows))
    write_bytes_atomic(out_dir / PAGE_NAME, review_page(rows, summary=summary).encode("utf-8"))


def sheet_rows(tables: dict) -> list[dict]:
    """One dict per figure: the sheet's columns plus the sentence in three parts."""
    figures = tables["figures"]
    articles = tables["articles"]
    text_by_article = dict(zip(articles["article_id"], articles["text"]))
    title_by_article = dict(zip(articles["article_id"], articles["title"]))
    rows = []
    for f in _records(figures):
        f = {k: _value(v) for k, v in f.items()}
        before, figure, after = _sentence_parts(f, text_by_article.get(f["article_id"]))
        rows.append({
            "figure_id": f["figure_id"],
            "article_id": f["article_id"],
            "article": _value(title_by_article.get(f["article_id"])) or "（无标题）",
            "before": before, "figure": figure, "after": after,
            "sentence": f"{before}{MARK_OPEN}{figure}{MARK_CLOSE}{after}",
            "kind": f.get("kind"), "value": f.get("value"), "low": f.get("low"),
            "high": f.get("high"), "unit": f.get("unit"), "qualifier": f.get("qualifier"),
            "object": f.get("object"), "date": f.get("date"),
            "status": f.get("review_status"), "corrected_value": f.get("corrected_value"),
            "note": f.get("review_note"),
        })
    return rows


def _records(frame: pd.DataFrame) -> Iterable[dict]:
    """``frame.to_dict("records")`` after :func:`_value`, built column by column.

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
    try:
        s, e, a, b = (int(f[k]) for k in ("sentence_start", "sentence_end", "start", "end"))
        ok = text is not None and 0 <= s <= a <= b <= e <= len(text) and text[a:b] == f["text"]
    except (TypeError, ValueError, KeyError):
        ok = False
    if ok:
        before, figure, after = text[s:a].lstrip(), text[a:b], text[b:e].rstrip()
    else:
        # offsets do not fit the article: mark the figure inside the stored sentence
        sentence, figure = f.get("sentence") or "", f.get("text") or ""
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
    return _UNWRITABLE_RE.sub("\ufffd", text)


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
    for r in rows:
        out = []
        for col in SHEET_COLUMNS:
            v = r.get(col)
            if v is None:
                out.append("")
            elif col in NUMERIC_COLUMNS:
                out.append(format_plain_number(v))
            else:
                out.append(escape_formula(writable_text(str(v))))
        writer.writerow(out)
    return buf.getvalue().encode("utf-8-sig")


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
        :class:`_SheetRows`, which writes the same bytes about four times
        faster (one Python object per cell is the cost of a large sheet);
        the tests compare the two.
    """
    from openpyxl import Workbook
    from openpyxl.cell.text import InlineFont
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.writer.excel import ExcelWriter

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
    mark_font = InlineFont(b=True, color="FFC00000")
    wrap = Alignment(wrap_text=True, vertical="top")
    n = len(rows) + 1
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SHEET_COLUMNS))}{n}"
    status_col = get_column_letter(SHEET_COLUMNS.index("status") + 1)
    validation = DataValidation(type="list", formula1='"' + ",".join(REVIEW_STATUSES) + '"',
                                allow_blank=True, showErrorMessage=True,
                                errorTitle="status", error="ok / wrong / fix")
    validation.add(f"{status_col}2:{status_col}{max(n, 2)}")
    ws.add_data_validation(validation)

    help_ws = wb.create_sheet(HELP_SHEET_NAME)
    for line in _HELP_LINES:
        help_ws.append(list(line))
    help_ws.column_dimensions["A"].width = 18
    help_ws.column_dimensions["B"].width = 90

    wb.properties.creator = "cn-news-pipeline"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    buf = io.BytesIO()
    if openpyxl_rows:
        _fill_cells(ws, rows, mark_font=mark_font, wrap=wrap)
        # ExcelWriter directly: Workbook.save stamps the current time into docProps/core.xml
        with _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            ExcelWriter(wb, archive).save()
        return buf.getvalue()

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
    sheet_rows = _SheetRows(wb, ws, mark_font=mark_font,
                            sentence_style=sentence_style._style,
                            quoted_sentence_style=quoted_sentence_style._style,
                            quoted_style=quoted_style._style)
    wb.remove(scratch)
    sheet_data = sheet_rows.serialize(rows)
    # openpyxl's own rows are the header only; its sheetData and dimension
    # are swapped for the full ones when the sheet's part is stored.
    last = f"{get_column_letter(len(SHEET_COLUMNS))}"
    replacements = {
        f'<dimension ref="A1:{last}1"/>'.encode(): f'<dimension ref="A1:{last}{n}"/>'.encode(),
        sheet_rows.header_data: sheet_data,
    }

    with _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED,
                       replace={"xl/worksheets/sheet1.xml": replacements}) as archive:
        ExcelWriter(wb, archive).save()
    return buf.getvalue()


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
    """The ``<sheetData>`` of the review sheet, as openpyxl (with lxml) writes it.

    It follows ``openpyxl.cell._writer.lxml_write_cell`` and
    ``openpyxl.cell.cell.Cell._bind_value``: a cell's style id is assigned
    on first use, in the order cells are written; empty unstyled cells are
    skipped; strings are inline (``t="inlineStr"``), except error codes
    (``t="e"``); numbers are written with ``%.16g``; text is escaped as lxml
    escapes it with ASCII output (``&#NNNN;`` for every other character).
    ``tests/test_review_xlsx.py`` compares the bytes with openpyxl's on hostile rows.
    """

    def __init__(self, wb, ws, *, mark_font, sentence_style, quoted_sentence_style, quoted_style):
        from openpyxl.cell.cell import ERROR_CODES
        from openpyxl.utils import get_column_letter
        from openpyxl.xml.functions import tostring

        self._styles = wb._cell_styles
        self._error_codes = frozenset(ERROR_CODES)
        self._letters = [get_column_letter(i) for i in range(1, len(SHEET_COLUMNS) + 1)]
        self._mark_props = tostring(mark_font.to_tree(tagname="rPr")).decode("ascii")
        self._sentence_style = sentence_style
        self._quoted_sentence_style = quoted_sentence_style
        self._quoted_style = quoted_style
        self._header = [(cell.value, cell._style) for cell in ws[1]]
        self.header_data = b"<sheetData>" + self._row(1, [
            self._string_cell(f"{self._letters[i]}1", v, self._style_attr(style))
            for i, (v, style) in enumerate(self._header)]).encode("ascii") + b"</sheetData>"

    def _style_attr(self, style) -> str:
        # openpyxl registers a cell's style when the cell is written
        return f' s="{self._styles.add(style)}"' if style is not None and any(style) else ""

    @staticmethod
    def _escape(text: str) -> str:
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))

    @staticmethod
    def _row(r: int, cells: list) -> str:
        return f'<row r="{r}">' + "".join(cells) + "</row>"

    def _string_cell(self, ref: str, text: str, style: str, *, quoted: bool = False) -> str:
        if not quoted and text in self._error_codes:
            return f'<c r="{ref}"{style} t="e"><v>{self._escape(text)}</v></c>'
        if text == "":
            return f'<c r="{ref}"{style} t="inlineStr"></c>'
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{self._escape(text)}</t></is></c>'

    def _run(self, text: str, props: str = "") -> str:
        stripped = text.strip()
        space = ' xml:space="preserve"' if stripped and text != stripped else ""
        return f"<r>{props}<t{space}>{self._escape(text)}</t></r>"

    def serialize(self, rows: Sequence[dict]) -> bytes:
        """The whole ``<sheetData>`` element (header and one row per figure) as bytes."""
        letters = self._letters
        header = "".join(self._string_cell(f"{letters[i]}1", v, self._style_attr(style))
                         for i, (v, style) in enumerate(self._header))
        out = ["<sheetData>", f'<row r="1">{header}</row>']
        for r_i, r in enumerate(rows, start=2):
            cells = []
            for c_i, col in enumerate(SHEET_COLUMNS):
                ref = f"{letters[c_i]}{r_i}"
                if col == "sentence":
                    before = writable_text(r["before"])
                    after = writable_text(r["after"])
                    quoted = needs_formula_guard(writable_text(r["before"] or MARK_OPEN))
                    style = self._style_attr(self._quoted_sentence_style if quoted
                                             else self._sentence_style)
                    runs = (self._run(before) if before else "") \
                        + self._run(writable_text(MARK_OPEN + r["figure"] + MARK_CLOSE),
                                    self._mark_props) \
                        + (self._run(after) if after else "")
                    cells.append(f'<c r="{ref}"{style} t="inlineStr"><is>{runs}</is></c>')
                    continue
                v = r.get(col)
                if v is None:
                    continue
                if col in NUMERIC_COLUMNS:
                    v = float(v)
                    number = "" if math.isnan(v) or math.isinf(v) else "%.16g" % v
                    cells.append(f'<c r="{ref}" t="n"><v>{number}</v></c>')
                    continue
                text = writable_text(str(v))[:EXCEL_CELL_LIMIT]
                if needs_formula_guard(text):
                    cells.append(self._string_cell(ref, text, self._style_attr(self._quoted_style),
                                                   quoted=True))
                else:
                    cells.append(self._string_cell(ref, text, ""))
            out.append(self._row(r_i, cells))
        out.append("</sheetData>")
        return "".join(out).encode("ascii", "xmlcharrefreplace")


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose members all carry one fixed date, so equal content gives equal bytes.

    ``replace`` maps a member name to {old bytes: new bytes}, each old part
    occurring exactly once in that member.
    """

    def __init__(self, *args, replace: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._replace = replace or {}

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        name = getattr(zinfo_or_arcname, "filename", zinfo_or_arcname)
        if name in self._replace:
            data = data.encode("utf-8") if isinstance(data, str) else data
            for old, new in self._replace[name].items():
                if data.count(old) != 1:
                    raise RuntimeError(f"{name}: expected one {old[:40]!r} in the part openpyxl wrote")
                data = data.replace(old, new)
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_TIMESTAMP)
            zinfo_or_arcname.compress_type = compress_type or self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl streams worksheets through a temporary file, whose mtime would leak in
        with open(filename, "rb") as fh:
            data = fh.read()
        self.writestr(arcname or os.path.basename(filename), data, compress_type, compresslevel)


def review_page(rows: Sequence[dict], *, summary: Optional[dict] = None) -> str:
    """The static review page: every figure in its sentence, filterable by kind, article, status."""
    from pipeline.report import (EMBEDDED_FONT_FAMILY, environment, figure_value_text,
                                 font_face_css, labels)

    kind_labels = labels().get("kinds", {})
    status_labels = labels().get("review_statuses", {})
    figures, kinds, articles = [], {}, {}
    for r in rows:
        kind = r["kind"] or ""
        kinds.setdefault(kind, kind_labels.get(kind, kind))
        articles.setdefault(r["article_id"], r["article"])
        # A namespace, not a dict: Jinja looks an attribute up first, and on a
        # dict that lookup fails with an exception for every field shown.
        figures.append(SimpleNamespace(
            **r, kind_label=kind_labels.get(kind, kind),
            value_text=figure_value_text(dict(r)),
            status_key=r["status"] or "none",
            status_label=status_labels.get(r["status"], r["status"] or ""),
            corrected_text=(format_plain_number(r["corrected_value"])
                            if r["corrected_value"] is not None else "")))
    # kinds in the order the labels file lists them, unknown ones after
    order = list(kind_labels)
    kind_options = sorted(kinds.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                         else len(order), kv[0]))
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in REVIEW_STATUSES}
    env = environment(autoescape=True)
    env.filters["csp_sha256"] = _csp_sha256
    values = dict(
        figures=figures,
        kinds=[{"kind": k, "label": v} for k, v in kind_options],
        articles=[{"article_id": k, "title": v} for k, v in articles.items()],
        statuses=[{"status": s, "label": status_labels.get(s, s)} for s in REVIEW_STATUSES],
        counts=dict(counts, total=len(rows), verified=counts["ok"] + counts["fix"]),
        stale=(summary or {}).get("stale", []),
        errors=(summary or {}).get("errors", []),
        embedded_font=EMBEDDED_FONT_FAMILY,
    )
    template = env.get_template("review.html.j2")
    # Rendered twice, as the briefing is: once to learn the characters the page
    # shows, once with the font cut down to them, so an editor's machine
    # without a CJK font shows the page as intended.
    html = template.render(**values, font_face="")
    return template.render(**values, font_face=font_face_css(html))


def _csp_sha256(script: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script."""
    digest = hashlib.sha256(str(script).encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
