"""Benchmark: render the briefing from synthetic tables of 50,000 articles.

``python -m pipeline.bench report`` builds the tables a large run would write
(articles with real text, ~9 figures per article whose offsets point into that
text, organizations, themes, documents with some failures and garbled text),
then times ``build_context`` and the rendering, and prints the figures.  The
target is a briefing in under 30 seconds that stays readable: top-N tables,
aggregated charts, the full figure table linked as tables/figures.csv.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline import tables as T
from pipeline.model import stable_hash

#: sentence patterns: (sentence with one {} slot, the figure's surface, kind, unit,
#: qualifier, object, multiplier from the written number to the value)
_PATTERNS = [
    ("本次活动共有{}家社会组织参与。", "{}家", "count", "家", None, "社会组织", 1),
    ("项目累计投入{}万元，用于助老助困。", "{}万元", "money", "CNY", None, None, 10_000),
    ("全年募集善款{}多万元。", "{}多万元", "money", "CNY", "more", None, 10_000),
    ("共帮助{}位困难学生圆梦大学。", "{}位", "count", "位", None, "困难学生", 1),
    ("{}余名志愿者下沉社区一线。", "{}余名", "count", "名", "more", "志愿者", 1),
    ("覆盖率达到{}%。", "{}%", "percent", "%", None, None, 1),
    ("新建长者食堂{}个。", "{}个", "count", "个", None, "长者食堂", 1),
    ("企业捐赠{}万美元。", "{}万美元", "money", "USD", None, None, 10_000),
    ("道路改造{}公里。", "{}公里", "quantity", "公里", None, None, 1),
]
_FILLER = "会议强调，要坚持党建引领，推动社会组织高质量发展，服务群众。"
_ORGS = ["民政局", "慈善总会", "社会组织促进会", "红十字会", "团委", "妇联", "志愿者协会"]
_PLACES = ["苍南县", "瑞安市", "乐清市", "永嘉县", "平阳县", "文成县", "泰顺县", "龙港市"]
_THEMES = [("社会组织管理", "社会"), ("社区治理", "社会"), ("公益创投", "社会"), ("党建引领", "时政"),
           ("为老服务", "社会"), ("应急救援", "灾害事故"), ("慈善救助", "社会"), ("乡村振兴", "经济")]


def synthetic_tables(n_articles: int = 50_000, *, seed: int = 0) -> dict:
    """Tables shaped like a run over ``n_articles`` articles (deterministic)."""
    rng = np.random.default_rng(seed)
    docs, arts, figs, art_themes = [], [], [], []
    n_docs = max(1, n_articles // 100)
    for d in range(n_docs):
        status = "failed" if d % 97 == 5 else ("skipped" if d % 131 == 7 else "ok")
        docs.append(dict(doc_id=f"d{d:05d}", path=f"corpus/batch_{d:05d}.jsonl", format="jsonl",
                         encoding="gb18030" if d % 3 else "utf-8", status=status, articles=100,
                         characters=0, message="第 3 行不是合法的 JSON" if status == "failed" else ""))
    for i in range(n_articles):
        aid = f"a{i:06d}"
        month = 1 + i % 12
        parts, spans = [], []
        pos = 0
        for j in rng.integers(0, len(_PATTERNS), size=int(rng.integers(6, 12))):
            pattern, surface_pattern, kind, unit, qual, obj, scale = _PATTERNS[j]
            number = int(rng.integers(2, 900))
            sentence = pattern.format(number)
            surface = surface_pattern.format(number)
            k = sentence.index(surface)
            spans.append((pos + k, pos + k + len(surface), surface, kind, number * scale, unit, qual, obj,
                          pos, pos + len(sentence)))
            parts.append(sentence)
            pos += len(sentence)
            parts.append(_FILLER)
            pos += len(_FILLER)
        date_text = f"2024年{month}月{1 + i % 28}日"
        parts.append(date_text + "，相关工作推进会召开。")
        spans.append((pos, pos + len(date_text), date_text, "date", None, None, None, None,
                      pos, pos + len(date_text) + 9))
        text = "".join(parts)
        garbled = 1 if i % 211 == 3 else 0
        arts.append(dict(article_id=aid, doc_id=f"d{i // 100:05d}", seq=i % 100,
                         title=f"{_PLACES[i % len(_PLACES)]}第{i}期社会组织工作简报", byline="通讯员",
                         section="民政", date=f"2024-{month:02d}-{1 + i % 28:02d}", date_source="record",
                         base_date=f"2024-{month:02d}-{1 + i % 28:02d}", base_date_source="record",
                         characters=len(text), garbled_runs=garbled,
                         garbled_spans="10-14" if garbled else "", text=text))
        for s, e, surface, kind, value, unit, qual, obj, ss, se in spans:
            figs.append(dict(figure_id=stable_hash(aid, str(s)), doc_id=f"d{i // 100:05d}", article_id=aid,
                             start=s, end=e, text=surface, kind=kind,
                             value=value, low=value if qual else None, unit=unit, qualifier=qual,
                             object=obj, date=f"2024-{month:02d}-{1 + i % 28:02d}" if kind == "date" else None,
                             sentence=text[ss:se], sentence_start=ss, sentence_end=se))
        for t in rng.choice(len(_THEMES), size=2, replace=False):
            art_themes.append(dict(article_id=aid, theme=_THEMES[t][0], parent=_THEMES[t][1],
                                   score=float(rng.random() * 10), evidence="社会组织|社区"))
    orgs = [dict(org_id=f"org{k:05d}", canonical=f"{_PLACES[k % len(_PLACES)]}{_ORGS[k % len(_ORGS)]}{k // 56 or ''}",
                 type=["government", "social_organization", "party", "enterprise"][k % 4],
                 aliases="", n_mentions=int(50_000 // (k + 1)), n_articles=int(20_000 // (k + 1)) + 1)
            for k in range(5_000)]
    theme_counts = {}
    for r in art_themes:
        theme_counts[r["theme"]] = theme_counts.get(r["theme"], 0) + 1
    themes = [dict(theme=t, parent=p, articles=theme_counts.get(t, 0),
                   share=theme_counts.get(t, 0) / n_articles) for t, p in _THEMES]
    by_month = [dict(month=f"2024-{m:02d}", theme=t, articles=theme_counts.get(t, 0) // 12,
                     share=1 / 12) for m in range(1, 13) for t, _ in _THEMES]
    return {
        "documents": T.frame("documents", docs), "articles": T.frame("articles", arts),
        "figures": T.frame("figures", figs), "organizations": T.frame("organizations", orgs),
        "mentions": T.frame("mentions", []),
        "keywords": T.frame("keywords", [dict(term=w, score=1.0 / (k + 1), df=100) for k, w in
                                         enumerate(["社会组织", "公益", "志愿者", "长者食堂", "慈善"])]),
        "article_themes": T.frame("article_themes", art_themes), "themes": T.frame("themes", themes),
        "themes_by_month": T.frame("themes_by_month", by_month),
        "topics": T.frame("topics", []), "article_topics": T.frame("article_topics", []),
    }


def main(argv: list[str] | None = None) -> None:
    """Print how long the briefing takes for 50,000 articles (or ``argv[0]``)."""
    from pipeline.report import build_context, render

    argv = sys.argv[2:] if argv is None else argv
    n = int(argv[0]) if argv and argv[0].isdigit() else 50_000
    started = time.perf_counter()
    tables = synthetic_tables(n)
    built = time.perf_counter()
    ctx = build_context(tables)
    context_done = time.perf_counter()
    html, md = render(ctx)
    rendered = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "briefing.html").write_text(html, encoding="utf-8")
    total = rendered - built
    print(f"report: {n} articles, {len(tables['figures'])} figures "
          f"(synthetic tables built in {built - started:.1f} s)")
    print(f"report: context {context_done - built:.2f} s, templates + font {rendered - context_done:.2f} s, "
          f"briefing {total:.2f} s (target < 30 s); "
          f"HTML {len(html.encode('utf-8')) / 1e6:.2f} MB, {html.count('<svg')} charts, "
          f"{len(ctx['figures'])} figures inline, {len(ctx['articles'])} digests")


if __name__ == "__main__":
    main(sys.argv[1:])
