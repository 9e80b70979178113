"""Themes: taxonomy files, per-article themes, shares and months (issue 6)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipeline.config import DATA_DIR
from pipeline.extract.themes import (load_taxonomy, score_themes, theme_shares,
                                     themes_by_month)
from pipeline.segment import segment
from tests.conftest import seed_bodies, sogou_contents

THEMES_DIR = DATA_DIR / "themes"

@pytest.fixture(scope="module")
def default_taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="module")
def seed_themes(default_taxonomy):
    return {name: score_themes(text, segment(text), taxonomy=default_taxonomy)
            for name, text in seed_bodies().items()}


def top(rows, n=1):
    return [r["theme"] for r in rows[:n]]


def test_seed_articles_get_the_themes_a_reader_would_name(seed_themes):
    assert top(seed_themes["公益创投"]) == ["公益创投"]
    assert top(seed_themes["慈善助学"]) == ["慈善助学"]
    assert top(seed_themes["两岸"]) == ["两岸交流"]
    assert top(seed_themes["业主服务中心"]) == ["社区治理"]
    themes = [r["theme"] for r in seed_themes["推进会"]]
    assert "党建引领" in themes and "共同富裕" in themes
    assert top(seed_themes["推进会"], 2) == ["党建引领", "共同富裕"]


def test_seed_page_coverage_names_the_fields_it_reports_on(seed_themes):
    rows = [dict(r, article_id=name) for name, themes in seed_themes.items() for r in themes]
    shares = {r["theme"]: r for r in theme_shares(rows, n_articles=len(seed_themes))}
    for field in ("为老服务", "青少年与儿童关爱", "助残扶残", "应急救援", "共同富裕", "党建引领",
                  "慈善助学", "公益创投", "社区治理", "两岸交流"):
        assert field in shares, field


def test_seed_theme_rows_carry_parent_score_and_evidence(seed_themes, default_taxonomy):
    for name, rows in seed_themes.items():
        assert rows, name
        assert len(rows) <= default_taxonomy.max_themes
        scores = [r["score"] for r in rows]
        assert scores == sorted(scores, reverse=True)
        for r in rows:
            assert r["score"] >= default_taxonomy.min_score
            assert r["evidence"] and all(isinstance(w, str) for w in r["evidence"])
    assert seed_themes["慈善助学"][0]["parent"] == "教育"
    assert "慈善助学" in seed_themes["慈善助学"][0]["evidence"]


def test_general_taxonomy_gives_nine_in_ten_sogou_articles_a_theme():
    general = load_taxonomy(THEMES_DIR / "general_news.toml")
    contents = [c for c in sogou_contents() if c]
    themed = sum(bool(score_themes(c, segment(c), taxonomy=general)) for c in contents)
    assert themed / len(contents) >= 0.9, f"{themed}/{len(contents)}"


def test_default_taxonomy_combines_both_files_into_two_levels(default_taxonomy):
    civil = tomllib.loads((THEMES_DIR / "civil_affairs.toml").read_text(encoding="utf-8"))
    general = tomllib.loads((THEMES_DIR / "general_news.toml").read_text(encoding="utf-8"))
    general_names = {t["theme"] for t in general["themes"]}
    names = set(default_taxonomy.theme_names)
    assert {t["theme"] for t in civil["themes"]} | general_names == names
    for theme in civil["themes"]:
        assert theme["parent"] in general_names, theme["theme"]
    for required in ("为老服务", "青少年与儿童关爱", "助残扶残", "医疗健康", "乡村振兴", "应急救援",
                     "共同富裕", "疫情防控", "慈善助学", "公益创投", "社工人才", "社区治理",
                     "党建引领", "两岸交流", "时政", "经济", "金融", "社会", "法治", "灾害事故",
                     "教育", "科技", "体育", "娱乐", "国际", "军事"):
        assert required in names, required


def write(tmp_path, body: str, name="t.toml") -> Path:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


SMALL = """
[taxonomy]
name = "small"
min_score = 1.0
relative_min = 0.0
[[themes]]
theme = "公益"
keywords = ["公益", "慈善"]
[[themes]]
theme = "创投"
parent = "公益"
keywords = ["公益创投"]
[[themes]]
theme = "国家"
keywords = ["国家"]
"""


def test_longest_match_counts_a_phrase_once(tmp_path):
    tax = load_taxonomy(write(tmp_path, SMALL))
    text = "公益创投大赛"
    rows = score_themes(text, segment(text), taxonomy=tax)
    assert [r["theme"] for r in rows] == ["创投"]
    assert rows[0]["parent"] == "公益"


def test_short_words_do_not_straddle_token_boundaries(tmp_path):
    tax = load_taxonomy(write(tmp_path, SMALL))
    text = "中国家庭的收入"
    tokens = segment(text)
    assert "国家" not in [t.text for t in tokens]
    assert score_themes(text, tokens, taxonomy=tax) == []
    # without tokens the raw text decides
    assert [r["theme"] for r in score_themes(text, [], taxonomy=tax)] == ["国家"]
    # matched inside one longer word is fine: it is still that word's meaning
    text = "国家级新区"
    assert [r["theme"] for r in score_themes(text, segment(text), taxonomy=tax)] == ["国家"]


def test_excluded_spans_are_not_mined(tmp_path):
    tax = load_taxonomy(write(tmp_path, SMALL))
    text = "公益慈善活动。公益创投"
    cut = text.index("。") + 1
    rows = score_themes(text, segment(text), taxonomy=tax, exclude_spans=[(cut, len(text))])
    assert [r["theme"] for r in rows] == ["公益"]


def test_full_width_and_case_are_folded(tmp_path):
    tax = load_taxonomy(write(tmp_path, """
[taxonomy]
min_score = 1.0
[[themes]]
theme = "金融"
keywords = ["IPO", "A股"]
"""))
    text = "ＩＰＯ重启，Ａ股回暖"
    rows = score_themes(text, segment(text), taxonomy=tax)
    assert rows and rows[0]["theme"] == "金融"
    assert sorted(rows[0]["evidence"]) == ["a股", "ipo"]


def test_folding_keeps_every_character_in_place():
    from pipeline.extract.themes import _fold_lower
    from pipeline.text import fold_width
    text = "ＩＰＯ\u3000Ａ股，（民政）ΣΑΣ \U00020000\ud800！～\uff5f"
    assert _fold_lower(text) == fold_width(text).lower()
    assert _fold_lower("") == ""


def test_weights_and_threshold_decide_several_themes_or_none(tmp_path):
    tax = load_taxonomy(write(tmp_path, """
[taxonomy]
min_score = 2.0
relative_min = 0.0
[[themes]]
theme = "养老"
keywords = ["老年人", "养老院"]
[themes.weights]
"长者食堂" = 2.0
[[themes]]
theme = "助学"
keywords = ["助学", "学子"]
"""))
    one_word = "老年人来了"
    assert score_themes(one_word, segment(one_word), taxonomy=tax) == []
    strong = "长者食堂开张"
    assert [r["theme"] for r in score_themes(strong, segment(strong), taxonomy=tax)] == ["养老"]
    both = "养老院的老年人为寒门学子助学"
    rows = score_themes(both, segment(both), taxonomy=tax)
    assert {r["theme"] for r in rows} == {"养老", "助学"}
    nothing = "今天天气晴朗"
    assert score_themes(nothing, segment(nothing), taxonomy=tax) == []
    assert score_themes("", [], taxonomy=tax) == []


def test_relative_threshold_drops_passing_mentions(tmp_path):
    tax = load_taxonomy(write(tmp_path, """
[taxonomy]
min_score = 1.0
relative_min = 0.5
[[themes]]
theme = "体育"
keywords = ["比赛", "球队", "球员", "进球", "冠军"]
[[themes]]
theme = "经济"
keywords = ["投资"]
"""))
    text = "球队在比赛中进球，球员夺得冠军，投资人到场。"
    rows = score_themes(text, segment(text), taxonomy=tax)
    assert [r["theme"] for r in rows] == ["体育"]
    rows = score_themes(text, segment(text), taxonomy=tax, relative_min=0.0)
    assert [r["theme"] for r in rows] == ["体育", "经济"]


def test_same_theme_in_two_files_is_merged(tmp_path):
    a = write(tmp_path, '[[themes]]\ntheme = "养老"\nkeywords = ["老年人"]\n', "a.toml")
    b = write(tmp_path, '[[themes]]\ntheme = "养老"\nparent = "社会"\nkeywords = ["敬老院"]\n'
                        '[themes.weights]\n"老年人" = 2.0\n', "b.toml")
    tax = load_taxonomy([a, b])
    assert tax.theme_names == ["养老"]
    theme = tax.themes[0]
    assert theme.parent == "社会"
    assert theme.weights == {"老年人": 2.0, "敬老院": 1.0}


@pytest.mark.parametrize("body,message", [
    ("[[themes]\n", "not valid TOML"),
    ("[taxonomy]\nname = 'x'\n", "no themes"),
    ('[[themes]]\nkeywords = ["老年人"]\n', "no 'theme' name"),
    ('[[themes]]\ntheme = "养老"\n', "no keywords"),
    ('[[themes]]\ntheme = "养老"\nkeywords = "老年人"\n', "must be a list"),
    ('[[themes]]\ntheme = "养老"\nkeywords = ["老"]\n', "one character"),
    ('[[themes]]\ntheme = "养老"\nkeywords = ["老年人"]\n[themes.weights]\n"敬老院" = -1\n',
     "positive number"),
    ('[[themes]]\ntheme = "养老"\nkeyword = ["老年人"]\n', "unknown key"),
    ('[taxonomy]\nmin_score = "high"\n[[themes]]\ntheme = "养老"\nkeywords = ["老年人"]\n',
     "min_score"),
])
def test_bad_taxonomy_files_name_the_file_and_the_problem(tmp_path, body, message):
    p = write(tmp_path, body, "mine.toml")
    with pytest.raises(ValueError, match=message) as err:
        load_taxonomy(p)
    assert "mine.toml" in str(err.value)


def test_missing_or_non_utf8_taxonomy_file(tmp_path):
    with pytest.raises(ValueError, match="nothere.toml"):
        load_taxonomy(tmp_path / "nothere.toml")
    p = tmp_path / "gbk.toml"
    p.write_bytes('[[themes]]\ntheme = "养老"\nkeywords = ["老年人"]\n'.encode("gbk"))
    with pytest.raises(ValueError, match="not UTF-8"):
        load_taxonomy(p)


ROWS = [
    {"article_id": "a1", "theme": "为老服务", "parent": "社会", "score": 6.0},
    {"article_id": "a1", "theme": "党建引领", "parent": "时政", "score": 3.0},
    {"article_id": "a2", "theme": "为老服务", "parent": "社会", "score": 4.0},
    {"article_id": "a2", "theme": "助残扶残", "parent": "社会", "score": 2.0},
    {"article_id": "a3", "theme": "党建引领", "parent": "时政", "score": 5.0},
]


def test_theme_shares_count_articles_once():
    rows = theme_shares(ROWS, n_articles=4)
    by_theme = {r["theme"]: r for r in rows}
    assert [r["theme"] for r in rows] == ["为老服务", "党建引领", "助残扶残"]
    assert by_theme["为老服务"]["articles"] == 2
    assert by_theme["为老服务"]["share"] == pytest.approx(0.5)
    assert by_theme["为老服务"]["mean_score"] == pytest.approx(5.0)
    assert by_theme["助残扶残"]["parent"] == "社会"
    parents = {r["theme"]: r["articles"] for r in theme_shares(ROWS, 4, by="parent")}
    assert parents == {"社会": 2, "时政": 2}  # a2 counts once for 社会
    assert theme_shares([], 0) == []
    with pytest.raises(ValueError, match="article_id"):
        theme_shares([{"theme": "x"}], 1)


def test_themes_by_month_uses_dated_articles_only():
    dates = {"a1": "2022-08-04", "a2": "2022-08-30", "a3": "2022-09-01", "a4": None, "a5": "2022-09-15"}
    rows = themes_by_month(ROWS, dates)
    assert [(r["month"], r["theme"], r["articles"], r["month_articles"]) for r in rows] == [
        ("2022-08", "为老服务", 2, 2),
        ("2022-08", "党建引领", 1, 2),
        ("2022-08", "助残扶残", 1, 2),
        ("2022-09", "党建引领", 1, 2),
    ]
    assert rows[-1]["share"] == pytest.approx(0.5)
    assert themes_by_month(ROWS, {"a1": None, "a2": "not a date"}) == []
    by_parent = themes_by_month(ROWS, dates, by="parent")
    assert ("2022-08", "社会", 2) in [(r["month"], r["theme"], r["articles"]) for r in by_parent]


def test_fold_lower_is_fold_width_then_lower_for_any_text():
    import random

    from pipeline.extract.themes import _fold_lower
    from pipeline.text import fold_width

    rng = random.Random(2)
    # full-width forms and their edges, the ideographic space, astral characters,
    # lone surrogates (a high then a low one must not pair up) and case changes
    alphabet = "ａＡＺｚ！～\u3000\uff5f\uff00\ud800\udc00\U00020000Aa社\u0130Σ "
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _fold_lower(text) == fold_width(text).lower(), repr(text)
