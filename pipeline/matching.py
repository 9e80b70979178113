"""Literal word matching shared by the extractors: a trie-shaped regex, an
Aho-Corasick leftmost-longest matcher and a pair-indexed one.

All find, scanning left to right, the longest listed word at the leftmost
position where one starts, and never return overlapping matches.  The regex
form is for patterns that embed the word list in a larger expression; the
automaton form finds every occurrence in one C pass; :class:`PairMatcher`
(words of two characters or more) finds the few places where a word can
start in one vectorized pass and looks only there, which is several times
faster than the automaton on text where most characters start no word
(pyahocorasick searches a node's children one by one, so a character that
starts no word costs a scan of every first character).

Examples
--------
>>> import re
>>> re.compile(trie_pattern(["民政", "民政局"])).findall("县民政局")
['民政局']
>>> leftmost_longest("县民政局", build_automaton(["民政", "民政局", "政局"]))
[(1, 4, '民政局')]
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Optional

import numpy as np

__all__ = ["trie_pattern", "build_automaton", "leftmost_longest", "PairMatcher"]


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, longest first, as a trie.

    A flat alternation of thousands of names makes the regex engine try each
    one at every position; nesting them by shared prefix lets it branch on
    one character at a time, so matching stays linear in the text.

    Parameters
    ----------
    words : iterable of str
        The literal words; empty strings and repeats are ignored.

    Returns
    -------
    str
        The pattern (uncompiled, no groups that capture); ``"(?!)"``, which
        never matches, when there is no word.
    """
    trie: dict = {}
    for word in words:
        if not word:
            continue
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict) -> str:
        ends_here = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends_here:
            # greedy optional group: the longer word is tried first
            return "(?:" + body + ")?"
        return body

    if not trie:
        return "(?!)"
    return build(trie)


def build_automaton(words: Iterable[str]):
    """An Aho-Corasick automaton over ``words``, for :func:`leftmost_longest`.

    Parameters
    ----------
    words : iterable of str
        The literal words; empty strings are ignored.

    Returns
    -------
    ahocorasick.Automaton or None
        The automaton (each word's value is ``(length, word)``), or None when
        there is no word, which :func:`leftmost_longest` reads as "no match".
    """
    import ahocorasick  # imported here so that modules using only trie_pattern don't need it

    automaton = ahocorasick.Automaton()
    for word in words:
        if word:
            automaton.add_word(word, (len(word), word))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def leftmost_longest(text: str, automaton, *,
                     accept: Optional[Callable[[int, int, str], bool]] = None) -> list[tuple[int, int, str]]:
    """Leftmost-longest, non-overlapping occurrences of the automaton's words.

    Every occurrence (overlapping ones included) is found in one pass; they
    are then taken by start, longest first (ties by word), skipping any that
    starts inside one already taken.  This is what ``re.finditer`` gives for
    :func:`trie_pattern` of the same words.

    Parameters
    ----------
    text : str
        The text to scan.
    automaton : ahocorasick.Automaton or None
        From :func:`build_automaton`; None matches nothing.
    accept : callable, optional
        ``accept(start, end, word) -> bool``; an occurrence it rejects is
        skipped as if it did not exist (a shorter or later one may then be
        taken).  Default: accept all.

    Returns
    -------
    list of (start, end, word)
        In text order; ``text[start:end] == word``.
    """
    if automaton is None:
        return []
    found = sorted((last + 1 - length, -length, word)
                   for last, (length, word) in automaton.iter(text))
    chosen = []
    reach = 0
    for start, negative_length, word in found:
        if start < reach:
            continue
        end = start - negative_length
        if accept is not None and not accept(start, end, word):
            continue
        chosen.append((start, end, word))
        reach = end
    return chosen


#: bits of the pair hash: a 256 KiB table, so a pair that starts no word
#: passes the vectorized test about once in a hundred times (and is then
#: rejected by the exact lookup)
_PAIR_BITS = 18
_PAIR_MUL_1 = 0x9E3779B1
_PAIR_MUL_2 = 0x85EBCA6B


def _pair_hashes(codes: np.ndarray) -> np.ndarray:
    """Hash of each pair of adjacent code points, in ``[0, 2**_PAIR_BITS)``.

    uint32 arithmetic wraps, which is what makes it a hash; the second
    multiplication carries the second character's bits into the top bits kept.
    """
    h = codes[:-1] * np.uint32(_PAIR_MUL_1)
    h += codes[1:]
    h *= np.uint32(_PAIR_MUL_2)
    h >>= np.uint32(32 - _PAIR_BITS)
    return h


def _code_points(text: str) -> np.ndarray:
    # surrogatepass: a lone surrogate is one code point, as in the str itself
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


class PairMatcher:
    """Leftmost-longest matching of words indexed by their first two characters.

    Same results as :func:`leftmost_longest` over :func:`build_automaton` of
    the same words.  A place can start a word only where its first two
    characters start one; those places are found for the whole text at once
    (the pairs hashed into a bit table, with numpy), and only there are the
    words tried: the longer words by one set lookup per word length, longest
    first, then the pair itself.

    Parameters
    ----------
    words : iterable of str
        The literal words, each of two characters or more; repeats are ignored.
    unbroken : iterable of str, optional
        Words that never match across a break (see ``breaks`` of
        :meth:`leftmost_longest`), such as short words that must not straddle
        a token boundary.

    Raises
    ------
    ValueError
        For a word shorter than two characters.

    Examples
    --------
    >>> PairMatcher(["民政", "民政局", "政局"]).leftmost_longest("县民政局")
    [(1, 4, '民政局')]
    >>> matcher = PairMatcher(["国家", "家庭"], unbroken=["国家"])
    >>> matcher.leftmost_longest("中国家庭", breaks=[0, 2])
    [(2, 4, '家庭')]
    """

    def __init__(self, words: Iterable[str], *, unbroken: Iterable[str] = ()):
        by_pair: dict[str, list] = {}
        for word in set(words):
            if len(word) < 2:
                raise ValueError(f"PairMatcher needs words of two characters or more, got {word!r}")
            by_pair.setdefault(word[:2], []).append(word)
        unbroken = frozenset(unbroken)
        #: first two characters -> ((word, length), ...), longest first, then by word
        self._by_pair = {pair: tuple((w, len(w)) for w in sorted(ws, key=lambda w: (-len(w), w)))
                         for pair, ws in by_pair.items()}
        self._unbroken = frozenset(w for ws in by_pair.values() for w in ws if w in unbroken)
        #: first two characters -> (the pair if it is a word itself, else None; whether
        #: that word is unbroken; ((length, {word: unbroken}), ...) of the longer
        #: words, longest first).  Two words of one length cannot both match at a
        #: place, so a length needs one set lookup, not one test per word.
        self._entries = {}
        for pair, ws in by_pair.items():
            lengths: dict[int, dict] = {}
            for w in ws:
                if len(w) > 2:
                    lengths.setdefault(len(w), {})[w] = w in unbroken
            self._entries[pair] = (pair if pair in ws else None, pair in unbroken,
                                   tuple(sorted(lengths.items(), reverse=True)))
        table = np.zeros(1 << _PAIR_BITS, dtype=bool)
        if by_pair:
            firsts = _code_points("".join(by_pair))  # the pairs, back to back
            table[_pair_hashes(firsts)[::2]] = True
        self._table = table

    def __len__(self) -> int:
        return sum(map(len, self._by_pair.values()))

    def leftmost_longest(self, text: str, *,
                         accept: Optional[Callable[[int, int, str], bool]] = None,
                         breaks: Optional[Iterable[int]] = None
                         ) -> list[tuple[int, int, str]]:
        """Leftmost-longest, non-overlapping occurrences of the words in ``text``.

        Parameters
        ----------
        text : str
            The text to scan.
        accept : callable, optional
            ``accept(start, end, word) -> bool``; an occurrence it rejects is
            skipped as if it did not exist (a shorter or later one may then be
            taken).  Default: accept all.
        breaks : iterable of int, optional
            Offsets, in any order, where ``text`` is broken (token starts).
            An occurrence of an ``unbroken`` word with a break strictly inside
            it is skipped like a rejected one.  Read once, and only when such
            a word is found, so a lazy iterable (``map``) costs nothing otherwise.

        Returns
        -------
        list of (start, end, word)
            In text order; ``text[start:end] == word``.
        """
        if len(text) < 2 or not self._by_pair:
            return []
        places = np.flatnonzero(self._table[_pair_hashes(_code_points(text))]).tolist()
        if accept is not None:
            return self._scan(text, places, accept, breaks)
        entries = self._entries
        marks = None  # bytes, 1 where a break lies; made when an unbroken word is found
        chosen = []
        reach = 0
        for start in places:
            if start < reach:
                continue
            entry = entries.get(text[start:start + 2])
            if entry is None:
                continue  # a hash collision
            pair_word, pair_unbroken, longer = entry
            for length, words in longer:
                end = start + length
                word = text[start:end]
                if word in words:
                    if words[word] and breaks is not None:
                        if marks is None:
                            marks = _break_marks(breaks, len(text))
                        if any(marks[start + 1:end]):
                            continue
                    chosen.append((start, end, word))
                    reach = end
                    break
            else:
                if pair_word is not None:
                    if pair_unbroken and breaks is not None:
                        if marks is None:
                            marks = _break_marks(breaks, len(text))
                        if marks[start + 1]:
                            continue
                    chosen.append((start, start + 2, pair_word))
                    reach = start + 2
        return chosen

    def _scan(self, text: str, places: list, accept: Callable[[int, int, str], bool],
              breaks: Optional[Iterable[int]]) -> list[tuple[int, int, str]]:
        """:meth:`leftmost_longest` with ``accept``: every word of a place tried in turn."""
        by_pair, unbroken = self._by_pair, self._unbroken
        marks = None
        chosen = []
        reach = 0
        for start in places:
            if start < reach:
                continue
            words = by_pair.get(text[start:start + 2])
            if words is None:
                continue  # a hash collision
            for word, length in words:
                end = start + length
                if not (length == 2 or text.startswith(word, start)):
                    continue
                if word in unbroken and breaks is not None:
                    if marks is None:
                        marks = _break_marks(breaks, len(text))
                    if any(marks[start + 1:end]):
                        continue
                if accept(start, end, word):
                    chosen.append((start, end, word))
                    reach = end
                    break
        return chosen


def _break_marks(breaks: Iterable[int], n: int) -> bytes:
    """``marks[k]`` is 1 where ``k`` is one of ``breaks``, else 0, for ``0 <= k <= n``.

    Bytes, because indexing them one offset at a time is far cheaper than
    indexing a numpy array.  Offsets outside ``1 .. n - 1`` never lie
    strictly inside a word of the text, so they are left out.
    """
    offsets = np.fromiter(breaks, dtype=np.int64)
    marks = np.zeros(n + 1, dtype=np.uint8)
    marks[offsets[(offsets > 0) & (offsets < n)]] = 1
    return marks.tobytes()
