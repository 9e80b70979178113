"""The review sheet's fast row writer gives openpyxl's bytes exactly."""
from __future__ import annotations

import math
import random

import pytest

from pipeline.review import xlsx_bytes

#: characters that stress escaping, whitespace rules, formula guards and error codes
_ALPHABET = list("ab 中文\t\r\n=+-@'#&<>\"　１２\x00\x01\x0b\ufffe\ud800") + [
    "\U00020000", "😀", "#N/A", "#REF!", " ", "  "]


def _rows(seed: int, n: int) -> list[dict]:
    rng = random.Random(seed)

    def text(maxlen: int = 8) -> str:
        return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, maxlen)))

    def number():
        return rng.choice([None, 0.0, -1.5, 1e20, 3469.0, 1 / 3, float("nan"), float("inf"),
                           12345678901234567.0, 2])

    def field():
        return rng.choice([None, "", " ", "#N/A", "=1+1", "=", "+", "'=x", "元", text()])

    return [{"figure_id": rng.choice(["f1", "=f", "fx"]), "article_id": "a",
             "article": field() or "（无标题）", "before": text(), "figure": text(3),
             "after": text(), "sentence": "", "kind": field(), "value": number(),
             "low": number(), "high": number(), "unit": field(), "qualifier": field(),
             "object": field(), "date": field(), "status": rng.choice([None, "ok", "fix", "wrong"]),
             "corrected_value": number(), "note": field()} for _ in range(n)]


@pytest.mark.parametrize("seed,n", [(0, 0), (1, 1), (2, 300), (3, 300)])
def test_fast_rows_equal_openpyxl_cells(seed, n):
    rows = _rows(seed, n)
    assert xlsx_bytes(rows) == xlsx_bytes(rows, openpyxl_rows=True)


@pytest.mark.parametrize("seed,n", [(0, 0), (1, 1), (4, 300), (5, 300)])
def test_streamed_csv_equals_the_csv_module(tmp_path, seed, n):
    from pipeline.review import CSV_NAME, ReviewWriter, csv_bytes
    from pipeline.tables import writable

    rows = _rows(seed, n)
    for r in rows:  # the CSV's sentence column, as sheet_rows gives it
        r["sentence"] = f"{r['before']}【{r['figure']}】{r['after']}"
        for col in ("value", "low", "high"):  # figures the page can show (it formats them)
            if r[col] is not None and not math.isfinite(r[col]):
                r[col] = 12.5
    # lone surrogates spelled out, as ReviewWriter.add does before add_rows
    rows = [{k: writable(v) for k, v in r.items()} for r in rows]
    written = [dict(r) for r in rows]
    with ReviewWriter(tmp_path, page_figures=50) as writer:
        writer.add_rows(written)
    assert (tmp_path / CSV_NAME).read_bytes() == csv_bytes(rows)
