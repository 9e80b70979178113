"""The shared literal-word matchers: trie regex, Aho-Corasick and pair-indexed leftmost-longest."""
import random
import re

import pytest

from pipeline.matching import PairMatcher, build_automaton, leftmost_longest, trie_pattern


def _finditer(words, text):
    return [(m.start(), m.end(), m.group()) for m in re.finditer(trie_pattern(words), text)]


def test_trie_prefers_the_longest_word():
    assert _finditer(["民政", "民政局", "县"], "苍南县民政局") == [(2, 3, "县"), (3, 6, "民政局")]


def test_trie_escapes_regex_metacharacters():
    assert _finditer(["a.b", "(x)"], "axb a.b (x) x") == [(4, 7, "a.b"), (8, 11, "(x)")]


def test_trie_with_no_words_matches_nothing():
    pattern = re.compile(trie_pattern(["", ""]))
    assert pattern.search("anything") is None
    assert pattern.search("") is None


def test_automaton_with_no_words_is_none_and_matches_nothing():
    assert build_automaton([]) is None
    assert build_automaton([""]) is None
    assert leftmost_longest("text", None) == []


def test_leftmost_longest_skips_overlaps():
    automaton = build_automaton(["民政", "民政局", "政局", "局长"])
    # 政局 and 局长 start inside 民政局, which is taken first
    assert leftmost_longest("县民政局长", automaton) == [(1, 4, "民政局")]


def test_accept_rejects_an_occurrence_and_lets_a_shorter_one_in():
    automaton = build_automaton(["中国家", "中国", "国家"])
    got = leftmost_longest("中国家庭", automaton, accept=lambda s, e, w: w != "中国家")
    assert got == [(0, 2, "中国")]
    # rejecting every word at a position leaves it free for a later start
    got = leftmost_longest("中国家庭", automaton, accept=lambda s, e, w: not w.startswith("中"))
    assert got == [(1, 3, "国家")]


def test_automaton_agrees_with_trie_regex_on_random_text():
    rng = random.Random(7)
    alphabet = "甲乙丙丁"
    words = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(30)})
    automaton = build_automaton(words)
    for _ in range(200):
        text = "".join(rng.choice(alphabet + " ") for _ in range(rng.randint(0, 40)))
        found = leftmost_longest(text, automaton)
        assert found == _finditer(words, text)
        assert all(text[s:e] == w for s, e, w in found)


def test_pair_matcher_takes_the_longest_word_and_skips_overlaps():
    matcher = PairMatcher(["民政", "民政局", "政局", "局长"])
    assert len(matcher) == 4
    assert matcher.leftmost_longest("县民政局长") == [(1, 4, "民政局")]
    assert matcher.leftmost_longest("") == [] and matcher.leftmost_longest("民") == []
    assert PairMatcher([]).leftmost_longest("民政局") == []


def test_pair_matcher_needs_two_characters():
    with pytest.raises(ValueError, match="two characters"):
        PairMatcher(["民政", "县"])


def test_pair_matcher_accept_lets_a_shorter_or_later_word_in():
    matcher = PairMatcher(["中国家", "中国", "国家"])
    assert matcher.leftmost_longest("中国家庭", accept=lambda s, e, w: w != "中国家") == [(0, 2, "中国")]
    got = matcher.leftmost_longest("中国家庭", accept=lambda s, e, w: not w.startswith("中"))
    assert got == [(1, 3, "国家")]


def test_pair_matcher_agrees_with_the_automaton_on_random_text():
    # astral characters and a lone surrogate count as one character each, as in str
    rng = random.Random(11)
    alphabet = "甲乙丙丁a\U00020000\ud800"
    for _ in range(40):
        words = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5)))
                        for _ in range(rng.randint(1, 30))})
        automaton, matcher = build_automaton(words), PairMatcher(words)
        for _ in range(40):
            text = "".join(rng.choice(alphabet + " ") for _ in range(rng.randint(0, 60)))
            assert matcher.leftmost_longest(text) == leftmost_longest(text, automaton)

            def accept(s, e, w):
                return (s * 7 + e) % 3 != 0
            assert (matcher.leftmost_longest(text, accept=accept)
                    == leftmost_longest(text, automaton, accept=accept))


def test_pair_matcher_unbroken_words_do_not_straddle_a_break():
    matcher = PairMatcher(["国家", "家庭", "中国"], unbroken=["国家", "中国"])
    # 中国/家庭: 国家 would straddle the break at 2, so 家庭 is found instead
    assert matcher.leftmost_longest("中国家庭", breaks=[0, 2]) == [(0, 2, "中国"), (2, 4, "家庭")]
    assert matcher.leftmost_longest("国家", breaks=iter([0, 1])) == []
    # no breaks given: nothing is checked; breaks outside the text are ignored
    assert matcher.leftmost_longest("国家") == [(0, 2, "国家")]
    assert matcher.leftmost_longest("国家", breaks=[-1, 0, 2, 9]) == [(0, 2, "国家")]


def test_pair_matcher_breaks_agree_with_an_equivalent_accept_on_random_text():
    rng = random.Random(5)
    alphabet = "甲乙丙丁a"
    for _ in range(40):
        words = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5)))
                        for _ in range(rng.randint(1, 30))})
        unbroken = {w for w in words if rng.random() < 0.5}
        automaton = build_automaton(words)
        matcher, plain = PairMatcher(words, unbroken=unbroken), PairMatcher(words)
        for _ in range(40):
            text = "".join(rng.choice(alphabet + " ") for _ in range(rng.randint(0, 60)))
            breaks = sorted(rng.sample(range(len(text) + 1), rng.randint(0, len(text) + 1)))

            def whole(s, e, w):
                return w not in unbroken or not any(s < b < e for b in breaks)
            expected = leftmost_longest(text, automaton, accept=whole)
            assert matcher.leftmost_longest(text, breaks=breaks) == expected
            assert plain.leftmost_longest(text, accept=whole) == expected

            def odd(s, e, w):
                return (s * 7 + e) % 3 != 0
            assert (matcher.leftmost_longest(text, breaks=breaks, accept=odd)
                    == leftmost_longest(text, automaton, accept=lambda s, e, w: whole(s, e, w)
                                        and odd(s, e, w)))
