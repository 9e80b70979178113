"""Charts: the CJK font, titles and labelled axes, deterministic SVG safe to inline.

pytest turns matplotlib's "Glyph … missing from font" warning into an error
(pyproject ``filterwarnings``), so drawing Chinese here proves the font covers it.
"""
from __future__ import annotations

import re
import warnings

import pytest

from pipeline import charts

CJK_LABELS = ["苍南县民政局", "苍南县慈善总会", "共享社·幸福里", "两岸共“富”迎七夕", "１２３（全角）"]


def _ids(svg: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', svg)


def _all_kinds() -> dict:
    return {
        "bar": charts.bar_chart(CJK_LABELS, [5, 4, 3, 2, 1], key="t-bar", title="机构提及次数",
                                xlabel="提及次数", ylabel="机构",
                                value_labels=["5 次", "4 次", "3 次", "2 次", "1 次"]),
        "range": charts.range_bar_chart(CJK_LABELS[:3], [500.0, 1.0, 1734.8], [None, 5.0, 1734.8],
                                        key="t-range", title="金额（万元）", xlabel="万元",
                                        ylabel="报道", value_labels=["至少 500万元", "1万–5万元", "1734.8万元"]),
        "column": charts.column_chart(["2008", "2013", "2018", "2022"], [1, 1, 1, 9], key="t-col",
                                      title="报道提及的日期（按年）", xlabel="年份", ylabel="提及次数"),
        "line": charts.line_chart(["2024-01", "2024-02", "2024-03"], {"社区治理": [1, 3, 2], "公益创投": [0, 1, 4]},
                                  key="t-line", title="主题逐月报道数", xlabel="月份", ylabel="报道数"),
    }


def test_cjk_labels_draw_with_the_shipped_font_without_missing_glyphs():
    assert "Noto Sans" in charts.cjk_font_family()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any font fallback warning fails here too
        svgs = _all_kinds()
    for svg in svgs.values():
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        # Text is drawn as paths: nothing depends on the reader's fonts.
        assert "<text" not in svg and "<path" in svg


def test_a_missing_glyph_would_fail_the_suite():
    """The guard itself: drawing a glyph the font lacks raises under the test settings."""
    with pytest.raises(UserWarning, match="Glyph"):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", "Glyph", UserWarning)
            charts.bar_chart(["\U0001F600"], [1], key="t-emoji", title="x", xlabel="x", ylabel="y")


def test_every_chart_has_a_title_and_labelled_axes():
    import matplotlib.pyplot as plt
    seen = []
    real = charts._to_svg

    def spy(fig, key):
        ax = fig.axes[0]
        seen.append((ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()))
        return real(fig, key)

    charts._to_svg = spy
    try:
        _all_kinds()
    finally:
        charts._to_svg = real
    assert len(seen) == 4
    assert all(title and xlabel and ylabel for title, xlabel, ylabel in seen)
    assert not plt.get_fignums()  # every figure is closed


def test_svg_is_deterministic_and_its_ids_are_prefixed_and_unique():
    first, second = _all_kinds(), _all_kinds()
    assert first == second
    for name, svg in first.items():
        ids = _ids(svg)
        assert ids and len(ids) == len(set(ids))
        key = {"bar": "t-bar", "range": "t-range", "column": "t-col", "line": "t-line"}[name]
        assert all(i.startswith(key + "-") for i in ids)
        # every reference points at an id of the same chart
        for ref in re.findall(r'(?:href="#|url\(#)([^")]+)', svg):
            assert ref in ids
        assert "<!--" not in svg and "<?xml" not in svg and "Date" not in svg


def test_labels_are_never_markup():
    svg = charts.bar_chart(["<script>alert(1)</script>", "--> <b>"], [1, 2], key="t-x",
                           title="<i>标题</i>", xlabel="x", ylabel="y")
    assert "<script" not in svg and "<b>" not in svg and "<i>" not in svg


def test_long_labels_are_shortened():
    assert charts.short_label("一" * 40) == "一" * (charts.MAX_LABEL_CHARS - 1) + "…"
    assert charts.short_label("短标题") == "短标题"
