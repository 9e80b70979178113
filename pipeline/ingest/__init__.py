"""Ingest: every input file or record as a ``Document`` with its articles.

``read_documents`` is the stage's one entry point.  It walks the inputs in a
stable order, picks a reader by the file's content (not only its extension),
decodes without losing a byte, reflows printed pages into articles, dates each
article and flags garbled runs.  It never raises for bad input: each problem
becomes a document of status ``empty`` / ``skipped`` / ``failed`` with a
one-line message naming the file, what is wrong and what was done.
"""
from __future__ import annotations

import os
import stat
from collections import Counter
from pathlib import Path
from typing import Iterator, Optional, Sequence

from pipeline.config import Config, load_config
from pipeline.extract.dates import document_year
from pipeline.ingest.decode import detect_encoding, sniff_binary
from pipeline.ingest.garble import garbled_spans
from pipeline.ingest.meta import (date_from_dateline, date_from_filename, is_sidecar,
                                  read_sidecar, sidecar_path)
from pipeline.ingest.readers import (Record, Settings, read_csv, read_docx, read_json_array,
                                     read_jsonl, read_pdf, read_sogou, read_text, read_xlsx,
                                     zip_kind)
from pipeline.model import Article, Document, stable_hash

__all__ = ["read_documents", "load_settings"]

_TABULAR_SUFFIXES = {".csv": ",", ".tsv": "\t"}


def load_settings(config: Optional[Config] = None) -> Settings:
    """The ``[ingest]`` section of ``config`` as reader settings.

    Every key comes from the shipped ``config.toml`` (the one place the
    defaults are written) unless ``config`` sets it; so a Config built by hand
    with only a few keys still gives complete settings.
    """
    shipped = load_config()
    config = config or shipped
    section = {**shipped["ingest"], **config["ingest"]}
    columns = {name: str(section[f"column_{name}"])
               for name in ("id", "title", "date", "text", "source", "url")}
    return Settings(
        columns=columns,
        encodings=tuple(section["encodings"]),
        sample_bytes=int(section["sample_kb"]) * 1024,
        max_file_bytes=int(float(section["max_file_mb"]) * (1 << 20)),
        max_record_chars=int(section["max_record_chars"]),
        section_labels=_label_file(config if "section_labels" in config["ingest"] else shipped,
                                   "section_labels"),
        credit_labels=_label_file(config if "credit_labels" in config["ingest"] else shipped,
                                  "credit_labels"),
        max_heading_lines=int(section["max_heading_lines"]),
        title_balance=float(section["title_balance"]),
        width_tolerance=float(section["width_tolerance"]),
        garble_max_run=int(section["garble_max_run"]),
    )


def _label_file(config: Config, key: str) -> frozenset:
    """One label a line from the data file ``[ingest] key`` names (# starts a comment)."""
    path = config.path("ingest", key)
    if not path or not path.is_file():
        return frozenset()
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))


def read_documents(paths: Sequence[str | Path], *, config: Config | None = None,
                   exclude: Sequence[str | Path] = ()) -> Iterator[Document]:
    """Every input file or record as a Document, in a stable order.

    Parameters
    ----------
    paths : sequence of str or Path
        Files or folders, read in the order given; folders recursively, entries
        sorted by name.
    config : Config, optional
        Settings (``[ingest]``); the defaults when None.
    exclude : sequence of str or Path
        Folders that are never input (a run's output and cache folders):
        inside an input folder they are passed over without a document; an
        input that is one of them gives one ``skipped`` document.

    Yields
    ------
    Document
        Status ``ok`` with its articles, or ``empty`` / ``skipped`` / ``failed``
        with a one-line message.  ``doc_id`` is derived from the path relative to
        the input given (plus the record's place in its file), so it is the
        same on every run and machine; article ids are ``f"{doc_id}-{seq:03d}"``.
        A file named twice (twice on the command line, or as a file and
        inside a folder also given) is read once; the repeat is a ``skipped``
        document saying so.  The articles of one document share
        ``context_year``, the year its texts name most.
    """
    settings = load_settings(config)
    used: Counter = Counter()
    excluded = tuple(os.path.realpath(p) for p in exclude)
    #: real path of every file read so far -> the name it was read under
    read: dict[str, str] = {}
    for given in paths:
        root = Path(given)
        for path, rel, problem in _walk(root, excluded=excluded):
            if problem is None:
                real = os.path.realpath(path)
                first = read.get(real)
                if first is None:
                    read[real] = str(path)
                else:
                    problem = ("skipped", f"{path}: the same file as {first}, already read; "
                                          "not counted twice")
            if problem is not None:
                status, message = problem
                yield _document(Record("", str(path), "", status=status, message=message),
                                rel, settings, used)
                continue
            for rec in _read_file(path, rel, settings):
                yield _document(rec, rel, settings, used)


def _root_name(root: Path) -> str:
    # "." and ".." name nothing stable across machines; a folder's own name does.
    return root.name if root.name not in ("", ".", "..") else ""


def _is_under(real: str, folders: Sequence[str]) -> bool:
    return any(real == f or real.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def _walk(root: Path, *, excluded: Sequence[str] = ()
          ) -> Iterator[tuple[Path, str, Optional[tuple[str, str]]]]:
    """(path, key relative to the input given, problem) for every file under ``root``.

    Folders under ``excluded`` (real paths) are passed over without a word.
    """
    try:
        st = root.stat()
    except FileNotFoundError:
        yield root, root.as_posix(), ("failed", f"{root}: no such file or folder; nothing read")
        return
    except OSError as exc:
        yield root, root.as_posix(), ("failed", f"{root}: cannot be opened ({exc.strerror}); nothing read")
        return
    if excluded and _is_under(os.path.realpath(root), excluded):
        yield root, root.as_posix(), ("skipped", f"{root}: the run's own output or cache "
                                                 "folder; not read as input")
        return
    if not stat.S_ISDIR(st.st_mode):
        yield root, root.name, None
        return
    base = _root_name(root)
    seen = set()

    def visit(folder: Path, rel: str):
        try:
            real = os.path.realpath(folder)
            if excluded and _is_under(real, excluded):
                return  # the run's output or cache folder: not input, not listed
            if real in seen:
                yield folder, rel, ("skipped", f"{folder}: folder link loops back to a folder "
                                               "already read; skipped")
                return
            seen.add(real)
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield folder, rel, ("failed", f"{folder}: folder cannot be listed ({exc.strerror}); skipped")
            return
        for entry in entries:
            child = Path(entry.path)
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if entry.name.startswith("."):
                what = "hidden folder" if is_dir else "hidden file"
                yield child, child_rel, ("skipped", f"{child}: {what}; not read")
                continue
            if is_dir:
                yield from visit(child, child_rel)
            else:
                yield child, child_rel, None
    yield from visit(root, base)


def _read_file(path: Path, rel: str, settings: Settings) -> Iterator[Record]:
    label = str(path)
    try:
        st = path.stat()
    except OSError as exc:
        yield Record("", label, "", status="failed",
                     message=f"{label}: cannot be read ({exc.strerror or exc}); skipped")
        return
    if not stat.S_ISREG(st.st_mode):
        yield Record("", label, "", status="skipped",
                     message=f"{label}: not a regular file (a device, pipe or socket); not read")
        return
    if is_sidecar(path):
        owners = sorted(p.name for p in path.parent.glob(path.name[:-len(".meta.toml")] + ".*")
                        if not is_sidecar(p) and sidecar_path(p) == path)
        yield Record("", label, "meta", status="skipped",
                     message=(f"{label}: metadata sidecar of {owners[0]}; applied there, "
                              "not read as an article") if owners else
                             (f"{label}: metadata sidecar with no file of the same name next "
                              "to it; not read"))
        return
    if st.st_size == 0:
        yield Record("", label, "", status="empty", message=f"{label}: empty file (0 bytes); nothing to read")
        return
    try:
        with open(path, "rb") as fh:
            sample = fh.read(settings.sample_bytes)
    except OSError as exc:
        yield Record("", label, "", status="failed",
                     message=f"{label}: cannot be read ({exc.strerror or exc}); skipped")
        return
    try:
        yield from _dispatch(path, label, sample, st.st_size, settings)
    except OSError as exc:
        yield Record("", label, "", status="failed",
                     message=f"{label}: read error ({exc.strerror or exc}); skipped")
    except MemoryError:
        yield Record("", label, "", status="failed",
                     message=f"{label}: too large to hold in memory; skipped")


def _too_large(label: str, fmt: str, size: int, settings: Settings) -> Record:
    return Record("", label, fmt, status="skipped",
                  message=f"{label}: {size / (1 << 20):.1f} MB, above [ingest] max_file_mb = "
                          f"{settings.max_file_bytes / (1 << 20):g} for a whole-file format; "
                          "not read (split it or raise the limit)")


def _dispatch(path: Path, label: str, sample: bytes, size: int, settings: Settings) -> Iterator[Record]:
    kind = sniff_binary(sample)
    whole = size <= settings.max_file_bytes
    if kind == "pdf":
        yield from (read_pdf(path, label, settings=settings) if whole else
                    [_too_large(label, "pdf", size, settings)])
        return
    if kind == "zip":
        office = zip_kind(path)
        if office is None:
            yield Record("", label, "zip", status="skipped",
                         message=f"{label}: ZIP archive that is not a .docx or .xlsx; not read "
                                 "(unpack it into a folder)")
        elif not whole:
            yield _too_large(label, office, size, settings)
        elif office == "docx":
            yield from read_docx(path, label, settings=settings)
        else:
            yield from read_xlsx(path, label, settings=settings)
        return
    if kind:
        yield Record("", label, "binary", status="skipped",
                     message=f"{label}: {kind}, not text; skipped")
        return
    encoding = detect_encoding(sample, candidates=settings.encodings, complete=size <= len(sample))
    if encoding is None:
        yield Record("", label, "binary", status="skipped",
                     message=f"{label}: not text in UTF-8 or any of {', '.join(settings.encodings)} "
                             "(binary?); skipped")
        return
    head = sample.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    fmt = _text_format(head, path.suffix.lower(), settings)
    if fmt == "sogou":
        yield from read_sogou(path, label, encoding=encoding, settings=settings)
    elif fmt == "jsonl":
        yield from read_jsonl(path, label, encoding=encoding, settings=settings)
    elif fmt in ("csv", "tsv"):
        yield from read_csv(path, label, encoding=encoding, settings=settings,
                            delimiter="\t" if fmt == "tsv" else ",")
    elif not whole:
        yield _too_large(label, fmt, size, settings)
    elif fmt == "json":
        yield from read_json_array(path, label, encoding=encoding, settings=settings)
    else:
        yield from read_text(path, label, encoding=encoding, settings=settings)


def _text_format(head: str, suffix: str, settings: Settings) -> str:
    """The record format of a text file, from its first characters (and its suffix)."""
    import json
    if head.startswith(("<doclist", "<doc>")) and ("<docno>" in head or "<content>" in head):
        return "sogou"
    first = head.split("\n", 1)[0].strip()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json" and head.startswith(("[", "{")):
        # One object on the first line and more lines after: JSON Lines after all.
        try:
            if isinstance(json.loads(first), dict) and "\n" in head.strip():
                return "jsonl"
        except json.JSONDecodeError:
            pass
        return "json"
    if first.startswith("{"):
        try:
            if isinstance(json.loads(first), dict):
                return "jsonl"
        except json.JSONDecodeError:
            pass
    text_col = settings.columns["text"]
    for delimiter, name in ((",", "csv"), ("\t", "tsv")):
        cells = [c.strip().strip('"') for c in first.split(delimiter)]
        if len(cells) > 1 and text_col in cells:
            return name
    if suffix in _TABULAR_SUFFIXES:
        return "tsv" if suffix == ".tsv" else "csv"
    return "text"


def _document(rec: Record, rel: str, settings: Settings, used: Counter) -> Document:
    """The Document for one record: ids, dates, articles, garbled runs."""
    key = stable_hash(rel, rec.key, length=12)
    used[key] += 1
    doc_id = key if used[key] == 1 else f"{key}~{used[key]}"
    doc = Document(doc_id=doc_id, path=rec.label, format=rec.format or "unknown", status=rec.status,
                   encoding=rec.encoding, message=rec.message, characters=rec.characters)
    source = rec.source
    context_date, context_source = rec.date, rec.date_source
    if rec.status == "ok" and rec.format in ("text", "page", "docx", "pdf"):
        sidecar = read_sidecar(Path(rec.label))
        if sidecar is not None:
            if sidecar.problem:
                doc.message = "; ".join(m for m in (doc.message, f"{rec.label}: {sidecar.problem}") if m)
            if sidecar.date and context_source != "record":
                context_date, context_source = sidecar.date, "sidecar"
            source = source or sidecar.source
    if context_date is None:
        context_date = date_from_filename(rel)
        context_source = "filename" if context_date else None
    doc.date = context_date
    garbled_runs = 0
    for seq, parts in enumerate(rec.parts):
        text = parts.text
        date, date_source = context_date, context_source
        if context_source not in ("record", "sidecar"):
            dateline = date_from_dateline(text, context_date=context_date)
            if dateline:
                date, date_source = dateline, "dateline"
        spans = garbled_spans(text, max_run=settings.garble_max_run)
        garbled_runs += len(spans)
        doc.articles.append(Article(
            article_id=f"{doc_id}-{seq:03d}", doc_id=doc_id, seq=seq, text=text,
            title=parts.title, subtitle=parts.subtitle, byline=parts.byline,
            section=parts.section, date=date, date_source=date_source,
            source_id=rec.source_id, source=source, url=rec.url, garbled=spans))
    if doc.date is None and doc.articles:
        doc.date = doc.articles[0].date
    if len(doc.articles) > 1:
        # A page's articles share the year the page names most, for articles
        # whose own text names no year (see resolve_base_date).
        year = document_year(a.text for a in doc.articles)
        for article in doc.articles:
            article.context_year = year
    if garbled_runs:
        n = sum(1 for a in doc.articles if a.garbled)
        note = (f"{rec.label}: {garbled_runs} garbled (mojibake) run(s) in {n} article(s); "
                "text kept, runs flagged and left out of extraction")
        doc.message = "; ".join(m for m in (doc.message, note) if m)
    if doc.status == "ok" and not doc.articles:
        doc.status = "empty"
        doc.message = doc.message or f"{rec.label}: no article found; nothing to analyse"
    return doc
