"""Evaluate organization recognition on People's Daily NER sentences (ORG tags).

Exact-span precision, recall and F1 of :func:`pipeline.extract.orgs.extract_orgs`
on ``shared/data/people_daily_ner_dev.bio`` (one character and its BIO tag a
line, a blank line between sentences), read from there at run time.  Beside
it, the anchor: jieba's POS tagger, taking each run of contiguous ``nt``
words as one organization.

The sentences are scored as a whole and in two halves (even and odd
sentence numbers), so a rule that only fits the sentences looked at while
developing would show as a gap between the halves.

Run ``python -m pipeline.evaluate orgs`` (or ``make eval``);
``python -m pipeline.evaluate.orgs --errors N`` prints N misses and N false
alarms of a half to study kinds of errors.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from pipeline.config import DATA_DIR

#: where the shared evaluation data sits, relative to the repository
DEFAULT_BIO = DATA_DIR.parent.parent.parent / "shared" / "data" / "people_daily_ner_dev.bio"


#: length of the article-sized texts the speed is also measured on
ARTICLE_CHARS = 1500


class BioFormatError(ValueError):
    """The BIO file is malformed."""


@dataclass(frozen=True)
class Sentence:
    text: str
    spans: frozenset   # gold (start, end) of ORG entities


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self, label: str) -> str:
        return (f"{label:<34} P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"
                f"   (tp {self.tp}, fp {self.fp}, fn {self.fn})")


def read_bio(path: Path, *, label: str = "ORG") -> list[Sentence]:
    """Sentences of a char-per-line BIO file with the spans tagged ``label``.

    Raises
    ------
    BioFormatError
        On a line that is not "<char> <tag>" or a tag that is not O, B-X or I-X;
        the message names the file and line.
    """
    sentences: list[Sentence] = []
    chars: list[str] = []
    spans: set = set()
    open_start: Optional[int] = None

    def close(at: int) -> None:
        nonlocal open_start
        if open_start is not None:
            spans.add((open_start, at))
            open_start = None

    def flush() -> None:
        nonlocal chars, spans
        close(len(chars))
        if chars:
            sentences.append(Sentence("".join(chars), frozenset(spans)))
        chars, spans = [], set()

    try:
        fh = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise BioFormatError(f"{path}: evaluation file not found") from None
    with fh:
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                flush()
                continue
            parts = line.split(" ")
            if len(parts) < 2 or len(parts[-1]) == 0:
                raise BioFormatError(f"{path}:{n}: expected '<char> <tag>', got {line!r}")
            char, tag = " ".join(parts[:-1]) or " ", parts[-1]
            if len(char) != 1:
                char = char[:1]
            if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
                raise BioFormatError(f"{path}:{n}: unknown tag {tag!r}")
            pos = len(chars)
            if tag == f"B-{label}" or (tag == f"I-{label}" and open_start is None):
                close(pos)
                open_start = pos
            elif tag != f"I-{label}":
                close(pos)
            chars.append(char)
    flush()
    return sentences


def score(gold: Iterable[frozenset], predicted: Iterable[set]) -> Score:
    tp = fp = fn = 0
    for g, p in zip(gold, predicted):
        hits = len(g & p)
        tp += hits
        fp += len(p) - hits
        fn += len(g) - hits
    return Score(tp, fp, fn)


def jieba_nt_spans(text: str) -> set:
    """Runs of contiguous words jieba's POS tagger tags ``nt``."""
    import jieba.posseg
    spans = set()
    pos = 0
    run_start = None
    for pair in jieba.posseg.cut(text):
        if pair.flag == "nt":
            run_start = pos if run_start is None else run_start
        elif run_start is not None:
            spans.add((run_start, pos))
            run_start = None
        pos += len(pair.word)
    if run_start is not None:
        spans.add((run_start, pos))
    return spans


def _halves(items: Sequence) -> tuple[list, list]:
    return list(items[0::2]), list(items[1::2])


def _report(label: str, sentences: Sequence[Sentence], predictions: Sequence[set]) -> None:
    a_s, b_s = _halves(sentences)
    a_p, b_p = _halves(predictions)
    print(score([s.spans for s in sentences], predictions).line(f"{label}, all"))
    print(score([s.spans for s in a_s], a_p).line(f"{label}, half A (even)"))
    print(score([s.spans for s in b_s], b_p).line(f"{label}, half B (odd)"))


def _print_errors(sentences: Sequence[Sentence], predictions: Sequence[set], limit: int) -> None:
    misses, alarms = [], []
    for s, p in zip(sentences, predictions):
        for a, b in sorted(s.spans - p):
            misses.append(f"{s.text[max(0, a - 8):a]}[{s.text[a:b]}]{s.text[b:b + 8]}")
        for a, b in sorted(p - s.spans):
            alarms.append(f"{s.text[max(0, a - 8):a]}[{s.text[a:b]}]{s.text[b:b + 8]}")
    print(f"\nmissed ({len(misses)}):")
    print("\n".join(misses[:limit]))
    print(f"\nfalse alarms ({len(alarms)}):")
    print("\n".join(alarms[:limit]))


def main(argv: Optional[list[str]] = None) -> int:
    """Print P/R/F1 of the recognizer and of jieba's nt tag, and the speed."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.evaluate orgs",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--bio", type=Path, default=DEFAULT_BIO,
                        help="char-per-line BIO file (default: shared/data/people_daily_ner_dev.bio)")
    parser.add_argument("--errors", type=int, default=0, metavar="N",
                        help="print N misses and N false alarms of --half")
    parser.add_argument("--half", choices=("A", "B"), default="A")
    parser.add_argument("--no-anchor", action="store_true", help="skip jieba's (slow) POS tagger")
    # called by pipeline.evaluate with no arguments: the defaults
    args = parser.parse_args([] if argv is None else argv)

    from pipeline.extract.orgs import extract_orgs, load_lexicon
    from pipeline.segment import segment

    try:
        sentences = read_bio(args.bio)
    except BioFormatError as exc:
        print(f"orgs evaluation: {exc}", file=sys.stderr)
        return 1
    n_chars = sum(len(s.text) for s in sentences)
    n_gold = sum(len(s.spans) for s in sentences)
    print(f"People's Daily NER ({args.bio.name}): {len(sentences)} sentences, "
          f"{n_chars} characters, {n_gold} ORG entities; exact-span match")

    load_lexicon()
    segment("预热")
    t0 = time.perf_counter()
    token_lists = [segment(s.text) for s in sentences]
    t_segment = time.perf_counter() - t0
    t0 = time.perf_counter()
    mentions = [extract_orgs(s.text, tokens=toks) for s, toks in zip(sentences, token_lists)]
    t_orgs = time.perf_counter() - t0
    # the gold tags names, not anaphors (该局 standing for 苍南县民政局): leave those out
    determiners = load_lexicon().determiners
    predictions = [{(m.start, m.end) for m in ms
                    if not (m.text[:1] in determiners and m.canonical != m.text)}
                   for ms in mentions]
    _report("orgs (grammar + gazetteer)", sentences, predictions)
    n_found = sum(len(ms) for ms in mentions)
    print(f"speed on sentences: {n_found / t_orgs:,.0f} mentions/s, {n_chars / t_orgs / 1e6:.2f}M "
          f"chars/s recognition given tokens; jieba segmentation {n_chars / t_segment / 1e6:.2f}M chars/s")
    # news articles are longer than these sentences; per-call costs weigh less there
    joined = "".join(s.text for s in sentences)
    articles = [joined[i:i + ARTICLE_CHARS] for i in range(0, len(joined), ARTICLE_CHARS)]
    article_tokens = [segment(a) for a in articles]
    t0 = time.perf_counter()
    article_mentions = sum(len(extract_orgs(a, tokens=toks)) for a, toks in zip(articles, article_tokens))
    t_articles = time.perf_counter() - t0
    print(f"speed on {ARTICLE_CHARS}-char articles: {article_mentions / t_articles:,.0f} mentions/s, "
          f"{len(joined) / t_articles / 1e6:.2f}M chars/s recognition given tokens")

    if not args.no_anchor:
        t0 = time.perf_counter()
        anchor = [jieba_nt_spans(s.text) for s in sentences]
        t_anchor = time.perf_counter() - t0
        _report("anchor: jieba.posseg nt", sentences, anchor)
        print(f"anchor speed: {n_chars / t_anchor / 1e6:.3f}M chars/s")
    if args.errors:
        a, b = _halves(sentences)
        pa, pb = _halves(predictions)
        chosen = (a, pa) if args.half == "A" else (b, pb)
        _print_errors(*chosen, args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
