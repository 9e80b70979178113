"""Newspaper pages dumped line by line: reflow the printed lines, split the page into articles.

An OCR or PDF dump of a page keeps every printed line as a line of text.  The
layout is read from the lines themselves, never from what they say:

* **Column width** ``W``: the median display width (a hanzi 1, ASCII ½) of the
  lines that do not end a sentence.  Body lines fill the column; a line that
  ends a sentence *and* falls short of the column ends a paragraph.
* **Bylines**: a short parenthetical — ``（民政）``, ``（李士明/摄）`` — standing
  alone, or at the end of a line, right after the end of a sentence.  A remark
  inside a sentence — ``（含高职高校）``, ``元（结对助学的例外），因`` — is
  not at a paragraph end and stays in the body.
* **Headline groups**: one to ``max_heading_lines`` lines with no sentence
  punctuation inside or at the end, where an article can begin or end (page
  start, after a byline or a section label; after a plain paragraph end only if
  their width departs from the column, or they lack the indent paragraphs
  have).  Two headline lines of balanced width are one title set over two
  lines; otherwise the first line is the title and the rest the subtitle.
* **Section labels** (简讯, 图片新闻 … a data file): belong to the article after them.
* **Credit lines** (责任编辑：张三 — labels in a data file): kept in the byline of
  the article before them, never in a body or a headline.
* **A paragraph ends a sentence**: headline-like lines left after the last
  sentence end when a boundary (section label, end of page …) cuts the
  paragraph off are a headline the context did not announce.
* **Headline before or after its body**: a page that opens with a headline
  puts headlines first; a page that opens with body text and closes with a
  headline puts them after; otherwise before (the common convention).

Blank lines carry information only when the dump does not put one between
every pair of printed lines: then a blank line ends a paragraph.  A word or
number broken across lines is joined; spaces inside a line are kept as printed.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

#: characters that end a sentence when they end a line (closing quotes may follow)
_TERMINAL = "。！？!?；;：:…"
_CLOSERS = "”’」』）)》〉\"'"
_SENTENCE_PUNCT = re.compile(r"[，。；！？,;!?]")
_TERMINAL_END = re.compile(rf"[{re.escape(_TERMINAL)}][{re.escape(_CLOSERS)}]*$")
_BYLINE = re.compile(r"[（(]\s*([^（）()，。；！？,;!?]{1,24}?)\s*[）)]$")
_ENUMERATOR = re.compile(r"^(?:[一二三四五六七八九十百]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]"
                         r"|\d{1,2}[、.．](?!\d)|第[一二三四五六七八九十\d]+[，、,])")
# "一是…", "二是…": enumerations that open a paragraph of official prose, never a headline.
_ENUMERATED_CLAUSE = re.compile(r"^(?:[一二三四五六七八九十]+是|首先|其次|最后|此外|另外)")
# A line that opens with at most one character before sentence punctuation
# continues a sentence from the line before it ("展。全县…").
_CONTINUATION = re.compile(r"^[^，。；：！？、,;:!?]?[，。；：！？、,;:!?]")
_CREDIT = re.compile(r"^([^：:]{1,6})\s*[：:]")
_INDENT = re.compile(r"^[ \t\u3000]{2,}|^\u3000")


@dataclass
class ArticleParts:
    """One article cut from a page: headline parts and body paragraphs."""
    title: str = ""
    subtitle: str = ""
    byline: str = ""
    section: str = ""
    paragraphs: list = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class _Line:
    text: str
    width: float
    indent: bool
    blank_before: bool


@dataclass
class _Item:
    kind: str          # "para" | "heading" | "byline" | "section" | "credit"
    lines: list        # heading lines, or [text] for the others
    owner: int = -1    # credit lines: index of the article before them (-1: none yet)


def _with_credits(items: Sequence[_Item], articles: list) -> list:
    """Credit lines join the byline of the article before them (the first one if none)."""
    credits = [it for it in items if it.kind == "credit"]
    if credits and not articles:
        return [ArticleParts(byline="；".join(it.lines[0] for it in credits))]
    for it in credits:
        art = articles[max(it.owner, 0)]
        art.byline = "；".join(([art.byline] if art.byline else []) + [it.lines[0]])
    return articles


def display_width(text: str) -> float:
    """Printed width: 1 per hanzi or full-width form, ½ per ASCII character."""
    narrow = len(text.encode("ascii", errors="ignore"))  # the ASCII characters, counted in C
    return (len(text) - narrow) + 0.5 * narrow


def join_lines(left: str, right: str) -> str:
    """Join two printed lines of one paragraph: a word or number split by the line break is whole.

    Chinese needs no space at a line break; two Latin words do (a hyphen at
    the break joins them without one).
    """
    if not left:
        return right
    if not right:
        return left
    if left[-1].isascii() and left[-1].isalpha() and right[0].isascii() and right[0].isalpha():
        return left + " " + right
    return left + right


def _ends_sentence(text: str) -> bool:
    return bool(_TERMINAL_END.search(text))


def is_page_layout(lines: Sequence[str]) -> bool:
    """True if ``lines`` are printed lines (most end mid-sentence), not one paragraph a line."""
    texts = [l.strip() for l in lines if l.strip()]
    if len(texts) < 4:
        return False
    open_ended = sum(1 for t in texts if not _ends_sentence(t))
    return open_ended / len(texts) >= 0.5


def _byline_of(text: str) -> Optional[tuple[str, str]]:
    """(text before, byline) if ``text`` ends with a byline parenthetical."""
    m = _BYLINE.search(text)
    if not m:
        return None
    inner = m.group(1).strip()
    if not inner or inner.isdigit():
        return None
    return text[:m.start()].rstrip(), inner


class _PageReader:
    def __init__(self, lines: Sequence[str], *, section_labels: frozenset,
                 credit_labels: frozenset, max_heading_lines: int, title_balance: float,
                 width_tolerance: float):
        self.section_labels = section_labels
        self.credit_labels = credit_labels
        self.max_heading_lines = max_heading_lines
        self.title_balance = title_balance
        self.tol = width_tolerance
        self.lines: list[_Line] = []
        blank = False
        for raw in lines:
            stripped = raw.strip()
            if not stripped:
                blank = True
                continue
            self.lines.append(_Line(stripped, display_width(stripped), bool(_INDENT.match(raw)),
                                    blank and bool(self.lines)))
            blank = False
        pairs = max(1, len(self.lines) - 1)
        self.blanks_informative = sum(l.blank_before for l in self.lines) / pairs < 0.5
        self.uses_indent = 0 < sum(l.indent for l in self.lines) < len(self.lines)
        mid = [l.width for l in self.lines if not _ends_sentence(l.text)]
        self.column = statistics.median(mid) if mid else statistics.median(
            [l.width for l in self.lines] or [0])

    # ----- line classes -------------------------------------------------
    def is_section(self, line: _Line) -> bool:
        return line.text in self.section_labels

    def is_credit(self, line: _Line) -> bool:
        # "责任编辑：张三" — a label, a colon and a few names; an interview line
        # such as "记者：您怎么看？" has sentence punctuation and stays body.
        m = _CREDIT.match(line.text)
        if not m or m.group(1).strip() not in self.credit_labels:
            return False
        rest = line.text[m.end():]
        return len(rest) <= 16 and not _SENTENCE_PUNCT.search(rest) and not _ends_sentence(rest)

    def is_headlike(self, line: _Line) -> bool:
        t = line.text
        if (self.is_section(line) or self.is_credit(line) or _SENTENCE_PUNCT.search(t)
                or _ends_sentence(t)):
            return False
        if (t[-1] in "、：:—-" or _ENUMERATOR.match(t) or _ENUMERATED_CLAUSE.match(t)
                or _byline_of(t)):
            return False
        return len(t) >= 2 and line.width <= max(3 * self.column, 40)

    def is_standalone_byline(self, line: _Line) -> bool:
        found = _byline_of(line.text)
        return bool(found) and found[0] == ""

    def departs_from_column(self, line: _Line) -> bool:
        return abs(line.width - self.column) > self.tol

    # ----- paragraphs ---------------------------------------------------
    def paragraph_ends(self, i: int) -> bool:
        line = self.lines[i]
        nxt = self.lines[i + 1] if i + 1 < len(self.lines) else None
        if nxt is None:
            return True
        if self.blanks_informative and nxt.blank_before:
            return True
        if self.uses_indent and nxt.indent:
            return True
        if not _ends_sentence(line.text):
            return False
        if line.width <= self.column - 1.5:
            return True
        return bool(_ENUMERATOR.match(nxt.text)) or self.is_section(nxt) or self.is_standalone_byline(nxt)

    def items(self) -> list[_Item]:
        items: list[_Item] = []
        para: list[_Line] = []

        def flush():
            if not para:
                return
            # Body paragraphs end a sentence.  Headline-like lines after the
            # last sentence end, cut off by a boundary, are a headline the
            # context did not announce (a full-width line ending a sentence
            # left the paragraph open).
            tail = 0
            while (tail < len(para) and tail < self.max_heading_lines
                   and self.is_headlike(para[len(para) - 1 - tail])):
                tail += 1
            if tail and tail < len(para) and not _ends_sentence(para[len(para) - 1 - tail].text):
                tail = 0
            body, heading = para[:len(para) - tail], para[len(para) - tail:]
            if body:
                text = body[0].text
                for piece in body[1:]:
                    text = join_lines(text, piece.text)
                items.append(_Item("para", [text]))
            if heading:
                items.append(_Item("heading", [l.text for l in heading]))
            para.clear()

        i = 0
        n = len(self.lines)
        while i < n:
            line = self.lines[i]
            if self.is_section(line) and (not para or line.width <= self.column / 2):
                flush()
                items.append(_Item("section", [line.text]))
                i += 1
                continue
            if self.is_credit(line) and not (para and not _ends_sentence(para[-1].text)):
                flush()
                items.append(_Item("credit", [line.text]))
                i += 1
                continue
            last = next((it.kind for it in reversed(items) if it.kind != "credit"), None)
            found = _byline_of(line.text)
            if found and (found[0] == "" and not para and last == "para"
                          or found[0] and _ends_sentence(found[0])):
                if found[0]:
                    para.append(_Line(found[0], display_width(found[0]), line.indent,
                                      line.blank_before))
                flush()
                items.append(_Item("byline", [found[1]]))
                i += 1
                continue
            if not para and last != "heading":
                group = self._heading_group(i, strong=last in (None, "byline", "section"))
                if group:
                    items.append(_Item("heading", [l.text for l in group]))
                    i += len(group)
                    continue
            para.append(line)
            if self.paragraph_ends(i):
                flush()
            i += 1
        flush()
        return items

    def _heading_group(self, i: int, *, strong: bool) -> list[_Line]:
        group: list[_Line] = []
        while (i + len(group) < len(self.lines) and len(group) < self.max_heading_lines):
            line = self.lines[i + len(group)]
            if not self.is_headlike(line):
                break
            if not strong and not (self.departs_from_column(line)
                                   or self.uses_indent and not line.indent):
                # After a plain paragraph end only layout evidence makes a
                # headline: a width off the column, or no indent where
                # paragraphs are indented.
                break
            group.append(line)
        if not group:
            return []
        rest = i + len(group)
        if not strong and rest < len(self.lines) and _CONTINUATION.match(self.lines[rest].text):
            # A body line cut mid-sentence, not a headline.
            return []
        if rest < len(self.lines) and len(group) > 1:
            # The last candidate may be the first line of the body when it
            # fills the column like the body lines after it do.
            last, after = group[-1], self.lines[rest]
            if (not self.departs_from_column(last) and not self.departs_from_column(after)
                    and not self.is_headlike(after)):
                group.pop()
        return group

    # ----- articles -----------------------------------------------------
    def headline_parts(self, lines: Sequence[str]) -> tuple[str, str]:
        """(title, subtitle): balanced consecutive lines are one title set over lines."""
        segments: list[list[str]] = [[lines[0]]]
        for prev, cur in zip(lines, lines[1:]):
            wp, wc = display_width(prev), display_width(cur)
            if len(segments) == 1 and max(wp, wc) <= self.title_balance * min(wp, wc):
                segments[-1].append(cur)
            else:
                segments.append([cur])

        def joined(seg):
            text = seg[0]
            for piece in seg[1:]:
                text = join_lines(text, piece)
            return text
        return joined(segments[0]), " ".join(joined(s) for s in segments[1:])

    def articles(self) -> list[ArticleParts]:
        items = self.items()
        content = [it for it in items if it.kind not in ("section", "credit")]
        if not content:
            return []
        headline_first = content[0].kind == "heading" or content[-1].kind != "heading"
        grouped = self._group_before(items) if headline_first else self._group_after(items)
        return _with_credits(items, grouped)

    def _group_before(self, items: Iterable[_Item]) -> list[ArticleParts]:
        out: list[ArticleParts] = []
        cur: Optional[ArticleParts] = None
        section = ""
        closed = True
        for it in items:
            if it.kind == "section":
                section = it.lines[0]
                closed = True
            elif it.kind == "heading":
                cur = ArticleParts(section=section)
                cur.title, cur.subtitle = self.headline_parts(it.lines)
                out.append(cur)
                section, closed = "", False
            elif it.kind == "para":
                if cur is None or closed:
                    cur = ArticleParts(section=section)
                    out.append(cur)
                    section, closed = "", False
                cur.paragraphs.append(it.lines[0])
            elif it.kind == "credit":
                it.owner = len(out) - 1
            elif it.kind == "byline":
                if cur is None or closed:
                    cur = ArticleParts(section=section)
                    out.append(cur)
                    section = ""
                cur.byline = it.lines[0]
                closed = True
        return out

    def _group_after(self, items: Iterable[_Item]) -> list[ArticleParts]:
        out: list[ArticleParts] = []
        cur: Optional[ArticleParts] = None
        section = ""
        body_closed = True
        for it in items:
            if it.kind == "section":
                section = it.lines[0]
                body_closed = True
            elif it.kind == "para":
                if cur is None or body_closed:
                    cur = ArticleParts(section=section)
                    out.append(cur)
                    section, body_closed = "", False
                cur.paragraphs.append(it.lines[0])
            elif it.kind == "credit":
                it.owner = len(out) - 1
            elif it.kind == "byline":
                if cur is None:
                    cur = ArticleParts(section=section)
                    out.append(cur)
                    section = ""
                cur.byline = it.lines[0]
                body_closed = True
            elif it.kind == "heading":
                if cur is None or cur.title:
                    cur = ArticleParts(section=section)
                    out.append(cur)
                    section = ""
                cur.title, cur.subtitle = self.headline_parts(it.lines)
                cur, body_closed = None, True
        return out


def split_page(lines: Sequence[str], *, max_heading_lines: int, title_balance: float,
               width_tolerance: float, section_labels: Iterable[str] = (),
               credit_labels: Iterable[str] = ()) -> list[ArticleParts]:
    """The articles of a page dumped one printed line per line.

    Parameters
    ----------
    lines : sequence of str
        The page's lines, blank lines included (they are evidence).
    max_heading_lines : int
        Most lines one headline group may span.
    title_balance : float
        Two headline lines whose widths differ by at most this ratio are one title.
    width_tolerance : float
        How far (display width) a line may depart from the column and still be body.
    section_labels : iterable of str
        Lines that name a section (简讯, 图片新闻 …).
    credit_labels : iterable of str
        Words that open a credit line ("责任编辑：…"), kept in the byline.

    The numbers have no defaults here: they are ``[ingest]`` settings whose
    defaults live in ``config.toml`` (``pipeline.ingest.load_settings().page_options()``).

    Returns
    -------
    list of ArticleParts
        In page order; every printed line ends up in exactly one field of one article.
    """
    reader = _PageReader(lines, section_labels=frozenset(section_labels),
                         credit_labels=frozenset(credit_labels), max_heading_lines=max_heading_lines, title_balance=title_balance,
                         width_tolerance=width_tolerance)
    return reader.articles()


def split_prose(lines: Sequence[str], *, section_labels: Iterable[str] = (),
                **_page_options) -> list[ArticleParts]:
    """One article from text written one paragraph a line.

    The first line is the title when it reads as a headline (short, no sentence
    punctuation) and more text follows; a byline ending the last paragraph, or
    standing alone after it, is the byline.
    """
    paragraphs = [l.strip() for l in lines if l.strip()]
    if not paragraphs:
        return []
    art = ArticleParts()
    labels = frozenset(section_labels)
    if len(paragraphs) > 1 and paragraphs[0] in labels:
        art.section = paragraphs.pop(0)
    first = paragraphs[0]
    if (len(paragraphs) > 1 and not _SENTENCE_PUNCT.search(first) and not _ends_sentence(first)
            and display_width(first) <= 40 and not _byline_of(first)):
        art.title = paragraphs.pop(0)
        if (len(paragraphs) > 1 and not _SENTENCE_PUNCT.search(paragraphs[0])
                and not _ends_sentence(paragraphs[0]) and display_width(paragraphs[0]) <= 40):
            art.subtitle = paragraphs.pop(0)
    found = _byline_of(paragraphs[-1])
    if found and (found[0] == "" and len(paragraphs) > 1 and _ends_sentence(paragraphs[-2])
                  or found[0] and _ends_sentence(found[0])):
        art.byline = found[1]
        if found[0]:
            paragraphs[-1] = found[0]
        else:
            paragraphs.pop()
    art.paragraphs = paragraphs
    return [art]


def split_text(lines: Sequence[str], **options) -> list[ArticleParts]:
    """Articles of a text, as a printed page or as prose, whichever its lines show."""
    if is_page_layout(lines):
        return split_page(lines, **options)
    return split_prose(lines, **options)
