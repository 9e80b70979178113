"""The data the organization recognizer reads: gazetteers, suffixes, places, tags.

Everything here is loaded once per process from data files under
``pipeline/data/orgs/`` (or the folder ``[orgs] data_dir`` of the config
names) plus jieba's own dictionary, whose part-of-speech column tells the
recognizer which words are places (ns), names (nr, nz), organizations (nt)
or function words (p, c, u, ...) without running jieba's much slower
POS tagger.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Iterable, Mapping, Optional

import ahocorasick
import jieba

from pipeline.atomic import write_text_atomic
from pipeline.config import (DATA_DIR, derived_table_path, file_source, load_config,
                             machine_cache_dir, prune_derived_tables)
from pipeline.matching import leftmost_longest, trie_pattern
from pipeline.model import ORG_TYPES

#: a suffix table line's third column
SUFFIX_MODES = ("head", "word", "standalone", "block")
#: place levels of places.tsv and admin_suffixes.tsv
PLACE_LEVELS = ("country", "province", "city", "county", "district", "town", "village", "region")


class OrgDataError(ValueError):
    """A data file of the organization recognizer is malformed."""


@dataclass(frozen=True)
class OrgLexicon:
    """Everything the organization recognizer looks words up in.

    Attributes
    ----------
    tags : mapping of str to str
        jieba part-of-speech tag of every dictionary word (user dictionary
        included); a word missing here is out of vocabulary.
    user_words : frozenset of str
        Words of the domain (user) dictionary: kinds of bodies (慈善总会,
        党建联盟), not names of bodies, even when tagged nt.
    gazetteer : mapping of str to (type, canonical)
        Well-known organizations; ``canonical`` is the full name an
        abbreviation stands for (央行 -> 中国人民银行), else the name itself.
    blocked : frozenset of str
        Names that look like organizations but are not (gazetteer type ``-``).
    suffixes : mapping of str to (type, mode)
        Head suffixes of organization names; ``mode`` is one of SUFFIX_MODES:
        head (needs a name before it), word (a dictionary word ending so is
        a name: 保守党), standalone (a name alone: 县委), block (never a name).
    places : mapping of str to str
        Place names with their level.
    admin_suffixes : mapping of str to (level, abbreviates)
        Suffixes that make a place name by shape (苍南县, 灵溪镇).
    not_places : frozenset of str
        Words shaped like places that are not (城市, 小区, 全县).
    boundary_words : frozenset of str
        Words an organization name never begins with or contains.
    determiners : frozenset of str
        Anaphoric determiners (该, 本): 该局 refers back to an organization.
    anaphor_heads : frozenset of str
        What may follow a determiner in an anaphor (局, 中心, 会).
    titles : tuple of str
        Titles that follow a name (长 书记 主任), longest first.
    function_chars : frozenset of str
        Characters no name begins with (的 是 我 一).
    counters : frozenset of str
        Characters that end a count of organizations (家 个 支).
    media_cues : tuple of str
        Words after a publication's title that show it is one (报道 发表).
    final_function_chars : frozenset of str
        Characters that end no word of a name (与 的 了): a glued word
        ending so (工与) is a fragment of the sentence.
    class_heads : frozenset of str
        Heads that right after a country's name make a class of bodies
        (美国|公司: American companies), not a name.
    term_bodies : tuple of str
        Endings of bodies elected for a term (人大, 常委会, 议会): an ordinal
        term before them is part of the name (第九届全国人大).
    unit_abbreviations : frozenset of str
        One-character bodies that stand for the body the article is about
        before a sub-unit (厅|党组, 站|党委).
    """
    tags: Mapping[str, str]
    user_words: frozenset
    gazetteer: Mapping[str, tuple]
    blocked: frozenset
    suffixes: Mapping[str, tuple]
    places: Mapping[str, str]
    admin_suffixes: Mapping[str, tuple]
    not_places: frozenset
    boundary_words: frozenset
    determiners: frozenset
    anaphor_heads: frozenset
    titles: tuple
    function_chars: frozenset
    counters: frozenset
    media_cues: tuple
    unit_abbreviations: frozenset
    term_bodies: tuple = ()
    class_heads: frozenset = frozenset()
    final_function_chars: frozenset = frozenset()
    #: class noun -> type, for lists "X、Y等社会组织" whose items are names
    list_classes: Mapping[str, str] = field(default_factory=dict)
    #: heads that make a country's name a sports team's (俄罗斯|队, 中国|女篮)
    team_heads: frozenset = frozenset()
    #: class nouns after which listed countries are teams (中国、丹麦等强队)
    team_list_classes: frozenset = frozenset()
    @property
    def team_head_ends(self) -> frozenset:
        """Last characters of the team heads (队 篮 足 排)."""
        return _cached(self, "team_head_ends", lambda: frozenset(h[-1] for h in self.team_heads))

    #: words right before a quoted name that show it names a body (成立, 部门)
    quote_cues: tuple = ()

    @property
    def max_quote_cue_len(self) -> int:
        """Length of the longest quote cue: how far before a quote to look."""
        return max(map(len, self.quote_cues), default=0)
    #: compiled patterns and memos, built on first use (the lexicon itself never changes)
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    # --- compiled patterns, built once -------------------------------------------------
    @property
    def suffix_re(self) -> re.Pattern:
        """Org suffixes (block entries left out) spelled backwards.

        Matched against the reversed text, so at every end position the
        longest suffix wins and a shorter word ending inside a longer one
        (政局 inside 民政局) cannot hide it.
        """
        return _compiled(self, "suffix")

    def blocked_word(self, word: str) -> bool:
        """Whether ``word`` ends in a block entry rather than an org suffix (干部, 格局)."""
        suffix = self.longest_suffix(word)
        return suffix is not None and self.suffixes[suffix][1] == "block"

    @property
    def gazetteer_re(self) -> re.Pattern:
        return _compiled(self, "gazetteer")

    def gazetteer_matches(self, folded: str) -> list[tuple[int, int, str]]:
        """(start, end, name) of gazetteer and blocked names in ``folded``.

        Leftmost-longest and non-overlapping, exactly as
        ``gazetteer_re.finditer`` finds them, but every occurrence is found in
        one Aho-Corasick pass and the choice is made over those few
        (:class:`GazetteerScan`).
        """
        scan = _cached(self, "gazetteer_scan", self._gazetteer_scan)
        return leftmost_longest(scan.masked(folded), scan.automaton)

    def _gazetteer_scan(self) -> "GazetteerScan":
        return GazetteerScan(list(self.gazetteer) + list(self.blocked))

    @property
    def anaphor_re(self) -> re.Pattern:
        return _compiled(self, "anaphor")

    @property
    def gazetteer_types_by_canonical(self) -> Mapping[str, str]:
        """The type of each full name the gazetteer resolves an abbreviation to."""
        return _cached(self, "types_by_canonical",
                       lambda: {canonical: kind for kind, canonical in self.gazetteer.values()})

    @property
    def media_cue_re(self) -> re.Pattern:
        """A reporting verb after a title in book-title marks (报道, 发表)."""
        return _cached(self, "media_cue_re", lambda: re.compile(trie_pattern(self.media_cues)))

    @property
    def title_re(self) -> re.Pattern:
        """Any title (长 书记 主任 …)."""
        return _cached(self, "title_re", lambda: re.compile(trie_pattern(self.titles)))

    @property
    def max_suffix_len(self) -> int:
        """Length of the longest entry of the suffix table."""
        return _max_len(self)

    @property
    def suffix_memo(self) -> dict:
        """The memo of :meth:`longest_suffix` (text -> answer), emptied when it grows large."""
        memo = self.cache.get("suffix_memo")
        if memo is None or len(memo) > 200_000:
            memo = self.cache["suffix_memo"] = {}
        return memo

    @property
    def class_head_tuple(self) -> tuple:
        """The class heads as a tuple, for ``str.endswith``."""
        return _cached(self, "class_head_tuple", lambda: tuple(sorted(self.class_heads)))

    def longest_suffix(self, text: str) -> Optional[str]:
        """The longest org suffix (block entries included) ``text`` ends with.

        Memoized: the recognizer asks this of the same few thousand words
        over and over.
        """
        memo = self.suffix_memo
        try:
            return memo[text]
        except KeyError:
            pass
        found = None
        suffixes = self.suffixes
        for n in range(min(len(text), _max_len(self)), 0, -1):
            if text[-n:] in suffixes:
                found = text[-n:]
                break
        memo[text] = found
        return found

    def is_place(self, text: str) -> bool:
        """Whether ``text`` is a place name: listed, tagged ns, or shaped like one."""
        memo = _cached(self, "place_memo", dict)
        known = memo.get(text)
        if known is None:
            if len(memo) > 200_000:
                memo.clear()
            known = memo[text] = self._is_place(text)
        return known

    def _is_place(self, text: str) -> bool:
        if not text or text in self.not_places:
            return False
        if text in self.places:
            return True
        tag = self.tags.get(text)
        if tag == "ns":
            return True
        for suffix in self.admin_suffixes:
            if len(text) > len(suffix) and text.endswith(suffix) and _HAN_ONLY.match(text):
                stem = text[:-len(suffix)]
                # 灵溪镇, 苍南县: a stem of two to four characters that is itself no
                # function word; "全县" and "我市" are ruled out by not_places.
                if 1 < len(stem) <= 4 and stem not in self.boundary_words and \
                        (tag is None or tag in ("ns", "n", "nz", "nr", "nrt")):
                    return True
                if len(stem) == 1 and stem in self.places:
                    return True
        return False

    def place_level(self, text: str) -> Optional[str]:
        """The administrative level of the place ``text`` (None if not a place)."""
        if text in self.places:
            return self.places[text]
        for suffix in sorted(self.admin_suffixes, key=len, reverse=True):
            if text.endswith(suffix) and len(text) > len(suffix):
                return self.admin_suffixes[suffix][0]
        return "region" if self.is_place(text) else None

    def admin_level_of(self, text: str) -> Optional[str]:
        """The level of an administrative unit named by shape (泉溪镇: town), else None."""
        for suffix, (level, _) in self.admin_suffixes.items():
            if len(text) > len(suffix) and text.endswith(suffix) and text not in self.not_places:
                return level
        return None

    def is_place_chain(self, text: str) -> bool:
        """Whether ``text`` is one or more places in a row (浙江省温州市苍南县)."""
        if not text:
            return False
        if self.is_place(text):
            return True
        # split greedily at admin suffixes: 浙江省|温州市|苍南县
        for m in _ADMIN_SPLIT_RE.finditer(text):
            head, tail = text[:m.end()], text[m.end():]
            if tail and self.is_place(head) and self.is_place_chain(tail):
                return True
        return False


class GazetteerScan:
    """An Aho-Corasick automaton of names and the masking that makes its pass fast.

    The automaton looks a character up among the children of a node one by
    one, and its root has hundreds (the first characters of the names), so
    the pass runs over a copy of the text in which every character that can
    be part of no occurrence is one placeholder, the root's first child.
    :meth:`masked` keeps a character only where it and a neighbour form a
    pair of adjacent characters of some name (every name has two or more,
    or is kept whole as a one-character name): that keeps every character
    of every occurrence, so the occurrences, and their offsets, are those of
    the text itself, and it leaves about one character of news text in
    seven to look up.

    Parameters
    ----------
    names : list of str
        The names to find.
    """

    def __init__(self, names: list):
        alphabet = sorted(set("".join(names)))
        # one character a table entry, so translate() keeps offsets (and
        # leaves characters beyond the table, which no name has, alone)
        chars = frozenset(alphabet)
        self.table = "".join(ch if ch in chars else _PLACEHOLDER
                             for ch in map(chr, range(0x10000)))
        self.automaton = ahocorasick.Automaton()
        # inserted first, so the placeholder is the root's first child; the
        # masking never yields its second character, so it never matches
        self.automaton.add_word(_PLACEHOLDER + "\x02", (2, None))
        for name in names:
            self.automaton.add_word(name, (len(name), name))
        self.automaton.make_automaton()
        self._arrays = None
        if alphabet and ord(alphabet[-1]) <= 0xFFFF:
            self._arrays = self._pair_arrays(names, alphabet)

    @staticmethod
    def _pair_arrays(names: list, alphabet: list):
        import numpy as np
        # code 0: a character of no name (and every one beyond the table)
        code_of = {ch: i for i, ch in enumerate(alphabet, 1)}
        codes = np.zeros(0x10000, dtype=np.uint32)
        codes[[ord(ch) for ch in alphabet]] = np.arange(1, len(alphabet) + 1, dtype=np.uint32)
        width = len(alphabet) + 1
        pairs = np.zeros(width * width, dtype=bool)
        alone = np.zeros(width, dtype=bool)
        for name in names:
            if len(name) == 1:
                alone[code_of[name]] = True
            for a, b in zip(name, name[1:]):
                pairs[code_of[a] * width + code_of[b]] = True
        return codes, pairs, alone, np.uint32(width), np.uint32(ord(_PLACEHOLDER))

    def masked(self, text: str) -> str:
        """``text`` with every character outside any possible occurrence a placeholder."""
        if self._arrays is None or len(text) < _VECTOR_MASK_FROM:
            return text.translate(self.table)
        import numpy as np
        codes_of, pairs_of, alone, width, placeholder = self._arrays
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes_of[np.minimum(points, 0xFFFF)]
        pairs = pairs_of[codes[:-1] * width + codes[1:]]
        keep = alone[codes]
        keep[:-1] |= pairs
        keep[1:] |= pairs
        return np.where(keep, points, placeholder).tobytes().decode("utf-32-le", "surrogatepass")


#: text length from which :meth:`GazetteerScan.masked` works on an array
#: (a short string is translated faster than it is converted)
_VECTOR_MASK_FROM = 150


_HAN_ONLY = re.compile(r"^[\u3400-\u9fff]+$")
#: what the gazetteer scan reads every character no gazetteer name has as
_PLACEHOLDER = "\x01"
_ADMIN_SPLIT_RE = re.compile(r"(?:省|市|县|区|镇|乡|州|旗|街道)")


def _cached(lex: OrgLexicon, key: str, build):
    if key not in lex.cache:
        lex.cache[key] = build()
    return lex.cache[key]


def _max_len(lex: OrgLexicon) -> int:
    return _cached(lex, "maxlen", lambda: max((len(s) for s in lex.suffixes), default=1))


def _compiled(lex: OrgLexicon, which: str) -> re.Pattern:
    def build() -> re.Pattern:
        if which == "suffix":
            return re.compile(trie_pattern(s[::-1] for s, (_, mode) in lex.suffixes.items()
                                           if mode != "block"))
        if which == "gazetteer":
            return re.compile(trie_pattern(list(lex.gazetteer) + list(lex.blocked)))
        return re.compile("(?:%s)%s" % ("|".join(sorted(map(re.escape, lex.determiners))),
                                        trie_pattern(lex.anaphor_heads)))
    return _cached(lex, which, build)


# ------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------

def _rows(path: Path, *, min_cols: int, max_cols: int) -> list[list[str]]:
    """Tab-separated rows of a data file, comments (#) and blank lines skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise OrgDataError(f"{path}: organization data file not found") from None
    except UnicodeDecodeError as exc:
        raise OrgDataError(f"{path}: not UTF-8 ({exc})") from None
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = [c.strip() for c in line.split("\t")]
        while cols and cols[-1] == "":
            cols.pop()
        if not (min_cols <= len(cols) <= max_cols) or not cols[0]:
            raise OrgDataError(f"{path}:{n}: expected {min_cols}-{max_cols} tab-separated "
                               f"columns, got {line!r}")
        rows.append(cols)
    return rows


def _words(path: Path) -> frozenset:
    return frozenset(row[0] for row in _rows(path, min_cols=1, max_cols=1))


@lru_cache(maxsize=4)
def dictionary_tags(user_dictionary: Optional[str]) -> tuple[dict, frozenset]:
    """word -> POS tag from jieba's dictionary, then the user dictionary; and
    the words of the user dictionary.

    One table a process, shared by its readers (the organization lexicon and
    the figures' objects), who only read it.
    """
    tags = _jieba_dictionary_tags()
    user_words = set()
    path = Path(user_dictionary) if user_dictionary else None
    if path and path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            parts = raw.split()
            if not parts or parts[0].startswith("#"):
                continue
            tag = parts[-1] if len(parts) >= 2 and not parts[-1].isdigit() else "n"
            tags[parts[0]] = tag
            user_words.add(parts[0])
    return tags, frozenset(user_words)


#: first line of a tag table of :func:`_jieba_dictionary_tags`; the rest names the source
_TAG_TABLE_FORMAT = "cn-news-pipeline jieba tags 2"


def tag_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/cn-news-pipeline/jieba-tags``, ``~/.cache/…`` when it is unset."""
    return machine_cache_dir("jieba-tags")


def _jieba_dictionary_tags() -> dict:
    """word -> POS tag of jieba's dictionary (the third column; ``x`` without one).

    Parsing the 349,000 lines of the dictionary takes a few tenths of a
    second a process; the table it gives is kept in :func:`tag_cache_dir`,
    one line a tag (the tag, a tab, its words), which reads in a third of
    the time.  The table is named after the dictionary's path, size and
    modification time, and written atomically, so a changed dictionary gets
    a table of its own and concurrent runs share one safely.  When the
    folder cannot be written (or read) the dictionary is parsed each time.
    """
    with jieba.get_dict_file() as fh:
        source = file_source(fh)
        if source is not None:
            path = derived_table_path("jieba-tags", source, ".tsv")
            tags = _read_tag_table(path, source)
            if tags is not None:
                return tags
        tags = {}
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) >= 3:
                tags[parts[0]] = parts[2]
            elif parts:
                tags[parts[0]] = "x"
    if source is not None:
        _write_tag_table(path, source, tags)
    return tags


def _read_tag_table(path: Path, source: str) -> Optional[dict]:
    """The table at ``path`` if it is a whole one made from ``source``, else None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    lines = text.split("\n")
    # header, source, number of words, one line a tag, and the empty string
    # after the last newline
    if len(lines) < 4 or lines[0] != _TAG_TABLE_FORMAT or lines[1] != source or lines[-1] != "":
        return None
    tags: dict = {}
    for line in lines[3:-1]:
        tag, tab, words = line.partition("\t")
        if not tab or not tag or not words:
            return None
        tags.update(zip(words.split(" "), repeat(tag)))
    return tags if str(len(tags)) == lines[2] else None


def _write_tag_table(path: Path, source: str, tags: dict) -> None:
    by_tag: dict = {}
    for word, tag in tags.items():
        by_tag.setdefault(tag, []).append(word)
    text = "".join([_TAG_TABLE_FORMAT, "\n", source, "\n", str(len(tags)), "\n"] +
                   [f"{tag}\t{' '.join(words)}\n" for tag, words in by_tag.items()])
    try:
        write_text_atomic(path, text)
    except OSError:
        return   # a read-only cache folder: parse the dictionary next time too
    prune_derived_tables(path)


def data_dir() -> Path:
    """The folder of the organization data files (config ``[orgs] data_dir``)."""
    return load_config().path("orgs", "data_dir") or (DATA_DIR / "orgs")


@lru_cache(maxsize=4)
def load_lexicon(folder: Optional[str] = None) -> OrgLexicon:
    """Read the organization data files in ``folder`` (default :func:`data_dir`).

    Raises
    ------
    OrgDataError
        When a file is missing or a line is malformed; the message names the
        file and line.
    """
    base = Path(folder) if folder else data_dir()
    gazetteer: dict = {}
    blocked = set()
    for row in _rows(base / "gazetteer.tsv", min_cols=2, max_cols=3):
        name, kind = row[0], row[1]
        if kind == "-":
            blocked.add(name)
            continue
        if kind not in ORG_TYPES:
            raise OrgDataError(f"{base / 'gazetteer.tsv'}: {name!r} has unknown type {kind!r}")
        canonical = row[2] if len(row) > 2 else name
        gazetteer.setdefault(name, (kind, canonical))
        if kind == "media" and name.endswith("报") and canonical.endswith("报"):
            # a newspaper's publisher goes by the paper's name and 社 (经济日报社)
            gazetteer.setdefault(name + "社", (kind, canonical + "社"))
    suffixes: dict = {}
    for suffix, kind, mode in _rows(base / "suffixes.tsv", min_cols=3, max_cols=3):
        if mode not in SUFFIX_MODES or (kind not in ORG_TYPES and kind != "-"):
            raise OrgDataError(f"{base / 'suffixes.tsv'}: bad line for {suffix!r}: "
                               f"type {kind!r}, mode {mode!r}")
        suffixes.setdefault(suffix, (kind, mode))
    places: dict = {}
    for name, level in _rows(base / "places.tsv", min_cols=2, max_cols=2):
        if level not in PLACE_LEVELS:
            raise OrgDataError(f"{base / 'places.tsv'}: {name!r} has unknown level {level!r}")
        places.setdefault(name, level)
    admin: dict = {}
    for suffix, level, abbreviates in _rows(base / "admin_suffixes.tsv", min_cols=3, max_cols=3):
        if level not in PLACE_LEVELS or abbreviates not in ("yes", "no"):
            raise OrgDataError(f"{base / 'admin_suffixes.tsv'}: bad line for {suffix!r}")
        admin[suffix] = (level, abbreviates == "yes")
    anaphora = _rows(base / "anaphora.tsv", min_cols=2, max_cols=2)
    for kind, _ in anaphora:
        if kind not in ("determiner", "head"):
            raise OrgDataError(f"{base / 'anaphora.tsv'}: unknown kind {kind!r} "
                               "(expected determiner or head)")
    user_dictionary = load_config().path("segment", "user_dictionary")
    tags, user_words = dictionary_tags(str(user_dictionary) if user_dictionary else None)
    list_classes, team_list_classes = _list_classes(base / "list_classes.tsv")
    return OrgLexicon(
        tags=tags,
        user_words=user_words,
        gazetteer=gazetteer,
        blocked=frozenset(blocked),
        suffixes=suffixes,
        places=places,
        admin_suffixes=admin,
        not_places=_words(base / "not_places.txt"),
        boundary_words=_words(base / "boundary_words.txt"),
        determiners=frozenset(text for kind, text in anaphora if kind == "determiner"),
        anaphor_heads=frozenset(text for kind, text in anaphora if kind == "head"),
        titles=tuple(sorted(_words(base / "titles.txt"), key=lambda t: (-len(t), t))),
        function_chars=frozenset(ch for word in _words(base / "function_chars.txt") for ch in word),
        counters=frozenset(ch for word in _words(base / "counters.txt") for ch in word),
        media_cues=tuple(sorted(_words(base / "media_cues.txt"))),
        unit_abbreviations=_words(base / "unit_abbreviations.txt"),
        term_bodies=tuple(sorted(_words(base / "term_bodies.txt"))),
        class_heads=_words(base / "class_heads.txt"),
        final_function_chars=frozenset(
            ch for word in _words(base / "final_function_chars.txt") for ch in word),
        list_classes=list_classes,
        team_heads=_words(base / "team_heads.txt"),
        team_list_classes=team_list_classes,
        quote_cues=tuple(sorted(_words(base / "quote_cues.txt"))),
    )


def _list_classes(path: Path) -> tuple[dict, frozenset]:
    """class noun -> type, and the class nouns whose items may be countries (teams)."""
    classes = {}
    teams = set()
    for row in _rows(path, min_cols=2, max_cols=3):
        noun, kind = row[0], row[1]
        if kind not in ORG_TYPES:
            raise OrgDataError(f"{path}: {noun!r} has unknown type {kind!r}")
        if len(row) > 2:
            if row[2] != "teams":
                raise OrgDataError(f"{path}: {noun!r}: third column must be 'teams', got {row[2]!r}")
            teams.add(noun)
        classes[noun] = kind
    return classes, frozenset(teams)
