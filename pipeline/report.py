"""The report stage: tables in, ``briefing.html`` and ``briefing.md`` out.

All numbers are computed here, into one context dict; the Jinja2 templates in
``templates/`` only format it.  The HTML is one self-contained file: CSS
inline, charts inline as SVG.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline import charts
from pipeline.config import Config, load_config

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

KIND_LABELS = {"money": "金额", "count": "数量", "quantity": "计量", "percent": "比例",
               "date": "日期", "time": "时刻", "duration": "时长", "ordinal": "序数",
               "number": "数值"}
ORG_TYPE_LABELS = {"government": "政府机关", "party": "党组织", "social_organization": "社会组织",
                   "enterprise": "企业", "school": "学校", "hospital": "医院",
                   "judicial": "政法机关", "media": "媒体", "international": "国际组织",
                   "other": "其他"}
#: order in which kinds are shown as key figures
KEY_KINDS = ("money", "count", "percent", "quantity", "duration", "ordinal", "number")


def _none(v):
    return None if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA else v


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: _none(v) for k, v in row.items()} for row in df.to_dict("records")]


def format_number(v: Optional[float]) -> str:
    """A number as a Chinese reader writes it: 17348000 -> 1734.8万, 3469 -> 3469."""
    if v is None:
        return ""
    a = abs(v)
    if a >= 1e8:
        s, unit = v / 1e8, "亿"
    elif a >= 1e4:
        s, unit = v / 1e4, "万"
    else:
        s, unit = v, ""
    text = f"{s:,.2f}".rstrip("0").rstrip(".") if s != int(s) else f"{int(s):,}"
    return text + unit


def figure_value_text(f: dict) -> str:
    """The normalised value of a figure row, honest about ranges and qualifiers."""
    if f["kind"] in ("date", "time"):
        return f.get("date") or ""
    unit = f.get("unit") or ""
    if f.get("value") is None and f.get("low") is not None and f.get("high") is not None:
        return f"{format_number(f['low'])}–{format_number(f['high'])} {unit}".strip()
    prefix = {"more": "逾", "at_least": "至少", "about": "约", "less": "不足", "at_most": "至多"}
    text = format_number(f.get("value") if f.get("value") is not None else f.get("low"))
    return (prefix.get(f.get("qualifier") or "", "") + text + " " + unit).strip()


def _marked_sentence(f: dict, text: str) -> dict:
    s, e = int(f["sentence_start"]), int(f["sentence_end"])
    return {"before": text[s:int(f["start"])].lstrip(), "figure": text[int(f["start"]):int(f["end"])],
            "after": text[int(f["end"]):e].rstrip()}


def money_total(figs: list[dict], currency: str = "CNY") -> Optional[dict]:
    """Sum of money figures in one currency; "at least" when any term is open or a range."""
    rows = [f for f in figs if f["kind"] == "money" and f.get("unit") == currency]
    if not rows:
        return None
    low = high = 0.0
    open_ended = False
    for f in rows:
        if f.get("value") is not None and f.get("qualifier") in (None, "about"):
            low += f["value"]
            high += f["value"]
        else:
            lo = f.get("low") if f.get("low") is not None else f.get("value")
            low += lo or 0.0
            if f.get("high") is not None:
                high += f["high"]
            else:
                open_ended = True
    return {"currency": currency, "low": low, "high": None if open_ended else high,
            "n": len(rows), "ids": [f["figure_id"] for f in rows],
            "text": ("至少 " if open_ended or high > low else "") + format_number(low) + " 元"}


def build_context(tables: dict, *, notes: list, config: Config) -> dict:
    """Everything the templates show, computed once from the tables."""
    articles = _records(tables["articles"])
    figures = _records(tables["figures"])
    orgs = _records(tables["organizations"])
    keywords = _records(tables["keywords"])
    themes = _records(tables["themes"])
    documents = _records(tables["documents"])
    text_by_article = {a["article_id"]: a["text"] for a in articles}
    title_by_article = {a["article_id"]: a["title"] or "（无标题）" for a in articles}
    rcfg = config["report"]

    for f in figures:
        f["kind_label"] = KIND_LABELS.get(f["kind"], f["kind"])
        f["value_text"] = figure_value_text(f)
        f["marked"] = _marked_sentence(f, text_by_article[f["article_id"]])
        f["article_title"] = title_by_article[f["article_id"]]

    kind_counts = tables["figures"]["kind"].value_counts()
    by_kind = [{"kind": k, "label": KIND_LABELS.get(k, k), "n": int(kind_counts.get(k, 0))}
               for k in KIND_LABELS if kind_counts.get(k, 0)]
    key_figures = sorted((f for f in figures if f["kind"] in KEY_KINDS),
                         key=lambda f: (KEY_KINDS.index(f["kind"]), f["article_id"], f["start"]))
    key_figures = key_figures[: int(rcfg.get("top_figures", 40))]

    per_article = []
    for a in articles:
        own = [f for f in figures if f["article_id"] == a["article_id"] and f["kind"] in KEY_KINDS]
        per_article.append(dict(a, n_figures=sum(1 for f in figures if f["article_id"] == a["article_id"]),
                                key_figures=own[:6]))

    for o in orgs:
        o["type_label"] = ORG_TYPE_LABELS.get(o["type"], o["type"])
        o["alias_list"] = [x for x in (o["aliases"] or "").split("|") if x and x != o["canonical"]]
    top_orgs = orgs[: int(rcfg.get("top_organizations", 20))]

    chart_list, chart_notes = [], []

    def add_chart(key, title, svg_factory, empty_note):
        svg = svg_factory()
        if svg is None:
            chart_notes.append(f"{title}：{empty_note}")
        else:
            chart_list.append({"key": key, "title": title, "svg": svg})

    add_chart("figures_by_kind", "各类数字", lambda: charts.bar_chart(
        [k["label"] for k in by_kind], [k["n"] for k in by_kind], title="各类数字的条数",
        xlabel="条数", ylabel="类别") if by_kind else None, "本期没有抽取到数字。")
    money = [f for f in figures if f["kind"] == "money" and f.get("unit") == "CNY"]
    money_by_article = {}
    for f in money:
        v = f["value"] if f["value"] is not None else (f["low"] or 0.0)
        money_by_article[f["article_title"]] = money_by_article.get(f["article_title"], 0.0) + v
    add_chart("money_by_article", "各篇金额", lambda: charts.bar_chart(
        [t[:16] for t in money_by_article], [v / 1e4 for v in money_by_article.values()],
        title="各篇报道提及的人民币金额（下限之和）", xlabel="万元", ylabel="报道",
        value_format="{:,.1f}") if money_by_article else None, "本期没有人民币金额。")
    add_chart("orgs_by_mentions", "机构提及", lambda: charts.bar_chart(
        [o["canonical"] for o in top_orgs[:12]], [o["n_mentions"] for o in top_orgs[:12]],
        title="提及次数最多的机构", xlabel="提及次数", ylabel="机构")
        if top_orgs else None, "本期没有识别到机构。")
    add_chart("theme_shares", "主题", lambda: charts.bar_chart(
        [t["theme"] for t in themes[:12]], [100 * t["share"] for t in themes[:12]],
        title="各主题覆盖的报道比例", xlabel="报道占比（%）", ylabel="主题",
        value_format="{:.0f}%") if themes else None, "本期报道未归入任何主题。")

    total_cny = money_total(figures)
    quality = {
        "problem_documents": [d for d in documents if d["status"] != "ok"],
        "encodings": sorted({d["encoding"] for d in documents if d["encoding"]}),
        "garbled": [a for a in articles if (a["garbled_runs"] or 0) > 0],
        "base_dates": [{"title": title_by_article[a["article_id"]], "base_date": a["base_date"],
                        "source": a["base_date_source"]} for a in articles],
    }
    dates = sorted(d for d in (a["base_date"] for a in articles) if d)
    return {
        "title": rcfg.get("title", "新闻统计简报"),
        "period": (dates[0], dates[-1]) if dates else None,
        "overview": {"documents": len(documents), "articles": len(articles),
                     "characters": sum(a["characters"] or 0 for a in articles),
                     "figures": len(figures), "organizations": len(orgs)},
        "total_cny": total_cny,
        "articles": per_article,
        "by_kind": by_kind,
        "key_figures": key_figures,
        "figures": figures,
        "organizations": top_orgs,
        "keywords": keywords[: int(rcfg.get("top_keywords", 30))],
        "themes": themes,
        "charts": chart_list,
        "chart_notes": chart_notes,
        "quality": quality,
        "notes": list(notes),
    }


def environment(*, autoescape: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2"]) if autoescape else False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = format_number
    # Markdown table cells: a pipe or a line break inside a sentence would break the row.
    env.filters["cell"] = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    return env


def render_briefing(result, out_dir: Path, *, config: Optional[Config] = None) -> dict:
    """Write ``briefing.html`` and ``briefing.md`` into ``out_dir``; return the context."""
    config = config or load_config()
    ctx = build_context(result.tables, notes=result.notes, config=config)
    html = environment(autoescape=True).get_template("briefing.html.j2").render(**ctx)
    md = environment(autoescape=False).get_template("briefing.md.j2").render(**ctx)
    (out_dir / "briefing.html").write_text(html, encoding="utf-8")
    (out_dir / "briefing.md").write_text(md, encoding="utf-8")
    return ctx
