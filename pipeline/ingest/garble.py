"""Find garbled (mojibake) runs in decoded text, so extraction can stay out of them.

The text is never changed: the result is a list of ``(start, end)`` spans into it.
Each detector looks for the *signature* a particular decoding accident leaves,
not for particular characters:

* **Misaligned double-byte runs** (the Sogou corpus has hundreds): a byte was
  lost from a GB-encoded stream, so every following pair of bytes straddles two
  real characters until the next lost byte.  The converter wrote ``?`` for each
  lone byte, so a run reads ``?`` + *a full-width form* (the A3 row of GB2312,
  where the trailing byte of an ideographic space or a full-width digit lands)
  + shifted characters + ``?``: ``?；泼鳎合衷谖倚?``.  An ASCII ``?`` directly
  followed by a full-width form never occurs in edited Chinese text, which
  writes the full-width ``？``.  The run is confirmed by decoding its bytes one
  byte out of step and finding real characters there.
* **UTF-8 read as GBK** (``鍏ㄥ浗``): the characters' GB18030 bytes form valid
  multi-byte UTF-8 that decodes to CJK text.
* **UTF-8 read as Latin-1 / cp1252** (``ä¸­æ–‡``): the same test with cp1252.
* **Replacement characters** (U+FFFD, written where bytes could not be decoded)
  and private-use code points (user-defined GBK areas): flagged as they stand.
"""
from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain, repeat
from typing import Iterable, Optional

from pipeline.config import load_config
from pipeline.ingest.decode import plausibility

_MISALIGNED_OPEN = re.compile(r"\?(?=[\uff01-\uff5e\u3000-\u303f])")
_REPLACEMENT_RUN = re.compile(r"[\ufffd\ue000-\uf8ff]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
# A run of characters that could be GB18030-decoded UTF-8 (CJK, CJK punctuation,
# full-width forms and the odd symbol rows GBK maps the bytes to).
_GBK_CANDIDATE = re.compile(r"[\u00a0-\u00ff\u0391-\u03c9\u0401-\u0451\u2010-\u2642"
                            r"\u3000-\u33ff\u3400-\u9fff\ue000-\uf8ff\uff01-\uffe5]{3,}")
_LATIN_CANDIDATE = re.compile(r"[\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
                              r"\u0192\u02c6\u02dc\u2013-\u2022\u2026\u2030\u2039\u203a"
                              r"\u20ac\u2122]{2,}")
#: one UTF-8 multi-byte sequence (by its shape only), and one that can be CJK
_UTF8_SEQUENCE = rb"(?:[\xe0-\xef][\x80-\xbf]{2}|[\xc2-\xdf][\x80-\xbf]|[\xf0-\xf4][\x80-\xbf]{3})"
_UTF8_CJK = rb"[\xe3-\xe9][\x80-\xbf]{2}"
_UTF8_MULTIBYTE = re.compile(_UTF8_SEQUENCE + b"+")


def garbled_spans(text: str, *, max_run: Optional[int] = None) -> list[tuple[int, int]]:
    """Spans of ``text`` that are mojibake, sorted and merged.

    Parameters
    ----------
    text : str
        Decoded text, as stored.
    max_run : int
        Longest misaligned run (characters) accepted between ``?`` markers.

    Returns
    -------
    list of (int, int)
        ``(start, end)`` spans, end exclusive; never overlapping.
    """
    if max_run is None:
        # the longest misaligned run between two "?" markers ([ingest] garble_max_run)
        max_run = int(load_config()["ingest"]["garble_max_run"])
    spans: list[tuple[int, int]] = []
    spans.extend(_misaligned_runs(text, max_run=max_run))
    spans.extend((m.start(), m.end()) for m in _REPLACEMENT_RUN.finditer(text))
    spans.extend(_reencoded_runs(text, _GBK_CANDIDATE, "gb18030", min_cjk=2))
    spans.extend(_reencoded_runs(text, _LATIN_CANDIDATE, "cp1252", min_cjk=0))
    return _merge(spans)


def _misaligned_runs(text: str, *, max_run: int) -> Iterable[tuple[int, int]]:
    pos = 0
    while True:
        m = _MISALIGNED_OPEN.search(text, pos)
        if not m:
            return
        start = m.start()
        close = text.find("?", start + 1, start + 2 + max_run)
        newline = text.find("\n", start + 1, close if close != -1 else start + 2 + max_run)
        if close != -1 and newline == -1:
            end = close + 1
        else:
            # No closing marker: the run lasts while the shifted reading is the
            # better one; at least the opening marker and the full-width form.
            end = _shifted_extent(text, start + 1, limit=min(len(text), start + 1 + max_run,
                                                              newline if newline != -1 else len(text)))
        if end - start <= 3 or _looks_shifted(text[start + 1:end].rstrip("?")):
            yield (start, end)
        pos = end


def _looks_shifted(run: str) -> bool:
    """True when the run's GB18030 bytes read one byte out of step are real text."""
    try:
        raw = run.encode("gb18030")
    except UnicodeEncodeError:
        return False
    shifted = raw[1:].decode("gb18030", errors="ignore")
    if not shifted:
        return True
    return plausibility(shifted) >= 0.6


def _shifted_extent(text: str, start: int, *, limit: int) -> int:
    end = start + 1
    while end < limit and not text[end].isspace() and text[end] != "?":
        end += 1
    return end


def _reencoded_runs(text: str, candidate: re.Pattern, encoding: str, *, min_cjk: int):
    telltale = _utf8_cjk_telltale(min_cjk) if min_cjk else None
    # Clean text ends here: its bytes hold UTF-8 look-alikes by the thousand,
    # but never min_cjk CJK characters in one stretch.  The text's bytes hold
    # every run's bytes (the codecs are stateless; a character that does not
    # encode stops its run below anyway), so one search over them rules out all.
    if telltale is not None and not telltale.search(text.encode(encoding, errors="replace")):
        return
    for m in candidate.finditer(text):
        chunk = m.group(0)
        try:
            raw = chunk.encode(encoding)
        except UnicodeEncodeError:
            continue
        if telltale is not None and not telltale.search(raw):
            continue
        owner = None  # built only for a sequence that passes the cheaper tests
        for b in _UTF8_MULTIBYTE.finditer(raw):
            s, e = b.start(), b.end()
            decoded = raw[s:e].decode("utf-8", errors="ignore")
            if len(decoded) < 2:
                continue
            if min_cjk and len(_CJK.findall(decoded)) < min_cjk:
                continue
            if not min_cjk and not any(ord(c) > 0x2ff for c in decoded) and len(decoded) < 3:
                continue
            if owner is None:
                owner = _byte_owners(chunk, encoding)
            # Sequences must start and end on character boundaries of the run.
            if (s > 0 and owner[s - 1] == owner[s]) or (e < len(raw) and owner[e - 1] == owner[e]):
                continue
            yield (m.start() + owner[s], m.start() + owner[e - 1] + 1)


def _byte_owners(chunk: str, encoding: str) -> list[int]:
    """For each byte of ``chunk.encode(encoding)``, the index of the character it encodes."""
    sizes = map(len, map(str.encode, chunk, repeat(encoding)))
    return list(chain.from_iterable(map(repeat, range(len(chunk)), sizes)))


@lru_cache(maxsize=4)
def _utf8_cjk_telltale(min_cjk: int) -> re.Pattern:
    """Bytes that must occur for a UTF-8 sequence to decode to ``min_cjk`` CJK characters.

    Each such character (U+3400-U+9FFF) is a three-byte sequence led by
    E3-E9, and they all lie in one unbroken run of UTF-8 sequences.
    """
    return re.compile(_UTF8_CJK + (b"(?:" + _UTF8_SEQUENCE + b"*?" + _UTF8_CJK + b")") * (min_cjk - 1))


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1] + 1:  # one stray character between runs is theirs too
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
