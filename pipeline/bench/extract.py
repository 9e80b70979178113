"""Benchmark the figure extractor: characters per second on one core.

The corpus is the seed page and the Sogou development records (their
``<content>``, strict gb18030), replicated until it is large enough to time.
JioNLP's ``extract_money`` and ``extract_time`` are timed on the same texts
(full-width made ASCII) for reference when JioNLP is installed (the ``eval``
extra).  Numbers are printed, never asserted.

Run with ``python -m pipeline.bench extract`` (part of ``make bench``).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from pipeline.extract.figures import extract_figures
from pipeline.text import fold_width

ROOT = Path(__file__).resolve().parents[2]


def corpus_texts() -> list[str]:
    """The seed page's lines joined, and each Sogou record's content."""
    texts = []
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        raw = seed.read_text(encoding="utf-8", errors="replace")
        texts.append("".join(line.strip() for line in raw.splitlines() if line.strip()))
    from pipeline.evaluate.figures import _sogou_path, read_sogou
    path = _sogou_path()
    if path is not None:
        texts.extend(rec["content"] for rec in read_sogou(path).values() if rec["content"])
    return texts


def _time(fn: Callable[[str], object], texts: list[str], *, min_chars: int) -> tuple[float, int]:
    """(seconds, characters) to run ``fn`` over ``texts`` repeated to ``min_chars``."""
    n_chars, runs = 0, []
    while n_chars < min_chars:
        runs.extend(texts)
        n_chars += sum(len(t) for t in texts)
    start = time.perf_counter()
    for t in runs:
        fn(t)
    return time.perf_counter() - start, n_chars


def _jionlp() -> Optional[tuple[Callable, Callable]]:
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            from jionlp.algorithm.ner import extract_money, extract_time
    except Exception:
        return None
    return extract_money, extract_time


def main(argv: Optional[list] = None) -> int:
    """Print the extractor's throughput (and JioNLP's, when installed)."""
    ap = argparse.ArgumentParser(prog="python -m pipeline.bench.extract", description=__doc__.split("\n")[0])
    ap.add_argument("--chars", type=int, default=2_000_000, help="characters to time the extractor on")
    args = ap.parse_args(argv if argv is not None else [])
    texts = corpus_texts()
    if not texts:
        print("bench extract: no texts (seeds/ and the Sogou file are missing)")
        return 1
    base = "2012-06-12"
    extract_figures(texts[0], base_date=base)  # load the lexicon and the segmenter first
    secs, n = _time(lambda t: extract_figures(t, base_date=base), texts, min_chars=args.chars)
    n_figs = sum(len(extract_figures(t, base_date=base)) for t in texts)
    print(f"extract_figures: {n / secs:,.0f} chars/s on one core "
          f"({n:,} chars in {secs:.2f}s; {len(texts)} texts, {n_figs} figures per pass)")
    peers = _jionlp()
    if peers is None:
        print("JioNLP: not installed (pip install -e '.[eval]'); skipped")
        return 0
    money, when = peers
    folded = [fold_width(t) for t in texts]
    logging.disable(logging.CRITICAL)  # JioNLP logs a traceback for each time string it cannot parse
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            secs, n = _time(lambda t: money(t), folded, min_chars=min(args.chars, 400_000))
        print(f"JioNLP extract_money: {n / secs:,.0f} chars/s ({n:,} chars in {secs:.2f}s)")
        with contextlib.redirect_stdout(io.StringIO()):
            secs, n = _time(lambda t: when(t), folded, min_chars=min(args.chars, 150_000))
        print(f"JioNLP extract_time: {n / secs:,.0f} chars/s ({n:,} chars in {secs:.2f}s)")
    finally:
        logging.disable(logging.NOTSET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
