from pipeline.model import figure_id, stable_hash


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
