"""Evaluate the figure extractor on the development gold, beside JioNLP and Recognizers-Text.

Gold: every ``tests/gold/figures_*.jsonl`` (format in ``tests/gold/GUIDELINES.md``).
Sogou rows index the ``<content>`` of their record in the shared Sogou file,
decoded with strict gb18030; this module reads those records itself, so the
evaluation does not depend on the ingest stage.  Seed rows carry their text.

Scores: precision, recall and F1 per kind and overall, twice: *strict* (same
span and kind, and the same value/low/high/unit/date) and *span+kind*.  The
peers run on the same texts with full-width characters made ASCII (offsets do
not move), each on the kinds it covers:

- JioNLP ``extract_money`` (money) and ``extract_time`` (date, time, duration);
- Recognizers-Text number (number), percentage (percent), currency (money),
  dimension (quantity) and datetime (date, time, duration).

Run with ``python -m pipeline.evaluate figures`` (``make eval``); the peers
come from the optional ``eval`` extra and are skipped, with a note, when absent.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import time as _time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable, Optional

from pipeline.extract.figures import extract_figures
from pipeline.model import FIGURE_KINDS
from pipeline.text import fold_width

ROOT = Path(__file__).resolve().parents[2]
GOLD_DIR = ROOT / "tests" / "gold"
SHARED = ROOT.parent / "shared"
SOGOU_CANDIDATES = (SHARED / "data" / "sogou_news_dev.dat",
                    Path("/work/shared/data/sogou_news_dev.dat"))
_DOC_RE = re.compile(r"<doc>(.*?)</doc>", re.S)
_FIELD_RE = re.compile(r"<(docno|url|contenttitle|content)>(.*?)</\1>", re.S)
_FIELDS = ("value", "low", "high", "unit", "date")


# ------------------------------------------------------------------ loading

def read_sogou(path: Path) -> dict[str, dict]:
    """docno -> {url, title, content} of a Sogou-format file (strict gb18030)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not strict gb18030 at byte {exc.start}: {exc.reason}") from None
    docs = {}
    for block in _DOC_RE.findall(text):
        fields = dict(_FIELD_RE.findall(block))
        if "docno" in fields:
            docs[fields["docno"].strip()] = {"url": fields.get("url", ""), "title": fields.get("contenttitle", ""),
                                             "content": fields.get("content", "")}
    return docs


def _sogou_path() -> Optional[Path]:
    return next((p for p in SOGOU_CANDIDATES if p.exists()), None)


def load_gold(gold_dir: Path = GOLD_DIR) -> tuple[list[dict], list[str]]:
    """The annotated documents, each with its text; and the problems found."""
    problems: list[str] = []
    sogou: Optional[dict] = None
    docs = []
    for path in sorted(gold_dir.glob("figures_*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(f"{path.name}:{n}: not JSON ({exc.msg})")
                    continue
                if row.get("source") == "sogou":
                    if sogou is None:
                        sp = _sogou_path()
                        if sp is None:
                            problems.append("the shared Sogou file is missing; Sogou rows skipped")
                            sogou = {}
                        else:
                            sogou = read_sogou(sp)
                    rec = sogou.get(str(row.get("docno", "")))
                    if rec is None:
                        problems.append(f"{path.name}:{n}: docno {row.get('docno')!r} not in the Sogou file")
                        continue
                    text = rec["content"]
                else:
                    text = row.get("text")
                    if not isinstance(text, str):
                        problems.append(f"{path.name}:{n}: seed row without text")
                        continue
                figures = []
                for f in row.get("figures", []):
                    try:
                        ok = text[f["start"]:f["end"]] == f["text"]
                    except (KeyError, TypeError):
                        ok = False
                    if not ok:
                        problems.append(f"{path.name}:{n}: span {f.get('start')}-{f.get('end')} "
                                        f"{f.get('text')!r} does not slice back; skipped")
                        continue
                    figures.append(f)
                docs.append({"file": path.name, "line": n, "text": text, "base_date": row.get("base_date"),
                             "figures": figures})
    return docs, problems


# ------------------------------------------------------------------ scoring

def _same_number(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def _same_fields(pred: dict, gold: dict, fields: Iterable[str]) -> bool:
    for f in fields:
        if f in ("value", "low", "high"):
            if not _same_number(pred.get(f), gold.get(f)):
                return False
        elif (pred.get(f) or None) != (gold.get(f) or None):
            return False
    return True


class Score:
    """Counts of true positives, predictions and gold items by kind."""

    def __init__(self):
        self.tp = defaultdict(int)
        self.pred = defaultdict(int)
        self.gold = defaultdict(int)

    def add(self, kind: str, *, tp: int = 0, pred: int = 0, gold: int = 0):
        self.tp[kind] += tp
        self.pred[kind] += pred
        self.gold[kind] += gold

    def prf(self, kinds: Optional[Iterable[str]] = None) -> tuple[float, float, float, int, int, int]:
        kinds = list(kinds) if kinds is not None else list(set(self.gold) | set(self.pred))
        tp = sum(self.tp[k] for k in kinds)
        pr = sum(self.pred[k] for k in kinds)
        gd = sum(self.gold[k] for k in kinds)
        p = tp / pr if pr else 0.0
        r = tp / gd if gd else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f, tp, pr, gd


def score(docs: list[dict], predict: Callable[[dict], list[dict]], kinds: Iterable[str],
          *, strict_fields: Callable[[str], tuple] = lambda k: _FIELDS) -> tuple[Score, Score, list]:
    """Strict and span+kind scores of ``predict`` over ``docs`` on ``kinds``.

    Also returns the errors (doc, missed gold, spurious predictions) of the strict score.
    """
    kinds = set(kinds)
    strict, loose = Score(), Score()
    errors = []
    for doc in docs:
        gold = [f for f in doc["figures"] if f["kind"] in kinds]
        pred = [p for p in predict(doc) if p["kind"] in kinds]
        gold_by_span = {(g["start"], g["end"], g["kind"]): g for g in gold}
        matched = set()
        for g in gold:
            strict.add(g["kind"], gold=1)
            loose.add(g["kind"], gold=1)
        for p in pred:
            strict.add(p["kind"], pred=1)
            loose.add(p["kind"], pred=1)
            key = (p["start"], p["end"], p["kind"])
            g = gold_by_span.get(key)
            if g is None or key in matched:
                errors.append((doc, "spurious", p, None))
                continue
            matched.add(key)
            loose.add(p["kind"], tp=1)
            if _same_fields(p, g, strict_fields(p["kind"])):
                strict.add(p["kind"], tp=1)
            else:
                errors.append((doc, "fields", p, g))
        for key, g in gold_by_span.items():
            if key not in matched:
                errors.append((doc, "missed", None, g))
    return strict, loose, errors


# ------------------------------------------------------------------ systems

def _garbled(text: str) -> list:
    """Garbled runs as the ingest stage finds them, when that stage is installed."""
    try:
        from pipeline.ingest.garble import garbled_spans
    except ImportError:
        return []
    return garbled_spans(text)


def ours(doc: dict) -> list[dict]:
    figs = extract_figures(doc["text"], base_date=doc.get("base_date"), exclude=_garbled(doc["text"]))
    return [f.to_dict() for f in figs]


def _base_datetime(base: Optional[str]):
    import datetime as dt
    parts = [int(x) for x in re.findall(r"\d+", base or "")][:3]
    if not parts:
        return None
    y, m, d = (parts + [1, 1])[:3]
    try:
        return dt.datetime(y, m, d)
    except ValueError:
        return None


_ISO_UNITS = {"元": "CNY", "人民币": "CNY", "美元": "USD", "欧元": "EUR", "港元": "HKD", "港币": "HKD",
              "日元": "JPY", "英镑": "GBP", "韩元": "KRW", "卢布": "RUB", "澳元": "AUD", "加元": "CAD"}


def _jio_date(span_text: str, times: list) -> Optional[str]:
    """Precision of a JioNLP time point as the text states it."""
    if not times:
        return None
    first = str(times[0])[:10]
    if re.search(r"[日号天]$|今天|昨天|昨日|前日|前天|明天|今日", span_text) or "日" in span_text:
        return first
    if "月" in span_text:
        return first[:7]
    return first[:4]


def jionlp_system():
    """(predict, kinds) for JioNLP, or None when it is not installed."""
    try:
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            from jionlp.algorithm.ner import extract_money, extract_time
    except Exception as exc:  # ImportError, or its own start-up failing
        return None, f"JioNLP not usable: {exc}"

    def predict(doc):
        text = fold_width(doc["text"])
        out = []
        for r in extract_money(text, with_parsing=True):
            a, b = r["offset"]
            while a < b and text[a].isspace():
                a += 1
            det = r.get("detail") or {}
            num = det.get("num")
            value = low = high = None
            if isinstance(num, list):
                low, high = (float(x) for x in num[:2])
                if det.get("definition") == "blur" and re.search(r"[多余]", r["text"]):
                    value, high = low, None
            elif num is not None:
                value = float(num)
            out.append({"start": a, "end": b, "kind": "money", "value": value, "low": low, "high": high,
                        "unit": _ISO_UNITS.get(det.get("case"), det.get("case")), "date": None})
        base = _base_datetime(doc.get("base_date"))
        kwargs = {"time_base": base.timestamp()} if base else {}
        for r in extract_time(text, with_parsing=True, **kwargs):
            a, b = r["offset"]
            det = r.get("detail") or {}
            typ = det.get("type") or r.get("type")
            span = text[a:b]
            if typ == "time_delta":
                kind = "duration"
            elif re.search(r"[时点分秒:]|上午|下午|晚|凌晨|早", span):
                kind = "time"
            else:
                kind = "date"
            times = det.get("time") if isinstance(det.get("time"), list) else []
            out.append({"start": a, "end": b, "kind": kind, "value": None, "low": None, "high": None,
                        "unit": None, "date": _jio_date(span, times) if kind == "date" else None})
        return out

    return predict, ("money", "date", "time", "duration")


def recognizers_system():
    """(predict, kinds) for Recognizers-Text, or None when it is not installed."""
    try:
        from recognizers_suite import (Culture, recognize_currency, recognize_datetime,
                                       recognize_dimension, recognize_number, recognize_percentage)
    except Exception as exc:
        return None, f"Recognizers-Text not usable: {exc}"

    def value_of(res):
        try:
            return float(str((res or {}).get("value", "")).rstrip("%"))
        except ValueError:
            return None

    def predict(doc):
        text = fold_width(doc["text"])
        out = []
        for fn, kind in ((recognize_number, "number"), (recognize_percentage, "percent"),
                         (recognize_currency, "money"), (recognize_dimension, "quantity")):
            for r in fn(text, Culture.Chinese):
                res = r.resolution or {}
                unit = res.get("isoCurrency") if kind == "money" else ("%" if kind == "percent" else None)
                out.append({"start": r.start, "end": r.end + 1, "kind": kind, "value": value_of(res),
                            "low": None, "high": None, "unit": unit, "date": None})
        base = _base_datetime(doc.get("base_date"))
        for r in recognize_datetime(text, Culture.Chinese, reference=base):
            t = r.type_name.split(".")[-1]
            kind = {"date": "date", "daterange": "date", "time": "time", "timerange": "time",
                    "datetime": "time", "duration": "duration"}.get(t)
            if kind is None:
                continue
            date = None
            if kind == "date":
                vals = (r.resolution or {}).get("values") or [{}]
                timex = str(vals[-1].get("timex", ""))
                date = timex if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", timex) else (
                    str(vals[-1].get("value", ""))[:10] or None)
            out.append({"start": r.start, "end": r.end + 1, "kind": kind, "value": None, "low": None,
                        "high": None, "unit": None, "date": date})
        return out

    return predict, ("number", "percent", "money", "quantity", "date", "time", "duration")


def _peer_fields(kind: str) -> tuple:
    # Peers are scored strictly only on what they resolve (value, unit for money, date),
    # never on qualifier bounds they do not model: generous to them on purpose.
    return {"money": ("value", "unit"), "percent": ("value",), "quantity": ("value",),
            "number": ("value",), "date": ("date",)}.get(kind, ())


# ------------------------------------------------------------------ report

def _row(label, prf) -> str:
    p, r, f, tp, pr, gd = prf
    return f"  {label:<10} P {p:6.3f}  R {r:6.3f}  F1 {f:6.3f}   (tp {tp}, pred {pr}, gold {gd})"


def _print_scores(title: str, strict: Score, loose: Score, kinds: Iterable[str]) -> None:
    kinds = [k for k in FIGURE_KINDS if k in set(kinds)]
    print(f"\n{title}")
    for label, sc in (("strict (span, kind, value/low/high/unit/date)", strict), ("span + kind", loose)):
        print(f" {label}")
        for k in kinds:
            if sc.gold[k] or sc.pred[k]:
                print(_row(k, sc.prf([k])))
        print(_row("overall", sc.prf(kinds)))


def main(argv: Optional[list] = None) -> int:
    """Print P/R/F1 of the extractor and its peers on the figure gold."""
    ap = argparse.ArgumentParser(prog="python -m pipeline.evaluate.figures", description=__doc__.split("\n")[0])
    ap.add_argument("--gold-dir", default=str(GOLD_DIR))
    ap.add_argument("--errors", type=int, default=0, help="print this many of our errors")
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args(argv if argv is not None else [])
    docs, problems = load_gold(Path(args.gold_dir))
    for p in problems:
        print("gold:", p, file=sys.stderr)
    n_fig = sum(len(d["figures"]) for d in docs)
    print(f"Figure gold: {len(docs)} documents, {n_fig} figures ({args.gold_dir})")
    if not docs:
        print("no gold to evaluate")
        return 1
    kinds = [k for k in FIGURE_KINDS]
    t0 = _time.perf_counter()
    strict, loose, errors = score(docs, ours, kinds)
    chars = sum(len(d["text"]) for d in docs)
    _print_scores(f"pipeline (extract_figures)  [{chars} chars in {_time.perf_counter() - t0:.2f}s]",
                  strict, loose, kinds)
    same, total, wrong = _object_agreement(docs)
    print(f" counted objects: {same}/{total} counts found at the gold span name the gold object"
          f" ({same / total:.1%})" if total else " counted objects: no gold counts with an object")
    for doc, g, p in wrong[:args.errors]:
        print(f"  object   {doc['file']}:{doc['line']} {g['text']!r} pred={p!r} gold={g['object']!r}")
    for doc, what, p, g in errors[:args.errors]:
        f = p or g
        ctx = doc["text"][max(0, f["start"] - 8):f["end"] + 8].replace("\n", " ")
        print(f"  {what:8} {doc['file']}:{doc['line']} {f['start']}-{f['end']} {f.get('text', doc['text'][f['start']:f['end']])!r}"
              f" pred={_brief(p)} gold={_brief(g)} | {ctx}")
    if not args.no_peers:
        for name, factory in (("JioNLP", jionlp_system), ("Recognizers-Text", recognizers_system)):
            predict, covered = factory()
            if predict is None:
                print(f"\n{name}: skipped ({covered}); install the extra: pip install -e '.[eval]'")
                continue
            t0 = _time.perf_counter()
            logging.disable(logging.CRITICAL)  # JioNLP logs a traceback per time string it cannot parse
            try:
                ps, pl, _ = score(docs, predict, covered, strict_fields=_peer_fields)
            finally:
                logging.disable(logging.NOTSET)
            _print_scores(f"{name} (kinds it covers: {', '.join(covered)}; full-width made ASCII)"
                          f"  [{_time.perf_counter() - t0:.2f}s]", ps, pl, covered)
            print(" ours on the same kinds:")
            print(_row("strict", strict.prf(covered)))
            print(_row("span+kind", loose.prf(covered)))
    return 0


def _object_agreement(docs: list[dict]) -> tuple[int, int, list]:
    """How often a count found at a gold count's span names the gold object."""
    same = total = 0
    wrong = []
    for doc in docs:
        gold = {(g["start"], g["end"]): g for g in doc["figures"] if g["kind"] == "count" and g.get("object")}
        if not gold:
            continue
        for p in ours(doc):
            g = gold.get((p["start"], p["end"]))
            if g is None or p["kind"] != "count":
                continue
            total += 1
            if p.get("object") == g["object"]:
                same += 1
            else:
                wrong.append((doc, g, p.get("object")))
    return same, total, wrong


def _brief(f: Optional[dict]) -> str:
    if f is None:
        return "-"
    parts = [f["kind"]] + [f"{k}={f[k]}" for k in ("value", "low", "high", "unit", "qualifier", "date") if f.get(k) is not None]
    return "(" + " ".join(parts) + ")"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
