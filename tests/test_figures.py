"""The figure extractor against the figure contract (shared/spec/figures.md)."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.extract.figures import extract_figures
from pipeline.model import FIGURE_KINDS, QUALIFIERS

SEED = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))[0]


@pytest.fixture(scope="module")
def seed_text():
    """The seed page with its printed lines joined (what reflow does to a body)."""
    raw = SEED.read_text(encoding="utf-8")
    return "".join(line.strip() for line in raw.splitlines() if line.strip())


@pytest.fixture(scope="module")
def seed_figures(seed_text):
    return extract_figures(seed_text, base_date="2022")


def find(figures, text, nth=0):
    hits = [f for f in figures if f.text == text]
    assert len(hits) > nth, f"{text!r} not extracted; got {[f.text for f in figures]}"
    return hits[nth]


def one(text, **kw):
    figs = extract_figures(text, **kw)
    assert len(figs) == 1, [(f.text, f.kind) for f in figs]
    return figs[0]


# ------------------------------------------------------------------ the seed page

def test_seed_money_with_qualifier(seed_figures):
    f = find(seed_figures, "500多万元")
    assert (f.kind, f.value, f.low, f.high, f.unit, f.qualifier) == ("money", 5_000_000, 5_000_000, None, "CNY", "more")


def test_seed_money_decimal_wan(seed_figures):
    f = find(seed_figures, "1734.8万元")
    assert (f.kind, f.value, f.unit, f.qualifier) == ("money", 17_348_000, "CNY", None)


def test_seed_counts_with_objects(seed_figures):
    f = find(seed_figures, "56家")
    assert (f.kind, f.value, f.unit, f.object) == ("count", 56, "家", "社会组织")
    f = find(seed_figures, "920家")  # 现有登记社会组织920家: the object comes first
    assert (f.kind, f.value, f.object) == ("count", 920, "社会组织")
    f = find(seed_figures, "3469位")
    assert (f.kind, f.value, f.unit) == ("count", 3469, "位")
    f = find(seed_figures, "800余名")
    assert (f.value, f.low, f.qualifier) == (800, 800, "more")


def test_seed_money_range_from_context(seed_figures):
    f = find(seed_figures, "1-5万")  # 获得1-5万不等资金资助
    assert (f.kind, f.value, f.low, f.high, f.unit) == ("money", None, 10_000, 50_000, "CNY")


def test_seed_ocr_spaces_do_not_break_figures(seed_figures):
    f = find(seed_figures, "5000 元")  # 补 助 5000 元
    assert (f.kind, f.value, f.unit) == ("money", 5000, "CNY")
    assert find(seed_figures, "8000 元").value == 8000
    assert find(seed_figures, "60 多家").low == 60


def test_seed_dates(seed_figures):
    f = find(seed_figures, "今年七夕")
    assert (f.kind, f.date) == ("date", "2022-08-04")
    assert find(seed_figures, "2008年").date == "2008"
    assert find(seed_figures, "2022 年度").date == "2022"
    assert find(seed_figures, "3·3").date == "2022-03-03"
    assert find(seed_figures, "4·2").date == "2022-04-02"
    f = find(seed_figures, "第15个年头")
    assert (f.kind, f.value) == ("ordinal", 15)


def test_seed_not_figures(seed_figures, seed_text):
    texts = {f.text for f in seed_figures}
    for phrase in ("壹加壹", "五社联动", "六星争创", "一二期", "十佳", "一次性", "首家", "一是", "二是", "三是"):
        assert phrase in seed_text
        start = seed_text.index(phrase)
        assert not any(f.start < start + len(phrase) and start < f.end for f in seed_figures
                       if seed_text[f.start:f.end] != phrase), phrase
        assert phrase not in texts
    # the year inside a book title is not a figure
    title = seed_text.index("《2022年")
    assert not any(title < f.start < title + 20 for f in seed_figures)


def test_seed_offsets_slice_back(seed_figures, seed_text):
    assert seed_figures == sorted(seed_figures, key=lambda f: f.start)
    for a, b in zip(seed_figures, seed_figures[1:]):
        assert a.end <= b.start
    for f in seed_figures:
        assert seed_text[f.start:f.end] == f.text
        assert f.kind in FIGURE_KINDS
        assert f.qualifier is None or f.qualifier in QUALIFIERS


def test_seed_without_base_date_leaves_relative_dates_null(seed_text):
    figs = extract_figures(seed_text)
    assert find(figs, "今年七夕").date is None
    assert find(figs, "2008年").date == "2008"


# ------------------------------------------------------------------ numeral forms and kinds

@pytest.mark.parametrize("text, span, kind, value, unit", [
    ("共有１２３家企业", "１２３家", "count", 123, "家"),
    ("增长８．３％", "８．３％", "percent", 8.3, "%"),
    ("共三千二百人参加", "三千二百人", "count", 3200, "人"),
    ("捐款壹仟贰佰元", "壹仟贰佰元", "money", 1200, "CNY"),
    ("投资3千万元", "3千万元", "money", 30_000_000, "CNY"),
    ("约1.2万人", "约1.2万人", "count", 12000, "人"),
    ("九万四千元", "九万四千元", "money", 94000, "CNY"),
    ("一千三百吨", "一千三百吨", "quantity", 1300, "吨"),
    ("观众82,225人", "82,225人", "count", 82225, "人"),
    ("观众82，225人", "82，225人", "count", 82225, "人"),
    ("花费500美元", "500美元", "money", 500, "USD"),
    ("3英镑", "3英镑", "money", 3, "GBP"),
    ("面积11.7万平方米", "11.7万平方米", "quantity", 117000, "平方米"),
    ("王某３２岁", "３２岁", "quantity", 32, "岁"),
    ("百分之十五的人", "百分之十五", "percent", 15, "%"),
    ("六成以上", "六成以上", "percent", 60, "%"),
    ("打八折", "八折", "percent", 80, "%"),
    ("下调3个百分点", "3个百分点", "percent", 3, "pp"),
    ("下调２５个基点", "２５个基点", "quantity", 25, "个基点"),
    ("三分之一的面积", "三分之一", "percent", 33.33, "%"),
    ("历时两个月", "两个月", "duration", 2, "个月"),
    ("持续24小时", "24小时", "duration", 24, "小时"),
    ("用了15天", "15天", "duration", 15, "天"),
    ("第２６次会议", "第２６次", "ordinal", 26, None),
    ("居全省第一。", "第一", "ordinal", 1, None),
    ("气温零下5度", "零下5度", "quantity", -5, "度"),
    ("收盘报2226.55点", "2226.55点", "quantity", 2226.55, "点"),
    ("ＰＭＩ从５２．８升至", "５２．８", "number", 52.8, None),
])
def test_kinds_and_values(text, span, kind, value, unit):
    f = one(text, base_date="2012-06-12")
    assert (f.text, f.kind, f.unit) == (span, kind, unit)
    assert f.value == pytest.approx(value)


@pytest.mark.parametrize("text, span, qualifier, value, low, high", [
    ("达 60余家", "60余家", "more", 60, 60, None),
    ("近3000人", "近3000人", "about", 3000, None, None),
    ("3000人左右", "3000人左右", "about", 3000, None, None),
    ("至少5人", "至少5人", "at_least", 5, 5, None),
    ("不到10%", "不到10%", "less", 10, None, 10),
    ("超过100人", "超过100人", "more", 100, 100, None),
    ("逾千名", "逾千名", "more", 1000, 1000, None),
    ("上百人", "上百人", "more", 100, 100, None),
    ("最多3次", "最多3次", "at_most", 3, None, 3),
    ("２５０余吨炸药", "２５０余吨", "more", 250, 250, None),
    ("１０万余只非法枪支", "１０万余只", "more", 100_000, 100_000, None),
    ("６万余元", "６万余元", "more", 60_000, 60_000, None),
    ("三个多月", "三个多月", "more", 3, 3, None),
    ("至少有１１６人", "１１６人", "at_least", 116, 116, None),
    ("最近１４起病例", "１４起", None, 14, None, None),
])
def test_qualifiers(text, span, qualifier, value, low, high):
    f = one(text)
    assert (f.text, f.qualifier, f.value, f.low, f.high) == (span, qualifier, value, low, high)


@pytest.mark.parametrize("text, span, low, high, unit", [
    ("10至15人", "10至15人", 10, 15, "人"),
    ("三四十人", "三四十人", 30, 40, "人"),
    ("从8500到3万元", "从8500到3万元", 8500, 30000, "CNY"),
    ("28－40岁", "28－40岁", 28, 40, "岁"),
    ("5万至10万元", "5万至10万元", 50000, 100000, "CNY"),
    ("20%-30%", "20%-30%", 20, 30, "%"),
])
def test_ranges(text, span, low, high, unit):
    f = one(text)
    assert (f.text, f.value, f.low, f.high, f.unit) == (span, None, low, high, unit)


@pytest.mark.parametrize("text, span, low, high", [
    ("甚至数十个国家", "数十个", 20, 90), ("十几人", "十几人", 11, 19), ("几千人次", "几千人次", 2000, 9000),
])
def test_vague_numerals_are_rough_ranges(text, span, low, high):
    f = one(text)
    assert (f.text, f.value, f.low, f.high, f.qualifier) == (span, None, low, high, "about")


def test_counted_object_after_and_before():
    f = one("抓获犯罪嫌疑人２３名，")
    assert (f.text, f.object) == ("２３名", "犯罪嫌疑人")
    f = one("在全国１５０个城市被统一销毁")
    assert (f.text, f.object) == ("１５０个", "城市")


# ------------------------------------------------------------------ dates and times

@pytest.mark.parametrize("text, span, date", [
    ("２０１２年", "２０１２年", "2012"),
    ("2012年6月", "2012年6月", "2012-06"),
    ("６月１２日", "６月１２日", "2012-06-12"),
    ("2012-06-12", "2012-06-12", "2012-06-12"),
    ("于20120612发布", "20120612", "2012-06-12"),
    ("二〇一二年六月", "二〇一二年六月", "2012-06"),
    ("“5·12”地震", "5·12", "2012-05-12"),
    ("昨日", "昨日", "2012-06-11"),
    ("前日", "前日", "2012-06-10"),
    ("去年", "去年", "2011"),
    ("去年同期", "去年同期", "2011"),
    ("２０１１年底", "２０１１年底", "2011"),
    ("今年３月", "今年３月", "2012-03"),
    ("本月20日", "本月20日", "2012-06-20"),
    ("下半年", "下半年", "2012"),
    ("国庆期间", "国庆", "2012-10-01"),
    ("中秋", "中秋", "2012-09-30"),
    ("春节", "春节", "2012-01-23"),
    ("两年前", "两年前", "2010"),
    ("１９９０年代", "１９９０年代", "199"),
    ("０９年", "０９年", "2009"),
])
def test_dates(text, span, date):
    f = one(text, base_date="2012-06-12")
    assert (f.text, f.kind, f.date, f.value) == (span, "date", date, None)


def test_today_and_day_in_parentheses_are_two_figures():
    figs = extract_figures("今天（１２日）上午", base_date="2012-06-12")
    assert [(f.text, f.date) for f in figs] == [("今天", "2012-06-12"), ("１２日", "2012-06-12")]


def test_day_of_month_needs_a_month_in_the_base():
    assert one("12日召开", base_date="2012-06").date == "2012-06-12"
    assert one("12日召开", base_date="2012").date is None


def test_date_range_of_days():
    f = one("６月１１日至１７日被确定为", base_date="2012-06-12")
    assert (f.text, f.date) == ("６月１１日至１７日", "2012-06")


@pytest.mark.parametrize("text, span", [
    ("上午9时", "上午9时"), ("10时30分", "10时30分"), ("晚上8点", "晚上8点"), ("20:00开始", "20:00"),
    ("明天凌晨２点４５分", "凌晨２点４５分"),
])
def test_times(text, span):
    figs = [f for f in extract_figures(text, base_date="2012-06-12") if f.kind == "time"]
    assert [f.text for f in figs] == [span]
    assert figs[0].value is None and figs[0].date is None


# ------------------------------------------------------------------ not figures

@pytest.mark.parametrize("text", [
    "一是打造服务阵地品牌", "一、做优服务品牌", "（一）总则", "(1)总则",
    "依照第四十二条规定", "渔政３５００１船", "国道３２４线", "歼-15舰载机",
    "电话0577-64721234", "手机13812345678", "身份证330327199001011234",
    "详见 http://news.sohu.com/20120612/n345428229.shtml", "邮编：325800",
    "一带一路", "两岸同胞", "统一销毁", "一起品尝", "一批人才", "首家小区", "十佳榜单",
    "浙江 5 佳", "PM2.5浓度", "G20峰会", "5G网络", "80后青年", "《2022年度助学方案》",
    "“六个严格”的措施", "一个群体", "一家麦当劳", "多数人", "数十",
])
def test_not_figures(text):
    assert extract_figures(text, base_date="2012-06-12") == []


def test_overlapping_excluded_spans_exclude_their_union():
    # (0, 3) and (1, 2): the second starts later but ends sooner; 0家 at 2..4 still starts inside the first
    assert extract_figures("0“0家", exclude=[(0, 3), (1, 2)]) == []


def test_a_date_moved_back_before_year_one_has_no_date():
    (f,) = extract_figures("1219995天前", base_date="2012-06-12")
    assert (f.text, f.kind, f.date) == ("1219995天前", "date", None)


def test_an_excluded_span_inside_a_figure_drops_it():
    assert [f.text for f in extract_figures("共计500万元。")] == ["500万元"]
    assert extract_figures("共计500万元。", exclude=[(3, 4)]) == []      # inside
    assert [f.text for f in extract_figures("共计500万元。", exclude=[(7, 9)])] == ["500万元"]  # after


def test_excluded_spans_are_not_mined():
    text = "正常１０万余只，?２５０余吨?乱码"
    figs = extract_figures(text, exclude=[(text.index("?"), text.rindex("?") + 1)])
    assert [f.text for f in figs] == ["１０万余只"]


def test_full_width_offsets_stay_on_the_stored_text():
    text = "　　公安机关２０１２年缉枪，１０万余只非法枪支、２５０余吨炸药"
    for f in extract_figures(text, base_date="2012-06-12"):
        assert text[f.start:f.end] == f.text


# ------------------------------------------------------------------ properties

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_string_no_exception_and_offsets_slice_back(text):
    figs = extract_figures(text, base_date="2012-06-12")
    last = 0
    for f in figs:
        assert 0 <= f.start < f.end <= len(text)
        assert text[f.start:f.end] == f.text
        assert f.start >= last
        last = f.end


_FIGURE_ALPHABET = "0123456789０１２３４５６７８９一二三两十百千万亿多余约近超过以上左右-至到.,，%％年月日号时点个家名元人第、 　的和是《》“”"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_FIGURE_ALPHABET, max_size=120),
       st.lists(st.tuples(st.integers(0, 120), st.integers(0, 30)), max_size=3))
def test_figure_like_strings_with_exclusions(text, spans):
    exclude = [(a, a + w) for a, w in spans]
    for f in extract_figures(text, base_date="2022", exclude=exclude):
        assert text[f.start:f.end] == f.text
        for a, b in exclude:
            if b > a:
                assert not (a <= f.start < b) and not (a <= f.end - 1 < b)


@pytest.mark.parametrize("unit", ["1", "万", "多", "1万多", "9,", "1.", "一二三", "-1", "年月日", "1 ", "a", "Ａ", "七夕", "第", "《"])
def test_long_inputs_finish(unit):
    """100,000 characters of digits, 万, 多 and punctuation: no regex blow-up
    (run time is printed by the benchmark, not asserted here)."""
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    figs = extract_figures(text, base_date="2022")
    for f in figs:
        assert text[f.start:f.end] == f.text


def test_range_with_the_unit_on_both_bounds():
    f = one("约为１０００桶至３０００桶。")
    assert (f.text, f.kind, f.low, f.high, f.unit) == ("１０００桶至３０００桶", "quantity", 1000, 3000, "桶")


def test_a_falling_pair_is_two_figures_not_a_range():
    assert [(f.text, f.value) for f in extract_figures("从5%降到3%")] == [("5%", 5), ("3%", 3)]


@pytest.mark.parametrize("text, span, kind", [
    ("专为３０天－１７周岁的未成年人", "１７周岁", "quantity"),   # a dash between figures is no minus
    ("核心ＣＰＩ同比为－０．８％。", "－０．８％", "percent"),
])
def test_dash_or_minus(text, span, kind):
    figs = {f.text: f for f in extract_figures(text)}
    assert figs[span].kind == kind
    assert (figs[span].value < 0) == span.startswith("－")
