"""Charts for the briefing: matplotlib, one style, the CJK font the install brings.

Every chart is returned as an SVG string (text drawn as paths, so the page
needs no font) and is deterministic: no dates in the metadata, fixed ids.
"""
from __future__ import annotations

import io
from functools import lru_cache
from typing import Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

PALETTE = ["#1f5f8b", "#e07b39", "#3a9d5d", "#c0392b", "#7d5ba6", "#8c6d31",
           "#2c8c99", "#b5838d", "#6c757d", "#d4a017"]


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """Register Noto Sans SC (shipped by a dependency) and return its family name."""
    import pylopdf_fonts_zh_cn
    path = str(pylopdf_fonts_zh_cn.sans_path())
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def _style() -> dict:
    return {
        "font.family": [cjk_font_family()],
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "svg.hashsalt": "cn-news-pipeline",
        "figure.dpi": 100,
    }


def _to_svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buf.getvalue()
    # Drop the XML prolog and DOCTYPE: the SVG is inlined in HTML.
    return svg[svg.index("<svg"):]


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str,
              ylabel: str = "", horizontal: bool = True, value_format: str = "{:g}",
              color: Optional[str] = None) -> str:
    """A bar chart as SVG; horizontal bars read best with Chinese labels."""
    with plt.rc_context(_style()):
        height = max(2.2, 0.38 * len(labels) + 1.0) if horizontal else 3.2
        fig, ax = plt.subplots(figsize=(6.8, height))
        if horizontal:
            pos = list(range(len(labels)))[::-1]
            bars = ax.barh(pos, values, color=color or PALETTE[0])
            ax.set_yticks(pos, labels)
            ax.set_xlabel(xlabel)
            if ylabel:
                ax.set_ylabel(ylabel)
            for bar, v in zip(bars, values):
                ax.annotate(value_format.format(v), (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                            xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        else:
            pos = list(range(len(labels)))
            ax.bar(pos, values, color=color or PALETTE[0])
            ax.set_xticks(pos, labels, rotation=30, ha="right")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left")
        ax.margins(x=0.12 if horizontal else 0.02)
        return _to_svg(fig)


def line_chart(x: Sequence[str], series: dict, *, title: str, xlabel: str, ylabel: str) -> str:
    """Lines over ordered x labels (months), one per series, as SVG."""
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(6.8, 3.2))
        for name, ys in series.items():
            ax.plot(list(x), list(ys), marker="o", label=name)
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if len(series) > 1:
            ax.legend(fontsize=8, frameon=False, ncol=2)
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
        return _to_svg(fig)
