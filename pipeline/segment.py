"""Segmentation: jieba with the domain dictionary, as tokens with offsets.

One adapter for every caller, so the engine behind it can change (the scale
issue adds a faster engine that must give the same tokens).
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Optional

import jieba

from pipeline.config import load_config
from pipeline.model import Token

jieba.setLogLevel(logging.WARNING)


def _dictionary_words(path: str) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [line.split()[0] for line in fh if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=4)
def _tokenizer(user_dictionary: Optional[str]) -> tuple[jieba.Tokenizer, Optional[re.Pattern]]:
    tk = jieba.Tokenizer()
    joined = None
    if user_dictionary:
        tk.load_userdict(user_dictionary)
        # jieba never yields a word with characters outside its Han/alnum class
        # (共享社·幸福里 has a middle dot), so such dictionary words are re-joined
        # after cutting.
        unsplittable = [w for w in _dictionary_words(user_dictionary)
                        if not jieba.re_han_default.fullmatch(w)]
        if unsplittable:
            joined = re.compile("|".join(map(re.escape, sorted(unsplittable, key=len, reverse=True))))
    tk.initialize()
    return tk, joined


def default_dictionary() -> Optional[str]:
    p = load_config().path("segment", "user_dictionary")
    return str(p) if p else None


def _join(tokens: list[Token], text: str, pattern: re.Pattern) -> list[Token]:
    spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
    if not spans:
        return tokens
    starts = {t.start for t in tokens} | {len(text)}
    ends = {t.end for t in tokens}
    out, i = [], 0
    for a, b in spans:
        if a not in starts or b not in ends:
            continue  # the phrase is not on token boundaries: leave jieba's cut
        while i < len(tokens) and tokens[i].end <= a:
            out.append(tokens[i])
            i += 1
        while i < len(tokens) and tokens[i].end <= b:
            i += 1
        out.append(Token(a, b, text[a:b]))
    out.extend(tokens[i:])
    return out


def segment(text: str, *, user_dictionary: Optional[str] = None) -> list[Token]:
    """Split ``text`` into words; each token's offsets slice back to ``text``.

    Whitespace runs are dropped from the result (they carry no word) but do
    not shift any offset.
    """
    tk, joined = _tokenizer(user_dictionary or default_dictionary())
    tokens = []
    pos = 0
    for word in tk.cut(text, HMM=True):
        end = pos + len(word)
        if not word.isspace():
            tokens.append(Token(pos, end, word))
        pos = end
    return _join(tokens, text, joined) if joined else tokens


def words(text: str, *, user_dictionary: Optional[str] = None) -> list[str]:
    """The words of ``text`` as strings (whitespace dropped)."""
    return [t.text for t in segment(text, user_dictionary=user_dictionary)]
