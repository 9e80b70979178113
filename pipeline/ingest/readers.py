"""One reader per input format; each turns a file into ``Record`` objects and never raises.

A reader yields one ``Record`` per document the file holds (the whole file for
text, DOCX and PDF; one per ``<doc>`` of a Sogou file; one per line of JSON
Lines; one per row of CSV or XLSX).  A record carries what was read (the
articles' parts, the source's own id, URL and date) or, when something went
wrong, a status and a one-line message saying what was wrong and what was done.

Record formats are streamed: a Sogou dump, a JSONL or a CSV file of any size is
read a chunk at a time, and only one record must fit under ``max_record_chars``.
Whole-file formats (text, DOCX, PDF, XLSX, a JSON array) must fit under
``max_file_mb``.
"""
from __future__ import annotations

import csv
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from pipeline.ingest.decode import DecodeReport, StreamDecoder, decode_bytes
from pipeline.ingest.meta import date_from_url, parse_date
from pipeline.ingest.newspaper import ArticleParts, is_page_layout, split_text

_CHUNK = 1 << 20


@dataclass
class Settings:
    """The ``[ingest]`` settings a reader needs, resolved once per run.

    A typed view of the config's ``[ingest]`` section, built by
    ``pipeline.ingest.load_settings``; the defaults live only in ``config.toml``.
    """
    columns: dict
    encodings: tuple
    sample_bytes: int
    max_file_bytes: int
    max_record_chars: int
    section_labels: frozenset
    credit_labels: frozenset
    max_heading_lines: int
    title_balance: float
    width_tolerance: float
    garble_max_run: int

    def page_options(self) -> dict:
        return dict(section_labels=self.section_labels, credit_labels=self.credit_labels,
                    max_heading_lines=self.max_heading_lines,
                    title_balance=self.title_balance, width_tolerance=self.width_tolerance)


@dataclass
class Record:
    """One document read from a file (a whole file, or one record of it)."""
    key: str                      # the record's place in its file ("" for a whole file)
    label: str                    # what the documents table shows as the path
    format: str
    status: str = "ok"
    message: str = ""
    encoding: Optional[str] = None
    characters: int = 0
    parts: list = field(default_factory=list)   # ArticleParts
    date: Optional[str] = None
    date_source: Optional[str] = None
    source_id: Optional[str] = None
    source: Optional[str] = None
    url: Optional[str] = None


def _one_article(text: str, title: str = "") -> list:
    return [ArticleParts(title=title, paragraphs=[text])]


def _decode_note(report: DecodeReport, encoding: str, before: int = 0) -> str:
    if report.count <= before:
        return ""
    return DecodeReport(report.count - before, report.offsets).describe(encoding)


def _join(*messages: str) -> str:
    return "; ".join(m for m in messages if m)


# ---------------------------------------------------------------- whole files
def read_text(path: Path, label: str, *, encoding: str, settings: Settings) -> Iterator[Record]:
    """A plain-text file: a printed page (reflowed and split) or prose."""
    report = DecodeReport()
    text = decode_bytes(path.read_bytes(), encoding, report)
    if text.startswith("\ufeff"):
        text = text[1:]
    rec = Record("", label, "text", encoding=encoding, characters=len(text),
                 message=_decode_note(report, encoding))
    if not text.strip():
        rec.status = "empty"
        rec.message = _join(f"{label}: no text (only whitespace); nothing to analyse", rec.message)
        yield rec
        return
    lines = text.splitlines()
    rec.format = "page" if is_page_layout(lines) else "text"
    rec.parts = split_text(lines, **settings.page_options())
    yield rec


def read_docx(path: Path, label: str, *, settings: Settings) -> Iterator[Record]:
    """A Word file: its paragraphs (and table rows) in document order."""
    try:
        import docx
        from docx.oxml.ns import qn
        document = docx.Document(str(path))
        lines = []
        for block in document.element.body.iterchildren():
            if block.tag == qn("w:p"):
                lines.append("".join(t.text or "" for t in block.iter(qn("w:t"))))
            elif block.tag == qn("w:tbl"):
                for row in block.iter(qn("w:tr")):
                    cells = ["".join(t.text or "" for t in cell.iter(qn("w:t")))
                             for cell in row.iter(qn("w:tc"))]
                    lines.append("\t".join(cells))
    except Exception as exc:  # python-docx raises many kinds on a damaged file
        yield Record("", label, "docx", status="failed",
                     message=f"{label}: not a readable .docx ({type(exc).__name__}: {exc}); skipped")
        return
    yield _from_lines(lines, label, "docx", settings)


def read_pdf(path: Path, label: str, *, settings: Settings) -> Iterator[Record]:
    """A PDF with a text layer: each page reflowed and split like a printed page."""
    try:
        from pypdf import PdfReader
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            yield Record("", label, "pdf", status="failed",
                         message=f"{label}: PDF is encrypted with a password; skipped")
            return
        pages = list(reader.pages)
    except Exception as exc:
        yield Record("", label, "pdf", status="failed",
                     message=f"{label}: not a readable PDF ({type(exc).__name__}: {exc}); skipped")
        return
    parts, problems, characters = [], [], 0
    for number, page in enumerate(pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:
            problems.append(f"page {number} unreadable ({type(exc).__name__}); skipped")
            continue
        characters += len(text)
        if text.strip():
            parts.extend(split_text(text.splitlines(), **settings.page_options()))
    rec = Record("", label, "pdf", characters=characters, parts=parts,
                 message=_join(*(f"{label}: {p}" for p in problems)))
    if not parts:
        rec.status = "failed"
        rec.message = _join(f"{label}: PDF has no text layer ({len(pages)} page(s); a scan?); "
                            "OCR it first, nothing read", rec.message)
    yield rec


def _from_lines(lines: list, label: str, fmt: str, settings: Settings) -> Record:
    characters = sum(len(l) for l in lines)
    if not any(l.strip() for l in lines):
        return Record("", label, fmt, status="empty", characters=characters,
                      message=f"{label}: no text; nothing to analyse")
    return Record("", label, fmt, characters=characters,
                  parts=split_text(lines, **settings.page_options()))


# ----------------------------------------------------------------- streaming
def iter_decoded_lines(path: Path, encoding: str, report: DecodeReport, *,
                       max_chars: int) -> Iterator[tuple[int, Optional[str]]]:
    """(line number, line with its end) of a file decoded in chunks.

    A line longer than ``max_chars`` is not kept: its number comes with None,
    and the rest of it is read past without holding it in memory.
    """
    decoder = StreamDecoder(encoding, report)
    buf = ""
    number = 0
    skipping = False
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            buf += decoder.decode(chunk, final=not chunk)
            if number == 0 and buf.startswith("\ufeff"):
                buf = buf[1:]
            start = 0
            while True:
                nl = buf.find("\n", start)
                if nl == -1:
                    break
                number += 1
                if skipping or nl + 1 - start > max_chars:
                    yield number, None
                    skipping = False
                else:
                    yield number, buf[start:nl + 1]
                start = nl + 1
            buf = buf[start:]
            if skipping or len(buf) > max_chars:
                # Inside an over-long line: read past it without holding it.
                skipping, buf = True, ""
            if not chunk:
                break
    if skipping or buf:
        number += 1
        yield number, None if skipping else buf


def read_sogou(path: Path, label: str, *, encoding: str, settings: Settings) -> Iterator[Record]:
    """A Sogou news dump: ``<doc><url/><docno/><contenttitle/><content/></doc>`` records.

    The content is kept exactly as between its tags (offsets in the corpus's
    gold files index it); an empty ``<content>`` is a document of status empty.
    """
    report = DecodeReport()
    decoder = StreamDecoder(encoding, report)
    buf = ""
    index = 0
    reported = 0
    stray = 0
    max_chars = settings.max_record_chars
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            buf += decoder.decode(chunk, final=not chunk)
            pos = 0
            while True:
                start = buf.find("<doc>", pos)
                if start == -1:
                    # Keep the tail (a tag may be cut by the chunk); count what
                    # lies between records only once it is long.
                    if len(buf) - pos > 1 << 16:
                        keep = len(buf) - 16
                        stray += _stray_characters(buf[pos:keep])
                        pos = keep
                    break
                stray += _stray_characters(buf[pos:start])
                end = buf.find("</doc>", start)
                if end == -1:
                    pos = start
                    break
                index += 1
                rec = _sogou_record(buf[start + 5:end], index, label, encoding)
                note = _decode_note(report, encoding, reported)
                if note:
                    rec.message = _join(rec.message, f"{rec.label}: {note}")
                    reported = report.count
                yield rec
                pos = end + 6
            buf = buf[pos:]
            if len(buf) > max_chars and "<doc>" in buf and "</doc>" not in buf:
                index += 1
                yield Record(str(index), f"{label}#{index}", "sogou", status="failed",
                             encoding=encoding,
                             message=f"{label}#{index}: <doc> longer than {max_chars:,} characters "
                                     "([ingest] max_record_chars) without </doc>; skipped to the next <doc>")
                nxt = buf.find("<doc>", buf.find("<doc>") + 5)
                buf = buf[nxt:] if nxt != -1 else ""
            if not chunk:
                break
    rest = buf.strip()
    if rest.startswith("<doc>"):
        index += 1
        yield Record(str(index), f"{label}#{index}", "sogou", status="failed", encoding=encoding,
                     characters=len(rest),
                     message=f"{label}#{index}: file ends inside a <doc> (truncated); "
                             f"{len(rest)} characters not read as an article")
    else:
        stray += _stray_characters(rest)
    if stray:
        yield Record("outside", f"{label}#outside", "sogou", status="skipped", encoding=encoding,
                     characters=stray,
                     message=f"{label}: {stray} characters outside any <doc>…</doc> element; "
                             "not read as articles")


def _stray_characters(text: str) -> int:
    """Characters between records other than whitespace and the <doclist> wrapper."""
    return len(re.sub(r"\s+|</?doclist>", "", text))


_FIELD = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S)
          for name in ("url", "docno", "contenttitle", "content")}


def _sogou_record(body: str, index: int, label: str, encoding: str) -> Record:
    fields = {}
    for name, pattern in _FIELD.items():
        m = pattern.search(body)
        fields[name] = m.group(1) if m else None
    rec = Record(str(index), f"{label}#{index}", "sogou", encoding=encoding,
                 source_id=(fields["docno"] or "").strip() or None,
                 url=(fields["url"] or "").strip() or None)
    if rec.url:
        # The corpus names no source; the site that published the page is the next best.
        host = re.match(r"^[a-z]+://([^/:]+)", rec.url)
        rec.source = host.group(1) if host else None
    date = date_from_url(rec.url)
    if date:
        rec.date, rec.date_source = date, "url"
    content = fields["content"]
    if content is None:
        rec.status = "failed"
        rec.message = f"{rec.label}: <doc> has no <content> element (docno {rec.source_id}); skipped"
        return rec
    rec.characters = len(content)
    if not content.strip():
        rec.status = "empty"
        rec.message = f"{rec.label}: empty <content> (docno {rec.source_id}); counted, no article"
        return rec
    rec.parts = _one_article(content, (fields["contenttitle"] or "").strip())
    if not rec.source_id:
        rec.message = f"{rec.label}: no <docno>; article kept without a source id"
    return rec


def _record_from_fields(row: dict, key: str, label: str, fmt: str, encoding: Optional[str],
                        settings: Settings) -> Record:
    """A JSONL/CSV/XLSX record, with the configured column names."""
    col = settings.columns
    rec = Record(key, label, fmt, encoding=encoding)
    if col["text"] not in row:
        rec.status = "failed"
        rec.message = f"{label}: no {col['text']!r} field; record skipped"
        return rec
    text = row[col["text"]]
    text = "" if text is None else text if isinstance(text, str) else str(text)
    rec.characters = len(text)

    def value(name):
        v = row.get(col[name])
        return None if v is None or (isinstance(v, str) and not v.strip()) else str(v).strip()
    rec.source_id, rec.source, rec.url = value("id"), value("source"), value("url")
    raw_date = row.get(col["date"])
    rec.date = parse_date(raw_date)
    if rec.date:
        rec.date_source = "record"
    elif raw_date not in (None, ""):
        rec.message = f"{label}: date {raw_date!r} not understood; ignored"
    if not text.strip():
        rec.status = "empty"
        rec.message = _join(rec.message, f"{label}: empty {col['text']!r}; counted, no article")
        return rec
    rec.parts = _one_article(text, value("title") or "")
    return rec


def read_jsonl(path: Path, label: str, *, encoding: str, settings: Settings) -> Iterator[Record]:
    """JSON Lines: one object a line; a bad line is a failed record, the rest go on."""
    report = DecodeReport()
    reported = 0
    for number, line in iter_decoded_lines(path, encoding, report, max_chars=settings.max_record_chars):
        key, where = str(number), f"{label}#{number}"
        if line is None:
            yield Record(key, where, "jsonl", status="failed", encoding=encoding,
                         message=f"{where}: line {number} longer than {settings.max_record_chars:,} "
                                 "characters ([ingest] max_record_chars); skipped")
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Record(key, where, "jsonl", status="failed", encoding=encoding,
                         characters=len(line.rstrip("\n")),
                         message=f"{where}: line {number} is not valid JSON ({exc.msg} at column "
                                 f"{exc.colno}); line skipped, reading goes on")
            continue
        if not isinstance(obj, dict):
            yield Record(key, where, "jsonl", status="failed", encoding=encoding,
                         message=f"{where}: line {number} is a JSON {type(obj).__name__}, not an "
                                 "object; line skipped")
            continue
        rec = _record_from_fields(obj, key, where, "jsonl", encoding, settings)
        note = _decode_note(report, encoding, reported)
        if note:
            rec.message, reported = _join(rec.message, f"{where}: {note}"), report.count
        yield rec


def read_json_array(path: Path, label: str, *, encoding: str, settings: Settings) -> Iterator[Record]:
    """A JSON file holding an array of article objects (or one object)."""
    report = DecodeReport()
    try:
        data = json.loads(decode_bytes(path.read_bytes(), encoding, report).lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        yield Record("", label, "json", status="failed", encoding=encoding,
                     message=f"{label}: invalid JSON ({exc.msg} at line {exc.lineno} column "
                             f"{exc.colno}); file skipped")
        return
    items = data if isinstance(data, list) else [data]
    for i, obj in enumerate(items, 1):
        where = f"{label}#{i}"
        if not isinstance(obj, dict):
            yield Record(str(i), where, "json", status="failed", encoding=encoding,
                         message=f"{where}: a JSON {type(obj).__name__}, not an object; skipped")
            continue
        yield _record_from_fields(obj, str(i), where, "json", encoding, settings)


def read_csv(path: Path, label: str, *, encoding: str, settings: Settings,
             delimiter: str = ",") -> Iterator[Record]:
    """CSV/TSV with a header row; a broken row is a failed record, the rest go on."""
    report = DecodeReport()
    csv.field_size_limit(max(settings.max_record_chars, 1 << 17))
    lines = iter_decoded_lines(path, encoding, report, max_chars=settings.max_record_chars)
    current = {"line": 0}

    def texts():
        for number, line in lines:
            current["line"] = number
            if line is None:
                raise _LineTooLong(number)
            yield line
    reader = csv.reader(texts(), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        yield Record("", label, "csv", status="empty", encoding=encoding,
                     message=f"{label}: no header row; nothing to read")
        return
    except (csv.Error, _LineTooLong) as exc:
        yield Record("", label, "csv", status="failed", encoding=encoding,
                     message=f"{label}: header row unreadable ({exc}); file skipped")
        return
    header = [h.strip() for h in header]
    if settings.columns["text"] not in header:
        yield Record("", label, "csv", status="failed", encoding=encoding,
                     message=f"{label}: no {settings.columns['text']!r} column (columns: "
                             f"{', '.join(header)}); set [ingest] column_text; file skipped")
        return
    row_number = 0
    reported = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except _LineTooLong as exc:
            row_number += 1
            where = f"{label}#{row_number}"
            yield Record(str(row_number), where, "csv", status="failed", encoding=encoding,
                         message=f"{where}: line {exc.line} longer than "
                                 f"{settings.max_record_chars:,} characters ([ingest] "
                                 "max_record_chars); row skipped")
            continue
        except csv.Error as exc:
            row_number += 1
            where = f"{label}#{row_number}"
            yield Record(str(row_number), where, "csv", status="failed", encoding=encoding,
                         message=f"{where}: broken row at line {current['line']} ({exc}); "
                                 "row skipped, reading goes on")
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        row_number += 1
        where = f"{label}#{row_number}"
        if len(row) != len(header):
            yield Record(str(row_number), where, "csv", status="failed", encoding=encoding,
                         characters=sum(len(c) for c in row),
                         message=f"{where}: line {reader.line_num} has {len(row)} fields, the "
                                 f"header {len(header)}; row skipped")
            continue
        rec = _record_from_fields(dict(zip(header, row)), str(row_number), where, "csv",
                                  encoding, settings)
        note = _decode_note(report, encoding, reported)
        if note:
            rec.message, reported = _join(rec.message, f"{where}: {note}"), report.count
        yield rec


class _LineTooLong(Exception):
    def __init__(self, line: int):
        super().__init__(f"line {line} too long")
        self.line = line


def read_xlsx(path: Path, label: str, *, settings: Settings) -> Iterator[Record]:
    """The first sheet of an Excel workbook, header in the first row."""
    try:
        import openpyxl
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
        sheet = wb.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
    except Exception as exc:
        yield Record("", label, "xlsx", status="failed",
                     message=f"{label}: not a readable .xlsx ({type(exc).__name__}: {exc}); skipped")
        return
    if settings.columns["text"] not in header:
        yield Record("", label, "xlsx", status="failed",
                     message=f"{label}: no {settings.columns['text']!r} column in the first sheet "
                             f"(columns: {', '.join(header)}); file skipped")
        return
    for i, row in enumerate(rows, 1):
        if row is None or all(v is None for v in row):
            continue
        values = {h: v for h, v in zip(header, row)}
        yield _record_from_fields(values, str(i), f"{label}#{i}", "xlsx", None, settings)
    wb.close()


def zip_kind(path: Path) -> Optional[str]:
    """``docx`` / ``xlsx`` for Office files, None for any other ZIP archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None
