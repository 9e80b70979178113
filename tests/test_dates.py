"""Base dates, relative dates and holidays."""
import pytest
from hypothesis import given, settings, strategies as st

from pipeline.extract import dates
from pipeline.extract.dates import (dateline_date, format_date, holiday_date, infer_year, parse_iso,
                                    resolve_base_date, resolve_relative, shift_date)
from pipeline.model import Article
from pipeline.text import fold_width


def _article(text, **kw):
    return Article(article_id="a", doc_id="d", seq=0, text=text, **kw)


def test_parse_and_format_iso():
    assert parse_iso("2012-06-12") == (2012, 6, 12)
    assert parse_iso("2022") == (2022, None, None)
    assert parse_iso("2012-13-01") == (2012, None, None)
    assert parse_iso("garbage") == (None, None, None)
    assert format_date(2012, 6) == "2012-06"
    assert format_date(2012, 2, 30) is None


@pytest.mark.parametrize("word, base, expected", [
    ("今年", "2022", "2022"), ("去年", "2012-06-12", "2011"), ("前年", "2012", "2010"),
    ("明年", "2012", "2013"), ("今天", "2012-06-12", "2012-06-12"), ("昨日", "2012-06-01", "2012-05-31"),
    ("前日", "2012-06-07", "2012-06-05"), ("本月", "2012-06-12", "2012-06"), ("上月", "2012-01-05", "2011-12"),
    ("今天", "2022", "2022"), ("昨天", "2022", None), ("本月", "2022", None), ("今年", None, None),
    ("上周", "2012-06-04", "2012-05"), ("本周", "2012-06-12", "2012-06"),
])
def test_relative_words(word, base, expected):
    assert resolve_relative(word, base) == expected


@pytest.mark.parametrize("name, year, expected", [
    ("七夕", 2022, "2022-08-04"),      # lunar 7/7
    ("春节", 2012, "2012-01-23"),      # lunar 1/1
    ("中秋", 2022, "2022-09-10"),      # lunar 8/15
    ("除夕", 2022, "2022-01-31"),      # the day before the lunar new year
    ("国庆", 2022, "2022-10-01"),
    ("元旦", 2012, "2012-01-01"),
    ("清明", 2012, "2012-04-04"),
    ("七夕", None, None),
])
def test_holidays(name, year, expected):
    assert holiday_date(name, year) == expected


def test_shift_date():
    assert shift_date("2012-06-12", years=-2) == "2010"
    assert shift_date("2012-06-12", days=-15) == "2012-05-28"
    assert shift_date("2012", days=-3) is None
    assert shift_date("2012-06-12", days=-10**9) is None   # 10亿天前: before year 1, not an error


def test_infer_year_takes_the_most_named_year():
    assert infer_year("２０１２年缉枪，２００９年１１月以来，2012年度") == 2012
    assert infer_year("没有年份") is None
    assert infer_year("80年代") is None


def test_infer_year_reads_full_width_dates_as_written():
    # the text is searched as stored: full-width digits, separators and spaces count
    assert infer_year("２０１２－６－１２，２０１１．１．２，2011/1/3") == 2011
    assert infer_year("１９９９　年，１９９９年代") == 1999
    assert infer_year("3２０１２年，．２０１３年") is None   # part of a longer number


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["19", "20", "１９", "２０", "15", "1５", "12", "０6", "6", "31", "3", "٣",
                                 "年", "年代", ".", "．", "-", "－", "/", "／", " ", "\u3000", "x"]),
                max_size=12))
def test_infer_year_is_the_same_on_the_folded_text(parts):
    text = "".join(parts)
    assert infer_year(text) == infer_year(fold_width(text))


def test_dateline_needs_a_month_and_a_day_in_the_head():
    assert dateline_date("新华网仰光６月电", year=2012) is None
    assert dateline_date("x" * 200 + "６月１２日电", year=2012) is None


def test_dateline():
    assert dateline_date("新华网仰光６月１２日电 记者", year=2012) == "2012-06-12"
    assert dateline_date("中广网唐山６月１２日消息（记者汤一亮）", year=2012) == "2012-06-12"
    assert dateline_date("正文里６月１２日电", year=None) is None  # no year known
    assert dateline_date("今天天气很好") is None


def test_resolve_base_date_order():
    # 1. the article's own date wins
    assert resolve_base_date(_article("新华网仰光６月１２日电", date="2013-01-02", date_source="record"),
                             default="2020") == ("2013-01-02", "record")
    assert resolve_base_date(_article("x", date="2013-01-02")) == ("2013-01-02", "document")
    # 2. a dateline, completed with the default's year or the text's
    assert resolve_base_date(_article("新华网仰光６月１２日电　据报道"), default="2012") == ("2012-06-12", "dateline")
    assert resolve_base_date(_article("新华网仰光６月１２日电　２０１２年起")) == ("2012-06-12", "dateline")
    # 3. the run's --base-date
    assert resolve_base_date(_article("今年七夕期间"), default="2022") == ("2022", "base-date")
    # 4. the year most absolute dates name
    assert resolve_base_date(_article("2008年开始，2022年度，2022年")) == ("2022", "inferred")
    # 5. nothing
    assert resolve_base_date(_article("今年七夕期间")) == (None, None)


def test_holiday_table_is_data():
    h = dates.holidays()
    assert h["七夕"].calendar == "lunar" and (h["七夕"].month, h["七夕"].day) == (7, 7)
    assert h["国庆"].needs_context and not h["国庆节"].needs_context


def test_article_date_is_normalised():
    assert resolve_base_date(_article("x", date="2012-06-12 08:30:00")) == ("2012-06-12", "document")


def test_malformed_data_file_names_the_file(tmp_path, monkeypatch):
    (tmp_path / "holidays.tsv").write_text("七夕\tlunar\n", encoding="utf-8")
    monkeypatch.setattr(dates, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError, match=r"holidays\.tsv:1"):
        dates.read_rows("holidays.tsv", columns=5)


def test_the_document_dates_an_article_that_names_no_year():
    page = "2022 年度困难大学新生慈善助学工作协调会。2022年助学活动。今年七夕期间"
    assert resolve_base_date(_article("今年七夕期间"), context=page) == ("2022", "inferred")
    assert resolve_base_date(_article("今年七夕期间"), default="2012", context=page) == ("2012", "base-date")
