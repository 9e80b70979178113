"""Tables: the pipeline's results as pandas DataFrames, written as CSV and Parquet.

Column order and row order are fixed, so two runs on the same input write the
same bytes.  Researchers load them with ``pandas.read_parquet``; editors open
the CSV files (UTF-8 with BOM so spreadsheet programs read the Chinese).
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Optional
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from pipeline.model import ArticleAnalysis, Document, figure_id
from pipeline.text import FORMULA_TRIGGERS, escape_formula, sentence_at, sentence_spans

COLUMNS = {
    "documents": ["doc_id", "path", "format", "encoding", "status", "articles",
                  "characters", "date", "message"],
    "articles": ["article_id", "doc_id", "source_id", "seq", "title", "subtitle", "byline",
                 "section", "date", "date_source", "base_date", "base_date_source", "url",
                 "characters", "garbled_runs", "garbled_spans", "text"],
    "figures": ["figure_id", "doc_id", "article_id", "start", "end", "text", "kind", "value",
                "low", "high", "unit", "qualifier", "object", "date", "sentence",
                "sentence_start", "sentence_end",
                # filled from editors' review sheets (pipeline.review.apply_reviews)
                "review_status", "corrected_value", "review_note"],
    "organizations": ["org_id", "canonical", "type", "aliases", "n_mentions", "n_articles"],
    "mentions": ["article_id", "start", "end", "text", "canonical", "type"],
    "keywords": ["term", "score", "df"],
    "article_themes": ["article_id", "theme", "parent", "score", "evidence"],
    "themes": ["theme", "parent", "articles", "share"],
    "themes_by_month": ["month", "theme", "articles", "share"],
    "topics": ["topic", "rank", "term", "weight"],
    "article_topics": ["article_id", "topic", "weight"],
}

#: lone surrogates: undecodable bytes of a file name (os.fsdecode) or a broken JSON escape
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(m: re.Match) -> str:
    cp = ord(m.group())
    # U+DC80..U+DCFF stand for the bytes 0x80..0xFF a file name had (surrogateescape).
    return f"\\x{cp - 0xDC00:02x}" if 0xDC80 <= cp <= 0xDCFF else f"\\u{cp:04x}"


def writable(value):
    """``value`` with lone surrogates spelled out (``\\xff``), so UTF-8 files can hold it."""
    if isinstance(value, str) and _SURROGATE.search(value):
        return _SURROGATE.sub(_escape_surrogate, value)
    return value


_FLOAT = {"value", "low", "high", "score", "share", "weight", "corrected_value"}
_INT = {"start", "end", "seq", "articles", "characters", "n_mentions", "n_articles", "df",
        "garbled_runs", "sentence_start", "sentence_end", "rank", "topic"}


def frame(name: str, rows: Iterable[Mapping]) -> pd.DataFrame:
    """Rows as a DataFrame with the table's fixed columns and dtypes."""
    cols = COLUMNS[name]
    rows = rows if isinstance(rows, list) else list(rows)
    data = {}
    for c in cols:
        values = [r.get(c) for r in rows]
        if c in _FLOAT:
            data[c] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("float64")
        elif c in _INT:
            data[c] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("Int64")
        else:
            strings = [v for v in values if isinstance(v, str)]
            # one search over the column, not one per cell: surrogates are rare
            if _SURROGATE.search("".join(strings)):
                values = [writable(v) for v in values]
            data[c] = pd.Series(values, dtype=object).astype("string")
    return pd.DataFrame(data, columns=cols)


def document_rows(documents: Sequence[Document]) -> list[dict]:
    return [{"doc_id": d.doc_id, "path": d.path, "format": d.format, "encoding": d.encoding,
             "status": d.status, "articles": d.n_articles, "characters": d.characters,
             "date": d.date, "message": d.message} for d in documents]


def article_rows(analyses: Sequence[ArticleAnalysis]) -> list[dict]:
    rows = []
    for an in analyses:
        a = an.article
        rows.append({"article_id": a.article_id, "doc_id": a.doc_id, "source_id": a.source_id,
                     "seq": a.seq, "title": a.title, "subtitle": a.subtitle,
                     "byline": a.byline, "section": a.section, "date": a.date,
                     "date_source": a.date_source, "base_date": an.base_date,
                     "base_date_source": an.base_date_source, "url": a.url,
                     "characters": len(a.text), "garbled_runs": len(a.garbled),
                     "garbled_spans": ";".join(f"{s}-{e}" for s, e in a.garbled),
                     "text": a.text})
    return rows


def figure_rows(analysis: ArticleAnalysis) -> list[dict]:
    """One row per figure of an article, with its id and the sentence it stands in."""
    a = analysis.article
    spans = sentence_spans(a.text)
    rows = []
    for f in analysis.figures:
        s, e = sentence_at(a.text, f.start, f.end, spans)
        # the stored span is the sentence as shown: no leading indent (\u3000\u3000)
        # or trailing line break, so text[sentence_start:sentence_end] == sentence
        while s < f.start and a.text[s].isspace():
            s += 1
        while e > f.end and a.text[e - 1].isspace():
            e -= 1
        row = _fields_dict(f)
        row.update(figure_id=figure_id(a.text, f.start, f.end), doc_id=a.doc_id,
                   article_id=a.article_id, sentence=a.text[s:e],
                   sentence_start=s, sentence_end=e)
        rows.append(row)
    return rows


def disambiguate_figure_ids(rows: Sequence[dict]) -> list[dict]:
    """Make ``figure_id`` unique across the corpus, in input order.

    The id hashes only the text around a figure, so that it survives edits
    elsewhere; two articles that share a passage (a reprinted wire story) then
    share ids.  The first occurrence keeps its id, later ones get ``-2``,
    ``-3`` …, which is stable as long as the input order is.
    """
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        fid = row["figure_id"]
        n = seen.get(fid, 0) + 1
        seen[fid] = n
        out.append(row if n == 1 else dict(row, figure_id=f"{fid}-{n}"))
    return out


def mention_rows(article_id: str, mentions: Sequence) -> list[dict]:
    return [dict(_fields_dict(m), article_id=article_id) for m in mentions]


#: dataclass type -> its field names
_FIELD_NAMES: dict[type, tuple] = {}


def _fields_dict(obj) -> dict:
    """``obj.to_dict()`` (``dataclasses.asdict``) for a dataclass of scalar fields.

    ``asdict`` deep-copies every value, which costs more than the rest of a
    row; a figure's and a mention's fields are numbers, strings or None, so a
    plain read gives an equal dict.
    """
    names = _FIELD_NAMES.get(type(obj))
    if names is None:
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    return {name: getattr(obj, name) for name in names}


def write_table(df: pd.DataFrame, out_dir: Path, name: str) -> None:
    """Write ``name``.csv and ``name``.parquet into ``out_dir``."""
    with TableWriter(out_dir, name) as writer:
        writer.write_frame(df)


class TableWriter:
    """Writes one table chunk by chunk: ``name``.csv and ``name``.parquet in ``out_dir``.

    Each :meth:`write` appends rows to the CSV and one row group to the
    Parquet file, so a table of any length is written holding one chunk.  The
    schema is the table's fixed columns and dtypes (:func:`frame`), whatever
    a chunk holds, and the bytes depend only on the rows and how they were
    chunked.  Use as a context manager; an empty table gets its header.
    """

    def __init__(self, out_dir: Path, name: str):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.name = name
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        self._pa = pa
        self._schema = pa.Schema.from_pandas(frame(name, []), preserve_index=False)
        self._csv = open(out_dir / f"{name}.csv", "w", encoding="utf-8-sig", newline="")
        self._parquet = pq.ParquetWriter(out_dir / f"{name}.parquet", self._schema)
        self._header = True
        self.rows = 0

    def write(self, rows: Sequence[Mapping]) -> None:
        """Append ``rows`` (dicts keyed by the table's columns)."""
        if rows or self._header:
            self.write_frame(frame(self.name, rows))

    def write_frame(self, df: pd.DataFrame) -> None:
        """Append a frame that has the table's columns and dtypes (:func:`frame`)."""
        if len(df) == 0 and not self._header:
            return
        _csv_safe(df).to_csv(self._csv, index=False, header=self._header, lineterminator="\n")
        self._header = False
        if len(df):
            self._parquet.write_table(self._pa.Table.from_pandas(
                df, schema=self._schema, preserve_index=False))
        self.rows += len(df)

    def close(self) -> None:
        if self._header:
            self.write_frame(frame(self.name, []))
        self._csv.close()
        self._parquet.close()

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # a failed run's half-written files are discarded with its staging folder
            self._csv.close()
            self._parquet.close()


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """The CSV view of a table: text cells a spreadsheet would evaluate as a
    formula (=HYPERLINK(...) in a title) get a leading ' (Parquet keeps them raw)."""
    text_cols = [c for c in df.columns if df[c].dtype == "string"]
    risky = [c for c in text_cols if df[c].str.startswith(FORMULA_TRIGGERS).fillna(False).any()
             or df[c].str.startswith("'").fillna(False).any()]
    if not risky:
        return df
    df = df.copy()
    for c in risky:
        df[c] = df[c].map(lambda v: escape_formula(v) if isinstance(v, str) else v,
                          na_action="ignore").astype("string")
    return df


def read_table(out_dir: Path, name: str) -> pd.DataFrame:
    """A table written by ``write_table`` (from Parquet, with its dtypes)."""
    return pd.read_parquet(Path(out_dir) / f"{name}.parquet")


class TableSet(Mapping):
    """The tables of a run, read from ``folder``'s Parquet files when asked for.

    A mapping of table name to DataFrame, like a data catalog: nothing is held
    in memory, each lookup reads the file (:func:`read_table`).  ``folder``
    can be changed (the runner points it at the published output).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in COLUMNS:
            raise KeyError(name)
        return read_table(self.folder, name)

    def __contains__(self, name) -> bool:
        return name in COLUMNS

    def read(self, name: str, *, columns: Optional[Sequence[str]] = None) -> pd.DataFrame:
        """Table ``name``, only ``columns`` of it when given (a large table's light part)."""
        if name not in COLUMNS:
            raise KeyError(name)
        return pd.read_parquet(self.folder / f"{name}.parquet",
                               columns=list(columns) if columns is not None else None)

    def article_texts(self, article_ids: Iterable[str]) -> dict[str, str]:
        """``{article_id: text}`` of the given articles, read without the others' texts."""
        import pyarrow.parquet as pq
        wanted = set(article_ids)
        texts: dict[str, str] = {}
        if not wanted:
            return texts
        parquet = pq.ParquetFile(self.folder / "articles.parquet")
        for batch in parquet.iter_batches(columns=["article_id", "text"], batch_size=2048):
            ids, values = batch.column(0).to_pylist(), batch.column(1)
            for i, aid in enumerate(ids):
                if aid in wanted:
                    texts[aid] = values[i].as_py()
        return texts

    def __iter__(self):
        return iter(COLUMNS)

    def __len__(self) -> int:
        return len(COLUMNS)
