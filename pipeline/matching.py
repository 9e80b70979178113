"""Literal word matching shared by the extractors: a trie-shaped regex and an
Aho-Corasick leftmost-longest matcher.

Both find, scanning left to right, the longest listed word at the leftmost
position where one starts, and never return overlapping matches.  The regex
form is for patterns that embed the word list in a larger expression; the
automaton form finds every occurrence in one C pass and is faster for large
lists (gazetteers, taxonomies).

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

__all__ = ["trie_pattern", "build_automaton", "leftmost_longest"]


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
