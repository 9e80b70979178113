"""Segmentation: jieba with the domain dictionary, as tokens with offsets.

One adapter for every caller, so the engine behind it can change (the scale
issue adds a faster engine that must give the same tokens).
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Optional

import jieba

from pipeline.config import load_config
from pipeline.model import Token

jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=4)
def _tokenizer(user_dictionary: Optional[str]) -> jieba.Tokenizer:
    tk = jieba.Tokenizer()
    if user_dictionary:
        tk.load_userdict(user_dictionary)
    tk.initialize()
    return tk


def default_dictionary() -> Optional[str]:
    p = load_config().path("segment", "user_dictionary")
    return str(p) if p else None


def segment(text: str, *, user_dictionary: Optional[str] = None) -> list[Token]:
    """Split ``text`` into words; each token's offsets slice back to ``text``.

    Whitespace runs are dropped from the result (they carry no word) but do
    not shift any offset.
    """
    tk = _tokenizer(user_dictionary or default_dictionary())
    tokens = []
    pos = 0
    for word in tk.cut(text, HMM=True):
        end = pos + len(word)
        if not word.isspace():
            tokens.append(Token(pos, end, word))
        pos = end
    return tokens


def words(text: str, *, user_dictionary: Optional[str] = None) -> list[str]:
    """The words of ``text`` as strings (whitespace dropped)."""
    return [t.text for t in segment(text, user_dictionary=user_dictionary)]
