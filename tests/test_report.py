"""The briefing: honest totals, linked numbers, reviews, escaping, scale.

Two sources of tables: the real pipeline run on the seed page (``seed_run``),
and tables built here from the hand-checked gold figures of the same page
(``tests/gold/figures_seed.jsonl``), whose numbers are known exactly.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from pipeline import tables as T
from pipeline.config import Config
from pipeline.model import figure_id
from pipeline.report import (build_context, figure_value_text, format_number, render,
                             total_text)
from pipeline.text import sentence_at, sentence_spans

GOLD = Path(__file__).parent / "gold" / "figures_seed.jsonl"


# --------------------------------------------------------------------------
# Tables built from the gold figures of the seed page
# --------------------------------------------------------------------------

def gold_tables(*, extra_figures=(), title_of=None) -> dict:
    """The five seed articles and their gold figures, as the pipeline's tables."""
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    arts, figs = [], []
    for i, r in enumerate(rows):
        aid = f"art{i}"
        title = title_of(i, r["title"]) if title_of else r["title"]
        arts.append(dict(article_id=aid, doc_id="doc0", seq=i, title=title, byline="民政",
                         base_date=r["base_date"], base_date_source="inferred",
                         characters=len(r["text"]), garbled_runs=0, garbled_spans="",
                         text=r["text"]))
        spans = sentence_spans(r["text"])
        for f in list(r["figures"]) + [dict(x) for a, x in extra_figures if a == i]:
            s, e = sentence_at(r["text"], f["start"], f["end"], spans)
            figs.append(dict(f, figure_id=figure_id(r["text"], f["start"], f["end"]) + f.get("_tag", ""),
                             doc_id="doc0", article_id=aid, sentence=r["text"][s:e].strip(),
                             sentence_start=s, sentence_end=e))
    orgs = [dict(org_id="org1", canonical="苍南县民政局", type="government",
                 aliases="县民政局|苍南县民政局", n_mentions=5, n_articles=3),
            dict(org_id="org2", canonical="苍南县慈善总会", type="social_organization",
                 aliases="县慈善总会|苍南县慈善总会", n_mentions=4, n_articles=2)]
    return {
        "documents": T.frame("documents", [dict(doc_id="doc0", path="seeds/page.txt", format="page",
                                                encoding="utf-8", status="ok", articles=5)]),
        "articles": T.frame("articles", arts),
        "figures": T.frame("figures", figs),
        "organizations": T.frame("organizations", orgs),
        "mentions": T.frame("mentions", []),
        "keywords": T.frame("keywords", [dict(term="社会组织", score=0.2, df=3)]),
        "article_themes": T.frame("article_themes", [
            dict(article_id="art0", theme="社会组织管理", parent="社会", score=7.0, evidence="社会组织|登记")]),
        "themes": T.frame("themes", [dict(theme="社会组织管理", parent="社会", articles=1, share=0.2)]),
        "themes_by_month": T.frame("themes_by_month", []),
        "topics": T.frame("topics", []),
        "article_topics": T.frame("article_topics", []),
    }


def _gold_figure(text: str) -> dict:
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        for f in json.loads(line)["figures"]:
            if f["text"] == text:
                return f
    raise KeyError(text)


class _Anchors(HTMLParser):
    """Every id and every in-page link of an HTML page."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.scripts = set(), [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and (a.get("href") or "").startswith("#"):
            self.links.append(a["href"][1:])


def anchors(html: str) -> _Anchors:
    p = _Anchors()
    p.feed(html)
    return p


def test_review_counts_come_from_the_apply_reviews_summary():
    from pipeline.review import Review, ReviewSet, apply_reviews
    tables = gold_tables()
    by_text = dict(zip(tables["figures"]["text"], tables["figures"]["figure_id"]))
    verdicts = [("1734.8万元", "wrong", None), ("8000 元", "fix", 9000.0), ("5000 元", "ok", None)]
    reviews = ReviewSet(reviews=[Review(by_text[t], st, cv, None, "reviews/a.csv", i + 2)
                                 for i, (t, st, cv) in enumerate(verdicts)])
    tables["figures"], summary = apply_reviews(tables["figures"], reviews)
    from_summary = build_context(tables, reviews=summary)["reviews"]
    recounted = build_context(tables)["reviews"]   # no summary: counted from the table
    keys = ("n_figures", "n_verified", "n_ok", "n_wrong", "n_fixed")
    expected = {"n_figures": 43, "n_verified": 2, "n_ok": 1, "n_wrong": 1, "n_fixed": 1}
    assert {k: from_summary[k] for k in keys} == expected == {k: recounted[k] for k in keys}
    # The summary is what is shown, not a recount of the frame.
    shown = build_context(tables, reviews=dict(summary, n_verified=7, n_fixed=3))["reviews"]
    assert (shown["n_verified"], shown["n_fixed"], shown["n_ok"]) == (7, 3, 4)


def test_the_period_line_is_built_once_and_printed_by_both_formats():
    tables = gold_tables()
    ctx = build_context(tables)
    assert ctx["period_line"].startswith("报道未注明日期；据正文推断的基准日期为 ")
    html, md = render(ctx, embed_font=False)
    assert ctx["period_line"] in html and ctx["period_line"] in md
    dated = tables["articles"].assign(date="2012-06-0" + tables["articles"]["seq"].astype(str))
    dated.loc[0, "date"] = None
    line = build_context(dict(tables, articles=dated))["period_line"]
    assert line == "报道时间：2012-06-01 至 2012-06-04（另有 1 篇未注明日期）"
    undated = tables["articles"].assign(date=None, base_date=None)
    assert build_context(dict(tables, articles=undated))["period_line"] == "报道未注明日期"


def summary_links(ctx: dict) -> list[dict]:
    return [part for para in ctx["summary"] for part in para if part["href"]]


@pytest.fixture(scope="module")
def gold_ctx():
    ctx = build_context(gold_tables())
    html, md = render(ctx, embed_font=False)
    return ctx, html, md


# --------------------------------------------------------------------------
# Formatting and honest totals
# --------------------------------------------------------------------------

def test_numbers_are_written_the_chinese_way():
    assert format_number(17_348_000) == "1734.8万"
    assert format_number(3469) == "3469"
    assert format_number(250_000_000) == "2.5亿"
    assert figure_value_text(_gold_figure("500多万元") | {"value": 5e6}) == "逾500万元"
    assert figure_value_text(_gold_figure("1-5万")) == "1万–5万元"
    assert total_text(10, 20, approx=False, unit="元") == "10–20元"
    assert total_text(10, None, approx=False, unit="元").startswith("至少")
    assert total_text(10, 10, approx=True, unit="人").startswith("约")


def test_a_money_sum_with_an_open_figure_is_at_least(gold_ctx):
    ctx, html, _ = gold_ctx
    (cny,) = ctx["money_totals"]
    # 500多万 + (1万..5万) + 8000 + 5000 + 1734.8万: open upwards because of 500多万.
    assert cny["low"] == 5_000_000 + 10_000 + 8_000 + 5_000 + 17_348_000
    assert cny["high"] is None
    assert cny["text"] == "至少 2237.1万元"
    assert cny["n"] == 5 and not cny["verified"]
    money_ids = {f for f, k in zip(gold_tables()["figures"]["figure_id"],
                                   gold_tables()["figures"]["kind"]) if k == "money"}
    assert set(cny["source_ids"]) == money_ids
    assert "至少 2237.1万元" in html


def test_a_sum_of_closed_figures_and_a_range_stays_a_range():
    tables = gold_tables()
    f = tables["figures"]
    tables["figures"] = f[f["text"] != "500多万元"].reset_index(drop=True)
    (cny,) = build_context(tables)["money_totals"]
    assert cny["low"] == 10_000 + 8_000 + 5_000 + 17_348_000
    assert cny["high"] == 50_000 + 8_000 + 5_000 + 17_348_000
    assert cny["text"] == "1737.1万–1741.1万元"


def test_different_currencies_are_never_added():
    usd = dict(start=337, end=345, text="1734.8万元", kind="money", value=2_000_000, unit="USD",
               _tag="usd")
    ctx = build_context(gold_tables(extra_figures=[(3, usd)]))
    totals = {t["key"]: t for t in ctx["money_totals"]}
    assert set(totals) == {"total-money-CNY", "total-money-USD"}
    assert totals["total-money-CNY"]["low"] == 22_371_000
    assert totals["total-money-USD"]["text"] == "200万美元"
    text = "".join(p["text"] for para in ctx["summary"] for p in para)
    assert "不相加" in text and "美元" in text


def test_counts_are_summed_per_object_and_unit_only():
    ctx = build_context(gold_tables(), config=Config(values={"report": {"top_groups": 100}}, origins={}))
    groups = {(t["object"], t["unit"]): t for t in ctx["count_totals"]}
    # 56家 + 12家 + 920家 社会组织; 16个社会组织 has another unit; 60余家公益社会组织 another object.
    assert groups[("社会组织", "家")]["low"] == 56 + 12 + 920
    assert groups[("社会组织", "家")]["n"] == 3
    assert groups[("社会组织", "个")]["low"] == 16
    assert groups[("公益社会组织", "家")]["text"] == "至少 60家"
    # The number of groups counts every distinct (object, unit).
    gold = gold_tables()["figures"]
    counts = gold[gold["kind"] == "count"]
    assert ctx["n_count_groups"] == len(counts.groupby(["object", "unit"]))
    assert all(t["kind"] == "count" for t in ctx["count_totals"])


def test_percentages_ordinals_and_dates_are_never_summed(gold_ctx):
    ctx, _, _ = gold_ctx
    keys = [t["key"] for t in ctx["money_totals"] + ctx["count_totals"] + ctx["quantity_totals"]]
    assert not any(k.startswith(("total-percent", "total-ordinal", "total-date")) for k in keys)
    assert any(f["kind"] == "ordinal" for f in ctx["key_figures"])


# --------------------------------------------------------------------------
# The summary, links and anchors
# --------------------------------------------------------------------------

def test_every_link_in_the_briefing_resolves_to_an_anchor(gold_ctx):
    ctx, html, _ = gold_ctx
    page = anchors(html)
    assert page.links
    missing = [link for link in page.links if link not in page.ids]
    assert not missing, missing[:5]
    assert len(page.ids) == len(re.findall(r'\bid="', html)), "an id is used twice"


def test_every_summary_number_links_to_its_source(gold_ctx):
    ctx, html, _ = gold_ctx
    page = anchors(html)
    for part in summary_links(ctx):
        assert part["name"] or re.search(r"\d", part["text"]), part
        assert part["href"][1:] in page.ids, part
    # Every digit in the summary sits inside a linked part.
    for para in ctx["summary"]:
        for part in para:
            if not part["href"] and not part["name"]:
                assert not re.search(r"\d", part["text"]), part
    # A total links to its row, and the row links to every figure it sums.
    (cny,) = ctx["money_totals"]
    assert any(p["href"] == f"#{cny['key']}" and p["text"] == cny["text"] for p in summary_links(ctx))
    row = re.search(rf'<tr id="{cny["key"]}">(.*?)</tr>', html, re.S).group(1)
    assert set(re.findall(r'href="#fig-([0-9a-f]+)"', row)) == set(cny["source_ids"])


def test_summary_names_the_largest_amount_and_its_article(gold_ctx):
    ctx, _, _ = gold_ctx
    text = "".join(p["text"] for para in ctx["summary"] for p in para)
    assert "本期共收录 5 篇报道" in text
    assert "最大一笔为1734.8万元（《2022年度困难大学新生慈善助学活动正式启动》）" in text
    assert "编辑已核实 0 / 43" in text


def test_timeline_lists_resolved_dates_in_order(gold_ctx):
    ctx, _, _ = gold_ctx
    dates = [r["date"] for r in ctx["timeline"]["rows"]]
    assert dates == sorted(dates)
    assert {"2008", "2022-03-03", "2022-04-02", "2022-08-04"} <= set(dates)
    assert ctx["timeline"]["n_events"] == 12


# --------------------------------------------------------------------------
# Reviews
# --------------------------------------------------------------------------

def _reviewed(statuses: dict) -> dict:
    tables = gold_tables()
    f = tables["figures"]
    for text, (status, corrected) in statuses.items():
        mask = f["text"] == text
        f.loc[mask, "review_status"] = status
        f.loc[mask, "corrected_value"] = corrected
    return tables


def test_wrong_figures_drop_out_and_fixes_use_the_corrected_value():
    tables = _reviewed({"1734.8万元": ("wrong", None), "8000 元": ("fix", 9000.0),
                        "5000 元": ("ok", None)})
    reviews = {"stale": [{"figure_id": "deadbeef00000000", "file": "reviews/a.xlsx",
                          "status": "ok", "note": "<b>旧</b>"}],
               "errors": ["reviews/bad.csv, row 3, column status: unknown status 'maybe'"]}
    ctx = build_context(tables, reviews=reviews)
    (cny,) = ctx["money_totals"]
    assert cny["low"] == 5_000_000 + 10_000 + 9_000 + 5_000
    assert cny["n"] == 4 and cny["n_verified"] == 2 and not cny["verified"]
    assert ctx["reviews"]["n_verified"] == 2 and ctx["reviews"]["n_wrong"] == 1
    assert ctx["reviews"]["n_fixed"] == 1 and ctx["reviews"]["n_figures"] == 43
    assert all(f["text"] != "1734.8万元" for f in ctx["key_figures"])
    html, md = render(ctx, embed_font=False)
    assert "更正为 9000元" in html
    assert 'class="wrong"' in html  # still listed in the appendix, struck through
    assert "deadbeef00000000" in html and "&lt;b&gt;旧&lt;/b&gt;" in html
    assert "unknown status" in html and "unknown status" in md
    assert "编辑已核实 2 / 43" in "".join(p["text"] for para in ctx["summary"] for p in para)


def test_a_fully_verified_total_is_not_marked_unverified():
    tables = _reviewed({t: ("ok", None) for t in ("500多万元", "1-5万", "8000 元", "5000 元", "1734.8万元")})
    ctx = build_context(tables, reviews={})
    (cny,) = ctx["money_totals"]
    assert cny["verified"]
    html, _ = render(ctx, embed_font=False)
    row = re.search(rf'<tr id="{cny["key"]}">(.*?)</tr>', html, re.S).group(1)
    assert "未核实" not in row
    counts_row = re.search(r'<tr id="total-count-[^"]+">(.*?)</tr>', html, re.S).group(1)
    assert "未核实" in counts_row


def test_an_open_figure_fixed_stays_open():
    (cny,) = build_context(_reviewed({"500多万元": ("fix", 6_000_000.0)}))["money_totals"]
    assert cny["high"] is None and cny["low"] == 6_000_000 + 10_000 + 8_000 + 5_000 + 17_348_000


# --------------------------------------------------------------------------
# Escaping, empty input, scale, determinism
# --------------------------------------------------------------------------

def test_markup_in_articles_is_shown_as_text():
    evil = "<script>alert(1)</script>"
    tables = gold_tables(title_of=lambda i, t: evil + t if i == 3 else t)
    tables["organizations"].loc[0, "canonical"] = "<img src=x onerror=alert(1)>局"
    ctx = build_context(tables)
    html, md = render(ctx, embed_font=False)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;局" in html
    assert anchors(html).scripts == 0
    # Markdown renderers pass raw HTML through: the Markdown shows the markup as text
    assert "<script" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md


def test_an_empty_run_renders_with_notes_instead_of_charts():
    tables = gold_tables()
    for name in ("figures", "organizations", "keywords", "themes", "article_themes"):
        tables[name] = tables[name].iloc[0:0]
    ctx = build_context(tables)
    html, md = render(ctx, embed_font=False)
    assert "<svg" not in html
    notes = [c["note"] for c in ctx["charts"].values()]
    assert all(notes) and len(notes) == 5
    for note in notes:
        assert note in html and note in md
    assert not anchors(html).links or all(l in anchors(html).ids for l in anchors(html).links)


def test_beyond_the_inline_limit_the_appendix_keeps_only_linked_figures():
    from pipeline.config import load_config
    base = load_config()
    small = dict(base["report"], max_inline_figures=10, top_articles=2, top_figures=5)
    config = Config(values=dict(base.values, report=small), origins=base.origins)
    ctx = build_context(gold_tables(), config=config)
    html, _ = render(ctx, embed_font=False)
    assert not ctx["appendix_complete"] and 0 < len(ctx["figures"]) < 43
    assert 'href="tables/figures.csv"' in html
    assert len(ctx["articles"]) == 2 and ctx["n_digest_omitted"] == 3
    page = anchors(html)
    assert [link for link in page.links if link not in page.ids] == []


@pytest.mark.parametrize("max_inline", [10, 10_000])
def test_a_briefing_from_parquet_tables_equals_one_from_frames(tmp_path, max_inline):
    # From Parquet (TableSet) the briefing reads the figures without the columns
    # only the appendix shows, and the appendix's rows by id afterwards; from
    # frames in memory it takes everything at once.  Both must give the same page.
    from pipeline.config import load_config
    base = load_config()
    report = dict(base["report"], max_inline_figures=max_inline, top_articles=2, top_figures=5)
    config = Config(values=dict(base.values, report=report), origins=base.origins)
    frames = gold_tables()
    for name, df in frames.items():
        T.write_table(df, tmp_path, name)
    from_frames = build_context(frames, config=config)
    from_files = build_context(T.TableSet(tmp_path), config=config)
    assert from_files["appendix_complete"] is (max_inline == 10_000)
    assert render(from_files, embed_font=False) == render(from_frames, embed_font=False)
    pd.testing.assert_frame_equal(frames["figures"], gold_tables()["figures"])  # left as it was


def test_a_figure_without_an_article_still_renders_from_parquet_tables(tmp_path):
    frames = gold_tables()
    frames["figures"].loc[0, "article_id"] = pd.NA
    for name, df in frames.items():
        T.write_table(df, tmp_path, name)
    ctx = build_context(T.TableSet(tmp_path))
    html, md = render(ctx, embed_font=False)
    assert ctx["overview"]["figures_all"] == len(frames["figures"]) and html and md


def test_rendering_twice_gives_the_same_bytes():
    first = render(build_context(gold_tables()))
    second = render(build_context(gold_tables()))
    assert first == second
    assert "@font-face" in first[0] and "data:font/woff;base64," in first[0]


# --------------------------------------------------------------------------
# The real run on the seed page
# --------------------------------------------------------------------------

def test_seed_briefing_summary_matches_the_tables(seed_run):
    result, out = seed_run
    figures = pd.read_parquet(out / "tables" / "figures.parquet")
    articles = pd.read_parquet(out / "tables" / "articles.parquet")
    orgs = pd.read_parquet(out / "tables" / "organizations.parquet")
    html = (out / "briefing.html").read_text(encoding="utf-8")
    ctx = build_context(result.tables, notes=result.notes, reviews=result.reviews)
    text = "".join(p["text"] for para in ctx["summary"] for p in para)
    assert f"本期共收录 {len(articles)} 篇报道" in text
    included = figures[figures["review_status"].fillna("") != "wrong"]
    assert f"抽取数字 {len(included)} 个" in text
    assert f"涉及机构 {len(orgs)} 家" in text
    cny = included[(included["kind"] == "money") & (included["unit"] == "CNY")]
    low = cny["value"].fillna(cny["low"]).where(cny["qualifier"].isna(), cny["low"].fillna(cny["value"]))
    (total,) = [t for t in ctx["money_totals"] if t["key"] == "total-money-CNY"]
    assert total["low"] == pytest.approx(low.sum())
    # 500多万元 is in the sum, so the sum is "at least".
    assert (cny["text"] == "500多万元").any() and total["text"].startswith("至少")
    assert total["text"] in html and "1万–5万元" in html
    page = anchors(html)
    assert all(link in page.ids for link in page.links)
    for part in summary_links(ctx):
        assert part["href"][1:] in page.ids


def test_seed_briefing_shows_every_figure_with_its_sentence(seed_run):
    _, out = seed_run
    figures = pd.read_parquet(out / "tables" / "figures.parquet")
    html = (out / "briefing.html").read_text(encoding="utf-8")
    for fid in figures["figure_id"]:
        assert f'id="fig-{fid}"' in html
    assert "<mark>500多万元</mark>" in html
    assert 'http-equiv="Content-Security-Policy"' in html
    md = (out / "briefing.md").read_text(encoding="utf-8")
    assert "至少" in md and "## 数据质量" in md


def test_markdown_tables_keep_their_shape_with_pipes_in_sentences():
    tables = gold_tables(title_of=lambda i, t: t + "|竖线" if i == 0 else t)
    _, md = render(build_context(tables), embed_font=False)
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---") or line.startswith("|---:"):
            width = len(re.findall(r"(?<!\\)\|", lines[i - 1]))
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert len(re.findall(r"(?<!\\)\|", lines[j])) == width, lines[j]
                j += 1
    assert "竖线" in md


def test_the_themes_shown_follow_the_themes_top_n_setting():
    from pipeline.config import load_config
    base = load_config()
    tables = gold_tables()
    names = ["党建引领", "公益创投", "慈善助学", "两岸交流", "社区治理"]
    tables["themes"] = T.frame("themes", [
        {"theme": name, "parent": None, "articles": 5 - i, "share": (5 - i) / 5}
        for i, name in enumerate(names)])
    config = Config(values=dict(base.values, themes=dict(base["themes"], top_n=2)), origins=base.origins)
    assert [t["theme"] for t in build_context(tables, config=config)["themes"]] == names[:2]
    assert len(build_context(tables)["themes"]) == 5


def _key_figure_ids_by_frame_sorts(fig: pd.DataFrame, *, limit: int) -> list:
    """The pandas formulation ``report._key_figure_ids`` replaced (frames sorted and cut)."""
    import numpy as np
    from pipeline.report import KEY_KINDS
    rows = fig[fig["included"] & fig["kind"].isin(KEY_KINDS)]
    kinds = [k for k in KEY_KINDS if (rows["kind"] == k).any()]
    avail = {k: int((rows["kind"] == k).sum()) for k in kinds}
    quota, left = {k: 0 for k in kinds}, limit
    while left > 0 and any(quota[k] < avail[k] for k in kinds):
        for k in kinds:
            if left and quota[k] < avail[k]:
                quota[k] += 1
                left -= 1
    unit = rows["unit"].astype("string").fillna("")
    rows = rows.assign(_cur=np.where(rows["kind"] != "money", "",
                                     np.where(unit == "CNY", "0", "1" + unit)))
    ids = []
    for k in kinds:
        part = rows[rows["kind"] == k]
        part = part.assign(_m=part["lo"].fillna(-1.0)).sort_values(
            ["_m", "article_order", "start"], ascending=[False, True, True])
        ids += part.sort_values("_cur", kind="stable").head(quota[k])["figure_id"].tolist()
    return ids


@pytest.mark.parametrize("seed", range(12))
def test_key_figures_are_the_ones_the_frame_sorts_chose(seed):
    # ties everywhere: few magnitudes (with -0.0 and missing ones), articles,
    # positions (some missing), currencies (some missing), kinds and exclusions
    import numpy as np
    from pipeline.report import _key_figure_ids
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    kinds = ["money", "count", "quantity", "percent", "duration", "ordinal", "number", "date"]
    fig = pd.DataFrame({
        "figure_id": [f"f{i}" for i in range(n)],
        "kind": pd.array([None if x == "" else x for x in rng.choice(kinds + [""], n)],
                         dtype="string"),
        "unit": pd.array([None if x == "" else x for x in rng.choice(["CNY", "USD", "EUR", ""], n)],
                         dtype="string"),
        "lo": rng.choice([np.nan, -0.0, 0.0, 1.0, 5.0, 1e8], n),
        "article_order": rng.integers(-1, 5, n).astype("int64"),
        "start": pd.array([None if x < 0 else int(x) for x in rng.integers(-1, 6, n)], dtype="Int64"),
        "included": rng.random(n) < 0.8,
    })
    for limit in (0, 1, 3, 8, 50, 500):
        assert _key_figure_ids(fig, limit=limit) == _key_figure_ids_by_frame_sorts(fig, limit=limit)
