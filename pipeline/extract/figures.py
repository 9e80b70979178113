"""Figures: every amount, count, quantity, share, date, time, duration and rank.

The contract is ``shared/spec/figures.md`` (fields of ``pipeline.model.Figure``).

How it works, and why it is fast.  The text is folded to half-width once
(``fold_width`` keeps offsets) and scanned twice, each time by C code:

1. *numeric scan*: a one-character-class regex finds the next character a
   numeric figure can start with (a digit, a Chinese numeral, 第, 负, a Latin
   letter …), and ONE compiled regex of named alternatives is matched right
   there.  Alternatives for things that are *not* figures (codes, phone
   numbers, enumeration markers, law references) come first and are
   consumed; then dates, times, shares, ranks and the general "numeral +
   range + unit + qualifier" pattern.  Qualifier words before a numeral
   (约, 近, 超过, 从, 人民币, 上午) are read by looking back a few characters.
2. *word scan*: one trie-shaped regex of literal words (set phrases,
   identifier prefixes, relative dates, holidays) and one of book titles find
   them in a single pass; relative dates and holidays become date figures,
   the rest block any numeric figure that overlaps them.  The two regexes are
   searched side by side rather than as one alternation: alone, the trie lets
   the regex engine skip straight to the characters a word starts with.

Every alternative is linear (bounded repeats, no nested quantifiers), so
100,000 characters of digits, 万 and 多 cannot blow up; Python only looks at
the matches.  Counted objects are found with the segmenter on a window of a
few characters next to a count.

Every word list (units, currencies, classifiers, qualifiers, holidays, set
phrases, identifier prefixes …) is a data file under ``pipeline/data/figures``.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Optional, Sequence

from pipeline.extract import dates as _dates
from pipeline.extract.dates import read_rows, read_words
from pipeline.extract.numerals import chinese_numeral_chars, numeral_table, parse_numeral
from pipeline.matching import trie_pattern
from pipeline.model import Figure
from pipeline.text import fold_width

SP = r"[ \t]?"             # one OCR space may sit inside a figure: "补 助 5000 元"
_RANGE_SEP_WORDS = ("-", "~", "至", "到", "—", "–")   # one character each
_RANGE_SEP = "(?:" + "|".join(map(re.escape, _RANGE_SEP_WORDS)) + ")"
_RANGE_SEP_CHARS = frozenset(_RANGE_SEP_WORDS)
_CJK_RE = re.compile(r"[\u3400-\u9fff]")


class _Words(NamedTuple):
    """Words looked for right before a figure, longest first, with the
    characters they end in (most positions are ruled out by that one test)."""
    longest_first: tuple
    last_chars: frozenset


def _word_list(words) -> _Words:
    """``words`` in the order given (callers sort them longest first)."""
    words = tuple(words)
    return _Words(words, frozenset(w[-1] for w in words))


@dataclass(frozen=True)
class _Lexicon:
    units: dict            # written -> (kind, unit, factor)
    prefix_quals: dict     # word -> qualifier
    infix_quals: dict
    suffix_quals: dict
    unit_blockers: dict    # unit -> characters that may not follow it
    suffix_followers: frozenset
    money_before: tuple
    money_after: tuple
    object_links: frozenset
    time_followers: frozenset
    periods: _Words        # 上午, 晚上 … longest first
    prefix_words: _Words   # the prefix qualifiers, longest first
    unit_last_chars: frozenset  # the last characters of the units (30天-17周岁)
    multipliers: frozenset  # 十 百 千 万 亿 …: the unit and big numerals of numerals.tsv
    vague: frozenset       # 几 数: numerals that only name a range
    lone_one: frozenset    # classifiers after which a lone 一 still counts (一名, 一例)
    arabic_only: frozenset  # units that measure only after Arabic digits (度, 级)
    word_kinds: dict       # word of the word scan -> phrase | ident | holiday | relative | half | century
    ago_units: dict        # duration unit -> field counted back before 前 (年 -> years: 3年前)


def _alt(words) -> str:
    """A regex alternation of literal ``words``, longest first."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


@lru_cache(maxsize=1)
def lexicon() -> _Lexicon:
    """All word lists of ``pipeline/data/figures``, loaded once."""
    units = {}
    for written, kind, unit, factor in (r[:4] for r in read_rows("units.tsv", columns=4)):
        if kind not in ("money", "count", "quantity", "duration", "percent"):
            raise ValueError(f"units.tsv: unknown kind {kind!r} for {written!r}")
        units[written] = (kind, unit, float(factor))
    quals = {"prefix": {}, "infix": {}, "suffix": {}}
    for word, pos, qual in (r[:3] for r in read_rows("qualifiers.tsv", columns=3)):
        if pos not in quals:
            raise ValueError(f"qualifiers.tsv: unknown position {pos!r} for {word!r}")
        quals[pos][word] = qual
    blockers = {u: frozenset(chars) for u, chars in (r[:2] for r in read_rows("unit_blockers.tsv", columns=2))}
    money = read_rows("money_contexts.tsv", columns=2)
    ago_units = {}
    for unit, field in (r[:2] for r in read_rows("ago_units.tsv", columns=2)):
        if field not in ("years", "months", "weeks", "days"):
            raise ValueError(f"ago_units.tsv: unknown field {field!r} for {unit!r}")
        ago_units[unit] = field
    word_kinds = {}
    for w in read_words("identifier_prefixes.txt"):
        word_kinds[w] = "ident"
    for w in read_words("set_phrases.txt"):
        word_kinds[w] = "phrase"
    for w, after in read_rows("date_suffixes.tsv", columns=2):
        if after == "year" and len(w) >= 3:
            word_kinds[w] = "half"   # 下半年, 一季度: a part of the base year
    for w in read_words("centuries.txt"):
        word_kinds[w] = "century"
    for w in _dates.holidays():
        word_kinds[w] = "holiday"
    for w in _dates.relative_words():
        word_kinds[w] = "relative"
    return _Lexicon(
        units=units, prefix_quals=quals["prefix"], infix_quals=quals["infix"],
        suffix_quals=quals["suffix"], unit_blockers=blockers,
        suffix_followers=frozenset(read_words("suffix_followers.txt")),
        money_before=tuple(w for w, side in money if side == "before"),
        money_after=tuple(w for w, side in money if side == "after"),
        object_links=frozenset(read_words("object_links.txt")),
        time_followers=frozenset(read_words("time_followers.txt")),
        periods=_word_list(sorted(read_words("time_periods.txt"), key=len, reverse=True)),
        prefix_words=_word_list(sorted(quals["prefix"], key=len, reverse=True)),
        unit_last_chars=frozenset(w[-1] for w in units),
        multipliers=frozenset(numeral_table().units) | frozenset(numeral_table().bigs),
        vague=numeral_table().vague,
        lone_one=frozenset(read_words("lone_one_classifiers.txt")),
        arabic_only=frozenset(read_words("arabic_only_units.txt")),
        word_kinds=word_kinds, ago_units=ago_units)


def _unit_alternation(units) -> str:
    """Units longest first; 个月 / 个小时 also accept 个多月 / 个余小时."""
    parts = []
    for w in sorted(units, key=lambda w: (-len(w), w)):
        if w.startswith("个") and len(w) > 1:
            parts.append("个[多余]?" + re.escape(w[1:]))
        else:
            parts.append(re.escape(w))
    return "|".join(parts)


class _Grammar:
    """The compiled regexes (see the module doc)."""

    def __init__(self):
        lx = lexicon()
        t = numeral_table()
        cn = re.escape(chinese_numeral_chars())                       # with 几 数
        cnn = re.escape(chinese_numeral_chars(vague=False))
        cn_digits = re.escape("".join(t.digits))
        mult = re.escape("".join(t.bigs))
        small = re.escape("".join(t.units) + "".join(t.bigs))
        ar = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"
        num = rf"(?:(?:{ar})[{small}]{{0,3}}|[{cn}]{{1,15}})"
        numx = rf"{num}(?:{SP}[多余])?(?:{SP}[{mult}]{{1,2}}[多余]?)?"
        core = rf"{numx}(?:%?{SP}{_RANGE_SEP}{SP}{numx})?"
        units = _unit_alternation(lx.units)
        suffixes = _alt(lx.suffix_quals)
        law = _alt(read_words("law_suffixes.txt"))
        ord_suffix = _alt(read_words("ordinal_suffixes.txt"))
        plain_holidays = _alt(h for h, row in _dates.holidays().items() if not row.needs_context)
        decade_part = _alt(read_words("decade_parts.txt"))
        within = _alt(read_words("within_suffixes.txt"))

        year = rf"(?:1[5-9]|20)\d{{2}}|0\d(?=年)|[{cn_digits}]{{4}}"
        mon = r"1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]"
        day = r"3[01]|[12]\d|0?[1-9]|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九]"
        ysuf = _alt(w for w, after in read_rows("date_suffixes.tsv", columns=2) if after == "year")
        msuf = _alt(w for w, after in read_rows("date_suffixes.tsv", columns=2) if after == "month")
        md = (rf"(?P<m>{mon}){SP}月(?:份)?(?:{SP}(?P<d>{day}){SP}[日号])?(?P<msuf>{msuf})?"
              rf"(?:{SP}{_RANGE_SEP}{SP}(?:(?P<m2>{mon}){SP}月{SP})?(?P<d2>{day}){SP}[日号])?")

        alternatives = [
            # --- not figures: consumed so that nothing starts inside them ---
            ("url", r"(?:https?://|www\.)[!-~]+"
                    r"|[A-Za-z0-9_.+-]{1,64}@[A-Za-z0-9-]{1,64}\.[A-Za-z0-9.]{1,64}"),
            ("code", r"[A-Za-z]{1,16}[-_]?\d[A-Za-z0-9.\-_]*|\d+(?:\.\d+)?[A-Za-z]+[A-Za-z0-9]*"),
            ("phone", r"(?:\+?86[- ]?)?0\d{2,3}-\d{7,8}(?!\d)|1[3-9]\d{9}(?!\d)|\d{3,4}-\d{3,4}-\d{4}(?!\d)|\d{11,}[Xx]?"),
            ("enum", rf"(?<![{cnn}\d])[一二三四五六七八九十]{{1,3}}(?:是|、)|\([一二三四五六七八九十\d]{{1,3}}\)"
                     rf"|(?:^|(?<=[\n。；;:])|(?<=[\n。；;:] ))\d{{1,2}}(?:、|\.(?!\d))"),
            ("law", rf"第{SP}(?:\d+|[{cnn}]+){SP}(?:{law})"),
            ("gen_tag", r"\d0后"),
            # --- dates ---
            ("decade", rf"(?P<dec>\d{{2,4}}|[{cnn}]{{2,4}}){SP}年代(?:{decade_part})?"),
            ("iso", r"(?:19|20)\d{2}(?P<isep>[-/.])(?:1[0-2]|0?[1-9])(?P=isep)(?:3[01]|[12]\d|0?[1-9])(?!\d)"),
            ("compact", r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),
            ("ymd", rf"(?P<y>{year}){SP}年(?:度)?(?:{SP}(?P<ym>{mon}){SP}月(?:份)?(?:{SP}(?P<yd>{day}){SP}[日号])?(?:{msuf})?|(?:{ysuf}))?"),
            ("md", md),
            ("day", rf"(?P<dd>3[01]|[12]\d|0?[1-9])[ \t]?日(?!{within})"),
            ("event", r"(?P<em>1[0-2]|0?[1-9])[·•・](?P<ed>3[01]|[12]\d|0?[1-9])(?![\d·•・])"),
            # --- time of day ---
            ("time", rf"(?P<th>2[0-4]|[01]?\d|[零一二两三四五六七八九十]{{1,3}}){SP}(?P<tu>时|点)"
                     rf"(?:{SP}(?P<tm>[0-5]?\d|半|[一二三四五十]{{1,3}}){SP}分?)?(?:{SP}[0-5]?\d{SP}秒)?(?:许)?"),
            ("clock", r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?![\d:])"),
            # --- shares and ranks ---
            ("pct", rf"百分之(?P<pn>[{cn}\d.]{{1,12}})"),
            ("frac", rf"(?P<fd>[{cnn}\d]{{1,4}})分之(?P<fn>[{cnn}\d.]{{1,6}})(?P<fs>强|弱|多)?"),
            ("ord", rf"第{SP}(?P<on>\d+|[{cnn}]{{1,8}}){SP}(?P<os>{ord_suffix})?(?P<oq>左右|上下|前后)?"),
            # --- everything else that has a numeral ---
            ("gen", rf"(?P<sign>负|零下|-(?=\d))?(?P<core>{core}){SP}(?P<unit>{units})?(?P<suf>{SP}(?:{suffixes}))?"),
        ]
        pattern = "|".join(f"(?P<A_{name}>{body})" for name, body in alternatives)
        self.numeric = re.compile(pattern, re.MULTILINE)
        body = pattern[pattern.index("(?P<A_gen>"):]
        self.general = re.compile(body, re.MULTILINE)
        # the general pattern without ranges, for "5%到3%" (no range: 5% alone)
        self.single = re.compile(body.replace(f"(?P<core>{core})", f"(?P<core>{numx})"), re.MULTILINE)
        # every character an alternative above can start with
        self.trigger = re.compile(rf"[\d{cn}第负\-(A-Za-z]")
        # the word scan's two patterns, searched side by side (see the module doc)
        self.book_title = re.compile(r"《[^《》\n]{0,80}》")
        self.words = re.compile(trie_pattern(lx.word_kinds))
        # what may follow a word of the word scan
        self.relative_tail = re.compile(
            rf"{SP}(?P<rm>{mon}){SP}月(?:份)?(?:{SP}(?P<rd>{day}){SP}[日号])?(?:{msuf})?"
            rf"|{SP}(?P<rd2>{day}){SP}日|(?P<rh>{plain_holidays})(?!日)|(?P<rs>{ysuf})")
        self.ident_tail = re.compile(rf"{SP}[:#]?{SP}(?:\d[\d-]*|[{cnn}]+号)")
        self.century_tail = re.compile(rf"{SP}(?:\d{{2,4}}|[{cnn}]{{2,4}}){SP}年代(?:{decade_part})?")
        self.holiday_context = re.compile(_alt(read_words("holiday_contexts.txt")))
        self.year_before = re.compile(r"((?:1[5-9]|20)\d{2})[ \t]?年[ \t]?$")
        self.numeral_or_digit = re.compile(rf"[{cnn}\d]")


@lru_cache(maxsize=1)
def grammar() -> _Grammar:
    """The compiled regexes, built once from the data files."""
    return _Grammar()


def master_pattern() -> re.Pattern:
    """The numeric scan's regex (kept for callers that inspect it)."""
    return grammar().numeric


# ---------------------------------------------------------------- helpers

@lru_cache(maxsize=8192)
def _num(s: str):
    return parse_numeral(s.replace(" ", "").replace("\t", ""))


_CORE_SPLIT = re.compile(rf"%?[ \t]?{_RANGE_SEP}[ \t]?")
_MULT_TAIL = re.compile(r"[万亿萬億]+$")
_MULT_TAIL_CHARS = frozenset("万亿萬億")


def _is_range(core: str) -> bool:
    """Is the matched core a range (``_CORE_SPLIT`` finds a separator in it)?"""
    return not _RANGE_SEP_CHARS.isdisjoint(core)   # a set test: cheaper than the search


def _strip_quals(s: str) -> tuple[str, bool]:
    """Remove 多/余 written inside a numeral; say whether there was one."""
    out = s.replace("多", "").replace("余", "")
    return out, out != s


@lru_cache(maxsize=8192)
def _core_value(core: str):
    """(value, low, high, had_infix_qualifier) of a numeral or a range."""
    parts = _CORE_SPLIT.split(core)
    if len(parts) == 2:
        a, qa = _strip_quals(parts[0])
        b, qb = _strip_quals(parts[1])
        na, nb = _num(a), _num(b)
        if na is None or nb is None or na.value is None or nb.value is None:
            return None
        lo, hi = na.value, nb.value
        tail = _MULT_TAIL.search(b.replace(" ", ""))
        if tail and not _MULT_TAIL.search(a.replace(" ", "")):
            # 1-5万: the multiplier of the upper bound also scales the lower one,
            # unless the lower bound is already of that size (从8500到3万).
            scale = _num("1" + tail.group())
            if scale is not None and scale.value and lo * scale.value <= hi and lo < hi / scale.value * 10 and lo < scale.value:
                lo = lo * scale.value
        if lo >= hi:
            return None
        return None, lo, hi, qa or qb
    s, q = _strip_quals(core)
    n = _num(s)
    if n is None:
        return None
    return n.value, n.low, n.high, q


def _bare_unit(core: str, multipliers: frozenset) -> bool:
    """百 / 千 / 万 / 亿 alone (上百, 逾千): a numeral only with a qualifier."""
    s = core.replace("多", "").replace("余", "").strip()
    return bool(s) and multipliers.issuperset(s) and s not in ("十", "拾")


_LONE_ONE = frozenset(("一", "壹", "幺"))   # a numeral "one" alone (一个 is "a", not a count)


def _apply_qualifier(qual, value, low, high):
    if qual in ("more", "at_least") and value is not None:
        low = value
    elif qual in ("less", "at_most") and value is not None:
        high = value
    return low, high


# ---------------------------------------------------------------- objects

_NOUN_TAGS = frozenset(("n", "nz", "ng", "nt", "nl", "ns", "vn", "an", "nrt", "j"))
_MOD_TAGS = frozenset(("a", "b", "ns", "nz", "vn", "j", "n", "f", "s"))
_OBJ_PUNCT = re.compile(r"[\s，。、；：！？,.;:!?（）()《》\"“”‘’「」『』\[\]【】—…·\-]")


@lru_cache(maxsize=1)
def _word_tags() -> dict:
    """jieba's part-of-speech of each dictionary word, the domain dictionary's over it.

    The organization lexicon's table (read from a per-machine cache of
    jieba's dictionary): one copy a process, loaded before workers fork.
    """
    from pipeline.extract.orgs_lexicon import dictionary_tags
    from pipeline.segment import default_dictionary
    return dictionary_tags(default_dictionary())[0]


def _words(snippet: str) -> list[str]:
    from pipeline.segment import segment
    return [t.text for t in segment(snippet)]


def _is_noun(word: str, tags: dict) -> bool:
    tag = tags.get(word)
    if tag is None:
        return False  # unknown to the dictionary: often a verb phrase the segmenter did not know
    return tag in _NOUN_TAGS or tag.startswith("n")


def _object_after(text: str, end: int) -> Optional[str]:
    """What a count counts, written after it: 56家|社会组织结对 -> 社会组织."""
    window = text[end:end + 16]
    window = window.lstrip(" \t“\"‘「")
    cut = _OBJ_PUNCT.search(window)
    if cut:
        window = window[:cut.start()]
    if not window or not _CJK_RE.match(window):
        return None
    return _noun_run_after(window)


@lru_cache(maxsize=4096)
def _noun_run_after(window: str) -> Optional[str]:
    tags = _word_tags()
    words = _words(window)
    taken = []
    for w in words[:4]:
        if tags.get(w) == "nz" and len(w) >= 4:
            break  # 齐聚一堂: an idiom the dictionary files as a proper noun
        if _is_noun(w, tags) or (tags.get(w) in _MOD_TAGS and len(w) > 1):
            taken.append(w)
            continue
        break
    while taken and not _is_noun(taken[-1], tags):
        taken.pop()
    if not taken and len(words) == 1 and len(window) == 1:
        return window  # １４５个村（社区）: a one-character object closing its clause
    return "".join(taken) if taken else None


def _object_before(text: str, start: int, links: frozenset) -> Optional[str]:
    """What a count counts, written before it: 现有登记社会组织|920家 -> 社会组织."""
    window = text[max(0, start - 14):start].rstrip(" \t")
    cut = None
    for m in _OBJ_PUNCT.finditer(window):
        cut = m.end()
    if cut is not None:
        window = window[cut:]
    if not window:
        return None
    return _noun_run_before(window, links)


@lru_cache(maxsize=4096)
def _noun_run_before(window: str, links: frozenset) -> Optional[str]:
    tags = _word_tags()
    words = _words(window)
    while words and words[-1] in links:
        words.pop()
    taken = []
    for w in reversed(words[-3:]):
        if _is_noun(w, tags):
            taken.insert(0, w)
            continue
        break
    if not taken:
        return None
    return "".join(taken)


# ---------------------------------------------------------------- main

class _Ctx:
    """Per-call state: the texts, the base date, the exclusions."""
    __slots__ = ("text", "folded", "base", "base_parts", "base_year", "ex_starts", "ex_ends", "floor", "lx", "gr")

    def __init__(self, text, folded, base, exclude):
        self.lx, self.gr = lexicon(), grammar()   # looked up once per text, not once per candidate
        self.text = text
        self.folded = folded
        self.base = base
        self.base_parts = _dates.parse_iso(base)   # (year, month, day), parsed once
        self.base_year = self.base_parts[0]
        spans = sorted((int(a), int(b)) for a, b in exclude if b > a) if exclude else ()
        # Overlapping spans are joined: ``excluded`` looks only at the last
        # span starting at or before a position, which needs disjoint spans.
        self.ex_starts, self.ex_ends = [], []
        for a, b in spans:
            if self.ex_ends and a <= self.ex_ends[-1]:
                self.ex_ends[-1] = max(self.ex_ends[-1], b)
            else:
                self.ex_starts.append(a)
                self.ex_ends.append(b)
        self.floor = 0   # a look-back never crosses the end of the previous match

    def excluded(self, start: int, end: int) -> bool:
        """Does a garbled span cover the start or the end of [start, end)
        (or lie inside it)?  For a non-empty [start, end) that is: does one
        overlap it."""
        # The joined spans are disjoint, so their ends are sorted too: the
        # first span ending after ``start`` is the only one that can overlap.
        i = bisect.bisect_right(self.ex_ends, start)
        return i < len(self.ex_starts) and self.ex_starts[i] < end


def _fig(ctx, start, end, kind, *, value=None, low=None, high=None, unit=None,
         qualifier=None, object=None, date=None) -> Optional[Figure]:
    # Spaces at the edges are never part of a figure.
    text = ctx.text
    while start < end and text[start] in " \t\u3000":
        start += 1
    while end > start and text[end - 1] in " \t\u3000":
        end -= 1
    if end <= start or (ctx.ex_starts and ctx.excluded(start, end)):
        return None
    # positional: the fields of Figure in order (a call with keywords costs more)
    return Figure(start, end, text[start:end], kind, value, low, high, unit, qualifier, object, date)


_SPACE_TAB = frozenset(" \t")
_FROM = _word_list(("从",))           # 从8500到3万: 从 opens the range
_CURRENCY_BEFORE = _word_list(("人民币",))


def _word_before(ctx, pos: int, words: _Words, *, space: bool = True) -> Optional[tuple[str, int]]:
    """The longest of ``words`` that ends at ``pos`` (one space allowed), and its start."""
    f = ctx.folded
    floor = ctx.floor
    end = pos
    if space and end > floor and f[end - 1] in " \t":
        end -= 1
    if end <= floor or f[end - 1] not in words.last_chars:
        return None
    for w in words.longest_first:
        s = end - len(w)
        if s >= floor and f.startswith(w, s):
            return w, s
    return None


def _prefix_before(ctx, pos: int) -> Optional[tuple[str, int]]:
    """A qualifier word right before a numeral (约, 超过, 近 but not 最近/附近)."""
    words = ctx.lx.prefix_words
    before = ctx.folded[pos - 1:pos]
    if before not in words.last_chars and before not in _SPACE_TAB:
        return None  # before most numerals: a character no qualifier ends in
    hit = _word_before(ctx, pos, words)
    if hit and hit[0] == "近" and ctx.folded[hit[1] - 1:hit[1]] in ("最", "附", "靠", "邻"):
        return None
    return hit


def _cn_or_int(s: Optional[str]) -> Optional[int]:
    if not s:
        return None
    n = _num(s)
    if n is None or n.value is None or not float(n.value).is_integer():
        return None
    return int(n.value)


def _year_before(ctx, start: int) -> Optional[int]:
    """A year written right before a month/day or holiday (2022年春节)."""
    m = ctx.gr.year_before.search(ctx.folded, max(0, start - 7), start)
    return int(m.group(1)) if m else ctx.base_year


_CN_MONTH = re.compile(r"[一二三四五六七八九十]+")
_YEAR_DIGITS = re.compile(r"(?:19|20)\d{2}")
_DECIMAL = re.compile(r"\d+\.\d+")


def _date_fig(ctx, m, name) -> Optional[Figure]:
    start, end = m.start(), m.end()
    g = m.group
    if name == "iso":
        y, mo, d = (int(x) for x in re.split(r"[-/.]", g(0)))
        return _fig(ctx, start, end, "date", date=_dates.format_date(y, mo, d))
    if name == "compact":
        s = g(0)
        date = _dates.format_date(int(s[:4]), int(s[4:6]), int(s[6:8]))
        return _fig(ctx, start, end, "date", date=date) if date else None
    if name == "ymd":
        y = _cn_or_int(g("y"))
        if y is not None and len(g("y")) == 2:
            y += 2000  # 09年: a year of this century written short
        if y is None or not 1500 <= y <= 2099:
            return None
        mo, d = _cn_or_int(g("ym")), _cn_or_int(g("yd"))
        if mo is not None and not 1 <= mo <= 12:
            return None
        date = _dates.format_date(y, mo, d)
        return None if date is None else _fig(ctx, start, end, "date", date=date)
    if name == "md":
        mo, d = _cn_or_int(g("m")), _cn_or_int(g("d"))
        if mo is None or not 1 <= mo <= 12 or (g("d") and d is None):
            return None
        y = _year_before(ctx, start)
        if g("d2"):
            # ６月１１日至１７日: one span of days, dated as precisely as both ends agree
            mo2 = _cn_or_int(g("m2")) if g("m2") else mo
            first, last = _dates.format_date(y, mo, d), _dates.format_date(y, mo2, _cn_or_int(g("d2")))
            if not g("d") or first is None or last is None or last <= first:
                return None
            return _fig(ctx, start, end, "date", date=first[:7] if first[:7] == last[:7] else first[:4])
        if g("msuf"):
            d = None
        if not g("d") and _CN_MONTH.fullmatch(g("m")) and not g(0).endswith("份"):
            # 一月 … 十二月 alone are often words (一月一推进); keep 一月份 and 六月十二日
            nxt = ctx.folded[end:end + 1]
            if nxt and _CJK_RE.match(nxt) and nxt not in "初底中末里间":
                return None
        date = _dates.format_date(y, mo, d)
        return _fig(ctx, start, end, "date", date=date)
    if name == "day":
        d = int(g("dd"))
        by, bm, _ = ctx.base_parts
        return _fig(ctx, start, end, "date", date=_dates.format_date(by, bm, d) if bm is not None else None)
    if name == "event":
        mo, d = int(g("em")), int(g("ed"))
        return _fig(ctx, start, end, "date", date=_dates.format_date(ctx.base_year, mo, d))
    if name == "decade":
        dec = int(g("dec")) if g("dec").isdigit() else None
        date = f"{dec // 10:03d}" if dec is not None and dec >= 1000 and dec % 10 == 0 else None
        return _fig(ctx, start, end, "date", date=date)  # 90年代: the century is not written
    return None


def _time_fig(ctx, m, name) -> Optional[Figure]:
    if name == "clock":
        return _fig(ctx, m.start(), m.end(), "time")
    h = _cn_or_int(m.group("th"))
    if h is None or h > 24:
        return None
    period = _word_before(ctx, m.start(), ctx.lx.periods)
    if m.group("tu") == "点" and not period and not m.group("tm"):
        return None  # 3点 alone is "three points" as often as "three o'clock"
    nxt = ctx.folded[m.end():m.end() + 1]
    if not m.group("tm") and nxt in ctx.lx.time_followers:
        return None
    if m.group("th") in ("一", "两", "二") and not period and not m.group("tm"):
        return None  # 一时, 两点: words, not times
    return _fig(ctx, period[1] if period else m.start(), m.end(), "time")


def _ordinal_fig(ctx, m) -> Optional[Figure]:
    v = _cn_or_int(m.group("on"))
    if v is None or v <= 0:
        return None
    end = m.end("os") if m.group("os") else m.end("on")
    suffix = m.group("os")
    if suffix and ctx.folded[end:end + 1] in ctx.lx.unit_blockers.get(suffix, ()):
        end, suffix = m.end("on"), None  # 第二部分: 部 starts the next word
    if not suffix:
        nxt = ctx.folded[end:end + 1]
        if nxt and _CJK_RE.match(nxt) and nxt not in "的大":
            return None  # 第一 + a word it belongs to (第一书记, 第二代); 第一大股东 ranks
    qual = None
    if suffix and m.group("oq"):
        qual, end = "about", m.end("oq")  # 第３１秒左右
    return _fig(ctx, m.start(), end, "ordinal", value=float(v), qualifier=qual)


def _percent_prefix_fig(ctx, m) -> Optional[Figure]:
    n = _num(m.group("pn"))
    if n is None or n.value is None:
        return None
    pre = _prefix_before(ctx, m.start())
    qual = ctx.lx.prefix_quals[pre[0]] if pre else None
    low, high = _apply_qualifier(qual, n.value, None, None)
    return _fig(ctx, pre[1] if pre else m.start(), m.end(), "percent", value=n.value, low=low, high=high,
                unit="%", qualifier=qual)


def _fraction_fig(ctx, m) -> Optional[Figure]:
    """三分之一 is 33.33 %: a share written as a fraction."""
    den, num = _num(m.group("fd")), _num(m.group("fn"))
    if den is None or num is None or not den.value or num.value is None or num.value > den.value:
        return None
    value = round(num.value / den.value * 100, 2)
    lx = ctx.lx
    pre = _prefix_before(ctx, m.start())
    qual = lx.prefix_quals[pre[0]] if pre else None
    if m.group("fs"):
        qual = lx.suffix_quals.get(m.group("fs"), qual)
    low, high = _apply_qualifier(qual, value, None, None)
    return _fig(ctx, pre[1] if pre else m.start(), m.end(), "percent", value=value, low=low, high=high,
                unit="%", qualifier=qual)


def _money_context(ctx, start: int, end: int) -> bool:
    lx = ctx.lx
    after = ctx.folded[end:end + 8].lstrip(" ”’\"")
    if any(after.startswith(w) for w in lx.money_after):
        return True
    if any(after[after.find("不等"):].startswith("不等" + w) for w in lx.money_after if "不等" in after[:3]):
        return True
    before = ctx.folded[max(0, start - 6):start].rstrip(" 为达约共计“\"")
    return any(before.endswith(w) for w in lx.money_before)


_FINANCIAL_DIGITS = frozenset("壹贰貳叁參肆伍陆陸柒捌玖拾佰仟")


def _bare_number_fig(ctx, m, value, core, start) -> Optional[Figure]:
    """A number with no unit: a year before a name (2022苍南县…大赛) or a
    decimal reading (PMI ５２．８); every other bare number is dropped."""
    s = core.strip()
    nxt = ctx.folded[m.end("core"):m.end("core") + 1]
    if value is None or m.group("sign") or m.group("suf"):
        return None
    if _YEAR_DIGITS.fullmatch(s) and nxt and (_CJK_RE.match(nxt) or nxt in "“\"") \
            and ctx.folded[start - 1:start] not in ("第", "-", "."):
        return _fig(ctx, m.start("core"), m.end("core"), "date", date=s)
    if _DECIMAL.fullmatch(s) and not (nxt and nxt in "%‰"):
        return _fig(ctx, m.start("core"), m.end("core"), "number", value=value)
    return None


def _general_fig(ctx, m) -> Optional[Figure]:
    sign, core, unit_w, suf = m.group("sign", "core", "unit", "suf")
    # ``[-1:] not in _MULT_TAIL_CHARS`` is ``not _MULT_TAIL.search``: a core holds no
    # line break for its ``$`` to stop before
    if not unit_w and "." not in core and len(core) != 4 and core.rstrip("多余 \t")[-1:] not in _MULT_TAIL_CHARS \
            and not _is_range(core):
        return None  # a bare number that is neither a year, a decimal reading nor an amount
    lx = ctx.lx
    vague = not lx.vague.isdisjoint(core)
    if vague and not unit_w:
        return None  # 数十, 几千 alone: no number an editor could check
    parsed = _core_value(core)
    if parsed is None:
        return None
    value, low, high, infix = parsed
    start, end = m.span()
    is_range = value is None and low is not None and _is_range(core)
    pre = None
    if sign == "-":
        before = ctx.folded[start - 1:start]
        if before and (before.isalnum() and not _CJK_RE.match(before)
                       or before in lx.unit_last_chars or before == "%"):
            sign, start = None, m.start("core")  # 30天-17周岁: a dash between two figures, not a minus
    if not sign:
        frm = _word_before(ctx, start, _FROM) if is_range else None
        if frm:
            start = frm[1]  # 从8500到3万: 从 belongs to the range
        else:
            hit = _prefix_before(ctx, start)
            if hit:
                pre, start = hit
            if start > ctx.floor and ctx.folded[start - 1] in _CURRENCY_BEFORE.last_chars:
                cur = _word_before(ctx, start, _CURRENCY_BEFORE, space=False)
                if cur:
                    start = cur[1]
    stripped = core.strip()
    # only these two tests read ``bare``: most candidates need not compute it
    bare = (pre == "上" or len(stripped) == 1) and _bare_unit(core, lx.multipliers)
    if pre == "上" and not bare:
        pre, start = None, m.start()
    if bare and len(stripped) == 1 and not (pre or infix or suf):
        return None
    if sign and value is not None:
        value = -value
    unit_key = unit_w.replace("多", "").replace("余", "") if unit_w else None
    kind, unit, factor = (lx.units.get(unit_key) if unit_w else None) or (None, None, 1.0)
    unit_infix = bool(unit_w) and unit_key != unit_w
    if unit_key in lx.arabic_only and not any(c.isdigit() for c in core):
        return None  # 两度上调, 二级市场: words, not measures
    if len(stripped) == 1 and stripped in _FINANCIAL_DIGITS:
        return None  # 陆家嘴, 队伍: a financial numeral alone is an ordinary character
    if unit_w:
        blockers = lx.unit_blockers.get(unit_key)
        unit_end = m.end("unit")
        nxt = ctx.folded[unit_end:unit_end + 1]
        if blockers and nxt and nxt in blockers and not suf:
            # 升至, 成为, 支柱: the character starts the next word, it is no unit
            unit_w = unit_key = suf = None
            kind, unit, factor = None, None, 1.0
            unit_infix = False
            end = m.end("core")
    if unit_w == "点" and not _ARABIC_CORE.match(stripped):
        return None  # 三点 is "three points"; Arabic 点 counts index points (2226.55点)
    if kind == "percent" and unit_key in ("成", "折"):
        v = value if value is not None else high
        if v is None or v > 10 or sign or ("." in core and unit_key == "成"):
            return None
    if kind is None:
        if value is not None and not _MULT_TAIL.search(core.replace("多", "").replace("余", "")):
            return None if pre else _bare_number_fig(ctx, m, value, core, start)
        if not _money_context(ctx, start, m.end("core")):
            return None
        kind, unit, factor = "money", "CNY", 1.0
        end = m.end("core")
        suf = None
    lone_one = stripped in _LONE_ONE and not (pre or infix or unit_infix or suf)
    if lone_one and (kind == "quantity" or (kind == "count" and unit_key not in lx.lone_one)):
        return None  # 一个, 一家, 一级: the indefinite article or a grade, not a figure
    nxt = ctx.folded[end:end + 1]
    if kind in ("count", "quantity") and ctx.folded[start - 1:start] in ("“", "‘", '"') \
            and re.match(r"[^”’\"]{0,6}[”’\"]", ctx.folded[end:end + 8]):
        return None  # “六个严格”, “三支柱”: a slogan, not a count
    if kind == "duration" and unit_key in lx.ago_units and nxt == "前" and not suf \
            and ctx.folded[end + 1:end + 2] not in ("后", "夕"):
        # 两年前 is a date: the base moved back
        if value is None or not float(value).is_integer():
            return None
        n = int(value)
        kw = {"weeks": {"days": -7 * n}, "years": {"years": -n},
              "months": {"months": -n}, "days": {"days": -n}}[lx.ago_units[unit_key]]
        return _fig(ctx, start, end + 1, "date", date=_dates.shift_date(ctx.base, **kw))
    if kind == "duration" and unit_key == "月" and value is None and re.match(r"[\d\s~至到—–-]+$", core):
        # ３－５月: a span of months of one year
        return _fig(ctx, start, end, "date", date=_dates.format_date(ctx.base_year))
    if unit_w and value is not None and not suf and not pre and not infix and not unit_infix \
            and nxt in _RANGE_AHEAD_FIRST and _RANGE_AHEAD.match(ctx.folded, end):
        # １０００桶至３０００桶: a range whose bounds both carry the unit
        tail = _unit_range_tail(unit_w).match(ctx.folded, end)
        if tail:
            upper = _core_value(tail.group("hi"))
            if upper and upper[0] is not None and upper[0] > value:
                value, low, high, end = None, value, upper[0], tail.end()
    # Suffix qualifiers: 多/余 after a unit only for durations and quantities (3年多).
    qual_words = []
    if suf:
        sw = suf.strip()
        after = ctx.folded[m.end("suf"):m.end("suf") + 1]
        drop = (sw in ("多", "余") and (kind not in ("duration", "quantity") or after in lx.suffix_followers)) \
            or (sw in ("强", "弱") and kind != "percent")
        if drop:
            end = m.end("unit") if unit_w else m.end("core")
        else:
            qual_words.append(lx.suffix_quals[sw])
    if pre:
        qual_words.insert(0, lx.prefix_quals[pre])
    elif not qual_words:
        qual_words.extend(_qualifier_before(ctx, start))
    if infix or unit_infix:
        qual_words.append("more")
    if vague:
        qual_words.append("about")  # 数十个, 十几人: a range only roughly stated
    qual = qual_words[0] if qual_words else None
    if factor != 1.0:
        value = None if value is None else round(value * factor, 6)
        low = None if low is None else round(low * factor, 6)
        high = None if high is None else round(high * factor, 6)
    if value is not None:
        low, high = _apply_qualifier(qual, value, low, high)
    obj = None
    if kind == "count":
        obj = _object_after(ctx.text, end) or _object_before(ctx.text, start, lx.object_links)
    return _fig(ctx, start, end, kind, value=value, low=low, high=high, unit=unit,
                qualifier=qual, object=obj)


_RANGE_AHEAD = re.compile(rf"{SP}{_RANGE_SEP}")   # how every _unit_range_tail starts
_RANGE_AHEAD_FIRST = frozenset(" \t" + "".join(_RANGE_SEP_WORDS))   # what _RANGE_AHEAD can start with
_ARABIC_CORE = re.compile(r"[\d.,]+$")


@lru_cache(maxsize=256)
def _unit_range_tail(unit_w: str) -> re.Pattern:
    """What closes a range after its first bound and unit: 至３０００桶."""
    ar = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"
    small = re.escape("".join(numeral_table().units) + "".join(numeral_table().bigs))
    return re.compile(rf"{SP}{_RANGE_SEP}{SP}(?P<hi>(?:{ar})[{small}]{{0,3}}){SP}{re.escape(unit_w)}")


@lru_cache(maxsize=1)
def _qualifier_lookback() -> re.Pattern:
    words = [w for w in lexicon().prefix_quals if len(w) > 1]
    return re.compile(rf"(?:{_alt(words)})(?:{_LINK_WORDS})[ \t]?$")


_LINK_WORDS = "有|达|了|为"   # 至少有, 约达: a qualifier, then one of these, then the number
_LINK_CHARS = frozenset(_LINK_WORDS.split("|"))   # one character each


def _qualifier_before(ctx, start: int) -> list:
    """至少有１１６人: a qualifier one linking word away still qualifies."""
    # The link ends the look-back's match, at most one space and a final
    # newline before ``start``: without one there, the look-back cannot match.
    if _LINK_CHARS.isdisjoint(ctx.folded[max(0, start - 3):start]):
        return []
    m = _qualifier_lookback().search(ctx.folded, max(ctx.floor, start - 6), start)
    if not m:
        return []
    word = m.group().rstrip(" \t")[:-1]
    quals = ctx.lx.prefix_quals
    return [quals[word]] if word in quals else []


_DATE_ALTS = frozenset(("iso", "compact", "ymd", "md", "day", "event", "decade"))
_SKIP_GROUPS = frozenset("A_" + name for name in ("url", "code", "phone", "enum", "law", "gen_tag"))


def _numeric_scan(ctx) -> list:
    """Figures (and blocked spans, as None) found at numeral positions."""
    gr = ctx.gr
    folded = ctx.folded
    trigger, numeric, general = gr.trigger.search, gr.numeric.match, gr.general.match
    out = []
    pos, n = 0, len(folded)
    while pos < n:
        t = trigger(folded, pos)
        if t is None:
            break
        p = t.start()
        m = numeric(folded, p)
        if m is None:
            pos = p + 1
            continue
        group = m.lastgroup
        pos = m.end()
        if pos <= p:
            pos = p + 1
        if group == "A_gen":   # the most frequent by far: tested first
            fig = _general_fig(ctx, m)
            if fig is None and _is_range(m.group("core")):
                one = gr.single.match(folded, p)  # not a range after all: the first bound alone
                if one is not None:
                    fig = _general_fig(ctx, one)
                    pos = max(one.end(), p + 1)
        elif group in _SKIP_GROUPS:
            ctx.floor = pos
            continue
        elif (name := group[2:]) in _DATE_ALTS:
            fig = _date_fig(ctx, m, name)
        elif name in ("time", "clock"):
            fig = _time_fig(ctx, m, name)
        elif name == "ord":
            fig = _ordinal_fig(ctx, m)
        elif name == "pct":
            fig = _percent_prefix_fig(ctx, m)
        else:  # frac, the last of the alternatives
            fig = _fraction_fig(ctx, m)
        if fig is None and group != "A_gen":
            # A date or time that turned out not to be one (3点建议, 一月一推进 …)
            # may still be a figure of another kind starting at the same place.
            g = general(folded, p)
            if g is not None:
                fig = _general_fig(ctx, g)
                if fig is not None:
                    pos = max(g.end(), p + 1)
        if fig is not None:
            if out and fig.start < out[-1].end:
                continue
            out.append(fig)
        ctx.floor = pos
    return out


def _word_scan(ctx) -> tuple[list, list]:
    """(date figures, blocked spans) from the words of the word scan."""
    gr = ctx.gr
    folded = ctx.folded
    figures, blocked = [], []
    # The next match of each pattern; where both start at one place the book
    # title wins, as it would in one alternation.  A search that found nothing
    # finds nothing later either.
    book = gr.book_title.search(folded)
    word = gr.words.search(folded)
    while book is not None or word is not None:
        if book is not None and (word is None or book.start() <= word.start()):
            blocked.append(book.span())
            pos = book.end()
        else:
            pos = _word_figure(ctx, word, figures, blocked)
        if book is not None and book.start() < pos:
            book = gr.book_title.search(folded, pos)
        if word is not None and word.start() < pos:
            word = gr.words.search(folded, pos)
    return figures, blocked


def _word_figure(ctx, m, figures: list, blocked: list) -> int:
    """Add what the listed word ``m`` makes (a date figure or a blocked span);
    return where the scan goes on."""
    gr = ctx.gr
    folded = ctx.folded
    start, end = m.start(), m.end()
    word = m.group()
    pos = end
    kind = ctx.lx.word_kinds.get(word)
    if kind == "phrase":
        blocked.append((start, end))
    elif kind == "ident":
        tail = gr.ident_tail.match(folded, end)
        if tail:
            blocked.append((start, tail.end()))
            pos = tail.end()
    elif kind == "century":
        tail = gr.century_tail.match(folded, end)
        if tail:
            fig = _fig(ctx, start, tail.end(), "date", date=None)  # 上世纪五十年代: no year written
            if fig:
                figures.append(fig)
            pos = tail.end()
    elif kind == "half":
        if not gr.numeral_or_digit.match(folded, end):
            fig = _fig(ctx, start, end, "date", date=_dates.format_date(ctx.base_year))
            if fig:
                figures.append(fig)
    elif kind == "holiday":
        fig, pos = _holiday_fig(ctx, word, start, end)
        if fig:
            figures.append(fig)
    elif kind == "relative":
        fig, pos = _relative_fig(ctx, word, start, end)
        if fig:
            figures.append(fig)
    return pos


def _holiday_fig(ctx, word: str, start: int, end: int):
    gr = ctx.gr
    hol = _dates.holidays()
    if word.endswith("节") and ctx.folded.startswith("日", end) and word[:-1] in hol:
        word, end = word[:-1], end - 1  # 七夕节日: the holiday is 七夕
    if hol[word].needs_context and not gr.holiday_context.match(ctx.folded, end):
        return None, end
    year = _year_before(ctx, start)
    return _fig(ctx, start, end, "date", date=_dates.holiday_date(word, year)), end


def _relative_fig(ctx, word: str, start: int, end: int):
    gr = ctx.gr
    field = _dates.relative_words()[word][0]
    base_date = _dates.resolve_relative(word, ctx.base)
    tail = gr.relative_tail.match(ctx.folded, end)
    date = base_date
    if tail:
        mo = _cn_or_int(tail.group("rm"))
        d = _cn_or_int(tail.group("rd") or tail.group("rd2"))
        if field == "year" and tail.group("rh"):
            date = _dates.holiday_date(tail.group("rh"), int(base_date[:4])) if base_date else None
            end = tail.end()
        elif field == "year" and tail.group("rs"):
            end = tail.end()          # 去年同期, 今年一季度: the year
        elif field == "year" and mo is not None:
            date = _dates.format_date(int(base_date[:4]), mo, d) if base_date else None
            end = tail.end()
        elif field == "month" and d is not None and tail.group("rd2"):
            date = _dates.format_date(int(base_date[:4]), int(base_date[5:7]), d) \
                if base_date and len(base_date) >= 7 else None
            end = tail.end()
    return _fig(ctx, start, end, "date", date=date), end


_INF = float("inf")


def _overlaps(spans: list, start: int, end: int) -> bool:
    """Does [start, end) overlap any of the sorted, disjoint ``spans``?"""
    i = bisect.bisect_right(spans, (start, _INF)) - 1
    if i >= 0 and spans[i][1] > start:
        return True
    return i + 1 < len(spans) and spans[i + 1][0] < end


def extract_figures(text: str, *, base_date: Optional[str] = None,
                    exclude: Sequence[tuple[int, int]] = ()) -> list[Figure]:
    """Figures in ``text``, sorted by start, non-overlapping.

    Parameters
    ----------
    text : str
        Any text; full-width digits and OCR spaces are understood, offsets
        always index ``text`` as given (``text[f.start:f.end] == f.text``).
    base_date : str, optional
        ISO date (``"2022"``, ``"2012-06"``, ``"2012-06-12"``) that relative
        dates (今年, 昨日, 12日) and holidays resolve against; without it their
        ``date`` is null.
    exclude : sequence of (start, end)
        Spans (garbled runs) where no figure may start or end.

    Returns
    -------
    list of pipeline.model.Figure
    """
    if not text:
        return []
    ctx = _Ctx(text, fold_width(text), base_date, exclude)
    word_figures, blocked = _word_scan(ctx)
    ctx.floor = 0
    numeric = _numeric_scan(ctx)
    if blocked:
        numeric = [f for f in numeric if not _overlaps(blocked, f.start, f.end)]
    if not word_figures:
        return numeric
    # Merge the two sorted lists; where a word date overlaps a numeric figure,
    # the longer one stays (今年6月 over 6月), the word date on a tie (一季度).
    merged = sorted([(f.start, -(f.end - f.start), 0, f) for f in word_figures]
                    + [(f.start, -(f.end - f.start), 1, f) for f in numeric], key=lambda r: r[:3])
    out = []
    for _, _, _, f in merged:
        if out and f.start < out[-1].end:
            prev = out[-1]
            if (f.end - f.start) > (prev.end - prev.start):
                out[-1] = f
            continue
        out.append(f)
    return out
