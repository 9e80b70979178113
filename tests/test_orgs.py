"""Organization recognition, alias resolution and typing (issue 4)."""
from __future__ import annotations

import re
import shutil
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.extract.orgs import extract_orgs, org_id, resolve_organizations
from pipeline.extract.orgs_lexicon import OrgDataError, data_dir, load_lexicon
from pipeline.model import ORG_TYPES, Mention
from pipeline.segment import segment

from conftest import SEED_PAGE

#: a byline closes an article's body on the seed page: （民政）, （李士明/摄）
_BYLINE_LINE = re.compile(r"（[^（）\d]{1,10}）\s*$")


def seed_articles() -> list[str]:
    """The seed page's printed lines joined back, cut after each byline.

    The headlines that follow a byline ride along with the next article's
    text; none of them names an organization, so that does not matter here
    (reflowing and splitting the page properly is the ingest stage's job).
    """
    articles, current = [], []
    for line in SEED_PAGE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        current.append(line)
        if _BYLINE_LINE.search(line):
            articles.append("".join(current))
            current = []
    if current:   # the last article's headline, after its byline
        articles[-1] += "".join(current)
    return articles


@pytest.fixture(scope="module")
def seed_mentions() -> list[list[Mention]]:
    return [extract_orgs(text) for text in seed_articles()]


def _by_text(mentions) -> dict:
    out: dict = {}
    for m in mentions:
        out.setdefault(m.text, []).append(m)
    return out


# ------------------------------------------------------------------------------------------
# the seed page
# ------------------------------------------------------------------------------------------

def test_seed_page_splits_into_five_articles():
    assert len(seed_articles()) == 5


def test_seed_every_named_organization_is_found(seed_mentions):
    canonicals = {m.canonical for ms in seed_mentions for m in ms}
    for name in ("苍南县民政局", "苍南县慈善总会", "苍南县民健社", "苍南县社会组织促进会",
                 "苍南县人民政府台湾事务办公室", "苍南县精神文明建设指导中心",
                 "苍南县传统文化促进会", "苍南县唐风职业技能培训学校", "民政部", "财政部",
                 "教育部", "苍南县委两新工委"):
        assert name in canonicals, name


def test_seed_aliases_resolve_within_the_article(seed_mentions):
    expected = {"县民政局": "苍南县民政局", "民健社": "苍南县民健社",
                "县慈善总会": "苍南县慈善总会", "该局": "苍南县民政局",
                "县社会组织促进会": "苍南县社会组织促进会", "县委两新工委": "苍南县委两新工委"}
    seen = Counter()
    for mentions in seed_mentions:
        for m in mentions:
            if m.text in expected:
                assert m.canonical == expected[m.text], m
                seen[m.text] += 1
    assert set(seen) == set(expected)
    assert seen["县民政局"] == 2 and seen["县慈善总会"] == 2


def test_seed_anaphor_points_back_to_the_bureau(seed_mentions):
    first = seed_mentions[0]
    anaphor = next(m for m in first if m.text == "该局")
    antecedent = next(m for m in first if m.text == "苍南县民政局")
    assert antecedent.start < anaphor.start
    assert anaphor.type == "government"


def test_seed_types(seed_mentions):
    type_of = {m.canonical: m.type for ms in seed_mentions for m in ms}
    assert type_of["苍南县民政局"] == "government"
    assert type_of["民政部"] == "government"
    assert type_of["苍南县人民政府台湾事务办公室"] == "government"
    assert type_of["苍南县慈善总会"] == "social_organization"
    assert type_of["苍南县民健社"] == "social_organization"
    assert type_of["苍南县传统文化促进会"] == "social_organization"
    assert type_of["苍南县唐风职业技能培训学校"] == "school"
    assert type_of["苍南县委两新工委"] == "party"


def test_seed_offsets_slice_back_sorted_and_disjoint(seed_mentions):
    for text, mentions in zip(seed_articles(), seed_mentions):
        assert mentions
        previous_end = 0
        for m in mentions:
            assert text[m.start:m.end] == m.text
            assert m.start >= previous_end
            assert m.type in ORG_TYPES
            previous_end = m.end


def test_seed_meetings_and_classes_of_bodies_are_not_organizations(seed_mentions):
    texts = {m.text for ms in seed_mentions for m in ms}
    for text in texts:
        # 工作推进会 and 评审会 are meetings; 56家社会组织, 16支…救援队 are classes
        assert not text.endswith(("推进会", "评审会", "协调会")), text
        assert "社会组织应急救援队" not in text, text
    assert "该项助学活动" not in texts


def test_caller_tokens_give_the_same_mentions():
    text = seed_articles()[1]
    assert extract_orgs(text, tokens=segment(text)) == extract_orgs(text)


def test_excluded_spans_are_never_overlapped():
    text = "由苍南县民政局主办、苍南县慈善总会承办。"
    start = text.index("苍南县民政局")
    mentions = extract_orgs(text, exclude=[(start, start + 3)])
    assert all(m.end <= start or m.start >= start + 3 for m in mentions)
    assert [m.text for m in mentions] == ["苍南县慈善总会"]


# ------------------------------------------------------------------------------------------
# People's Daily style
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("新华社北京3月5日电国务院总理今天在人民大会堂会见了联合国秘书长。",
     {"新华社": "media", "国务院": "government", "联合国": "international"}),
    ("据美国《时代》周刊报道，美国财政部长鲁宾16日在纽约说，美元将保持坚挺。",
     {"美国《时代》周刊": "media", "美国财政部": "government"}),
    ("省委书记张德江今天到长沙市芙蓉区人民法院和湘乡市公安局调研。",
     {"省委": "party", "芙蓉区人民法院": "judicial", "湘乡市公安局": "judicial"}),
    ("北京大学和清华大学的学生参加了中国足协主办的比赛，海尔集团提供赞助。",
     {"北京大学": "school", "清华大学": "school", "中国足协": "social_organization",
      "海尔集团": "enterprise"}),
    ("昨天，中国红十字会向南京鼓楼医院捐赠了一批药品。",
     {"中国红十字会": "social_organization", "南京鼓楼医院": "hospital"}),
    ("全国人大常委会副委员长在会上说，欧盟和世界银行都表示支持。",
     {"全国人大常委会": "government", "欧盟": "international", "世界银行": "international"}),
])
def test_people_daily_style_sentences(text, expected):
    mentions = extract_orgs(text)
    found = {m.text: m.type for m in mentions}
    assert found == expected
    for m in mentions:
        assert text[m.start:m.end] == m.text


def test_sub_unit_joins_its_body_and_takes_its_type():
    mentions = extract_orgs("中国共产党友好代表团今天抵达哈瓦那，北京大学化学系派人迎接。")
    assert {m.text: m.type for m in mentions} == {"中国共产党友好代表团": "party",
                                                  "北京大学化学系": "school"}


def test_county_committee_takes_the_county_name_before_it():
    mentions = extract_orgs("清丰县委从选拔干部的工作入手。")
    assert [(m.text, m.type) for m in mentions] == [("清丰县委", "party")]


def test_verbs_that_look_like_suffixes_are_not_heads():
    # 组织 and 报 are verbs here: 县组织机关干部…, 收盘报3000点
    assert extract_orgs("河北栾城县组织机关干部进行军训，深成指收盘报3000点。") == []


def test_gazetteer_abbreviation_resolves_to_the_full_name():
    mentions = extract_orgs("央行和银监会今天联合发布通知。")
    assert {m.text: (m.canonical, m.type) for m in mentions} == {
        "央行": ("中国人民银行", "government"),
        "银监会": ("中国银行业监督管理委员会", "government")}


def test_common_words_ending_like_organizations_are_not_names():
    text = "各级干部要服从大局，全部社会力量共同参与，形成新格局；他学会了游泳。"
    assert extract_orgs(text) == []


def test_a_counted_class_of_bodies_is_not_a_name():
    assert extract_orgs("全县组织56家社会组织结对78个村社。") == []


def test_dictionary_name_of_a_body_stands_alone():
    # jieba's dictionary lists 民政厅 and 货币联盟 as organizations (nt): names
    # without a place
    mentions = extract_orgs("民政厅这一重大经济案件，牵涉加入货币联盟的问题。")
    assert [(m.text, m.type) for m in mentions] == [("民政厅", "government"),
                                                    ("货币联盟", "social_organization")]


def test_title_after_a_named_body_is_not_split_into_another_body():
    # 内务部|代理|部长: the 部长 is the ministry's, not a 代理部
    mentions = extract_orgs("他在政府解散后被任命为内务部代理部长。")
    assert [m.text for m in mentions] == ["内务部"]


def test_term_of_an_elected_body_is_part_of_its_name():
    mentions = extract_orgs("会议决定提请第六届全国人大第二次会议审议。")
    assert [m.text for m in mentions] == ["第六届全国人大"]
    # six terms of county secretaries count people, not a body's term
    mentions = extract_orgs("恭城先后换了六届县委书记。")
    assert [m.text for m in mentions] == ["县委"]


def test_lone_verb_character_heads_a_name_only_after_a_place():
    assert extract_orgs("常恒光花小钱办大事，乃是良策。") == []
    assert [m.text for m in extract_orgs("他到灵溪镇街道办咨询。")] == ["灵溪镇街道办"]


def test_country_with_a_class_head_is_a_class_of_bodies():
    assert extract_orgs("主要由美国公司、企业的在京机构组成。") == []
    assert [m.text for m in extract_orgs("中国银行率先开办这项业务。")] == ["中国银行"]


def test_kinds_of_banks_are_not_names():
    assert extract_orgs("这些外资银行和多家商业银行都表示关注。") == []


def test_foreign_name_in_parts_is_one_name():
    mentions = extract_orgs("进而中断与佩诺—里加集团签订的代销合同，美国洛克希德·马丁公司宣布裁员。")
    assert [m.text for m in mentions] == ["佩诺—里加集团", "美国洛克希德·马丁公司"]


def test_place_abbreviation_without_a_place_stays_as_written():
    mentions = extract_orgs("县民政局要求各地做好救助工作。")
    assert [(m.text, m.canonical) for m in mentions] == [("县民政局", "县民政局")]


def test_anaphor_without_antecedent_is_dropped():
    assert extract_orgs("该局表示将加强监管。") == []


def test_anaphors_point_to_the_nearest_matching_body():
    text = "苍南县民政局和苍南县慈善总会召开会议。该局局长说，本会将配合。人民日报发表社论。本报讯"
    found = {m.text: m.canonical for m in extract_orgs(text)}
    assert found["该局"] == "苍南县民政局"
    assert found["本会"] == "苍南县慈善总会"
    assert "本报" not in found   # our own paper, not the one named before


# ------------------------------------------------------------------------------------------
# the corpus
# ------------------------------------------------------------------------------------------

def _corpus() -> dict:
    texts = {
        "a1": "苍南县民健社和苍南县民政局联合开展助老活动。",
        "a2": "民健社的志愿者走访了困难家庭，县民政局给予支持。",
        "a3": "平阳县民政局召开会议，央行派员参加。",
    }
    return {aid: extract_orgs(text) for aid, text in texts.items()}


def test_resolve_organizations_merges_short_forms_across_articles():
    organizations, mentions = resolve_organizations(_corpus())
    by_name = {o["canonical"]: o for o in organizations}
    assert by_name["苍南县民健社"]["aliases"] == ["民健社", "苍南县民健社"]
    assert by_name["苍南县民健社"]["n_mentions"] == 2
    assert by_name["苍南县民健社"]["n_articles"] == 2
    assert by_name["苍南县民健社"]["type"] == "social_organization"
    assert [m.canonical for m in mentions["a2"]][0] == "苍南县民健社"
    # two counties have a 民政局 in this corpus: 县民政局 stays ambiguous
    assert "县民政局" in by_name
    assert by_name["中国人民银行"]["aliases"] == ["央行"]


def test_resolve_organizations_table_shape_and_order():
    organizations, mentions = resolve_organizations(_corpus())
    assert [o["n_mentions"] for o in organizations] == \
        sorted((o["n_mentions"] for o in organizations), reverse=True)
    for o in organizations:
        assert set(o) == {"org_id", "canonical", "type", "aliases", "n_mentions", "n_articles"}
        assert o["org_id"] == org_id(o["canonical"])
        assert o["type"] in ORG_TYPES
        assert o["aliases"] == sorted(o["aliases"])
    assert sum(o["n_mentions"] for o in organizations) == sum(len(ms) for ms in mentions.values())
    assert list(mentions) == ["a1", "a2", "a3"]


def test_resolve_organizations_resolves_abbreviated_place_when_unique():
    corpus = {"x": extract_orgs("苍南县民政局发布通知。"), "y": extract_orgs("县民政局表示欢迎。")}
    organizations, mentions = resolve_organizations(corpus)
    assert [o["canonical"] for o in organizations] == ["苍南县民政局"]
    assert mentions["y"][0].canonical == "苍南县民政局"


def test_org_ids_are_stable_and_distinct():
    assert org_id("苍南县民政局") == org_id("苍南县民政局")
    assert org_id("苍南县民政局") != org_id("苍南县慈善总会")


def test_resolution_is_deterministic_whatever_the_input_order():
    corpus = _corpus()
    reversed_corpus = dict(reversed(list(corpus.items())))
    assert resolve_organizations(corpus)[0] == resolve_organizations(reversed_corpus)[0]
    assert extract_orgs(seed_articles()[0]) == extract_orgs(seed_articles()[0])


def test_empty_corpus():
    assert resolve_organizations({}) == ([], {})


# ------------------------------------------------------------------------------------------
# odd input and bad data
# ------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(list("苍南县民政局该局会中心社队部委《》“”（）、，。 \n12３Ａa")
                                + ["省委", "公司", "大学", "新华社", "人民法院", "长", "书记"]),
                max_size=40).map("".join))
def test_odd_input_never_crashes(text):
    mentions = extract_orgs(text)
    previous_end = 0
    for m in mentions:
        assert text[m.start:m.end] == m.text
        assert m.start >= previous_end and m.end > m.start
        assert m.type in ORG_TYPES
        previous_end = m.end
    resolve_organizations({"x": mentions})


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40))
def test_any_unicode_never_crashes(text):
    for m in extract_orgs(text):
        assert text[m.start:m.end] == m.text


def test_tokens_of_another_text_do_not_crash():
    assert isinstance(extract_orgs("苍南县民政局", tokens=segment("苍南县民政局和苍南县慈善总会")), list)


def test_malformed_data_file_names_the_file(tmp_path):
    folder = tmp_path / "orgs"
    shutil.copytree(data_dir(), folder)
    (folder / "suffixes.tsv").write_text("局\tgovernment\n", encoding="utf-8")
    with pytest.raises(OrgDataError, match=r"suffixes\.tsv:1"):
        load_lexicon(str(folder))


def test_unknown_type_in_gazetteer_is_reported(tmp_path):
    folder = tmp_path / "orgs"
    shutil.copytree(data_dir(), folder)
    (folder / "gazetteer.tsv").write_text("新华社\tnewspaper\n", encoding="utf-8")
    with pytest.raises(OrgDataError, match="gazetteer.tsv.*newspaper"):
        load_lexicon(str(folder))


def test_missing_data_file_is_reported(tmp_path):
    folder = tmp_path / "orgs"
    shutil.copytree(data_dir(), folder)
    (folder / "places.tsv").unlink()
    with pytest.raises(OrgDataError, match="places.tsv"):
        load_lexicon(str(folder))


@pytest.mark.parametrize("name", ["class_heads.txt", "term_bodies.txt", "team_heads.txt",
                                  "quote_cues.txt"])
def test_missing_new_data_files_are_reported(tmp_path, name):
    folder = tmp_path / "orgs"
    shutil.copytree(data_dir(), folder)
    (folder / name).unlink()
    with pytest.raises(OrgDataError, match=name.replace(".", r"\.")):
        load_lexicon(str(folder))


def test_items_of_a_list_the_text_calls_organizations_are_names():
    text = "其中壹加壹、同城爱心、民健社、群鹰救援等社会组织社会影响力越来越大。"
    found = {m.text: m.type for m in extract_orgs(text)}
    assert found == {"壹加壹": "social_organization", "同城爱心": "social_organization",
                     "民健社": "social_organization", "群鹰救援": "social_organization"}
    # a name the list introduced is a mention wherever else the article repeats it
    later = extract_orgs(text + "如2018年同城爱心的点亮空间项目入选。")
    assert [m.text for m in later].count("同城爱心") == 2
    # the cue needs a class noun of organizations, and places are never items
    assert extract_orgs("北京、上海等城市的企业纷纷响应。") == []
    assert extract_orgs("包括北京、上海等社会组织较多的城市。") == []
    kinds = {m.text: m.type for m in extract_orgs("阿里巴巴、腾讯、百度等企业纷纷入局。")}
    assert kinds == {"阿里巴巴": "enterprise", "腾讯": "enterprise", "百度": "enterprise"}


def test_a_users_data_folder_replaces_the_shipped_lexicon(tmp_path):
    import shutil
    folder = tmp_path / "orgs"
    shutil.copytree(data_dir(), folder)
    with open(folder / "gazetteer.tsv", "a", encoding="utf-8") as fh:
        fh.write("\n星火读书会\tsocial_organization\n")
    text = "星火读书会昨天举办了活动。"
    assert extract_orgs(text) == []
    (m,) = extract_orgs(text, data_dir=str(folder))
    assert (m.text, m.type) == ("星火读书会", "social_organization")


def test_the_runs_config_reaches_the_recognizer(tmp_path):
    import shutil
    from pipeline.runner import run
    import pandas as pd
    shutil.copytree(data_dir(), tmp_path / "orgs")
    with open(tmp_path / "orgs" / "gazetteer.tsv", "a", encoding="utf-8") as fh:
        fh.write("\n星火读书会\tsocial_organization\n")
    (tmp_path / "my.toml").write_text('[orgs]\ndata_dir = "orgs"\n', encoding="utf-8")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("星火读书会昨天举办了读书活动，共有30人参加。\n", encoding="utf-8")
    from pipeline.config import load_config
    run([str(tmp_path / "in")], str(tmp_path / "out"), workers=1,
        config=load_config(str(tmp_path / "my.toml")))
    orgs = pd.read_parquet(tmp_path / "out" / "tables" / "organizations.parquet")
    assert "星火读书会" in set(orgs["canonical"])


def test_countries_named_as_teams_are_organizations():
    # a country joined to a country's team is a team too
    found = [m.text for m in extract_orgs("这其中，美国和俄罗斯队各具特色。")]
    assert found == ["美国", "俄罗斯队"]
    # the countries a tournament's group lists
    text = "八强已经产生：e组的美国、俄罗斯、立陶宛、西班牙，f组的澳大利亚、巴西。"
    assert [m.text for m in extract_orgs(text)] == ["美国", "俄罗斯", "立陶宛", "西班牙",
                                                    "澳大利亚", "巴西"]
    # countries listed before 等强队
    text = "保证在对中国、丹麦、韩国、马来西亚等强队时稳取一分。"
    assert [m.text for m in extract_orgs(text)] == ["中国", "丹麦", "韩国", "马来西亚"]
    # without such a cue a country is a place
    assert extract_orgs("中国、美国、日本等国家的代表出席了会议。") == []
    assert extract_orgs("美国和俄罗斯签署了条约。") == []


def test_a_listed_country_team_is_a_place_elsewhere_in_the_article():
    text = "保证在对中国、丹麦等强队时稳取一分。中国经济保持增长。"
    assert [m.start for m in extract_orgs(text) if m.text == "中国"] == [text.index("中国")]


def test_quoted_name_after_a_founding_cue_is_one_name():
    (m,) = extract_orgs("并成立“防汛救灾领导小组”，同时积极与水利部门联系。")
    assert (m.text, m.type) == ("防汛救灾领导小组", "government")
    (m,) = extract_orgs("指责印度情报部门“调查和分析局”策划了爆炸。")
    assert m.text == "调查和分析局"
    # a quoted honour without the cue is no name
    assert all(m.text != "先进集体党支部"
               for m in extract_orgs("该村被评为“先进集体党支部”。"))


def test_unfolded_punctuation_is_in_no_data_entry():
    # _fold leaves this punctuation full-width because no pattern or data
    # entry holds it in either width; a data entry holding it would need it folded
    from pipeline.extract import orgs as orgs_module
    from pipeline.text import fold_width
    lex = load_lexicon()
    unfolded = set(orgs_module._UNFOLDED) | {fold_width(c) for c in orgs_module._UNFOLDED}
    entries = [*lex.gazetteer, *lex.blocked, *lex.suffixes, *lex.places, *lex.titles,
               *lex.admin_suffixes, *lex.list_classes, *lex.media_cues, *lex.quote_cues,
               *lex.team_heads, *lex.anaphor_heads, *lex.determiners, *lex.term_bodies]
    assert not [e for e in entries if unfolded & set(e)]


def test_fold_changes_only_what_the_patterns_read():
    from pipeline.extract.orgs import _UNFOLDED, _fold
    from pipeline.text import fold_width
    text = "ＴＣＬ集团，２００５年（全年）增长１０％！俄通社－塔斯社：好？"
    folded = _fold(text)
    assert len(folded) == len(text)
    assert folded == "".join(c if c in _UNFOLDED else fold_width(c) for c in text)
    assert [m.text for m in extract_orgs(text)] == ["ＴＣＬ集团", "俄通社－塔斯社"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["新华社", "TCL", "中国", "人民银行", "央行", "欧盟", "，", "x",
                                 "俄通社-塔斯社", "的", "国务院", "务", "院", "\U0001F600", "中"]),
                max_size=30))
def test_gazetteer_scan_matches_the_gazetteer_regex(parts):
    lex = load_lexicon()
    text = "".join(parts)
    expected = [(m.start(), m.end(), m.group()) for m in lex.gazetteer_re.finditer(text)]
    assert lex.gazetteer_matches(text) == expected


def test_a_name_in_apposition_after_a_dash_is_found_however_jieba_cut_it():
    # 首家<class>——<place><own name><the same head>: the words after the dash,
    # up to the head its class ends in, name the body
    text = "全市首家社区养老服务中心——城关镇幸福里社区养老服务中心昨日挂牌，该中心有床位30张。"
    found = extract_orgs(text)
    assert [m.text for m in found][:1] == ["城关镇幸福里社区养老服务中心"]
    assert found[-1].text == "该中心" and found[-1].canonical == "城关镇幸福里社区养老服务中心"
    # without a place at its start the words after the dash are not a name
    text = "他们建起了首家服务中心——大家共同的服务中心。"
    assert all(m.start != text.index("——") + 2 for m in extract_orgs(text))


def test_the_seed_estate_owners_centre_is_found_and_its_anaphor_resolved():
    from pipeline.ingest import read_documents
    from tests.conftest import SEEDS
    mentions = [m for d in read_documents([str(SEEDS)]) for a in d.articles
                for m in extract_orgs(a.text)]
    owners = [m for m in mentions if m.text.endswith("业主服务中心")]
    assert [(m.text, m.canonical, m.type) for m in owners] == [
        ("灵溪镇天和一二期小区业主服务中心", "灵溪镇天和一二期小区业主服务中心", "social_organization"),
        ("该小区业主服务中心", "灵溪镇天和一二期小区业主服务中心", "social_organization")]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["新华社", "TCL", "中国", "人民银行", "央行", "欧盟", "，", "x",
                                 "俄通社-塔斯社", "的", "国务院", "务", "院", "\U0001F600", "中",
                                 "\ud800", "新", "华", "社会"]),
                min_size=60, max_size=200))
def test_gazetteer_scan_of_an_article_matches_the_gazetteer_regex(parts):
    # an article-long text is masked on an array: every occurrence must survive
    lex = load_lexicon()
    text = "".join(parts)
    expected = [(m.start(), m.end(), m.group()) for m in lex.gazetteer_re.finditer(text)]
    assert lex.gazetteer_matches(text) == expected


def test_a_gazetteer_scan_masks_only_what_no_name_can_use():
    from pipeline.extract.orgs_lexicon import GazetteerScan
    scan = GazetteerScan(["新华社", "欧盟", "央"])
    text = "新华书店和欧洲，央" + "的" * 200 + "新华社记者\U0001F600"
    masked = scan.masked(text)
    assert len(masked) == len(text)
    kept = "".join(ch for ch in masked if ch != "\x01")
    # 新华 are a pair of a name (书 is not), 欧 and 洲 are not, 央 is a name alone
    assert kept == "新华央新华社"


def test_fold_of_an_article_is_the_fold_of_a_sentence():
    from pipeline.extract.orgs import _UNFOLDED, _fold
    from pipeline.text import fold_width
    text = ("ＴＣＬ集团，２００５年（全年）增长１０％！俄通社－塔斯社：好？\u3000\U0001F600\ud800" * 8)
    assert len(text) > 150
    assert _fold(text) == "".join(c if c in _UNFOLDED else fold_width(c) for c in text)


def test_jieba_tag_table_is_cached_and_read_back(tmp_path, monkeypatch):
    from pipeline.extract import orgs_lexicon
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parsed = orgs_lexicon._jieba_dictionary_tags()   # parsed, then written
    tables = list(orgs_lexicon.tag_cache_dir().iterdir())
    assert len(tables) == 1
    assert orgs_lexicon._jieba_dictionary_tags() == parsed   # read back
    assert parsed["中国"] == "ns" and parsed["的"] == "uj"
    # a table that is not whole (a line lost, one cut short) is parsed again and rewritten
    lines = tables[0].read_text(encoding="utf-8").split("\n")
    for broken in (lines[:4] + lines[5:], lines[:4] + [lines[4][:100]] + lines[5:]):
        tables[0].write_text("\n".join(broken), encoding="utf-8")
        assert orgs_lexicon._jieba_dictionary_tags() == parsed
        assert tables[0].read_text(encoding="utf-8").split("\n") == lines


def test_jieba_tags_without_a_writable_cache_folder(tmp_path, monkeypatch):
    from pipeline.extract import orgs_lexicon
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))   # the cache folder cannot be made
    tags = orgs_lexicon._jieba_dictionary_tags()
    assert tags["中国"] == "ns"
