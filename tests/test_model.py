import pickle

import pytest

from pipeline.model import Token, figure_id, stable_hash


def test_token_has_named_fields_an_optional_tag_and_is_read_only():
    tok = Token(3, 5, "社会")
    assert (tok.start, tok.end, tok.text, tok.pos) == (3, 5, "社会", None)
    assert Token(0, 1, "在", "p").pos == "p"
    assert tok == Token(3, 5, "社会") and tok != Token(3, 5, "社会", "n")
    assert pickle.loads(pickle.dumps(tok)) == tok
    assert repr(tok) == "Token(start=3, end=5, text='社会', pos=None)"
    with pytest.raises(AttributeError):
        tok.pos = "n"


def test_figure_id_survives_edits_elsewhere_in_the_article():
    body = "前文。" * 20 + "累计投入500多万元开展助老活动。" + "其他内容。" * 20
    start = body.index("500多万元")
    fid = figure_id(body, start, start + 7)
    edited = "新增的导语。" + body + "结尾也改了。"
    shift = len("新增的导语。")
    assert figure_id(edited, start + shift, start + shift + 7) == fid


def test_figure_id_changes_with_the_text_around_the_figure():
    a = "累计投入500多万元开展助老活动。"
    b = "累计投入500多万元开展助残活动。"
    s = a.index("500")
    assert figure_id(a, s, s + 7) != figure_id(b, s, s + 7)


def test_identical_figures_in_identical_context_get_distinct_ids():
    unit = "每人补助8000元。"
    text = unit * 3
    ids = {figure_id(text, i * len(unit) + 4, i * len(unit) + 9) for i in range(3)}
    assert len(ids) == 3


def test_stable_hash_is_deterministic_and_separates_parts():
    assert stable_hash("ab", "c") == stable_hash("ab", "c")
    assert stable_hash("ab", "c") != stable_hash("a", "bc")


def _rank_by_definition(text, start, end, window=40):
    """How many earlier occurrences of the figure have the same context, checked one by one."""
    left, figure, right = text[max(0, start - window):start], text[start:end], text[end:end + window]
    return sum(1 for p in range(start)
               if text.startswith(figure, p) and text[max(0, p - window):p] == left
               and text[p + len(figure):p + len(figure) + window] == right)


def test_figure_id_rank_counts_every_earlier_identical_context():
    unit = "每人补助8000元。"
    cases = [(unit * 6, 5), ("abab" * 30, 2), ("甲乙" * 50 + "尾", 3), ("短8000元", 40)]
    for text, window in cases:
        for start in range(len(text)):
            for end in (start, start + 1, start + 4):
                if end > len(text):
                    continue
                left = text[max(0, start - window):start]
                rank = _rank_by_definition(text, start, end, window)
                expected = "f" + stable_hash(left, text[start:end], text[end:end + window],
                                             str(rank), length=15)
                assert figure_id(text, start, end, window=window) == expected
