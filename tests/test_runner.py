"""End to end on the seed page: the chain from files to tables and briefing."""
import json
import re

import pandas as pd

from pipeline.runner import run
from pipeline.tables import COLUMNS
from tests.conftest import SEEDS


def test_seed_page_gives_five_articles_with_titles_and_bylines(seed_run):
    result, out = seed_run
    articles = pd.read_parquet(out / "tables" / "articles.parquet")
    assert len(articles) == 5
    titles = " ".join(articles["title"])
    for word in ("构筑共建共享共治共富幸福圈", "公益创投大赛", "七夕", "慈善助学", "业主"):
        assert word in titles
    assert set(articles["byline"]) >= {"民政", "丛容", "慈善总会", "杨春碧"}


def test_every_table_is_written_as_csv_and_parquet_with_its_columns(seed_run):
    _, out = seed_run
    for name, cols in COLUMNS.items():
        df = pd.read_parquet(out / "tables" / f"{name}.parquet")
        assert list(df.columns) == cols, name
        csv = pd.read_csv(out / "tables" / f"{name}.csv", encoding="utf-8-sig")
        assert list(csv.columns) == cols and len(csv) == len(df), name


def test_figures_slice_back_and_carry_sentences(seed_run):
    _, out = seed_run
    figures = pd.read_parquet(out / "tables" / "figures.parquet")
    articles = pd.read_parquet(out / "tables" / "articles.parquet").set_index("article_id")
    assert figures["figure_id"].is_unique
    for f in figures.itertuples():
        text = articles.loc[f.article_id, "text"]
        assert text[f.start:f.end] == f.text
        assert text[f.sentence_start:f.sentence_end] == f.sentence
        assert f.sentence_start <= f.start and f.end <= f.sentence_end
    money = figures[figures.text == "500多万元"].iloc[0]
    assert money.kind == "money" and money.low == 5_000_000 and money.qualifier == "more"
    assert "累计投入" in money.sentence
    orgs = figures[figures.text.str.startswith("56")].iloc[0]
    assert orgs.object == "社会组织"
    assert ((figures.text == "1734.8万元") & (figures.value == 17_348_000)).any()
    assert ((figures.text == "1-5万") & (figures.low == 10_000) & (figures.high == 50_000)).any()


def test_organizations_and_mentions(seed_run):
    _, out = seed_run
    orgs = pd.read_parquet(out / "tables" / "organizations.parquet")
    names = set(orgs["canonical"])
    assert {"苍南县民政局", "苍南县慈善总会"} <= names
    mentions = pd.read_parquet(out / "tables" / "mentions.parquet")
    assert set(mentions["canonical"]) <= names
    bureau = orgs.set_index("canonical").loc["苍南县民政局"]
    assert "县民政局" in bureau["aliases"].split("|")


def test_keywords_hold_no_numerals_or_single_characters(seed_run):
    _, out = seed_run
    keywords = pd.read_parquet(out / "tables" / "keywords.parquet")
    assert len(keywords) > 5
    assert not keywords["term"].str.contains(r"\d").any()
    assert (keywords["term"].str.len() > 1).all()


def test_briefing_is_self_contained_with_charts(seed_run):
    _, out = seed_run
    html = (out / "briefing.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 3
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html
    assert "500多万元" in html and "苍南县民政局" in html
    md = (out / "briefing.md").read_text(encoding="utf-8")
    assert md.startswith("# ") and "500多万元" in md


def test_run_log_ends_with_a_summary(seed_run):
    _, out = seed_run
    lines = [json.loads(l) for l in (out / "run_log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines[-1]["event"] == "summary" and lines[-1]["articles"] == 5


def test_two_runs_write_identical_bytes(seed_run, tmp_path):
    _, first = seed_run
    run([str(SEEDS)], str(tmp_path), workers=2)
    for path in sorted(first.rglob("*")):
        # run_log.jsonl holds the run time; the cache is internal state, not output
        if path.is_file() and path.name != "run_log.jsonl" and ".cache" not in path.parts:
            twin = tmp_path / path.relative_to(first)
            assert twin.read_bytes() == path.read_bytes(), path.name


def test_a_pages_articles_share_the_year_the_page_names_most(seed_run):
    # The seed page carries no date; one article names 2013 and 2018 more
    # than 2022, but the page as a whole is a 2022 page.
    _, out = seed_run
    articles = pd.read_parquet(out / "tables" / "articles.parquet")
    assert set(articles["base_date"]) == {"2022"}
    assert set(articles["base_date_source"]) == {"inferred"}
    figures = pd.read_parquet(out / "tables" / "figures.parquet")
    qixi = figures[figures.text.str.contains("七夕")]
    assert not qixi.empty and qixi["date"].str.startswith("2022-08").all()


def test_a_reprinted_article_gets_its_own_figure_ids(tmp_path):
    # Wire copy reprinted by two sources: the same passage in two records.
    record = {"title": "慈善助学", "date": "2022-08-01",
              "text": "累计支出1734.8万元，共帮助3469位寒门学子圆梦大学。"}
    lines = [json.dumps(dict(record, id=f"r{i}"), ensure_ascii=False) for i in (1, 2)]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "news.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run([str(tmp_path / "in")], str(tmp_path / "out"), workers=1)
    figures = pd.read_parquet(tmp_path / "out" / "tables" / "figures.parquet")
    assert len(figures) >= 4 and figures["figure_id"].is_unique
    html = (tmp_path / "out" / "briefing.html").read_text(encoding="utf-8")
    anchors = re.findall(r'id="(fig-[^"]+)"', html)
    assert len(anchors) == len(set(anchors))


def test_a_run_leaves_the_garbage_collector_as_it_found_it(tmp_path):
    import gc
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("今年投入500多万元，帮助3469位学子。", encoding="utf-8")
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    run([str(tmp_path / "in")], str(tmp_path / "out"), workers=1, reviews_dir=None)
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == frozen
