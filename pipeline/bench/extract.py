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


def _time(fn: Callable[[str], object], texts: list[str], *, min_chars: int,
          before_pass: Optional[Callable[[], None]] = None) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, characters) to run ``fn`` over ``texts`` repeated to ``min_chars``.

    CPU time of this one process is the one-core cost even when other
    processes share the machine; wall time is printed beside it.
    ``before_pass`` runs (and is timed) before each pass over ``texts``, so
    that a pass cannot profit from caches warmed by the previous one.
    """
    n_chars, passes = 0, 0
    while n_chars < min_chars:
        passes += 1
        n_chars += sum(len(t) for t in texts)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(passes):
        if before_pass is not None:
            before_pass()
        for t in texts:
            fn(t)
    return time.process_time() - cpu, time.perf_counter() - wall, n_chars


def _report(label: str, cpu: float, wall: float, n: int, extra: str = "") -> None:
    print(f"{label}: {n / max(cpu, 1e-9):,.0f} chars/s of CPU on one core "
          f"({n / max(wall, 1e-9):,.0f} chars/s wall; {n:,} chars in {cpu:.2f}s CPU){extra}")


def _cold_numeral_caches() -> None:
    """Empty the numeral and object caches: a replicated corpus would otherwise hit them every time."""
    from pipeline.extract import figures
    figures._num.cache_clear()
    figures._core_value.cache_clear()
    figures._noun_run_after.cache_clear()
    figures._noun_run_before.cache_clear()


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
    cpu, wall, n = _time(lambda t: extract_figures(t, base_date=base), texts, min_chars=args.chars,
                         before_pass=_cold_numeral_caches)
    n_figs = sum(len(extract_figures(t, base_date=base)) for t in texts)
    _report("extract_figures", cpu, wall, n, f"; {len(texts)} texts, {n_figs} figures per pass")
    for unit in ("1", "万", "多", "1万多", "9,", "1.", "-1", "1年", "今年", "一二三", "a", "七夕"):
        text = (unit * (100_000 // len(unit) + 1))[:100_000]
        cpu, wall, n = _time(lambda t: extract_figures(t, base_date=base), [text], min_chars=1)
        print(f"  100,000 chars of {unit!r} repeated: {cpu:.3f}s CPU")
    peers = _jionlp()
    if peers is None:
        print("JioNLP: not installed (pip install -e '.[eval]'); skipped")
        return 0
    money, when = peers
    folded = [fold_width(t) for t in texts]
    logging.disable(logging.CRITICAL)  # JioNLP logs a traceback for each time string it cannot parse
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            cpu, wall, n = _time(lambda t: money(t), folded, min_chars=min(args.chars, 400_000))
        _report("JioNLP extract_money", cpu, wall, n)
        with contextlib.redirect_stdout(io.StringIO()):
            cpu, wall, n = _time(lambda t: when(t), folded, min_chars=min(args.chars, 150_000))
        _report("JioNLP extract_time", cpu, wall, n)
    finally:
        logging.disable(logging.NOTSET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
