"""Numerals in every form Chinese news writes them."""
import pytest
from hypothesis import given, settings, strategies as st

from pipeline.extract.numerals import Numeral, parse_number, parse_numeral


@pytest.mark.parametrize("text, value", [
    ("82225", 82225), ("82,225", 82225), ("82，225", 82225), ("1734.8", 1734.8),
    ("１２３", 123), ("８．３", 8.3), ("１，２３４", 1234),
    ("三千二百", 3200), ("两", 2), ("两千", 2000), ("廿三", 23), ("卅", 30), ("十五", 15), ("十", 10),
    ("一百零五", 105), ("两千零一十二", 2012), ("三亿五千万", 350_000_000), ("一万亿", 10**12),
    ("壹仟贰佰叁拾", 1230), ("伍佰萬", 5_000_000),
    ("3千万", 30_000_000), ("1.2万", 12000), ("1734.8万", 17_348_000), ("1.5亿", 150_000_000),
    ("九万四", 94000), ("一千三", 1300), ("三百五", 350), ("3万5", 35000),
    ("二〇一二", 2012), ("二零二二", 2022),
    ("三分之一", 0.333333), ("百分之十五", 0.15),
    ("负3", -3), ("-3.5", -3.5), ("零下5", -5),
])
def test_exact_values(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text, low, high", [
    ("三四十", 30, 40), ("七八", 7, 8), ("一两", 1, 2), ("二三十万", 200_000, 300_000),
    ("十几", 11, 19), ("几十", 20, 90), ("数百", 200, 900),
])
def test_vague_numerals_are_ranges(text, low, high):
    assert parse_numeral(text) == Numeral(None, low, high)
    assert parse_number(text) is None


@pytest.mark.parametrize("text", ["", "abc", "十一五", "一五", "社会", "1.2.3"])
def test_not_numerals(text):
    assert parse_number(text) is None


def test_ocr_spaces_are_ignored():
    assert parse_number("5 000") == 5000
    assert parse_number("1734.8 万") == 17_348_000


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.,，一二三四五六七八九十百千万亿两零廿卅几数分之负-", max_size=30))
def test_any_numeral_string_parses_or_returns_none(s):
    n = parse_numeral(s)
    assert n is None or isinstance(n, Numeral)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_arabic_and_separated_forms_agree(n):
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n
