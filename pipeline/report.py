"""The report stage: tables in, ``briefing.html`` and ``briefing.md`` out.

All numbers are computed here, into one context dict; the Jinja2 templates in
``templates/`` only format it.  The HTML is one self-contained file: CSS
inline, charts inline as SVG.

Honest totals
-------------
Figures are summed only when they measure the same thing: money per currency,
counts and quantities per (object, unit).  Percentages, ordinals, durations and
dates are never summed.  Each figure contributes bounds to a sum:

- exact ("8000 元"): value .. value;
- a range ("1-5万"): low .. high, so the sum stays a range;
- open upwards (多, 余, 逾, 以上, 至少: "500多万元"): low .. unbounded, so the sum
  is "至少 …";
- capped (不足, 至多): 0 .. value;
- approximate (约, 近): value .. value, and the sum says "约".

Editors' reviews (``review_status`` in the figures table) count: ``wrong``
figures drop out of every total, chart, list and the timeline; ``fix`` figures
use ``corrected_value`` (an open-ended figure stays open from the corrected
number); a total is "verified" only when every figure in it is ``ok`` or
``fix``.
"""
from __future__ import annotations

import math
import tomllib
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline import charts
from pipeline.config import Config, load_config
from pipeline.model import stable_hash
from pipeline.tables import COLUMNS

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
LABELS_FILE = TEMPLATES_DIR / "labels.toml"

#: Kinds that are shown as key figures, in this order.
KEY_KINDS = ("money", "count", "quantity", "percent", "duration", "ordinal", "number")
#: Kinds whose figures may be summed (within one currency / object and unit).
SUMMABLE_KINDS = ("money", "count", "quantity")
OPEN_QUALIFIERS = ("more", "at_least")
CAPPED_QUALIFIERS = ("less", "at_most")
NO_OBJECT = "（未注明对象）"


@lru_cache(maxsize=1)
def labels() -> dict:
    """The display words for the pipeline's codes (``templates/labels.toml``)."""
    with open(LABELS_FILE, "rb") as fh:
        return tomllib.load(fh)


def _label(section: str, code) -> str:
    if code is None:
        return ""
    return labels().get(section, {}).get(code, str(code))


def _none(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    if any(dtype == object for dtype in df.dtypes) or not df.columns.is_unique:
        # object columns may hold NumPy scalars that only to_dict unboxes
        return [{k: _none(v) for k, v in row.items()} for row in df.to_dict("records")]
    # Column by column: to_dict boxes each cell of an extension column (string,
    # Int64) one at a time, tolist gives the same Python values much faster.
    columns = list(df.columns)
    return [{k: _none(v) for k, v in zip(columns, row)}
            for row in zip(*(df[c].tolist() for c in columns))]


def format_number(v: Optional[float]) -> str:
    """A number as a Chinese reader writes it: 17348000 -> 1734.8万, 3469 -> 3469.

    Up to two decimals, trailing zeros dropped; 万 from 10,000 and 亿 from 10^8.
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    a = abs(v)
    if a >= 1e8:
        s, unit = v / 1e8, "亿"
    elif a >= 1e4:
        s, unit = v / 1e4, "万"
    else:
        s, unit = v, ""
    s = round(s, 2)
    text = f"{s:.2f}".rstrip("0").rstrip(".") if s != int(s) else f"{int(s)}"
    return text + unit


def unit_text(kind: str, unit: Optional[str]) -> str:
    """The unit as written after a number: CNY -> 元, % -> %, 家 -> 家."""
    if not unit:
        return ""
    if kind == "money":
        return _label("currencies", unit)
    if unit == "pp":
        return "个百分点"
    return unit


def figure_value_text(f: dict) -> str:
    """The normalised value of one figure row, honest about ranges and qualifiers."""
    if f["kind"] in ("date", "time"):
        return f.get("date") or ""
    unit = unit_text(f["kind"], f.get("unit"))
    value, low, high = f.get("value"), f.get("low"), f.get("high")
    if value is None and low is not None and high is not None:
        return f"{format_number(low)}–{format_number(high)}{unit}"
    number = value if value is not None else (low if low is not None else high)
    if number is None:
        return ""
    return _label("qualifiers", f.get("qualifier")) + format_number(number) + unit


def total_text(low: float, high: Optional[float], *, approx: bool, unit: str) -> str:
    """A sum of bounds in words: "至少 502.3万元", "1.3万–5.3万元", "约 300人"."""
    if high is None:
        return f"至少{'约' if approx else ''} {format_number(low)}{unit}"
    if high > low:
        return f"{format_number(low)}–{format_number(high)}{unit}"
    return f"{'约 ' if approx else ''}{format_number(low)}{unit}"


# --------------------------------------------------------------------------
# Figures: reviews applied, bounds for summing
# --------------------------------------------------------------------------

def effective_figures(figures: pd.DataFrame, *, copy: bool = True) -> pd.DataFrame:
    """The figures table with reviews applied and the bounds each figure adds to a sum.

    Adds ``included`` (not judged wrong), ``verified`` (ok or fix), ``lo``,
    ``hi`` (NaN when open upwards) and ``approx``.  Rows whose bounds cannot be
    known (no number at all) get NaN ``lo`` and are left out of sums.  With
    ``copy=False`` the columns are added to ``figures`` itself (a frame read
    for this alone: a copy of a large one is memory for nothing).
    """
    df = figures.copy() if copy else figures
    status = df["review_status"].astype("string").fillna("") if "review_status" in df else \
        pd.Series("", index=df.index, dtype="string")
    q = df["qualifier"].astype("string").fillna("")
    v = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    low = pd.to_numeric(df["low"], errors="coerce").astype("float64")
    high = pd.to_numeric(df["high"], errors="coerce").astype("float64")
    open_up = q.isin(OPEN_QUALIFIERS).to_numpy()
    capped = q.isin(CAPPED_QUALIFIERS).to_numpy()
    lo = np.where(v.isna(), low, v)
    hi = np.where(v.isna(), high, v)
    lo = np.where(open_up, low.fillna(v), lo)
    hi = np.where(open_up, np.nan, hi)
    lo = np.where(capped, 0.0, lo)
    hi = np.where(capped, high.fillna(v), hi)
    if "corrected_value" in df:
        corrected = pd.to_numeric(df["corrected_value"], errors="coerce").astype("float64")
        fixed = ((status == "fix") & corrected.notna()).to_numpy()
        c = corrected.to_numpy()
        lo = np.where(fixed, np.where(capped, 0.0, c), lo)
        hi = np.where(fixed, np.where(open_up, np.nan, c), hi)
    df["lo"], df["hi"] = lo, hi
    df["approx"] = (q == "about").to_numpy()
    df["included"] = (status != "wrong").to_numpy()
    df["verified"] = status.isin(["ok", "fix"]).to_numpy()
    df["status"] = status.to_numpy()
    return df


def _sum(rows: pd.DataFrame, *, key: str, kind: str, unit: str, label: str,
         max_sources: int, linked: set) -> dict:
    """One honest total over ``rows`` (included figures of one kind and unit)."""
    rows = rows[rows["lo"].notna()]
    open_ended = bool(rows["hi"].isna().any())
    low = float(rows["lo"].sum())
    high = None if open_ended else float(rows["hi"].sum())
    order = rows.sort_values(["lo", "figure_id"], ascending=[False, True])
    ids = order["figure_id"].tolist()
    shown = ids[:max_sources]
    linked.update(shown)
    top = order.iloc[0]
    linked.add(top["figure_id"])
    n_verified = int(rows["verified"].sum())
    return {"key": key, "kind": kind, "label": label, "unit": unit_text(kind, unit),
            "n": len(rows), "n_verified": n_verified, "verified": n_verified == len(rows),
            "low": low, "high": high, "approx": bool(rows["approx"].any()),
            "text": total_text(low, high, approx=bool(rows["approx"].any()),
                               unit=unit_text(kind, unit)),
            "largest": {"figure_id": top["figure_id"], "text": top["text"],
                        "value_text": format_number(top["lo"]) + unit_text(kind, unit)},
            "source_ids": shown, "more_sources": len(ids) - len(shown)}


def money_totals(fig: pd.DataFrame, *, max_sources: int, linked: set) -> list[dict]:
    """Money summed per currency (never across currencies), largest first."""
    money = fig[(fig["kind"] == "money") & fig["included"] & fig["unit"].notna() & fig["lo"].notna()]
    out = [_sum(rows, key=f"total-money-{cur}", kind="money", unit=cur,
                label=_label("currency_names", cur), max_sources=max_sources, linked=linked)
           for cur, rows in money.groupby("unit", sort=True)]
    # CNY first (the corpus is Chinese news), then by number of figures.
    return sorted(out, key=lambda t: (t["key"] != "total-money-CNY", -t["n"], t["key"]))


def group_totals(fig: pd.DataFrame, kind: str, *, top: int, max_sources: int,
                 linked: set) -> tuple[list[dict], int]:
    """Counts or quantities summed per (object, unit); the top groups and how many exist."""
    rows = fig[(fig["kind"] == kind) & fig["included"] & fig["lo"].notna()].copy()
    if rows.empty:
        return [], 0
    rows["obj"] = rows["object"].astype("string").fillna(NO_OBJECT)
    rows["u"] = rows["unit"].astype("string").fillna("")
    sizes = rows.groupby(["obj", "u"], sort=False).size().rename("n").reset_index()
    sizes["lo_sum"] = rows.groupby(["obj", "u"], sort=False)["lo"].sum().to_numpy()
    sizes["named"] = sizes["obj"] != NO_OBJECT
    sizes = sizes.sort_values(["named", "n", "lo_sum", "obj", "u"],
                              ascending=[False, False, False, True, True]).head(top)
    # the rows of each group by position, found once (not two string
    # comparisons over all rows per group shown)
    positions = rows.groupby(["obj", "u"], sort=False).indices
    out = []
    for obj, u in zip(sizes["obj"].tolist(), sizes["u"].tolist()):
        g = rows.iloc[positions[(obj, u)]]
        t = _sum(g, key=f"total-{kind}-{stable_hash(obj, u, length=10)}", kind=kind, unit=u,
                 label=obj, max_sources=max_sources, linked=linked)
        t["object"] = obj
        out.append(t)
    return out, int(rows.groupby(["obj", "u"]).ngroups)


# --------------------------------------------------------------------------
# The context
# --------------------------------------------------------------------------

def _settings(config: Config) -> dict:
    """The ``[report]`` settings: the shipped ``config.toml`` (the one place the
    defaults are written), overridden by what ``config`` sets (a Config built by
    hand may set only a few keys)."""
    settings = {**load_config()["report"], **config["report"]}
    # how many themes the table and charts show is a [themes] setting
    settings["top_themes"] = int(config["themes"].get("top_n", load_config()["themes"]["top_n"]))
    return settings


def _marked(text: str, f: dict) -> dict:
    """The figure's sentence split around the figure, for highlighting."""
    s, e = f.get("sentence_start"), f.get("sentence_end")
    if s is None or e is None or not text:
        sentence = f.get("sentence") or ""
        i = sentence.find(f["text"])
        if i < 0:
            return {"before": sentence, "figure": "", "after": ""}
        return {"before": sentence[:i], "figure": f["text"], "after": sentence[i + len(f["text"]):]}
    return {"before": text[int(s):int(f["start"])].lstrip(),
            "figure": text[int(f["start"]):int(f["end"])],
            "after": text[int(f["end"]):int(e)].rstrip()}


#: characters of context either side of a figure in the key-figures table
CONTEXT_CHARS = 36


def _excerpt(marked: dict, *, width: int = CONTEXT_CHARS) -> dict:
    """The marked sentence cut to ``width`` characters either side of the figure."""
    before, after = marked["before"], marked["after"]
    return {"before": ("…" + before[-width:]) if len(before) > width else before,
            "figure": marked["figure"],
            "after": (after[:width] + "…") if len(after) > width else after}


def _figure_dicts(rows: pd.DataFrame, *, text_by_article: dict, title_by_article: dict) -> list[dict]:
    """Figure rows as dicts with everything the templates show."""
    out = []
    for f in _records(rows):
        f["kind_label"] = _label("kinds", f["kind"])
        f["value_text"] = figure_value_text(f)
        f["marked"] = _marked(text_by_article.get(f["article_id"], ""), f)
        f["excerpt"] = _excerpt(f["marked"])
        f["article_title"] = title_by_article.get(f["article_id"], "")
        f["status_label"] = _label("review_statuses", f["status"]) if f.get("status") else ""
        f["corrected_text"] = ""
        if f.get("status") == "fix" and f.get("corrected_value") is not None:
            f["corrected_text"] = format_number(f["corrected_value"]) + unit_text(f["kind"], f.get("unit"))
        out.append(f)
    return out


def _key_figure_ids(fig: pd.DataFrame, *, limit: int) -> list[str]:
    """The ids of the largest figures of each key kind, ``limit`` in all, in the order shown.

    Each kind gets an equal share; a kind with fewer figures leaves its share
    to the others, so the table fills up to ``limit``.  Within a kind the
    largest come first (a figure without bounds counts as -1), then by
    article and position; amounts in different currencies are not
    comparable, so CNY comes first, then each other currency.  Sorted as
    index arrays (``numpy.lexsort``, stable like the sorts of the frame),
    not as copies of the frame: on a large run the key kinds are most of
    the figures.
    """
    kind = fig["kind"]
    eligible = fig["included"].to_numpy(dtype=bool) & kind.isin(KEY_KINDS).to_numpy(dtype=bool)
    rows_of = {k: np.flatnonzero(eligible & (kind == k).to_numpy(dtype=bool, na_value=False))
               for k in KEY_KINDS}
    kinds = [k for k in KEY_KINDS if len(rows_of[k])]
    quota = {k: 0 for k in kinds}
    left = limit
    while left > 0 and any(quota[k] < len(rows_of[k]) for k in kinds):
        for k in kinds:
            if left and quota[k] < len(rows_of[k]):
                quota[k] += 1
                left -= 1
    lo = fig["lo"].to_numpy(dtype="float64")
    article_order = fig["article_order"].to_numpy()
    # a missing start sorts last, as in sort_values
    start = fig["start"].to_numpy(dtype="float64", na_value=np.inf)
    ids = []
    for k in kinds:
        rows = rows_of[k]
        if k == "money":
            unit = fig["unit"].iloc[rows].astype("string").fillna("")
            currency = np.where((unit == "CNY").to_numpy(dtype=bool), "0",
                                ("1" + unit).to_numpy(dtype=object))
            currency = np.unique(currency.astype(str), return_inverse=True)[1]
        else:
            currency = np.zeros(len(rows), dtype=np.int64)
        magnitude = np.where(np.isnan(lo[rows]), -1.0, lo[rows])
        # last key first: currency, then magnitude descending, article, start
        order = np.lexsort((start[rows], article_order[rows], -magnitude, currency))
        ids.extend(fig["figure_id"].iloc[rows[order[:quota[k]]]].tolist())
    return ids


def _period(articles: pd.DataFrame) -> Optional[dict]:
    """The period the articles cover: their own dates, else the inferred base dates."""
    for column, inferred in (("date", False), ("base_date", True)):
        dates = articles[column].astype("string")
        known = sorted(d for d in dates.dropna().tolist() if d)
        if known:
            return {"start": known[0], "end": known[-1], "inferred": inferred,
                    "undated": int(len(articles) - len(known)),
                    "text": known[0] if known[0] == known[-1] else f"{known[0]} 至 {known[-1]}"}
    return None


def _period_line(period: Optional[dict]) -> str:
    """The period as the briefing's subtitle says it (one sentence, no markup)."""
    if period is None:
        return "报道未注明日期"
    if not period["inferred"]:
        line = f"报道时间：{period['text']}"
        if period["undated"]:
            line += f"（另有 {period['undated']} 篇未注明日期）"
        return line
    line = f"报道未注明日期；据正文推断的基准日期为 {period['text']}"
    if period["undated"]:
        line += f"（{period['undated']} 篇无从推断）"
    return line


def _timeline(fig: pd.DataFrame, *, top: int, linked: set, title_by_article: dict) -> dict:
    """Dated events: distinct dates with their mentions, and the chart's buckets."""
    dated = fig[fig["included"] & fig["kind"].isin(["date", "time"]) & fig["date"].notna()]
    dated = dated[dated["date"].astype("string").str.match(r"^\d{4}")]
    if dated.empty:
        return {"rows": [], "n_dates": 0, "n_events": 0, "buckets": [], "bucket": "年",
                "first": None, "last": None}
    dates = dated["date"].astype("string")
    counts = dates.value_counts()
    n_by_date = dict(zip(counts.index.tolist(), counts.tolist()))
    keep = set(sorted(n_by_date, key=lambda d: (-n_by_date[d], d))[:top])
    positions = dated.groupby(dates, sort=False).indices  # each date's rows, found once
    rows = []
    for d in sorted(keep):
        g = dated.iloc[positions[d]].sort_values(["article_order", "start"])
        examples = []
        for f in _records(g.head(3)):
            linked.add(f["figure_id"])
            examples.append({"figure_id": f["figure_id"], "text": f["text"],
                             "article_title": title_by_article.get(f["article_id"], "")})
        rows.append({"date": d, "n": int(n_by_date[d]), "examples": examples,
                     "more": int(n_by_date[d]) - len(examples)})
    ordered = dated.assign(_d=dates).sort_values(["_d", "article_order", "start"])
    ends = []
    for f in (ordered.iloc[0], ordered.iloc[-1]):
        linked.add(f["figure_id"])
        ends.append({"date": str(f["_d"]), "figure_id": f["figure_id"]})
    years = dates.str.slice(0, 4)
    if years.nunique() == 1 and dates.str.len().gt(4).any():
        bucket, keys = "月", dates.where(dates.str.len() < 7, dates.str.slice(0, 7))
    else:
        bucket, keys = "年", years
    per = keys.value_counts().sort_index()
    return {"rows": rows, "n_dates": int(len(counts)), "n_events": int(len(dated)),
            "first": ends[0], "last": ends[1],
            "buckets": [(str(k), int(n)) for k, n in per.items()], "bucket": bucket}


def _review_counts(fig: pd.DataFrame, reviews: dict) -> dict:
    """``n_figures``, ``n_verified`` (ok + fix), ``n_wrong``, ``n_fixed``.

    Taken from the summary ``pipeline.review.apply_reviews`` returned; counted
    from the figures' review status only when there is no summary (a context
    built from tables alone).
    """
    keys = ("n_figures", "n_verified", "n_wrong", "n_fixed")
    if all(k in reviews for k in keys):
        return {k: int(reviews[k]) for k in keys}
    status = fig["status"]
    return {"n_figures": len(fig), "n_verified": int(status.isin(["ok", "fix"]).sum()),
            "n_wrong": int((status == "wrong").sum()), "n_fixed": int((status == "fix").sum())}


def _reviews(fig: pd.DataFrame, reviews: Optional[dict]) -> dict:
    reviews = reviews or {}
    counts = _review_counts(fig, reviews)
    return {**counts, "n_ok": counts["n_verified"] - counts["n_fixed"],
            # Every key the templates read, whatever the review module put in.
            "stale": [{"figure_id": s.get("figure_id", ""), "file": s.get("file", ""),
                       "row": s.get("row"), "status": s.get("status"),
                       "status_label": _label("review_statuses", s.get("status")) or "—",
                       "note": s.get("note") or ""}
                      for s in reviews.get("stale", []) or []],
            "errors": [str(e) for e in reviews.get("errors", []) or []]}


def _quality(documents: pd.DataFrame, articles: pd.DataFrame, *, top: int,
             title_by_article: dict) -> dict:
    docs = documents.copy()
    status_counts = docs["status"].astype("string").fillna("ok").value_counts()
    problems = docs[docs["status"].astype("string").fillna("ok") != "ok"]
    problem_rows = [dict(d, status_label=_label("doc_statuses", d["status"]))
                    for d in _records(problems.head(top))]
    enc = docs["encoding"].astype("string").dropna().value_counts()
    garbled = articles[articles["garbled_runs"].fillna(0) > 0]
    garbled = garbled.sort_values(["garbled_runs", "article_order"], ascending=[False, True])
    garbled_rows = [{"article_id": a["article_id"], "title": title_by_article[a["article_id"]],
                     "runs": a["garbled_runs"], "spans": a["garbled_spans"] or "",
                     "characters": a["characters"]} for a in _records(garbled.head(top))]
    # Base dates per document: one row per (document, base date, source).
    path_by_doc = dict(zip(docs["doc_id"], docs["path"]))
    a = articles.assign(_bd=articles["base_date"].astype("string").fillna("—"),
                        _src=articles["base_date_source"].astype("string").fillna(""))
    groups = a.groupby(["doc_id", "_bd", "_src"], sort=False).agg(
        n=("article_id", "size"), order=("article_order", "min")).reset_index().sort_values("order")
    base_rows = [{"path": path_by_doc.get(r["doc_id"], r["doc_id"]), "base_date": r["_bd"],
                  "source": _label("base_date_sources", r["_src"]) if r["_src"] else "无",
                  "articles": int(r["n"])} for r in groups.head(top).to_dict("records")]
    by_source = a["_src"].replace("", "无").value_counts()
    return {
        "documents": len(docs),
        "status_counts": [{"status": s, "label": _label("doc_statuses", s), "n": int(n)}
                          for s, n in status_counts.items()],
        "problems": problem_rows, "n_problems": len(problems),
        "encodings": [{"encoding": e, "n": int(n)} for e, n in enc.items()],
        "garbled": garbled_rows, "n_garbled_articles": len(garbled),
        "n_garbled_runs": int(articles["garbled_runs"].fillna(0).sum()),
        "base_dates": base_rows, "n_base_date_rows": len(groups),
        "base_date_sources": [{"source": _label("base_date_sources", s) if s != "无" else "无",
                               "n": int(n)} for s, n in by_source.items()],
    }


def _themes(tables: dict, *, title_by_article: dict, top: int) -> dict:
    themes = tables.get("themes")
    art = tables.get("article_themes")
    by_month = tables.get("themes_by_month")
    rows = []
    if themes is not None and len(themes):
        t = themes.sort_values(["articles", "theme"], ascending=[False, True])
        evidence = {}
        if art is not None and len(art):
            for theme, g in art.groupby("theme"):
                terms = Counter(x for ev in g["evidence"].dropna().tolist()
                                for x in str(ev).split("|") if x)
                evidence[theme] = [w for w, _ in sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
        for r in _records(t):
            r["share_pct"] = 100.0 * (r["share"] or 0.0)
            r["evidence"] = evidence.get(r["theme"], [])
            rows.append(r)
        rows = rows[:top]
    per_article = {}
    if art is not None and len(art):
        a = art.sort_values(["article_id", "score", "theme"], ascending=[True, False, True])
        for aid, theme in zip(*(a.groupby("article_id", sort=False).head(3)[c].tolist()
                                for c in ("article_id", "theme"))):
            per_article.setdefault(aid, []).append(theme)
    months = []
    series = {}
    if by_month is not None and len(by_month) and by_month["month"].nunique() > 1:
        months = sorted(by_month["month"].dropna().unique().tolist())
        top = [r["theme"] for r in rows[:5]]
        pivot = by_month.pivot_table(index="month", columns="theme", values="articles",
                                     aggfunc="sum", fill_value=0)
        series = {th: [int(pivot.at[m, th]) if th in pivot.columns else 0 for m in months]
                  for th in top}
    return {"rows": rows, "per_article": per_article, "months": months, "series": series}


def _table(tables: Mapping, name: str, *, without: Sequence[str] = ()) -> pd.DataFrame:
    """Table ``name``; from a catalog that can read columns (TableSet), without ``without``."""
    read = getattr(tables, "read", None)
    if read is None or not without:
        return tables[name]
    return read(name, columns=[c for c in COLUMNS[name] if c not in without])


def _article_texts(tables: Mapping, article_ids: set) -> dict:
    """``{article_id: text}`` for ``article_ids`` (all texts when the tables are in memory)."""
    if hasattr(tables, "article_texts"):
        return tables.article_texts(article_ids)
    articles = tables["articles"]
    return dict(zip(articles["article_id"], articles["text"]))


#: the columns of the figures that only the appendix (figures shown in full) reads
_APPENDIX_ONLY_COLUMNS = ("doc_id", "end", "sentence_start", "sentence_end", "review_note")


def _in_order(figures: pd.DataFrame, order_by_article: dict) -> pd.DataFrame:
    """``figures`` with ``article_order``, the position of its article (-1 if unknown)."""
    figures["article_order"] = (figures["article_id"].map(order_by_article)
                                .fillna(-1).astype("int64"))
    return figures


#: the columns of the figures (with ``effective_figures``' own) that the
#: totals, key figures, timeline, charts and counts read
_CORE_FIGURE_COLUMNS = ("figure_id", "article_id", "start", "text", "kind", "unit", "object",
                        "date", "lo", "hi", "approx", "included", "verified", "status",
                        "article_order")


def build_context(tables: Mapping, *, notes: Iterable[str] = (), config: Optional[Config] = None,
                  reviews: Optional[dict] = None) -> dict:
    """Everything the templates show, computed once from the tables.

    Parameters
    ----------
    tables : dict of str to DataFrame
        The run's tables (columns as in ``pipeline.tables.COLUMNS``).
    notes : iterable of str
        Notes of the run (e.g. a skipped topic model), shown as they are.
    config : Config, optional
        ``[report]`` settings (top-N sizes, title); the defaults when None.
    reviews : dict, optional
        ``RunResult.reviews`` (the summary ``pipeline.review.apply_reviews``
        returns): the review counts shown, stale reviews and bad review files
        to list.  When None, the counts come from the figures' review status.

    Returns
    -------
    dict
        The template context.  Every number is final; templates only format.
    """
    s = _settings(config or load_config())
    # Articles' texts and figures' sentences are most of a large run's tables:
    # read without them, and the texts of only the articles shown (below).
    articles = _table(tables, "articles", without=("text",)).reset_index(drop=True)
    articles = articles.assign(article_order=np.arange(len(articles)))
    article_ids = articles["article_id"].tolist()
    order_by_article = dict(zip(article_ids, articles["article_order"].tolist()))
    title_by_article = {aid: (t if isinstance(t, str) and t else "（无标题）")
                        for aid, t in zip(article_ids, articles["title"].tolist())}
    # From a catalog that can read rows by id (TableSet), the columns only the
    # appendix shows are read later, for its figures alone: on a large run the
    # frame of every figure is most of the briefing's memory.  A frame the
    # TableSet read for this takes the new columns itself; any other is copied.
    fetch = hasattr(tables, "rows_where")
    full_fig = _in_order(effective_figures(
        _table(tables, "figures", without=("sentence", *(_APPENDIX_ONLY_COLUMNS if fetch else ()))),
        copy=not fetch), order_by_article)
    # Totals, key figures, timeline and charts read a few columns: each of
    # their many row selections copies every column, so they get only those.
    # The figures shown in full (the appendix) come from ``full_fig``, or are
    # read again by id.
    fig = full_fig[[c for c in _CORE_FIGURE_COLUMNS if c in full_fig.columns]]
    if fetch:
        del full_fig  # the appendix reads its own rows (below)
    linked: set = set()
    report_notes: list[str] = []
    n_articles = len(articles)
    included = fig[fig["included"]]

    # Key figures: honest totals by kind, then the largest single figures.
    max_sources = int(s["sources_per_total"])
    money = money_totals(fig, max_sources=max_sources, linked=linked)
    counts, n_count_groups = group_totals(fig, "count", top=int(s["top_groups"]),
                                          max_sources=max_sources, linked=linked)
    quantities, n_quantity_groups = group_totals(fig, "quantity", top=int(s["top_groups"]),
                                                 max_sources=max_sources, linked=linked)
    key_ids = _key_figure_ids(fig, limit=int(s["top_figures"]))
    linked.update(key_ids)
    kind_counts = included["kind"].value_counts()
    by_kind = [{"kind": k, "label": _label("kinds", k), "n": int(kind_counts[k])}
               for k in labels()["kinds"] if k in kind_counts]

    # Articles: all of them, or the top ones by number of figures at scale.
    n_figs = included.groupby("article_id").size()
    n_all_figs = fig.groupby("article_id").size()
    top_articles = int(s["top_articles"])
    if n_articles > top_articles:
        rank = articles.assign(_n=articles["article_id"].map(n_figs).fillna(0),
                               _c=articles["characters"].fillna(0))
        chosen = rank.sort_values(["_n", "_c", "article_order"],
                                  ascending=[False, False, True]).head(top_articles)
        digest_articles = articles.loc[chosen.index].sort_values("article_order")
        report_notes.append(f"报道共 {n_articles} 篇，逐篇摘要只列数字最多的 {top_articles} 篇；"
                            f"全部报道见 tables/articles.csv。")
    else:
        digest_articles = articles
    per_digest = int(s["figures_per_digest"])
    digest_ids = set(digest_articles["article_id"])
    kind_rank = {k: i for i, k in enumerate(KEY_KINDS)}
    dfig = included[included["article_id"].isin(digest_ids) & included["kind"].isin(KEY_KINDS)]
    dfig = dfig.assign(_k=dfig["kind"].map(kind_rank)).sort_values(["article_id", "_k", "start"])
    digest_fig_rows = dfig.groupby("article_id", sort=False).head(per_digest)
    linked.update(digest_fig_rows["figure_id"])

    # Timeline and themes.
    timeline = _timeline(fig, top=int(s["top_dates"]), linked=linked,
                         title_by_article=title_by_article)
    themes = _themes(tables, title_by_article=title_by_article, top=int(s["top_themes"]))

    # The appendix: every figure, or beyond the limit only those linked from above.
    max_inline = int(s["max_inline_figures"])
    appendix_complete = len(fig) <= max_inline
    if fetch:
        # the same rows and columns as the branch below, read in a row group of memory
        appendix = _in_order(effective_figures(
            _table(tables, "figures", without=("sentence",)) if appendix_complete
            else tables.rows_where("figures", "figure_id", linked,
                                   columns=[c for c in COLUMNS["figures"] if c != "sentence"]),
            copy=False), order_by_article)
    else:
        appendix = full_fig if appendix_complete else full_fig[full_fig["figure_id"].isin(linked)]
    appendix = appendix.sort_values(["article_order", "start", "end"])
    text_by_article = _article_texts(tables, set(appendix["article_id"])
                                     | set(digest_articles["article_id"]))
    figure_dicts = _figure_dicts(appendix, text_by_article=text_by_article,
                                 title_by_article=title_by_article)
    by_id = {f["figure_id"]: f for f in figure_dicts}
    key_figures = [by_id[i] for i in key_ids]

    digests = []
    for a in _records(digest_articles):
        aid = a["article_id"]
        own = digest_fig_rows[digest_fig_rows["article_id"] == aid]["figure_id"]
        text = text_by_article.get(aid) or ""
        lead = text.split("\n", 1)[0].strip()
        digests.append(dict(a, title=title_by_article[aid], n_figures=int(n_all_figs.get(aid, 0)),
                            key_figures=[by_id[i] for i in own],
                            themes=themes["per_article"].get(aid, []),
                            lead=lead if len(lead) <= 120 else lead[:119] + "…"))

    # Organizations.
    orgs_df = tables["organizations"]
    orgs_df = orgs_df.sort_values(["n_mentions", "n_articles", "canonical"],
                                  ascending=[False, False, True])
    top_orgs = _records(orgs_df.head(int(s["top_organizations"])))
    for o in top_orgs:
        o["type_label"] = _label("org_types", o["type"])
        o["alias_list"] = [x for x in (o["aliases"] or "").split("|") if x and x != o["canonical"]]
    type_counts = orgs_df["type"].astype("string").fillna("other").value_counts()
    org_types = [{"type": t, "label": _label("org_types", t), "n": int(n)}
                 for t, n in sorted(type_counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    reviews_ctx = _reviews(fig, reviews)
    quality = _quality(tables["documents"], articles, top=int(s["top_quality_rows"]),
                       title_by_article=title_by_article)
    keywords = _records(tables["keywords"].head(int(s["top_keywords"])))

    period = _period(articles)
    ctx = {
        "title": s["title"],
        "period": period,
        "period_line": _period_line(period),
        "overview": {"documents": len(tables["documents"]), "articles": n_articles,
                     "characters": int(articles["characters"].fillna(0).sum()),
                     "figures": int(len(included)), "figures_all": int(len(fig)),
                     "organizations": int(len(orgs_df)), "mentions": int(len(tables["mentions"]))
                     if "mentions" in tables else 0},
        "money_totals": money,
        "count_totals": counts, "n_count_groups": n_count_groups,
        "quantity_totals": quantities, "n_quantity_groups": n_quantity_groups,
        "by_kind": by_kind,
        "key_figures": key_figures,
        "articles": digests,
        "n_digest_omitted": n_articles - len(digests),
        "organizations": top_orgs,
        "org_types": org_types,
        "keywords": keywords,
        "themes": themes["rows"],
        "timeline": timeline,
        "figures": figure_dicts,
        "appendix_complete": appendix_complete,
        "n_appendix_omitted": int(len(fig) - len(figure_dicts)),
        "reviews": reviews_ctx,
        "quality": quality,
        "notes": list(notes) + report_notes,
    }
    ctx["summary"] = executive_summary(ctx, included=included, title_by_article=title_by_article)
    ctx["charts"] = _charts(ctx, fig=fig, themes=themes, settings=s,
                                                title_by_article=title_by_article)
    return ctx


# --------------------------------------------------------------------------
# Executive summary: sentences whose numbers link to where they came from
# --------------------------------------------------------------------------

def _t(text: str) -> dict:
    return {"text": text, "href": None, "name": False}


def _n(text: str, href: str) -> dict:
    return {"text": text, "href": href, "name": False}


def _name(text: str, href: Optional[str] = None) -> dict:
    """A name (title, organization, object): may hold digits that are not numbers."""
    return {"text": text, "href": href, "name": True}


def executive_summary(ctx: dict, *, included: pd.DataFrame, title_by_article: dict) -> list[list[dict]]:
    """The summary as paragraphs of parts; a part with ``href`` is a link.

    Every number is a link: numbers derived from figures link to the figure
    row (``#fig-…``) or to the total (``#total-…``) whose row links every
    figure it sums; counts of articles and organizations link to their
    sections and rows.  Names are marked as such (they may contain digits).
    """
    ov = ctx["overview"]
    paras = []
    p = [_t("本期共收录 "), _n(str(ov["articles"]), "#articles"), _t(" 篇报道")]
    if ov["documents"] != 1:
        p += [_t("（来自 "), _n(str(ov["documents"]), "#quality"), _t(" 个文件或记录）")]
    p += [_t("，共 "), _n(format_number(ov["characters"]), "#articles"), _t(" 字")]
    if ctx["period"] and not ctx["period"]["inferred"]:
        p += [_t("，报道时间为 "), _n(ctx["period"]["text"], "#articles")]
    p += [_t("。抽取数字 "), _n(str(ov["figures"]), "#appendix"), _t(" 个")]
    if ctx["by_kind"]:
        p.append(_t("，其中"))
        for i, k in enumerate(ctx["by_kind"][:4]):
            p += [_t(("、" if i else "") + k["label"] + " "), _n(str(k["n"]), "#chart-figures-by-kind"),
                  _t(" 个")]
    p.append(_t("。"))
    paras.append(p)

    money = ctx["money_totals"]
    if money:
        p = []
        first = money[0]
        p += [_t(f"报道提及的{first['label']}金额合计"), _n(first["text"], f"#{first['key']}"),
              _t("（"), _n(str(first["n"]), f"#{first['key']}"), _t(" 笔相加"),
              _t("" if first["high"] is not None and first["high"] == first["low"] else
                 "，含约数或区间" if first["high"] is not None else "，含“多”“余”等不封顶的数字"),
              _t("）")]
        if not first["verified"]:
            p.append(_t("，其中有未经编辑核实的数字"))
        big = first["largest"]
        p += [_t("；最大一笔为"), _n(big["text"].strip(), f"#fig-{big['figure_id']}")]
        big_row = included[included["figure_id"] == big["figure_id"]]
        if len(big_row):
            aid = big_row.iloc[0]["article_id"]
            shown = any(a["article_id"] == aid for a in ctx["articles"])
            p += [_t("（"), _name(f"《{title_by_article.get(aid, '')}》",
                                 f"#art-{aid}" if shown else None), _t("）")]
        p.append(_t("。"))
        if len(money) > 1:
            p.append(_t("另有"))
            for i, t in enumerate(money[1:4]):
                p += [_t(("、" if i else "") + t["label"] + " "), _n(t["text"], f"#{t['key']}")]
            p.append(_t("，各币种分别合计，不相加。"))
        paras.append(p)

    p = []
    if ov["organizations"]:
        p += [_t("涉及机构 "), _n(str(ov["organizations"]), "#organizations"), _t(" 家")]
        types = [t for t in ctx["org_types"] if t["type"] != "other"][:3]
        if types:
            p.append(_t("，其中"))
            for i, t in enumerate(types):
                p += [_t(("、" if i else "") + t["label"] + " "), _n(str(t["n"]), "#organizations"),
                      _t(" 家")]
        top = ctx["organizations"][0]
        p += [_t("；提及最多的是"), _name(top["canonical"], f"#org-{top['org_id']}"), _t("（"),
              _n(str(top["n_mentions"]), f"#org-{top['org_id']}"), _t(" 次，见于 "),
              _n(str(top["n_articles"]), f"#org-{top['org_id']}"), _t(" 篇）。")]
    counts = [c for c in ctx["count_totals"] if c["object"] != NO_OBJECT][:3]
    if counts:
        p.append(_t("数量方面，提及最多的对象是"))
        for i, c in enumerate(counts):
            p += [_t("、" if i else ""), _name(c["object"]), _t("（")]
            if c["n"] > 1:
                p += [_n(str(c["n"]), f"#{c['key']}"), _t(" 处，合计")]
            p += [_n(c["text"], f"#{c['key']}"), _t("）")]
        p.append(_t("；同一对象的数字才相加，不同对象不相加。"))
    if p:
        paras.append(p)

    p = []
    if ctx["themes"]:
        p.append(_t("主要主题为"))
        for i, t in enumerate(ctx["themes"][:3]):
            p += [_t("、" if i else ""), _name(t["theme"]), _t("（"),
                  _n(f"{t['articles']} 篇", "#themes"), _t("）")]
        p.append(_t("。"))
    tl = ctx["timeline"]
    if tl["first"]:
        first, last = tl["first"], tl["last"]
        p += [_t("报道提及的日期从"), _n(first["date"], f"#fig-{first['figure_id']}"),
              _t("到"), _n(last["date"], f"#fig-{last['figure_id']}"),
              _t("，共 "), _n(str(tl["n_dates"]), "#timeline"), _t(" 个不同日期。")]
    if p:
        paras.append(p)

    rv = ctx["reviews"]
    p = [_t("编辑已核实 "), _n(f"{rv['n_verified']} / {rv['n_figures']}", "#reviews"),
         _t(" 个数字")]
    if rv["n_wrong"] or rv["n_fixed"]:
        p += [_t("（判为错误 "), _n(str(rv["n_wrong"]), "#reviews"), _t(" 个，已从合计中剔除；更正 "),
              _n(str(rv["n_fixed"]), "#reviews"), _t(" 个）")]
    if rv["n_verified"] < rv["n_figures"]:
        p.append(_t("；标有“未核实”的合计含未经核实的数字"))
    p.append(_t("。"))
    if rv["stale"] or rv["errors"]:
        p += [_t("另有失效的核实记录 "), _n(str(len(rv["stale"])), "#reviews"), _t(" 条、未能采用的核实文件错误 "),
              _n(str(len(rv["errors"])), "#reviews"), _t(" 条。")]
    q = ctx["quality"]
    if q["n_problems"]:
        p += [_t("有 "), _n(str(q["n_problems"]), "#quality"), _t(" 个输入文件未能读取或被跳过。")]
    if q["n_garbled_articles"]:
        p += [_n(str(q["n_garbled_articles"]), "#quality"),
              _t(" 篇报道含乱码片段，乱码部分不参与抽取。")]
    paras.append(p)
    return paras


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------

def _charts(ctx: dict, *, fig: pd.DataFrame, themes: dict, settings: dict,
            title_by_article: dict) -> dict:
    """The charts by key: each with its SVG, or with a note saying why it is left out."""
    bars = int(settings["chart_bars"])
    made: dict = {}

    def add(key: str, title: str, draw, empty_note: Optional[str]) -> None:
        if empty_note is not None:
            made[key] = {"key": key, "title": title, "svg": None,
                         "note": f"图表“{title}”未绘制：{empty_note}"}
        else:
            made[key] = {"key": key, "title": title, "svg": draw(), "note": None}

    by_kind = ctx["by_kind"]
    add("figures-by-kind", "各类数字的条数", lambda: charts.bar_chart(
        [k["label"] for k in by_kind], [k["n"] for k in by_kind], key="chart-kinds",
        title="各类数字的条数", xlabel="条数", ylabel="类别"),
        None if by_kind else "本期没有抽取到数字。")

    inc = fig[fig["included"] & (fig["kind"] == "money") & (fig["unit"] == "CNY") & fig["lo"].notna()]
    per_article = []
    if len(inc):
        g = inc.assign(_open=inc["hi"].isna()).groupby("article_id")
        agg = pd.DataFrame({"lo": g["lo"].sum(), "open": g["_open"].any(), "hi": g["hi"].sum()})
        agg = agg.assign(order=agg.index.map(title_by_article))
        agg = agg.sort_values(["lo", "order"], ascending=[False, True]).head(bars)
        for aid, r in agg.iterrows():
            high = None if r["open"] else float(r["hi"])
            per_article.append({"title": title_by_article.get(aid, ""), "low": float(r["lo"]),
                                "high": high})
    omitted = inc["article_id"].nunique() - len(per_article) if len(inc) else 0
    add("money-by-article", "各篇报道提及的人民币金额", lambda: charts.range_bar_chart(
        [a["title"] for a in per_article], [a["low"] / 1e4 for a in per_article],
        [None if a["high"] is None else a["high"] / 1e4 for a in per_article],
        key="chart-money", title="各篇报道提及的人民币金额" + (f"（前 {bars} 篇）" if omitted else ""),
        xlabel="金额（万元；区间与“至少”如实标出）", ylabel="报道",
        value_labels=[total_text(a["low"], a["high"], approx=False, unit="元")
                      for a in per_article]),
        None if per_article else "本期没有人民币金额（或已全部判为错误）。")

    orgs = ctx["organizations"][:bars]
    types = []
    for o in orgs:
        if o["type"] not in types:
            types.append(o["type"])
    color = {t: charts.PALETTE[i % len(charts.PALETTE)] for i, t in enumerate(types)}
    add("orgs-by-mentions", "提及次数最多的机构", lambda: charts.bar_chart(
        [o["canonical"] for o in orgs], [o["n_mentions"] for o in orgs], key="chart-orgs",
        title="提及次数最多的机构", xlabel="提及次数", ylabel="机构",
        value_labels=[f"{o['n_mentions']} 次 / {o['n_articles']} 篇" for o in orgs],
        colors=[color[o["type"]] for o in orgs],
        legend=[(_label("org_types", t), color[t]) for t in types]),
        None if orgs else "本期没有识别到机构。")

    th = themes["rows"][:bars]
    add("theme-shares", "各主题覆盖的报道比例", lambda: charts.bar_chart(
        [t["theme"] for t in th], [t["share_pct"] for t in th], key="chart-themes",
        title="各主题覆盖的报道比例", xlabel="报道占比（%）", ylabel="主题",
        value_labels=[f"{t['share_pct']:.0f}%（{t['articles']} 篇）" for t in th]),
        None if th else "本期报道未归入任何主题。")
    if themes["months"]:
        add("themes-by-month", "主要主题逐月报道数", lambda: charts.line_chart(
            themes["months"], themes["series"], key="chart-theme-months",
            title="主要主题逐月报道数", xlabel="月份", ylabel="报道数"), None)

    tl = ctx["timeline"]
    add("timeline", "报道提及的日期", lambda: charts.column_chart(
        [b for b, _ in tl["buckets"]], [n for _, n in tl["buckets"]], key="chart-timeline",
        title=f"报道提及的日期（按{tl['bucket']}）", xlabel=tl["bucket"] == "年" and "年份" or "月份",
        ylabel="提及次数"),
        None if tl["buckets"] else "报道中没有可确定的日期。")
    return made


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

def _md_cell(v) -> str:
    # Markdown table cells: a pipe or a line break inside a sentence would break the row.
    return "" if v is None else str(v).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _md_inert(value):
    # Markdown renderers pass raw HTML through: every value printed into the
    # Markdown briefing has its angle brackets as entities, so article text can
    # show "<script>" but never be one.  Idempotent, so nested output is safe.
    if isinstance(value, str):
        return value.replace("<", "&lt;").replace(">", "&gt;")
    return value


def environment(*, autoescape: bool) -> Environment:
    """The Jinja2 environment; HTML templates are autoescaped, Markdown made inert."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2"]) if autoescape else False,
                      finalize=None if autoescape else _md_inert,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = format_number
    env.filters["cell"] = _md_cell
    return env


#: the family name the embedded subset of Noto Sans SC goes by in the page
EMBEDDED_FONT_FAMILY = "Briefing Noto Sans SC"


@lru_cache(maxsize=4)
def _font_subset_base64(chars: str) -> str:
    """The embedded font for ``chars`` (WOFF), base64-encoded (see ``pipeline.fonts``)."""
    import base64

    from pipeline import fonts

    return base64.b64encode(fonts.embedded_font().subset(chars)).decode("ascii")


def font_face_css(text: str) -> str:
    """An ``@font-face`` rule embedding Noto Sans SC cut down to the characters of ``text``.

    The page then shows its Chinese with the same font on any machine, also one
    without CJK fonts (a server, a fresh container printing the PDF), and stays
    one self-contained file: the subset of a page's few hundred characters
    is ~100 KB instead of the font's 8 MB.
    """
    # set() first: a page is a megabyte, its distinct characters a few thousand
    chars = "".join(sorted(c for c in set(text) if c.isprintable() and not c.isspace()))
    return ("@font-face { font-family: \"%s\"; font-style: normal; font-weight: 400 700; "
            "font-display: block; src: url(data:font/woff;base64,%s) format(\"woff\"); }"
            % (EMBEDDED_FONT_FAMILY, _font_subset_base64(chars)))


#: where the ``@font-face`` rule goes until the page's characters are known: it
#: cannot come from the context (text there has ``<`` escaped)
_FONT_FACE_SLOT = "<font-face-slot>"


def render(ctx: dict, *, embed_font: bool = True) -> tuple[str, str]:
    """The briefing as (HTML, Markdown) text.

    With ``embed_font`` the HTML is rendered once with a slot for the
    ``@font-face`` rule, which is then filled with the font subset for the
    characters of the rest of the page.
    """
    template = environment(autoescape=True).get_template("briefing.html.j2")
    html = template.render(**ctx, font_face=_FONT_FACE_SLOT if embed_font else "",
                           embedded_font=EMBEDDED_FONT_FAMILY)
    if embed_font:
        head, tail = html.split(_FONT_FACE_SLOT)  # exactly once: a template line
        html = head + font_face_css(head + tail) + tail
    md = environment(autoescape=False).get_template("briefing.md.j2").render(**ctx)
    return html, md


def prepare_briefing() -> None:
    """Load what rendering a briefing needs besides its tables, in this process.

    matplotlib (imported with this module), the charts' CJK font and the
    embedded font's subsetter and glyph store.  A run with a second core
    calls it while the corpus steps, which the briefing waits for, are still
    running; the briefing itself then starts with all of it done.
    """
    from pipeline import charts, fonts

    charts.cjk_font_family()
    fonts.embedded_font().load()


def render_briefing(result, out_dir: Path, *, config: Optional[Config] = None) -> dict:
    """Write ``briefing.html`` and ``briefing.md`` into ``out_dir``; return the context.

    ``result`` is a ``RunResult`` (its ``tables``, ``notes`` and ``reviews``).
    """
    config = config or load_config()
    ctx = build_context(result.tables, notes=result.notes, config=config,
                        reviews=getattr(result, "reviews", None))
    html, md = render(ctx)
    out_dir = Path(out_dir)
    (out_dir / "briefing.html").write_text(html, encoding="utf-8")
    (out_dir / "briefing.md").write_text(md, encoding="utf-8")
    return ctx
