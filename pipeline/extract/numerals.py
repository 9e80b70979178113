"""Parse every numeral form of Chinese news into a number (or a range).

Forms: Arabic (``82225``, ``82,225``, ``82，225``, ``1734.8``), full-width
(``１２３``, ``８．３``), Chinese (``三千二百``, ``两``, ``廿三``, ``二〇一二``),
financial (``壹仟贰佰``), mixed (``3千万``, ``1.2万``, ``九万四`` = 94000,
``一千三`` = 1300), fractions (``三分之一``), signs (``负3``, ``-3``, ``零下5``)
and vague numerals that name a range (``三四十`` = 30..40, ``十几`` = 11..19,
``数百`` = 200..900).

The character table lives in ``pipeline/data/figures/numerals.tsv``.

Examples
--------
>>> parse_number("九万四")
94000.0
>>> parse_numeral("三四十")
Numeral(value=None, low=30.0, high=40.0)
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, Optional

from pipeline.text import fold_width

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "figures"


class Numeral(NamedTuple):
    """A parsed numeral: an exact ``value``, or a range ``low``..``high``."""
    value: Optional[float]
    low: Optional[float]
    high: Optional[float]


class _Table(NamedTuple):
    digits: dict       # char -> 0..9
    units: dict        # char -> 10/100/1000
    bigs: dict         # char -> 1e4 / 1e8
    tens: dict         # char -> 20/30/40
    vague: frozenset   # 几 数


@lru_cache(maxsize=1)
def numeral_table() -> _Table:
    """The numeral characters of ``numerals.tsv``, by role."""
    path = DATA_DIR / "numerals.tsv"
    digits, units, bigs, tens, vague = {}, {}, {}, {}, set()
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or len(parts[0]) != 1:
                raise ValueError(f"{path}:{n}: expected 'char<TAB>value<TAB>role', got {line!r}")
            ch, value, role = parts
            target = {"digit": digits, "unit": units, "big": bigs, "tens": tens}.get(role)
            if role == "vague":
                vague.add(ch)
            elif target is None:
                raise ValueError(f"{path}:{n}: unknown role {role!r}")
            else:
                target[ch] = int(value)
    return _Table(digits, units, bigs, tens, frozenset(vague))


@lru_cache(maxsize=1)
def signs() -> tuple[str, ...]:
    """The words that make a numeral negative (零下, 负, -), from ``signs.txt``, in file order."""
    path = DATA_DIR / "signs.txt"
    with open(path, encoding="utf-8") as fh:
        words = tuple(w for w in (line.strip() for line in fh) if w and not w.startswith("#"))
    if not words:
        raise ValueError(f"{path}: no sign words")
    return words


def chinese_numeral_chars(*, vague: bool = True) -> str:
    """All Chinese numeral characters (for building character classes)."""
    t = numeral_table()
    chars = "".join(t.digits) + "".join(t.units) + "".join(t.bigs) + "".join(t.tens)
    return chars + ("".join(sorted(t.vague)) if vague else "")


_ARABIC_RE = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+")
_SPACE_RE = re.compile(r"\s+")


def _tokens(text: str, table: _Table) -> Optional[list]:
    """Split a numeral into ('num', v) / ('unit', v) / ('big', v) / ('zero',) /
    ('vague',) tokens; None when a character is no numeral."""
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isdigit() or ch == ".":
            m = _ARABIC_RE.match(text, i)
            if not m:
                return None
            out.append(("num", float(m.group().replace(",", ""))))
            i = m.end()
            continue
        if ch in table.digits:
            v = table.digits[ch]
            out.append(("zero",) if v == 0 else ("num", float(v)))
        elif ch in table.units:
            out.append(("unit", table.units[ch]))
        elif ch in table.bigs:
            out.append(("big", table.bigs[ch]))
        elif ch in table.tens:
            out.append(("num", float(table.tens[ch] // 10)))
            out.append(("unit", 10))
        elif ch in table.vague:
            out.append(("vague",))
        else:
            return None
        i += 1
    return out


def _evaluate(tokens: list) -> Optional[float]:
    """The value of a token list without vague digits; None when malformed."""
    total = 0.0
    section = 0.0
    pending: Optional[float] = None
    last_unit = 0          # the multiplier of the last unit, for 九万四 / 一千三
    last_big = 0
    after_zero = False
    seen = False
    for tok in tokens:
        kind = tok[0]
        if kind == "zero":
            if pending is not None:
                return None
            after_zero = True
            seen = True
        elif kind == "num":
            if pending is not None:
                return None  # two digits side by side: not a positional numeral
            pending = tok[1]
            seen = True
        elif kind == "unit":
            unit = tok[1]
            if pending is None and last_unit and unit >= last_unit and last_unit < 10000:
                return None  # 百十, 千百: units out of order
            section += (1.0 if pending is None else pending) * unit
            pending, last_unit, after_zero, seen = None, unit, False, True
        elif kind == "big":
            big = tok[1]
            if pending is not None:
                section += pending
                pending = None
            if section == 0 and total == 0:
                section = 1.0  # a bare 万 / 亿
            if big > last_big and last_big:
                total = (total + section) * big
            else:
                total += section * big
            section, last_unit, last_big, after_zero, seen = 0.0, big, max(big, last_big), False, True
        else:
            return None
    if not seen:
        return None
    if pending is not None:
        if last_unit >= 100 and not after_zero and float(pending).is_integer() and pending < 10:
            section += pending * last_unit / 10  # 一千三 = 1300, 九万四 = 94000
        else:
            section += pending                   # 十五, 一百零五, 3万500
    return total + section


def _clean(x: float) -> float:
    r = round(x, 6)
    return float(int(r)) if r.is_integer() else r


def _digit_string(tokens: list) -> Optional[float]:
    """二〇一二 -> 2012: a run of bare digits read one by one."""
    digits = []
    for tok in tokens:
        if tok[0] == "zero":
            digits.append("0")
        elif tok[0] == "num" and tok[1].is_integer() and tok[1] < 10:
            digits.append(str(int(tok[1])))
        else:
            return None
    return float("".join(digits)) if digits else None


def parse_numeral(text: str) -> Optional[Numeral]:
    """Parse one numeral written in any form.

    Parameters
    ----------
    text : str
        The numeral alone (spaces are ignored), e.g. ``"1.2万"``, ``"三四十"``.

    Returns
    -------
    Numeral or None
        ``Numeral(value, None, None)`` for an exact number,
        ``Numeral(None, low, high)`` for a vague one (三四十, 十几, 数百), and
        None when ``text`` is not a numeral.
    """
    if not text:
        return None
    s = _SPACE_RE.sub("", fold_width(text))
    sign = 1.0
    for mark in signs():
        if s.startswith(mark) and len(s) > len(mark):
            sign, s = -1.0, s[len(mark):]
            break
    if "分之" in s:
        den_s, _, num_s = s.partition("分之")
        den, num = parse_number(den_s), parse_number(num_s)
        if den in (None, 0) or num is None:
            return None
        return Numeral(_clean(sign * num / den), None, None)
    table = numeral_table()
    tokens = _tokens(s, table)
    if not tokens:
        return None
    if not any(t[0] in ("unit", "big") for t in tokens):
        # Only digits: 二〇一二 is read digit by digit, 三四 / 七八 is a range.
        if any(t[0] == "vague" for t in tokens):
            return None
        if (len(tokens) == 2 and all(t[0] == "num" for t in tokens)
                and tokens[1][1] - tokens[0][1] == 1 and tokens[0][1] < 10 and tokens[1][1] < 10
                and not any(c.isdigit() for c in s)):
            return Numeral(None, sign * tokens[0][1], sign * tokens[1][1])
        if len(tokens) == 1 and tokens[0][0] == "num":
            return Numeral(_clean(sign * tokens[0][1]), None, None)
        if len(tokens) == 1 and tokens[0][0] == "zero":
            return Numeral(0.0, None, None)
        if len(tokens) < 3:
            return None  # 一五: neither a positional numeral nor a year read digit by digit
        value = _digit_string(tokens)
        return None if value is None else Numeral(_clean(sign * value), None, None)
    low_tokens, high_tokens = _range_variants(tokens)
    if low_tokens is None:
        return None
    low, high = _evaluate(low_tokens), _evaluate(high_tokens)
    if low is None or high is None:
        return None
    if low == high:
        return Numeral(_clean(sign * low), None, None)
    lo, hi = sorted((sign * low, sign * high))
    return Numeral(None, _clean(lo), _clean(hi))


def _range_variants(tokens: list):
    """Two token lists, the low and the high reading of a vague numeral.

    三四十 -> 三十 / 四十; 十几 -> 十一 / 十九; 几十 / 数百 -> 二十 / 九十.
    """
    low, high = [], []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok[0] == "vague":
            after_unit = bool(low) and low[-1][0] in ("unit", "big")
            lo = 1.0 if after_unit else 2.0
            low.append(("num", lo))
            high.append(("num", 9.0))
        elif (tok[0] == "num" and nxt is not None and nxt[0] == "num"
              and tok[1] < 10 and nxt[1] < 10 and nxt[1] - tok[1] == 1):
            low.append(tok)
            high.append(nxt)
            i += 1
        else:
            low.append(tok)
            high.append(tok)
        i += 1
    return low, high


def parse_number(text: str) -> Optional[float]:
    """The exact value of a numeral, or None (vague numerals have none).

    >>> parse_number("1,734.8万")
    17348000.0
    """
    n = parse_numeral(text)
    return None if n is None else n.value
