"""Charts for the briefing: matplotlib, one style, the CJK font the install brings.

Every chart is returned as an SVG string ready to be inlined in HTML:

- text is drawn as paths (``svg.fonttype = "path"``), so the page needs no font
  and prints the same everywhere;
- the bytes are deterministic: no date in the metadata, a fixed hash salt, and
  every ``id`` prefixed with the chart's own key, so several charts inlined in
  one page never share an id (a ``<use href="#...">`` must find its own glyph);
- XML comments (matplotlib writes each label's text into one) are dropped, so a
  label can never end up as markup.

The functions take plain sequences: all numbers are computed by the caller
(``pipeline.report``); a chart only draws.
"""
from __future__ import annotations

import io
import re
from functools import lru_cache
from typing import Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

PALETTE = ["#1f5f8b", "#e07b39", "#3a9d5d", "#c0392b", "#7d5ba6", "#8c6d31",
           "#2c8c99", "#b5838d", "#6c757d", "#d4a017"]
#: the width of every chart in inches; the A4 text block is about 7.3 in wide,
#: so a chart prints at (nearly) its natural size and 9 pt labels stay legible.
WIDTH_IN = 6.8
#: the longest category label drawn on an axis, in characters
MAX_LABEL_CHARS = 18

def _legend_below(ax, handles, names, *, ncol: int, drop_pt: float = 36) -> None:
    """A legend ``drop_pt`` points under the axes (below tick labels and x label),
    never over the bars."""
    from matplotlib.transforms import ScaledTranslation
    fig = ax.figure
    below = ax.transAxes + ScaledTranslation(0, -drop_pt / 72, fig.dpi_scale_trans)
    ax.legend(handles, names, fontsize=8, frameon=False, ncol=ncol, loc="upper center",
              bbox_to_anchor=(0.5, 0.0), bbox_transform=below)


_ID_RE = re.compile(r'\bid="([^"]+)"')
_COMMENT_RE = re.compile(r"<!--.*?-->\s*", re.S)


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
        "font.size": 9.5,
        "axes.titlesize": 11.5,
        # The shipped Noto Sans SC has one weight; size sets titles apart.
        "axes.titleweight": "normal",
        "axes.labelsize": 9.5,
        "axes.labelcolor": "#333d47",
        "axes.edgecolor": "#8a96a3",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "x",
        "axes.axisbelow": True,
        "grid.color": "#e3e8ee",
        "grid.linewidth": 0.8,
        "xtick.color": "#333d47",
        "ytick.color": "#333d47",
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "svg.hashsalt": "cn-news-pipeline",
        "figure.dpi": 100,
    }


def short_label(text: str, *, limit: int = MAX_LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for axis labels."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _to_svg(fig, key: str) -> str:
    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(fig)  # also when drawing fails: no figure leaks into the next chart
    svg = buf.getvalue()
    # The SVG is inlined in HTML: no XML prolog, DOCTYPE or comments.
    svg = _COMMENT_RE.sub("", svg[svg.index("<svg"):])
    return _prefix_ids(svg, key)


def _prefix_ids(svg: str, key: str) -> str:
    """Prefix every id (and every reference to it) with ``key``."""
    ids = set(_ID_RE.findall(svg))
    if not ids:
        return svg
    alternation = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    ref = re.compile(r'(\bid="|#)(' + alternation + r')(?=["\)])')
    return ref.sub(lambda m: f"{m.group(1)}{key}-{m.group(2)}", svg)


def _finish(ax, *, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, loc="left", pad=12)
    ax.set_xlabel(xlabel)
    # Chinese set sideways is hard to read: the y label stands upright at the
    # top of the axis, left of the title.
    ax.set_ylabel(ylabel, rotation=0, ha="right", va="bottom")
    ax.yaxis.set_label_coords(-0.01, 1.01)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, key: str, title: str,
              xlabel: str, ylabel: str, value_labels: Optional[Sequence[str]] = None,
              colors: Optional[Sequence[str]] = None,
              legend: Optional[Sequence[tuple]] = None) -> str:
    """Horizontal bars, largest first from the top; horizontal bars read best in Chinese.

    Parameters
    ----------
    labels, values : sequences of equal length
        Categories (drawn top to bottom in the given order) and their values.
    key : str
        Prefix for the ids in the SVG; unique per page.
    title, xlabel, ylabel : str
        Every chart has a title and labelled axes.
    value_labels : sequence of str, optional
        The text written at the end of each bar (default: the value).
    colors : sequence of str, optional
        One color per bar (default: the first palette color).
    legend : sequence of (label, color), optional
        Legend entries, for bars colored by a category.
    """
    with plt.rc_context(_style()):
        height = max(2.0, 0.32 * len(labels) + 1.1)
        fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
        pos = list(range(len(labels)))[::-1]
        bars = ax.barh(pos, values, color=list(colors) if colors else PALETTE[0], height=0.68)
        ax.set_yticks(pos, [short_label(x) for x in labels])
        texts = value_labels if value_labels is not None else [f"{v:g}" for v in values]
        for bar, text in zip(bars, texts):
            ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_xlim(0, max(max(values, default=0), 1e-9) * 1.18)
        ax.grid(axis="y", visible=False)
        if legend:
            from matplotlib.patches import Patch
            _legend_below(ax, [Patch(color=c) for _, c in legend], [t for t, _ in legend],
                          ncol=min(5, len(legend)))
        _finish(ax, title=title, xlabel=xlabel, ylabel=ylabel)
        return _to_svg(fig, key)


def range_bar_chart(labels: Sequence[str], lows: Sequence[float], highs: Sequence[Optional[float]],
                    *, key: str, title: str, xlabel: str, ylabel: str,
                    value_labels: Sequence[str]) -> str:
    """Horizontal bars for amounts known only within bounds.

    The solid bar is the lower bound; a lighter bar continues it to the upper
    bound where one is known; an open-ended amount (``high`` None, e.g. 500多万元)
    ends in an arrow, so a reader never takes a lower bound for the total.
    """
    with plt.rc_context(_style()):
        height = max(2.0, 0.32 * len(labels) + 1.3)
        fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
        pos = list(range(len(labels)))[::-1]
        top = max([h if h is not None else lo for lo, h in zip(lows, highs)] + [1e-9])
        ax.barh(pos, lows, color=PALETTE[0], height=0.68, label="下限")
        extra = [(h - lo) if h is not None and h > lo else 0 for lo, h in zip(lows, highs)]
        if any(extra):
            ax.barh(pos, extra, left=lows, color=PALETTE[0], alpha=0.35, height=0.68,
                    label="至上限（区间）")
        arrow = top * 0.06
        open_drawn = False
        for p, lo, h in zip(pos, lows, highs):
            if h is None:
                ax.annotate("", xy=(lo + arrow, p), xytext=(lo, p),
                            arrowprops={"arrowstyle": "-|>", "color": PALETTE[1], "lw": 1.4})
                open_drawn = True
        for p, lo, h, text in zip(pos, lows, highs, value_labels):
            end = lo + arrow if h is None else max(lo, h or 0)
            ax.annotate(text, (end, p), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8)
        ax.set_yticks(pos, [short_label(x) for x in labels])
        ax.set_xlim(0, top * 1.35)
        ax.grid(axis="y", visible=False)
        handles, names = ax.get_legend_handles_labels()
        if open_drawn:
            from matplotlib.lines import Line2D
            handles.append(Line2D([], [], color=PALETTE[1], marker=">", lw=1.4))
            names.append("含上不封顶的数字（至少）")
        if len(handles) > 1:
            _legend_below(ax, handles, names, ncol=len(handles))
        _finish(ax, title=title, xlabel=xlabel, ylabel=ylabel)
        return _to_svg(fig, key)


def column_chart(labels: Sequence[str], values: Sequence[float], *, key: str, title: str,
                 xlabel: str, ylabel: str) -> str:
    """Vertical columns over ordered categories (years, months): the timeline."""
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.9))
        pos = list(range(len(labels)))
        bars = ax.bar(pos, values, color=PALETTE[2], width=0.7)
        rotate = len(labels) > 8 or max((len(x) for x in labels), default=0) > 6
        ax.set_xticks(pos, list(labels), rotation=45 if rotate else 0,
                      ha="right" if rotate else "center")
        for bar, v in zip(bars, values):
            ax.annotate(f"{v:g}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)
        ax.set_ylim(0, max(max(values, default=0), 1) * 1.18)
        ax.grid(axis="x", visible=False)
        ax.grid(axis="y", visible=True)
        ax.yaxis.get_major_locator().set_params(integer=True)
        _finish(ax, title=title, xlabel=xlabel, ylabel=ylabel)
        return _to_svg(fig, key)


def line_chart(x: Sequence[str], series: dict, *, key: str, title: str, xlabel: str,
               ylabel: str) -> str:
    """Lines over ordered x labels (months), one per series, as SVG."""
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.0))
        for name, ys in series.items():
            ax.plot(list(x), list(ys), marker="o", markersize=3.5, label=short_label(name, limit=12))
        ax.grid(axis="y", visible=True)
        ax.set_ylim(0, max([max(ys, default=0) for ys in series.values()] + [1]) * 1.15)
        ax.yaxis.get_major_locator().set_params(integer=True)
        rotate = len(x) > 8
        plt.setp(ax.get_xticklabels(), rotation=45 if rotate else 0, ha="right" if rotate else "center")
        if len(series) > 1:
            handles, names = ax.get_legend_handles_labels()
            _legend_below(ax, handles, names, ncol=min(5, len(series)), drop_pt=70 if rotate else 36)
        _finish(ax, title=title, xlabel=xlabel, ylabel=ylabel)
        return _to_svg(fig, key)
