"""Organizations: recognition, alias resolution and typing, with no model download.

How a name is found
-------------------
1. *Anchors.*  Regexes built as tries find, in C, every org-name head suffix
   (局 部 委员会 促进会 学校 医院 公司 社 队 …, ``data/orgs/suffixes.tsv``,
   matched on the reversed text so the longest suffix at each end wins) and
   every gazetteer name (新华社 证监会 欧盟 …, ``gazetteer.tsv``).  An anchor
   must end where a jieba word ends, so 社会 or 部分 never anchor, and a word
   that only ends like an org (干部, 格局, 研讨会: ``block`` lines) is none.
   Words fusing a name with a title (财政部长, 市委书记) or a place with a
   known name (美国国务院) are split first.
2. *Leftward walk.*  From each anchor the recognizer walks left over the
   jieba tokens with a small grammar of name shapes::

       name       := prefix* descriptor* head
       prefix     := place (苍南县, 美国, 县) | organization (县委, 人民政府)
       descriptor := noun-like word (传统 文化 职业技能 培训 …), verbs inside

   The part-of-speech tags come from jieba's dictionary column (a dict
   lookup), not from jieba's POS tagger, which is ~25x slower.  The walk
   stops at punctuation, function words (由 在 和 的 …; tags p c u r d m q …),
   at a verb right after a prefix (配合|县委…), at an outer place (衡南县|泉溪镇…
   keeps the inner one), and once in the prefix at anything but a place or
   an organization.  Words before a verb with nothing proper among them are
   the sentence's (合作项目|旨在|加强|协和公共卫生学院).
3. *Filters.*  A bare head (中心, 促进会) needs something proper before it —
   a place, an organization, a word the dictionary does not know (民健,
   唐风) or a proper-noun tag — so generic phrases (社会组织应急救援队) are
   not names; a common word heading a name (科技司, 代表团) and the domain
   dictionary's kinds of bodies (慈善总会, 党建联盟) need a place or an
   organization right before them; one counted by a numeral (56家社会组织…)
   is a class, not a name, and so is a country with a class head (美国公司:
   American companies, ``class_heads.txt``).  The term of an elected body
   belongs to its name (第六届|全国人大, ``term_bodies.txt``); marks joining
   a foreign name's parts do too (佩诺—里加集团).  A generic unit right
   after a name is a sub-unit of it (中国共产党|友好代表团).  《X》 followed
   by 杂志/周刊/报 or by a reporting verb (报道) names a publication.
4. *Overlaps.*  The longest candidate wins.

Aliases within an article
-------------------------
* 县民政局 → 苍南县民政局: a leading 县/市/省/区/镇/乡 abbreviates the place
  of that level the article names (a full name already named wins, then the
  most named place, first on ties).
* 民健社 → 苍南县民健社: a name that exactly one other name of the article
  extends by a sub-national place only.
* 该局 / 该中心 / 本会 → the nearest preceding organization whose name ends
  so.  Without one the anaphor is dropped.
* A gazetteer abbreviation resolves to its full name (央行 → 中国人民银行).

:func:`resolve_organizations` applies the same rules across the corpus and
builds the ``organizations`` table.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Mapping, Optional, Sequence

from pipeline.extract.orgs_lexicon import OrgLexicon, load_lexicon
from pipeline.model import ORG_TYPES, Mention, Token, stable_hash
from pipeline.segment import segment
from pipeline.text import fold_width

#: jieba tags that never occur inside an organization name
_STOP_TAGS = frozenset({"p", "c", "u", "uj", "ul", "uz", "ud", "ug", "uv", "r", "rr", "rz",
                        "d", "df", "dg", "m", "mq", "q", "t", "tg", "y", "e", "o", "x",
                        "zg", "f", "ad", "z", "k", "h"})
#: tags of words that make a name proper (not a generic phrase)
_PROPER_TAGS = frozenset({"nr", "nrt", "nrfg", "nz", "ns", "nt", "j", "eng"})
#: most descriptor words between a name's prefix and its head (职业技能 培训 …)
MAX_DESCRIPTORS = 5
#: longest organization name, in characters
MAX_NAME_CHARS = 30


@dataclass(slots=True)
class _Candidate:
    start: int
    end: int
    type: str
    gazetteer: bool = False
    anaphor_tail: str = ""  # for 该局: "局"
    #: the type is the outer body's (a sub-unit: 中国共产党友好代表团 is the party's)
    fixed_type: bool = False
    #: known only from a list cue (X、Y等社会组织): its other occurrences in the
    #: article are mentions too, though nothing else marks them as names
    listed: bool = False


# ------------------------------------------------------------------------------------------
# token classes
# ------------------------------------------------------------------------------------------

def _is_han(text: str) -> bool:
    return all("\u3400" <= ch <= "\u9fff" for ch in text)


def _is_ascii_name(text: str) -> bool:
    return text.isascii() and text.isalnum() and text[0].isalpha()


def _org_like(lex: OrgLexicon, word: str) -> bool:
    """Whether ``word`` names an organization or is a bare org suffix (部, 市委)."""
    if word in lex.gazetteer:
        return True
    suffix = lex.longest_suffix(word)
    return suffix is not None and lex.suffixes[suffix][1] != "block"


def _name_before_title(lex: OrgLexicon, head: str, tokens: list, k: int) -> bool:
    """Whether ``head``, the part of word ``k`` before a title, ends an org name.

    市委|书记, 财政部|长: a known name or one that is an org by itself.  A
    lone suffix character (部|长) only after a word that is no org and no
    person already: after a common noun (商务|部长, not 中联部|部长 or
    李振成|局长, a name the dictionary does not know).
    """
    if head in lex.gazetteer:
        return True
    suffix = lex.longest_suffix(head)
    if suffix is None or lex.suffixes[suffix][1] == "block":
        return False
    if lex.suffixes[suffix][1] == "standalone" or (len(head) > len(suffix) and lex.tags.get(head) == "nt"):
        return True
    if head == suffix and len(head) == 1 and k > 0 and tokens[k - 1].end == tokens[k].start:
        prev = tokens[k - 1].text
        if k >= 2 and tokens[k - 2].end == tokens[k - 1].start and _org_like(lex, tokens[k - 2].text):
            return False   # 内务部|代理|部长: the title belongs to the body named before
        return lex.tags.get(prev) in ("n", "vn", "nz", "ns", "j") and not _org_like(lex, prev)
    return head == suffix and len(head) > 1   # 党组|书记, 支部|书记


def _fold(text: str) -> str:
    """The text with full-width letters, digits and symbols made ASCII (fold_width).

    Only the runs that need it are folded: ``str.translate`` costs a dict
    lookup a character, and news text is full of full-width punctuation.
    The punctuation of ``_UNFOLDED`` is left as it is; every pattern of the
    recognizer treats both widths of it alike and no data file entry holds
    it, so folding it would change no match (a test checks the data).
    """
    if len(text) >= _VECTOR_FOLD_FROM:
        # an article: on its code points as an array, one table lookup for all
        import numpy as np
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return (points - _fold_shifts()[np.minimum(points, 0xFFFF)]).tobytes().decode(
            "utf-32-le", "surrogatepass")
    return _FOLD_RUN_RE.sub(_fold_run, text) if _FOLD_RUN_RE.search(text) else text


def _fold_run(m: re.Match) -> str:
    return fold_width(m.group())


@lru_cache(maxsize=1)
def _fold_shifts():
    """How far :func:`_fold` moves each code point of the BMP down (0: kept)."""
    import numpy as np
    shifts = np.zeros(0x10000, dtype=np.uint32)
    for ch in map(chr, _FOLDABLE):
        if _FOLD_RUN_RE.match(ch):
            shifts[ord(ch)] = ord(ch) - ord(fold_width(ch))
    return shifts


#: text length from which :func:`_fold` works on an array (a short one: by regex)
_VECTOR_FOLD_FROM = 150


#: full-width punctuation of every sentence, which folding would not change a match of
_UNFOLDED = "，：；！？（）％"
#: code points fold_width changes
_FOLDABLE = (0x3000, *range(0xFF01, 0xFF5F))
_FOLD_RUN_RE = re.compile("[%s]+" % "".join(
    re.escape(chr(cp)) for cp in _FOLDABLE if chr(cp) not in _UNFOLDED))


def _split_tokens(lex: OrgLexicon, text: str, tokens: list, gazetteer_hits: list) -> list:
    """Split words that fuse a name with what follows or precedes it.

    财政部长 -> 财政部|长, 市委书记 -> 市委|书记 (a title after the name), and
    美国国务院 -> 美国|国务院 (a place before a known name), so a name can
    end or begin inside what jieba took for one word.  Only the words a
    title or a gazetteer name ends are looked at, found by regex.
    """
    cuts: dict = {}   # token index -> cut offset
    for m in lex.title_re.finditer(text):
        k = bisect_left(tokens, m.end(), key=_END)
        if k < len(tokens) and tokens[k].end == m.end() and tokens[k].start < m.start():
            word = tokens[k].text
            if word not in lex.gazetteer and \
                    _name_before_title(lex, word[:m.start() - tokens[k].start], tokens, k):
                cuts.setdefault(k, m.start())
    for hit_start, hit_end, name in gazetteer_hits:
        if name not in lex.gazetteer:
            continue   # a blocked name
        k = bisect_left(tokens, hit_end, key=_END)
        if k < len(tokens) and tokens[k].end == hit_end and tokens[k].start < hit_start:
            word = tokens[k].text
            if word not in lex.gazetteer and lex.is_place(word[:hit_start - tokens[k].start]):
                cuts.setdefault(k, hit_start)
    if not cuts:
        return tokens
    out = []
    done = 0
    for k in sorted(cuts):
        out.extend(tokens[done:k])   # the words in between, copied in one go
        tok, cut = tokens[k], cuts[k]
        out.append(Token(tok.start, cut, text[tok.start:cut]))
        out.append(Token(cut, tok.end, text[cut:tok.end]))
        done = k + 1
    out.extend(tokens[done:])
    return out


def _class_memo(lex: OrgLexicon) -> dict:
    """The memo of :func:`_classify_word` by (word, tag), emptied when it grows large."""
    memo = lex.cache.get("classes")
    if memo is None or len(memo) > 200_000:
        memo = lex.cache["classes"] = {}
    return memo


def _classify_word(lex: OrgLexicon, word: str, tag: Optional[str]) -> str:
    """One of stop, abbrev, unit, place, org, proper, verb, adj, desc (memoized per
    word and tag by :class:`_LazyClasses`)."""
    if _is_ascii_name(word):
        return "proper"
    if not _is_han(word) or word in lex.boundary_words or word in lex.blocked:
        return "stop"
    if len(word) == 1 and word in lex.admin_suffixes and lex.admin_suffixes[word][1]:
        return "abbrev"
    if word in lex.unit_abbreviations:
        return "unit"   # 厅|党组, 站|党委: the body the article is about, abbreviated
    if word in lex.gazetteer:
        return "org"
    suffix = lex.longest_suffix(word)
    if suffix is not None:
        kind, mode = lex.suffixes[suffix]
        if mode == "standalone":
            return "org"
        if mode in ("head", "word") and len(word) > len(suffix) and tag == "nt":
            return "org"
    if tag == "nt":
        return "org"
    if lex.is_place(word):
        return "place"
    if tag in _STOP_TAGS:
        return "stop"
    if tag is None:
        # a word jieba's HMM glued together: proper (民健, 唐风) unless it begins
        # with a function character (刚出, 我同, 一是) or ends with one that ends
        # no name (工与, 日随)
        return "verb" if word[0] in lex.function_chars or \
            word[-1] in lex.final_function_chars else "proper"
    if tag in _PROPER_TAGS:
        return "proper"
    if tag.startswith("v") and tag != "vn":
        return "verb"
    if tag in ("a", "an", "ad"):
        return "adj"
    if len(word) <= 2 and word[0] in lex.function_chars:
        return "verb"   # 两国, 对外: fine inside a name, never its first word
    return "desc"


# ------------------------------------------------------------------------------------------
# recognition
# ------------------------------------------------------------------------------------------

_PREFIX_CLASSES = ("place", "org", "abbrev", "unit")
_PREFIX_CLASS_SET = frozenset(_PREFIX_CLASSES)
#: words between a name and a sub-unit of it (友好|代表团, 农村|科技司)
_SUBUNIT_CLASSES = ("desc", "adj", "proper")
#: most words between a name and its sub-unit's head
MAX_SUBUNIT_WORDS = 2
#: marks that join the parts of a foreign name (洛克希德·马丁, 佩诺—里加)
_NAME_JOINERS = frozenset({"·", "•", "・", "—", "-", "－"})
#: a Chinese numeral or ordinal word (第五, 九十, 三)
_ORDINAL_RE = re.compile(r"^第?[〇零一二三四五六七八九十百]+$")


def _walk_left(lex: OrgLexicon, tokens: list, tags: _LazyTags, first: int, *,
               prefix_only: bool) -> tuple[int, bool, int]:
    """Extend a name leftwards from token ``first`` (its head).

    ``prefix_only``: only places and organizations may come before the head
    (a head that is a name already: 民政局, 县委).

    Returns (index of the name's first token, whether the name has something
    proper in it, index of the token that stopped the walk or -1).
    """
    token_class = tags.classes
    i = first - 1
    start = first
    in_prefix = prefix_only
    n_desc = 0
    classes = {}   # as this walk reads them (a number before the head is a descriptor)
    limit = tokens[first].end - MAX_NAME_CHARS
    after = tokens[first]
    while i >= 0:
        tok = tokens[i]
        if tok.end != after.start or tok.start < limit:
            break
        after = tok
        cls = token_class[i]
        if cls == "stop" and i == first - 1 and not prefix_only and _ORDINAL_RE.match(tok.text):
            cls = "desc"   # 第五|中学, 九十|中学, 三|中队: a number right before the head
        if tok.text in _NAME_JOINERS and i > 0 and tokens[i - 1].end == tok.start and \
                classes.get(i + 1) in ("proper", "org") and token_class[i - 1] in ("proper", "org"):
            cls = "proper"   # 佩诺|—|里加|集团, 洛克希德|·|马丁|公司: a foreign name in parts
        classes[i] = cls
        if cls == "stop":
            break
        if cls in _PREFIX_CLASS_SET:
            if classes.get(i + 1) == "verb":
                break   # 配合|县委|两新工委|建立|工委: a verb after a prefix ends the name
            if cls == "place" and classes.get(i + 1) == "place" and \
                    lex.admin_level_of(tokens[i + 1].text) is not None:
                break   # 衡南县|泉溪镇|…: a name keeps only the innermost of stacked units
            in_prefix = True
        elif in_prefix:
            break
        else:
            n_desc += 1
            if n_desc > MAX_DESCRIPTORS:
                break
        start = i
        i -= 1
    stopper = i if i >= 0 else -1
    # Verbs do occur inside names (科技|开发|交流|中心), but words before a verb
    # with nothing proper among them belong to the sentence, not to the name
    # (合作项目|旨在|加强|协和…学院).
    proper_before_verb = False   # since the last verb (or the name's start)
    for j in range(start, first):
        cls = classes[j]
        if cls == "verb":
            if not proper_before_verb:
                start = j + 1
            proper_before_verb = False
        elif cls in _PROPER_BEFORE_VERB:
            proper_before_verb = True
    # a name does not begin with a verb or an adjective (开展|公益助老服务中心)
    while start < first and classes[start] in ("verb", "adj"):
        start += 1
    proper = False
    for j in range(start, first):
        if classes[j] in _PROPER_CLASSES:
            proper = True
            break
    return start, proper, stopper


#: classes that before a verb inside a name show the words are the name's (科技|开发)
_PROPER_BEFORE_VERB = frozenset({"place", "org", "abbrev", "proper"})
#: classes that make a name proper, not a generic phrase
_PROPER_CLASSES = frozenset({"place", "org", "abbrev", "unit", "proper"})


#: the term of a body elected for one (第六届, 九届): 九届|全国人大 names that body
_TERM_RE = re.compile(r"^第?[〇零一二三四五六七八九十百0-9]+届$")


def _with_term(lex: OrgLexicon, tokens: list, start: int, head: str) -> int:
    """``start``, or the token before it when that is the term of a body
    elected for one (九届|全国人大; not 六届|县委|书记) and ``head`` names it."""
    if start > 0 and tokens[start - 1].end == tokens[start].start and \
            _TERM_RE.match(tokens[start - 1].text) and head.endswith(lex.term_bodies):
        return start - 1
    return start


def _class_of_bodies(lex: OrgLexicon, name: str) -> bool:
    """Whether ``name`` is a country and a class head (美国公司: American companies)."""
    if not name.endswith(lex.class_head_tuple):
        return False   # the usual answer, in one call
    for head in lex.class_heads:
        if len(name) > len(head) and name.endswith(head) and \
                name not in lex.gazetteer and lex.place_level(name[:-len(head)]) == "country":
            return True
    return False


def _counted(lex: OrgLexicon, tokens: list, tags, index: int) -> bool:
    """Whether a count of bodies comes right before token ``index`` (56家|, 多个|, 16 支|)."""
    if index <= 0:
        return False
    prev = tokens[index - 1].text
    if prev[-1] not in lex.counters:
        return False
    if len(prev) > 1:
        return tags[index - 1] in ("m", "mq") or prev[-2].isdigit() or prev[-2] in _NUMERAL_STEM
    if index >= 2:
        before = tokens[index - 2].text
        return tags[index - 2] in ("m", "mq") or before[-1].isdigit() or before[-1] in _NUMERAL_STEM
    return False


#: heads of names whose stem is a numeral (五社, 十佳) are counts, not names
_NUMERAL_STEM = frozenset("〇零一二三四五六七八九十百千万两几数多第")


def _head_kind_memo(lex: OrgLexicon) -> dict:
    """The memo of :func:`_head_kind_of` by (word, suffix, tag), emptied when it grows large
    (a head word recurs often)."""
    memo = lex.cache.get("head_kinds")
    if memo is None or len(memo) > 200_000:
        memo = lex.cache["head_kinds"] = {}
    return memo


#: a memo's answer for a key it does not hold (None is an answer)
_UNKNOWN = object()


def _head_kind_of(lex: OrgLexicon, word: str, suffix: str, tag: Optional[str]) -> Optional[str]:
    """How the head word (the token the suffix ends) may head a name.

    Returns "name" (a name by itself: 民政局 nt, 民健社 unknown to the
    dictionary, 智利队 a place and a suffix), "bare" (the suffix alone,
    中心, 促进会) or None (a common word that only ends like an org: 干部,
    格局, 加油站).
    """
    if len(word) <= len(suffix):
        # a lone character jieba's dictionary knows as a verb (办, 站) heads a
        # name only right after a place or an organization (街道|办, not 小钱|办)
        return "weak" if len(word) == 1 and (tag or "").startswith("v") else "bare"
    if word in lex.gazetteer:
        return "name"
    if word in lex.blocked:
        return None
    widest = lex.longest_suffix(word)
    if lex.suffixes[widest][1] == "block" and (tag != "nt" or len(word) - len(widest) <= 1):
        return None   # 干部, 新格局 (jieba tags the latter nt); not 中国羽毛|球队
    stem = word[:-len(suffix)]
    if all(ch in _NUMERAL_STEM or ch.isdigit() for ch in stem):
        return None
    if tag is None:
        if word[0] in lex.function_chars:
            return None
        # 民健社 is a name; a one-character stem (引厂) is too little to tell
        return "name" if len(stem) >= 2 else "bare"
    stem_tag = lex.tags.get(stem)
    if lex.suffixes[suffix][1] == "word":
        return "name"   # 保守党, 人民党: the dictionary lists parties by name
    if word in lex.user_words:
        # the domain dictionary lists kinds of bodies (慈善总会, 党建联盟): a name
        # only after a place or an organization (苍南县|慈善总会, 县委|两新工委)
        return "weak"
    if tag == "nt":
        # jieba's nt column also holds generic words: a verb stem makes one
        # (加油站); the rest name a body even alone (民政厅, 货币联盟: the news
        # says 民政厅 for the province's), kinds of banks being listed as
        # blocked in the gazetteer (外资银行)
        if (stem_tag or "").startswith("v"):
            return None
        return "name"
    if stem in lex.gazetteer or lex.is_place(stem) or stem_tag in _PROPER_TAGS:
        return "name"   # 智利|队, 克罗地亚|队
    # a common noun ending like an org (科技司, 代表团): a name only right after
    # a place or an organization (科学技术部|农村|科技司)
    return "weak" if tag in ("n", "nz", "vn", "j") else None


_START = attrgetter("start")
_END = attrgetter("end")


class _PositionIndex:
    """Which token starts (or ends) at a character offset, by bisection.

    Anchors are sparse, so bisecting the tokens themselves (on ``key``, their
    start or end) for a few positions beats building a list or a dict over
    every token of the article.
    """
    __slots__ = ("tokens", "key")

    def __init__(self, tokens: list, key):
        self.tokens = tokens
        self.key = key

    def get(self, pos: int) -> Optional[int]:
        tokens = self.tokens
        i = bisect_left(tokens, pos, key=self.key)
        return i if i < len(tokens) and self.key(tokens[i]) == pos else None

    def __contains__(self, pos: int) -> bool:
        return self.get(pos) is not None

    def __getitem__(self, pos: int) -> int:
        i = self.get(pos)
        if i is None:
            raise KeyError(pos)
        return i


class _LazyTags(dict):
    """jieba tags of the tokens by index, looked up only for the tokens a rule
    looks at (a dict, so a repeated lookup costs no Python call)."""
    __slots__ = ("tokens", "table", "classes")

    def __init__(self, lex: OrgLexicon, tokens: list):
        super().__init__()
        self.tokens = tokens
        self.table = lex.tags
        #: the class (:func:`_classify_word`) of each token, by index, as looked up
        self.classes = _LazyClasses(lex, tokens, self)

    def __missing__(self, i: int) -> Optional[str]:
        tok = self.tokens[i]
        tag = self[i] = self.table.get(tok.text) if tok.pos is None else tok.pos
        return tag


class _LazyClasses(dict):
    """:func:`_classify_word` of the tokens by index, computed on first lookup."""
    __slots__ = ("lex", "tokens", "tags", "memo")

    def __init__(self, lex: OrgLexicon, tokens: list, tags: _LazyTags):
        super().__init__()
        self.lex = lex
        self.tokens = tokens
        self.tags = tags
        # the memo of _classify_word, taken once an article rather than once a token
        self.memo = _class_memo(lex)

    def __missing__(self, i: int) -> str:
        word = self.tokens[i].text
        tag = self.tags[i]
        cls = self.memo.get((word, tag))
        if cls is None:
            cls = self.memo[word, tag] = _classify_word(self.lex, word, tag)
        self[i] = cls
        return cls


def _candidates(lex: OrgLexicon, folded: str, tokens: list, gazetteer_hits: list) -> list[_Candidate]:
    """Every candidate name of the (width-folded) text, overlaps included."""
    n = len(folded)
    start_index = _PositionIndex(tokens, _START)
    end_index = _PositionIndex(tokens, _END)
    tags = _LazyTags(lex, tokens)
    found: list[_Candidate] = []
    pending: list[tuple] = []   # generic heads that may be sub-units of a name before them

    # --- gazetteer names --------------------------------------------------------------
    for hit_start, hit_end, name in gazetteer_hits:
        if name in lex.blocked:
            continue
        first = start_index.get(hit_start)
        if first is None or hit_end not in end_index:
            continue
        kind, _ = lex.gazetteer[name]
        if first > 0 and len(tokens[first - 1].text) == 1 and \
                (tags[first - 1] or "").startswith("nr") and \
                tokens[first - 1].end == tokens[first].start:
            continue   # 吴|高盛: a surname makes it a person
        # only places may prefix a known name (美国|财政部, 中国|足协)
        start = first
        while start > 0 and tokens[start - 1].end == tokens[start].start and \
                tags.classes[start - 1] in ("place", "abbrev"):
            start -= 1
        start = _with_term(lex, tokens, start, name)
        found.append(_Candidate(tokens[start].start, hit_end, kind, gazetteer=True))

    # --- suffix-headed names: matched on the reversed text, so longest suffix per end ----
    # (the lexicon's tables are read into locals: this loop runs for every anchor)
    suffixes, gazetteer, longest_suffix = lex.suffixes, lex.gazetteer, lex.longest_suffix
    max_suffix_len = lex.max_suffix_len
    n_tokens = len(tokens)
    # the memos, taken once an article (a memo replaced meanwhile is still right)
    head_kinds = _head_kind_memo(lex)
    suffix_memo = lex.suffix_memo
    for m in lex.suffix_re.finditer(folded[::-1]):
        end = n - m.start()
        last = bisect_left(tokens, end, key=_END)
        if last == n_tokens or tokens[last].end != end:
            continue   # the suffix ends inside a word (社会, 部分)
        begin = n - m.end()
        suffix = folded[begin:end]
        kind, mode = suffixes[suffix]
        head_token = tokens[last]
        if head_token.start <= begin and (last + 1 == n_tokens or tokens[last + 1].start > begin):
            first = last   # the suffix lies in its word, as most do: no search
        else:
            first = bisect_right(tokens, begin, key=_START) - 1
            if first < 0 or first > last:
                continue
        word = head_token.text
        if first == last:
            key = (word, suffix, tags[last])
            head = head_kinds.get(key, _UNKNOWN)
            if head is _UNKNOWN:
                head = head_kinds[key] = _head_kind_of(lex, word, suffix, key[2])
            if head is None:
                continue
        else:
            head = "bare"
        if len(word) == 1 and end < n and (folded[end].isdigit() or folded[end] in _NUMERAL_STEM):
            continue   # 收盘|报|3000点: a one-character head before a number is a verb
        window = folded[max(0, end - max_suffix_len):end]
        widest = suffix_memo.get(window, _UNKNOWN)
        if widest is _UNKNOWN:
            widest = longest_suffix(window)
        if widest is not None and len(widest) > len(suffix) and suffixes[widest][1] == "block" \
                and word not in gazetteer:
            continue   # 新|格局, 全|部: a word that only ends like an org
        prefix_only = head == "name" or mode == "standalone"
        start_tok, proper, stopper = _walk_left(lex, tokens, tags, first, prefix_only=prefix_only)
        if mode == "standalone" and start_tok == first and first > 0 and \
                word[0] in lex.admin_suffixes and lex.admin_suffixes[word[0]][1] and \
                tokens[first - 1].end == tokens[first].start and \
                tags.classes[first - 1] in ("proper", "place"):
            start_tok = first - 1   # 清丰|县委: the word before 县委 is the county's name
        if head == "weak" and (start_tok == first or tags.classes[start_tok] not in _PREFIX_CLASSES):
            pending.append((first, end, kind))
            continue
        if head == "bare" and mode != "standalone" and (start_tok == first or not proper):
            # a bare or generic head: 中心, 社会组织应急救援队; after 该/本 it is an anaphor
            tail = folded[tokens[stopper + 1].start:end] if stopper >= 0 else ""
            if stopper >= 0 and tokens[stopper].text in lex.determiners and \
                    tokens[stopper].end == tokens[stopper + 1].start and \
                    any(tail.endswith(h) for h in lex.anaphor_heads):
                found.append(_Candidate(tokens[stopper].start, end, kind, anaphor_tail=tail))
            else:
                pending.append((first, end, kind))
            continue
        if _counted(lex, tokens, tags, start_tok):
            continue
        if _class_of_bodies(lex, folded[tokens[start_tok].start:end]):
            continue
        if start_tok < first or prefix_only:
            start_tok = _with_term(lex, tokens, start_tok, word)
        found.append(_Candidate(tokens[start_tok].start, end, kind))

    # --- sub-units: a generic unit right after a name is part of it ------------------
    # (中国共产党|友好|代表团, 科学技术部|农村|科技司, 东丰县第五中学|教导处)
    if pending:
        name_ending_at: dict = {}
        for cand in found:
            if not cand.anaphor_tail and (cand.end not in name_ending_at or
                                          name_ending_at[cand.end].start > cand.start):
                name_ending_at[cand.end] = cand
        for first, end, kind in pending:
            for j in range(first, max(first - MAX_SUBUNIT_WORDS, 0) - 1, -1):
                if j < first and (tokens[j].end != tokens[j + 1].start or
                                  tags.classes[j] not in _SUBUNIT_CLASSES):
                    break
                outer = name_ending_at.get(tokens[j].start)
                if outer is not None and (j == 0 or tokens[j - 1].end == tokens[j].start):
                    outer_type = _name_type(lex, folded[outer.start:outer.end], outer.type)
                    found.append(_Candidate(outer.start, end, outer_type, fixed_type=True))
                    break

    # --- names in book-title marks: 《新闻报》, 美国《科学》杂志 -----------------------------
    for m in _TITLE_MARK_RE.finditer(folded):
        inner, after = m.group(1), m.group(2)
        if after and m.end() not in end_index:
            # 《今日美国》报道: the 报 begins the next word; the title itself is
            # a publication when a reporting verb follows
            after = ""
            if lex.media_cue_re.match(folded, m.end(1) + 1):
                found.append(_Candidate(m.start(1), m.end(1), "media"))
                continue
        if after:
            start = m.start()
            i = start_index.get(start)
            while i is not None and i > 0 and tokens[i - 1].end == tokens[i].start and \
                    tags.classes[i - 1] == "place":
                i -= 1
                start = tokens[i].start
            found.append(_Candidate(start, m.end(), "media"))
        else:
            suffix = lex.longest_suffix(inner)
            if suffix is not None and lex.suffixes[suffix][0] == "media" and len(inner) > len(suffix):
                found.append(_Candidate(m.start(1), m.end(1), "media"))

    # --- names in quotation marks after a founding cue: 成立了“临时非常委员会” ----------------
    # the marks delimit the name, so its words need not be proper ones; without
    # the cue a quoted phrase ending so is as often an honour (“先进党支部”)
    for m in _QUOTED_RE.finditer(folded):
        inner = m.group(1)
        suffix = lex.longest_suffix(inner)
        if suffix is None or len(inner) <= len(suffix) or lex.suffixes[suffix][1] == "block" \
                or m.start(1) not in start_index or m.end(1) not in end_index:
            continue
        before = folded[max(0, m.start() - lex.max_quote_cue_len - 1):m.start()]
        if before.endswith("了"):
            before = before[:-1]
        if before.endswith(lex.quote_cues):
            found.append(_Candidate(m.start(1), m.end(1), lex.suffixes[suffix][0]))

    # --- anaphors spelled as one word (该局, 本院) ---------------------------------------
    for m in lex.anaphor_re.finditer(folded):
        if m.start() in start_index and m.end() in end_index:
            found.append(_Candidate(m.start(), m.end(), "other",
                                    anaphor_tail=folded[m.start() + 1:m.end()]))

    # --- items of a list the text calls organizations (X、Y、Z等社会组织) -------------------
    if "等" in folded and "、" in folded:
        found.extend(_listed_items(lex, folded, tokens, start_index, end_index, tags))
    # --- countries that are sports teams (美国和俄罗斯队, e组的美国、俄罗斯) ------------------
    if "组" in folded or "队" in folded:
        found.extend(_country_teams(lex, folded, tokens, found))
    # --- a body named after a dash that follows its class (首家X中心——某镇某某X中心) --------
    if "—" in folded or "--" in folded:
        found.extend(_apposed_names(lex, folded, start_index, end_index))
    # The tag and class lookups refer to each other; unlinked, they and the
    # article's tokens are freed by reference counting as soon as the article
    # is done, instead of waiting for (and costing) a cyclic collection.
    tags.classes = None
    return found


#: a dash between a class of bodies and the body's own name
_APPOSITION_DASH_RE = re.compile(r"——|--|—|－－")
#: what ends a name in apposition: punctuation, a space, a bracket or quotation mark
_APPOSITION_END_RE = re.compile(r"[\s，。、；：！？,.;:!?（）()“”\"《》—-]")
#: characters of the class phrase read before the dash
_APPOSITION_CLASS_CHARS = 12


def _apposed_names(lex: OrgLexicon, folded: str, start_index, end_index) -> list[_Candidate]:
    """A name given in apposition after a dash, ending in the head its class ends in.

    苍南县首家小区业主服务中心——灵溪镇天和一二期小区业主服务中心: the words before the
    dash end in an organization head (中心), and the words after it, up to the
    same head, are that body's own name, however jieba cut them.  The name
    must begin with a place (灵溪镇), which keeps a dash between two ordinary
    names (中国人民银行——中央银行) out.
    """
    out = []
    for m in _APPOSITION_DASH_RE.finditer(folded):
        suffix = lex.longest_suffix(folded[max(0, m.start() - _APPOSITION_CLASS_CHARS):m.start()])
        if suffix is None or lex.suffixes[suffix][1] == "block":
            continue
        start = m.end()
        window = folded[start:start + MAX_NAME_CHARS]
        stop = _APPOSITION_END_RE.search(window)
        if stop is not None:
            window = window[:stop.start()]
        at = window.find(suffix)
        if at < 2 or start not in start_index:
            continue
        end = start + at + len(suffix)
        if end not in end_index:
            continue
        if not any(lex.is_place_chain(window[:k]) for k in range(2, min(at, 8) + 1)):
            continue
        out.append(_Candidate(start, end, lex.suffixes[suffix][0]))
    return out


#: a group of a tournament introducing its teams (e组的美国、俄罗斯, A组：巴西、挪威)
_GROUP_RE = re.compile(r"(?<![A-Za-z])[A-Za-z]组(?:的|：|:)")
#: words joining the items of a list of teams
_TEAM_JOINERS = frozenset({"、", "和", "与", "及"})


def _country_teams(lex: OrgLexicon, folded: str, tokens: list,
                   found: list[_Candidate]) -> list[_Candidate]:
    """Countries the text names as sports teams.

    A country joined to a country's team (美国和|俄罗斯队: 美国队 and
    俄罗斯队) is a team too, as is each country listed after a group of a
    tournament (e组的|美国、俄罗斯、立陶宛).  Elsewhere a country is a place.
    """
    out = []
    index = _PositionIndex(tokens, _START)

    def country(i: int) -> bool:
        return 0 <= i < len(tokens) and lex.places.get(tokens[i].text) == "country"

    def joined_countries(i: int, step: int) -> list[int]:
        """Token indices of countries listed from token ``i`` on, ``step`` apart (+-2)."""
        items = []
        while country(i):
            items.append(i)
            j = i + step // 2
            if not (0 <= j < len(tokens)) or tokens[j].text not in _TEAM_JOINERS:
                break
            i += step
        return items

    team_head_ends = lex.team_head_ends
    for cand in found:
        if folded[cand.end - 1] not in team_head_ends:
            continue   # cheap test first: no team head ends so
        k = index.get(cand.start)
        if k is None or cand.anaphor_tail or k < 2 or tokens[k - 1].text not in _TEAM_JOINERS:
            continue
        name = folded[cand.start:cand.end]
        # the team's name is a country and a team head (俄罗斯|队, or one word 俄罗斯队)
        if any(name.endswith(head) and lex.places.get(name[:-len(head)]) == "country"
               for head in lex.team_heads):
            out.extend(_Candidate(tokens[i].start, tokens[i].end, "other")
                       for i in joined_countries(k - 2, -2))
    for m in _GROUP_RE.finditer(folded):
        k = index.get(m.end())
        items = joined_countries(k, 2) if k is not None else []
        if len(items) >= 2:
            out.extend(_Candidate(tokens[i].start, tokens[i].end, "other") for i in items)
    return out


def _list_re(lex: OrgLexicon) -> tuple[re.Pattern, re.Pattern]:
    """The pattern of a list of names before 等 + a class noun, and of 等 + a class noun.

    The first backtracks over every 、 of a text; the second, a plain scan,
    tells whether the first can match at all.
    """
    patterns = lex.cache.get("list_patterns")
    if patterns is None:
        classes = "|".join(map(re.escape, sorted(lex.list_classes, key=len, reverse=True)))
        item = r"[\u4e00-\u9fffA-Za-z0-9·]{2,16}"
        patterns = lex.cache["list_patterns"] = (
            re.compile(rf"(?P<items>(?:{item}、){{1,30}}{item})等(?P<cls>{classes})"),
            re.compile(rf"等(?:{classes})"))
    return patterns


def _listed_items(lex: OrgLexicon, folded: str, tokens: list, start_index, end_index,
                  tags) -> list[_Candidate]:
    """Names listed before 等 + a class noun of organizations: the list says what they are,
    even when a name has no suffix (壹加壹、同城爱心、民健社、群鹰救援等社会组织)."""
    out = []
    pattern, class_after_deng = _list_re(lex)
    if class_after_deng.search(folded) is None:
        return out
    for m in pattern.finditer(folded):
        kind = lex.list_classes[m.group("cls")]
        teams = m.group("cls") in lex.team_list_classes
        pos = m.start("items")
        items = []
        for k, item in enumerate(m.group("items").split("、")):
            start, end = pos, pos + len(item)
            pos = end + 1
            if k == 0:
                # the first item may run on from the words before it (其中壹加壹):
                # it starts after the last boundary word or verb inside it
                i = start_index.get(start)
                while i is not None and i < len(tokens) and tokens[i].end <= end:
                    tag = tags[i] or ""
                    if tokens[i].text in lex.boundary_words or tag[:1] in ("v", "p", "c", "d", "r"):
                        start = tokens[i].end
                    i += 1
                if start not in start_index:
                    continue
            if end - start < 2 or start not in start_index or end not in end_index:
                continue
            name = folded[start:end]
            if teams:
                # countries listed as teams: only they, and elsewhere in the
                # article the same country is a place again (not ``listed``)
                if lex.places.get(name) == "country":
                    items.append(_Candidate(start, end, kind))
                continue
            if name in lex.places or name in lex.boundary_words or name in lex.list_classes \
                    or name.isdigit() or _classify_word(lex, name, lex.tags.get(name)) == "place":
                continue
            items.append(_Candidate(start, end, kind, listed=True))
        if len(items) >= 2:
            out.extend(items)
    return out


#: a short phrase in quotation marks, no punctuation inside
_QUOTED_RE = re.compile(r"[“\"]([^“”\"\s，。、；：！？,.;:!?《》（）()]{3,20})[”\"]")
#: 《name》 optionally followed by what kind of publication it is
_TITLE_MARK_RE = re.compile(r"《([^《》\s]{1,20})》(杂志|周刊|月刊|画报|日报|报)?")


def _select(candidates: list[_Candidate], exclude: Sequence[tuple[int, int]]) -> list[_Candidate]:
    """Non-overlapping candidates, longest first; none overlapping ``exclude``."""
    taken: list[tuple[int, int]] = [(a, b) for a, b in exclude if b > a]
    chosen = []
    ordered = sorted(candidates, key=lambda c: (-(c.end - c.start), c.anaphor_tail != "",
                                                not c.gazetteer, c.start))
    for cand in ordered:
        if any(cand.start < b and a < cand.end for a, b in taken):
            continue
        taken.append((cand.start, cand.end))
        chosen.append(cand)
    chosen.sort(key=lambda c: c.start)
    return chosen


def _name_type(lex: OrgLexicon, name: str, fallback: str) -> str:
    """:func:`_name_type_of`, memoized per name and fallback (a name recurs often)."""
    memo = lex.cache.get("name_types")
    if memo is None or len(memo) > 200_000:
        memo = lex.cache["name_types"] = {}
    key = (name, fallback)
    kind = memo.get(key)
    if kind is None:
        kind = memo[key] = _name_type_of(lex, name, fallback)
    return kind


def _name_type_of(lex: OrgLexicon, name: str, fallback: str) -> str:
    """The type of a name: the gazetteer's, else its head suffix's.

    A generic unit (代表团, 办公室, 计划署: a government or other head) of a
    known body takes the body's type: 联合国|艾滋病联合计划署 is international,
    中国共产党|友好代表团 and 中国共产党|苍南县委员会 are the party's.
    """
    if name in lex.gazetteer:
        return lex.gazetteer[name][0]
    if name in lex.gazetteer_types_by_canonical:
        return lex.gazetteer_types_by_canonical[name]   # 中国银行业监督管理委员会, from 银监会
    kind = fallback if fallback in ORG_TYPES else "other"
    suffix = lex.longest_suffix(name)
    if suffix is not None and lex.suffixes[suffix][0] in ORG_TYPES:
        kind = lex.suffixes[suffix][0]
    leading = lex.gazetteer_re.match(name)
    if leading and leading.group() in lex.gazetteer and kind in ("government", "other") and \
            lex.gazetteer[leading.group()][0] in _BODY_TYPES_UNITS_INHERIT:
        return lex.gazetteer[leading.group()][0]
    return kind


#: types a generic unit inherits from the known body its name begins with (an
#: enterprise is left out: 中国银行|业监督管理委员会 only looks like one)
_BODY_TYPES_UNITS_INHERIT = ("party", "international", "school", "hospital", "judicial", "media")


# ------------------------------------------------------------------------------------------
# aliases within one article
# ------------------------------------------------------------------------------------------

def _article_places(lex: OrgLexicon, tokens: list, level_char: str) -> list[str]:
    """Places of the article ending with ``level_char`` (苍南县 for 县), most named first."""
    counts: Counter = Counter()
    first_seen: dict = {}
    for i, tok in enumerate(tokens):
        word = tok.text
        if len(word) > 1 and word.endswith(level_char) and lex.is_place(word):
            counts[word] += 1
            first_seen.setdefault(word, i)
    return sorted(counts, key=lambda w: (-counts[w], first_seen[w]))


def expand_abbreviated_place(lex: OrgLexicon, name: str, places: Sequence[str],
                             known: Sequence[str] = ()) -> Optional[str]:
    """县民政局 -> 苍南县民政局, given the places (苍南县) an article names.

    A name already known in full (``known``) wins over the most named place.
    """
    if len(name) < 2 or name[0] not in lex.admin_suffixes or not lex.admin_suffixes[name[0]][1]:
        return None
    fulls = [p[:-1] + name for p in places]
    for full in fulls:
        if full in known:
            return full
    return fulls[0] if fulls else None


def _short_form_target(lex: OrgLexicon, name: str, names: Sequence[str]) -> Optional[str]:
    """The one longer name that is ``name`` behind a sub-national place (苍南县|民健社)."""
    if name in lex.gazetteer:
        return None   # 财政部 is the national body, not 美国财政部
    targets = set()
    for other in names:
        if other != name and other.endswith(name):
            prefix = other[:-len(name)]
            if lex.is_place_chain(prefix) and lex.place_level(prefix) != "country":
                targets.add(other)
    return targets.pop() if len(targets) == 1 else None


def _resolve_article(lex: OrgLexicon, text: str, tokens: list,
                     chosen: list[_Candidate]) -> list[Mention]:
    mentions: list[Mention] = []
    names = [text[c.start:c.end] for c in chosen if not c.anaphor_tail]
    canon_of: dict = {}
    place_cache: dict = {}
    for name in dict.fromkeys(names):
        if name in lex.gazetteer:
            canon_of[name] = lex.gazetteer[name][1]
            continue
        if "《" in name:
            canon_of[name] = name.replace("《", "").replace("》", "")   # 美国时代周刊
            continue
        head = name[0]
        if head in lex.admin_suffixes and lex.admin_suffixes[head][1] and len(name) > 1:
            if head not in place_cache:
                place_cache[head] = _article_places(lex, tokens, head)
            full = expand_abbreviated_place(lex, name, place_cache[head], known=names)
            if full:
                canon_of[name] = full
                continue
        canon_of[name] = name
    for name in list(canon_of):
        if canon_of[name] == name:
            target = _short_form_target(lex, name, list(canon_of.values()))
            if target:
                canon_of[name] = target
    for cand in chosen:
        surface = text[cand.start:cand.end]
        if cand.anaphor_tail:
            antecedent = next((m for m in reversed(mentions)
                               if m.canonical.endswith(cand.anaphor_tail)
                               and m.canonical != cand.anaphor_tail), None)
            if antecedent is None:
                continue
            mentions.append(Mention(cand.start, cand.end, surface, antecedent.canonical,
                                    antecedent.type))
            continue
        canonical = canon_of[surface]
        kind = cand.type if cand.fixed_type else _name_type(lex, canonical, cand.type)
        mentions.append(Mention(cand.start, cand.end, surface, canonical, kind))
    return mentions


def extract_orgs(text: str, *, tokens: list[Token] | None = None,
                 exclude: Sequence[tuple[int, int]] = (),
                 data_dir: Optional[str] = None) -> list[Mention]:
    """Organization mentions in one article.

    Parameters
    ----------
    text : str
        The article text; every offset refers to it.
    tokens : list of Token, optional
        jieba tokens of ``text`` if the caller has them (``pipeline.segment``);
        segmented here otherwise.
    exclude : sequence of (start, end)
        Spans no mention may overlap (garbled runs, say).
    data_dir : str, optional
        Folder of the organization data files (``[orgs] data_dir``); the
        shipped ``pipeline/data/orgs/`` when None.

    Returns
    -------
    list of Mention
        Sorted by start, non-overlapping, ``text[m.start:m.end] == m.text``.
        ``canonical`` is resolved within the article (县民政局 -> 苍南县民政局
        when the article names 苍南县; 该局 -> the nearest preceding 局) and
        ``type`` is one of ``pipeline.model.ORG_TYPES``.
    """
    if not text:
        return []
    lex = load_lexicon(data_dir)
    if tokens is None:
        tokens = segment(text)
    if not tokens:
        return []
    if tokens[0].start < 0 or tokens[-1].end > len(text):
        # tokens of another text: keep only those that fit, never crash
        tokens = [t for t in tokens if 0 <= t.start < t.end <= len(text)]
        if not tokens:
            return []
    folded = _fold(text)
    gazetteer_hits = lex.gazetteer_matches(folded)
    tokens = _split_tokens(lex, folded, tokens, gazetteer_hits)
    candidates = _candidates(lex, folded, tokens, gazetteer_hits)
    chosen = _select(candidates, exclude)
    listed = [c for c in chosen if c.listed]
    if listed:
        chosen = _select(candidates + _other_occurrences(folded, tokens, listed), exclude)
    return _resolve_article(lex, text, tokens, chosen)


def _other_occurrences(folded: str, tokens: list, listed: list) -> list[_Candidate]:
    """Token-aligned repeats of names the article introduced in a list."""
    starts = {t.start for t in tokens}
    ends = {t.end for t in tokens}
    out = []
    for cand in listed:
        name = folded[cand.start:cand.end]
        pos = folded.find(name)
        while pos != -1:
            if pos != cand.start and pos in starts and pos + len(name) in ends:
                out.append(_Candidate(pos, pos + len(name), cand.type))
            pos = folded.find(name, pos + 1)
    return out


# ------------------------------------------------------------------------------------------
# the corpus
# ------------------------------------------------------------------------------------------

def org_id(canonical: str) -> str:
    """Stable id of an organization: a hash of its canonical name."""
    return "org" + stable_hash(canonical, length=12)


def resolve_organizations(mentions: Mapping[str, list[Mention]], *,
                          data_dir: Optional[str] = None
                          ) -> tuple[list[dict], dict[str, list[Mention]]]:
    """Corpus-level alias resolution over ``{article_id: mentions}``.

    A canonical name that another canonical name of the corpus extends by a
    sub-national place only, and no other does, becomes that name (民健社 ->
    苍南县民健社); so does one with an abbreviated place (县民政局) that
    exactly one full name of the corpus expands.

    Returns
    -------
    organizations : list of dict
        org_id, canonical, type (most frequent among its mentions), aliases
        (sorted surface forms), n_mentions, n_articles; sorted by n_mentions
        descending, then canonical.
    mentions : dict of str to list of Mention
        The input, re-canonicalized and re-typed; same keys, same order.
    """
    lex = load_lexicon(data_dir)
    counts: Counter = Counter(m.canonical for ms in mentions.values() for m in ms)
    names = sorted(counts)
    # Every name under each of its proper suffixes: finding the names that
    # extend a name is then one lookup, not a scan of the corpus's names
    # (which was quadratic, minutes at a research corpus's 10^5 names).
    extending: dict = defaultdict(list)
    for other in names:
        for i in range(1, len(other)):
            extending[other[i:]].append(other)
    mapping: dict = {}
    for name in names:
        target = _short_form_target(lex, name, extending.get(name, ()))
        if target is None and name[:1] in lex.admin_suffixes and lex.admin_suffixes[name[0]][1]:
            fulls = sorted({other for other in extending.get(name[1:], ())
                            if other != name and len(other) > len(name)
                            and lex.is_place_chain(other[:len(other) - len(name) + 1])})
            target = fulls[0] if len(fulls) == 1 else None
        if target is not None:
            mapping[name] = target

    def final(name: str) -> str:
        seen = set()
        while name in mapping and name not in seen:
            seen.add(name)
            name = mapping[name]
        return name

    final_of = {name: final(name) for name in names}
    types: dict = defaultdict(Counter)
    aliases: dict = defaultdict(set)
    n_mentions: Counter = Counter()
    articles: dict = defaultdict(set)
    for article_id in sorted(mentions):
        for m in mentions[article_id]:
            canonical = final_of[m.canonical]
            types[canonical][m.type] += 1
            aliases[canonical].add(m.text)
            n_mentions[canonical] += 1
            articles[canonical].add(article_id)
    org_type = {c: min(t, key=lambda k: (-t[k], ORG_TYPES.index(k) if k in ORG_TYPES else 99))
                for c, t in types.items()}
    organizations = [{
        "org_id": org_id(c),
        "canonical": c,
        "type": org_type[c],
        "aliases": sorted(aliases[c]),
        "n_mentions": n_mentions[c],
        "n_articles": len(articles[c]),
    } for c in n_mentions]
    organizations.sort(key=lambda o: (-o["n_mentions"], o["canonical"]))
    # each mention anew with its corpus canonical name and type (the fields
    # spelled out: dataclasses.replace costs several times more a mention)
    resolved = {article_id: [Mention(m.start, m.end, m.text, final_of[m.canonical],
                                     org_type[final_of[m.canonical]]) for m in ms]
                for article_id, ms in mentions.items()}
    return organizations, resolved
