"""Segmentation: jieba's algorithm with the domain dictionary, as tokens with offsets.

One adapter for every caller, so the engine behind it can change.  Two engines
give the same tokens:

``jieba``
    The reference (pure Python).
``rjieba``
    jieba's Rust port with the same dictionary and algorithm, about 15 times
    faster.  It differs from jieba in three known places:

    * inside a run of single characters that is no dictionary word, jieba
      splits the non-Han part with ``[a-zA-Z0-9]+(?:\\.\\d+)?%?`` ("1-5" ->
      "1", "-", "5") while the port keeps "1-5", "A.B.C", "x_y" whole;
    * the port counts more CJK characters as Han (extension A, U+9FD6-9FFF,
      compatibility ideographs, extensions B-F), which changes its blocks;
    * a string repeated three times ("组组组") has cuts of equal probability
      and the engines break the tie differently.

    A token the port yields that jieba could not have yielded, and every
    place of the other two kinds, is cut again by jieba over the port's block
    around it (whose edges are jieba's block edges too), so the result is
    jieba's token for token.  ``tests/test_segment.py`` checks this on the
    shared corpora and on generated text.

``auto`` (the default, or ``[segment] engine`` in the config) uses rjieba
when it imports and jieba otherwise.
"""
from __future__ import annotations

import hashlib
import logging
import re
from functools import lru_cache, partial
from itertools import accumulate, compress, repeat
from typing import Callable, Optional

import jieba

from pipeline.config import load_config
from pipeline.model import Token

try:  # the fast engine is optional: jieba alone gives the same tokens
    import rjieba
except ImportError:  # pragma: no cover - rjieba is a declared dependency
    rjieba = None

jieba.setLogLevel(logging.WARNING)

ENGINES = ("auto", "jieba", "rjieba")

#: jieba's block class: jieba cuts text block by block, blocks are independent.
_JIEBA_BLOCK = "\u4E00-\u9FD5a-zA-Z0-9+#&._%\\-"
#: CJK characters the port counts as Han and jieba does not (extension A,
#: the end of the unified block, compatibility ideographs, extensions B-F).
_PORT_ONLY_HAN = ("\u3400-\u4DBF\u9FD6-\u9FFF\uF900-\uFAFF\U00020000-\U0002A6DF"
                  "\U0002A700-\U0002EBEF\U0002F800-\U0002FA1F")
#: the port's block class, a superset of jieba's: its block edges are jieba's too.
_PORT_BLOCK_CHAR = re.compile(f"[{_JIEBA_BLOCK}{_PORT_ONLY_HAN}]")
_PORT_ONLY = re.compile(f"[{_PORT_ONLY_HAN}]")
#: a string repeated three times ("组组组"): its cuts "组|组组" and "组组|组" have
#: the same probability, and the two engines may break that tie differently.
_PERIODIC = re.compile(r"([\u4E00-\u9FD5]{1,4})\1\1")
#: tokens jieba yields outside its dictionary: HMM words, alnum runs, separator runs
_SAFE_TOKEN = re.compile(r"[\u4E00-\u9FD5]+|[a-zA-Z0-9]+(?:\.\d+)?%?|[+#&._%\-]+|\r\n|.",
                         re.DOTALL)
#: any character str.isspace() is true for; a text without one has no whitespace token
_WHITESPACE = re.compile(r"\s")
#: jieba's user dictionary line: word, optional frequency, optional tag
_USERDICT_LINE = re.compile(r"^(.+?)( [0-9]+)?( [a-z]+)?$", re.U)


def read_user_dictionary(path: str) -> list[tuple[str, Optional[int], Optional[str]]]:
    """Entries of a jieba user dictionary: (word, frequency or None, tag or None).

    Lines are parsed as jieba's ``load_userdict`` parses them; blank lines
    and lines starting with ``#`` are skipped.
    """
    entries = []
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the user dictionary ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: the user dictionary must be UTF-8 "
                         f"(bad byte at offset {exc.start})") from exc
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, freq, tag = _USERDICT_LINE.match(line).groups()
        entries.append((word, int(freq) if freq else None, tag.strip() if tag else None))
    return entries


def dictionary_fingerprint(path: Optional[str]) -> str:
    """A hash of the user dictionary's bytes (part of the cache key)."""
    if not path:
        return "none"
    with open(path, "rb") as fh:
        return hashlib.sha1(fh.read()).hexdigest()[:16]


def _joined_pattern(entries) -> Optional[re.Pattern]:
    # jieba never yields a word with characters outside its block class
    # (共享社·幸福里 has a middle dot), so such dictionary words are re-joined
    # after cutting, whatever the engine.
    unsplittable = [w for w, _, _ in entries if not jieba.re_han_default.fullmatch(w)]
    if not unsplittable:
        return None
    return re.compile("|".join(map(re.escape, sorted(set(unsplittable), key=len, reverse=True))))


#: first item of a kept prefix dictionary; the second names its source
_PREFIX_DICT_FORMAT = "cn-news-pipeline jieba prefix dict 1"


def _initialized_tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer with its dictionary loaded, read fast.

    jieba reads its prefix dictionary from its own cache with
    ``marshal.load`` on the open file, which reads it piece by piece: 0.38 s
    on the bench machine, where ``marshal.loads`` of the same bytes takes
    0.13 s.  So a copy is kept in ``machine_cache_dir("jieba-prefix")``, read
    whole, named after jieba's version, the Python version (marshal's format)
    and the dictionary's path, size and modification time, and checked
    against them; anything else (no copy yet, a stale or broken one, a folder
    that cannot be written) falls back to jieba's own loading.
    """
    import marshal
    import sys

    from pipeline.atomic import write_bytes_atomic
    from pipeline.config import derived_table_path, file_source, prune_derived_tables

    tk = jieba.Tokenizer()
    with tk.get_dict_file() as fh:
        source = file_source(fh)
    if source is None:
        tk.initialize()
        return tk
    source = f"jieba {jieba.__version__}\tpython {sys.version_info[:2]}\t{source}"
    path = derived_table_path("jieba-prefix", source, ".marshal")
    try:
        kept = marshal.loads(path.read_bytes())
        if kept[:2] == (_PREFIX_DICT_FORMAT, source) and isinstance(kept[2], dict):
            tk.FREQ, tk.total = kept[2], kept[3]
            tk.initialized = True
            return tk
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        pass   # none yet, or not a whole one: made again below
    tk.initialize()
    try:
        write_bytes_atomic(path, marshal.dumps((_PREFIX_DICT_FORMAT, source, tk.FREQ, tk.total)))
    except OSError:
        return tk   # a read-only cache folder: jieba's own loading next time too
    prune_derived_tables(path)
    return tk


@lru_cache(maxsize=4)
def _jieba(user_dictionary: Optional[str]) -> jieba.Tokenizer:
    tk = _initialized_tokenizer()
    for word, freq, tag in read_user_dictionary(user_dictionary) if user_dictionary else []:
        tk.add_word(word, freq, tag)
    return tk


@lru_cache(maxsize=4)
def _rjieba(user_dictionary: Optional[str]):
    rj = rjieba.Jieba()
    for word, freq, tag in read_user_dictionary(user_dictionary) if user_dictionary else []:
        rj.add_word(word, freq, tag)
    return rj


@lru_cache(maxsize=4)
def _joined(user_dictionary: Optional[str]) -> Optional[re.Pattern]:
    return _joined_pattern(read_user_dictionary(user_dictionary)) if user_dictionary else None


@lru_cache(maxsize=1)
def default_dictionary() -> Optional[str]:
    """The shipped configuration's user dictionary (read once per process)."""
    p = load_config().path("segment", "user_dictionary")
    return str(p) if p else None


@lru_cache(maxsize=1)
def default_engine() -> str:
    """The configured engine (``[segment] engine``), ``auto`` when unset."""
    engine = load_config().get("segment", "engine", "auto") or "auto"
    if engine not in ENGINES:
        raise ValueError(f"config [segment] engine: {engine!r} is not one of {', '.join(ENGINES)}")
    return engine


@lru_cache(maxsize=8)
def resolve_engine(engine: Optional[str] = None) -> str:
    """The engine that will run: ``jieba`` or ``rjieba``."""
    engine = engine or default_engine()
    if engine not in ENGINES:
        raise ValueError(f"segmentation engine {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "auto":
        return "rjieba" if rjieba is not None else "jieba"
    if engine == "rjieba" and rjieba is None:
        raise ValueError("segmentation engine 'rjieba' is not installed")
    return engine


@lru_cache(maxsize=4)
def _known_words(user_dictionary: Optional[str]) -> set:
    """Pieces the port yielded that jieba can yield too (a memo per dictionary).

    Single characters go in as well, so that one ``issuperset`` over a text's
    pieces clears the common text, where every piece has been seen before.
    """
    return set()


#: entries in one memo of known words before it is emptied (bounds memory)
_KNOWN_LIMIT = 500_000


def _remember_if_known(word: str, rj, known: set) -> bool:
    """Whether jieba can yield ``word`` (one character, a dictionary-free form or a dictionary word)."""
    if not (len(word) < 2 or _SAFE_TOKEN.fullmatch(word) or rj.has_word(word)):
        return False
    if len(known) > _KNOWN_LIMIT:
        known.clear()
    known.add(word)
    return True


def _odd_pieces(pieces: list[str], rj, known: set) -> list[int]:
    """Indices of the pieces jieba could not have yielded (memoizing the others)."""
    odd_words = {w for w in set(pieces).difference(known) if not _remember_if_known(w, rj, known)}
    return [i for i, w in enumerate(pieces) if w in odd_words] if odd_words else []


def _port_block(text: str, start: int, end: int) -> tuple[int, int]:
    """The port's block (maximal run of its class) around ``text[start:end]``.

    The port never cuts across the edge of one of its blocks, and such an
    edge is an edge of jieba's blocks too, so jieba cuts ``text[a:b]`` alone
    exactly as it cuts it inside the whole text.
    """
    a, b = start, end
    while a > 0 and _PORT_BLOCK_CHAR.match(text, a - 1):
        a -= 1
    while b < len(text) and _PORT_BLOCK_CHAR.match(text, b):
        b += 1
    return a, b


def _cut_rjieba(user_dictionary: Optional[str], rj, known: set, text: str) -> list[str]:
    """rjieba's cut, with jieba's cut wherever the two could differ.

    ``rj`` and ``known`` are ``_rjieba(user_dictionary)`` and
    ``_known_words(user_dictionary)``, looked up once by ``_cutter``.
    """
    pieces = rj.cut(text, True)
    # A token jieba could not have yielded: none of its dictionary-free forms.
    # The answer depends only on the word, so known-good words skip the test
    # (one pass in C for the usual text, all of whose pieces are known).
    odd = [] if known.issuperset(pieces) else _odd_pieces(pieces, rj, known)
    if not odd and not _PORT_ONLY.search(text) and not _PERIODIC.search(text):
        return pieces
    starts = [0, *accumulate(map(len, pieces))][:-1]
    suspects = [(starts[i], starts[i] + len(pieces[i])) for i in odd]
    # Characters the port reads as Han change its blocks, hence its HMM input.
    suspects.extend((m.start(), m.end()) for m in _PORT_ONLY.finditer(text))
    suspects.extend((m.start(), m.end()) for m in _PERIODIC.finditer(text))
    if not suspects:
        return pieces
    regions: list[tuple[int, int]] = []
    for s, e in sorted(suspects):
        a, b = _port_block(text, s, e)
        if regions and a <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(b, regions[-1][1]))
        else:
            regions.append((a, b))
    boundaries = set(starts) | {len(text)}
    if any(a not in boundaries or b not in boundaries for a, b in regions):
        # Not on the port's own token edges (never seen): cut it all with jieba.
        return list(_jieba(user_dictionary).cut(text, HMM=True))
    tk = _jieba(user_dictionary)
    out, i, r = [], 0, 0
    while i < len(pieces):
        if r < len(regions) and starts[i] == regions[r][0]:
            a, b = regions[r]
            out.extend(tk.cut(text[a:b], HMM=True))
            while i < len(pieces) and starts[i] < b:
                i += 1
            r += 1
        else:
            out.append(pieces[i])
            i += 1
    return out


def _cut_jieba(tk: jieba.Tokenizer, text: str) -> list[str]:
    return list(tk.cut(text, HMM=True))


@lru_cache(maxsize=16)
def _cutter(user_dictionary: Optional[str], engine: Optional[str]) -> Callable[[str], list[str]]:
    """The cut of ``engine`` with ``user_dictionary`` as a function of the text.

    Engine and dictionary are resolved here once, not on every call: many
    callers cut short snippets, where those look-ups cost as much as the cut.
    """
    if resolve_engine(engine) == "rjieba":
        return partial(_cut_rjieba, user_dictionary, _rjieba(user_dictionary),
                       _known_words(user_dictionary))
    return partial(_cut_jieba, _jieba(user_dictionary))


def cut_words(text: str, *, user_dictionary: Optional[str] = None,
              engine: Optional[str] = None) -> list[str]:
    """jieba's precise-mode cut of ``text`` (whitespace included), by the chosen engine."""
    return _cutter(user_dictionary or default_dictionary(), engine)(text)


def _join(tokens: list[Token], text: str, pattern: re.Pattern) -> list[Token]:
    spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
    starts = {t.start for t in tokens} | {len(text)}
    ends = {t.end for t in tokens}
    out, i = [], 0
    for a, b in spans:
        if a not in starts or b not in ends:
            continue  # the phrase is not on token boundaries: leave the cut
        while i < len(tokens) and tokens[i].end <= a:
            out.append(tokens[i])
            i += 1
        while i < len(tokens) and tokens[i].end <= b:
            i += 1
        out.append(Token(a, b, text[a:b]))
    out.extend(tokens[i:])
    return out


def segment(text: str, *, user_dictionary: Optional[str] = None,
            engine: Optional[str] = None) -> list[Token]:
    """Split ``text`` into words; each token's offsets slice back to ``text``.

    Parameters
    ----------
    text : str
        The text to cut.
    user_dictionary : str, optional
        A jieba user dictionary; the configured one when None.
    engine : {"auto", "jieba", "rjieba"}, optional
        The configured engine when None.  Every engine gives the same tokens.

    Returns
    -------
    list of Token
        Whitespace runs are dropped (they carry no word) but do not shift
        any offset.
    """
    user_dictionary = user_dictionary or default_dictionary()
    pieces = _cutter(user_dictionary, engine)(text)
    ends = list(accumulate(map(len, pieces)))
    # Built column-wise in C: tuple.__new__ makes each Token (a named tuple)
    # from zipped columns without a Python-level call per token.
    tokens = map(tuple.__new__, repeat(Token), zip([0, *ends], ends, pieces, repeat(None)))
    if _WHITESPACE.search(text):
        # A piece is dropped when strip() leaves nothing: a whitespace piece
        # (the engines never yield an empty one).  One C call per piece.
        tokens = compress(tokens, map(str.strip, pieces))
    tokens = list(tokens)
    joined = _joined(user_dictionary)
    return _join(tokens, text, joined) if joined and joined.search(text) else tokens


def words(text: str, *, user_dictionary: Optional[str] = None,
          engine: Optional[str] = None) -> list[str]:
    """The words of ``text`` as strings (whitespace dropped)."""
    return [t.text for t in segment(text, user_dictionary=user_dictionary, engine=engine)]
