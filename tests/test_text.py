from hypothesis import given, strategies as st

from pipeline.text import fold_width, sentence_at, sentence_spans


def test_fold_width_maps_fullwidth_ascii_one_to_one():
    assert fold_width("２０１２年６月ＡＢＣ　８．３％") == "2012年6月ABC 8.3%"
    assert fold_width("82，225") == "82,225"  # the full-width comma is full-width ASCII
    assert fold_width("中文、。“”") == "中文、。“”"  # CJK punctuation is not: kept


@given(st.text())
def test_fold_width_keeps_length(text):
    assert len(fold_width(text)) == len(text)


@given(st.text(alphabet="中文。！？；\n”a1 ", max_size=80))
def test_sentence_spans_cover_text_without_gaps(text):
    spans = sentence_spans(text)
    assert "".join(text[a:b] for a, b in spans) == text
    assert all(a < b for a, b in spans)


def test_sentence_keeps_closing_quote_and_finds_containing_sentence():
    text = "第一句。“第二句有56家！”第三句"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["第一句。", "“第二句有56家！”", "第三句"]
    start = text.index("56家")
    a, b = sentence_at(text, start, start + 3)
    assert text[a:b] == "“第二句有56家！”"


def test_fold_width_is_the_same_on_long_texts_as_on_short_ones():
    # Long texts take the array path; every full-width character, the
    # ideographic space, astral characters and a lone surrogate fold as in
    # the per-character table.
    alphabet = [chr(c) for c in range(0xFF00, 0xFF61)] + ["\u3000", "中", "𠀀", "\ud800", "a", "\n"]
    import random
    rng = random.Random(7)
    for n in (199, 200, 201, 5000):
        text = "".join(rng.choice(alphabet) for _ in range(n))
        expected = "".join(fold_width(ch) for ch in text)
        assert fold_width(text) == expected and len(fold_width(text)) == n


@given(st.text(alphabet="。！？!?；;…\n”’」』）)中文a ", max_size=60))
def test_the_fast_sentence_end_pattern_matches_the_plain_one(text):
    from pipeline.text import _SENT_END_FAST, _SENT_END_RE
    assert ([m.span() for m in _SENT_END_FAST.finditer(text)]
            == [m.span() for m in _SENT_END_RE.finditer(text)])
