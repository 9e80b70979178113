"""Segmentation: domain phrases, offsets, and the fast engine's parity with jieba."""
import re

import pytest
from hypothesis import given, settings, strategies as st

from pipeline import segment as S
from pipeline.model import Token
from pipeline.segment import cut_words, segment, words
from tests.conftest import PEOPLE_DAILY, SEED_PAGE, SOGOU, require


def test_domain_phrases_stay_whole():
    ws = words("组织56家社会组织参与公益创投，助力共同富裕，建设共享社·幸福里和长者食堂")
    for phrase in ("社会组织", "公益创投", "共同富裕", "共享社·幸福里", "长者食堂"):
        assert phrase in ws


@pytest.mark.parametrize("engine", ["jieba", "rjieba"])
def test_tokens_slice_back_and_skip_whitespace(engine):
    text = "补 助 5000 元\n苍南县民政局\r\n共享社·幸福里"
    tokens = segment(text, engine=engine)
    assert all(text[t.start:t.end] == t.text for t in tokens)
    assert not any(t.text.isspace() for t in tokens)
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)
    assert "共享社·幸福里" in [t.text for t in tokens]


@pytest.mark.parametrize("engine", ["jieba", "rjieba"])
def test_tokens_are_tokens_with_every_non_whitespace_piece(engine):
    # every kind of whitespace str.isspace() knows is dropped, nothing else is
    text = "社会组织\u3000参与\x1c公益\u2028创投\u200b补助 \t\r\n5000元"
    pieces = cut_words(text, engine=engine)
    offsets = [0]
    for p in pieces:
        offsets.append(offsets[-1] + len(p))
    expected = [Token(a, a + len(p), p) for a, p in zip(offsets, pieces) if not p.isspace()]
    tokens = segment(text, engine=engine)
    assert tokens == expected
    assert all(type(t) is Token and t.pos is None for t in tokens)
    assert "\u200b" in "".join(t.text for t in tokens)   # not whitespace to str.isspace()


def _shared_texts() -> list[str]:
    raw = require(SOGOU).read_bytes().decode("gb18030")  # strict: the file is valid GB18030
    texts = re.findall(r"<content>(.*?)</content>", raw, re.S)
    texts += re.findall(r"<contenttitle>(.*?)</contenttitle>", raw, re.S)
    texts.append(require(SEED_PAGE).read_text(encoding="utf-8"))
    sentence = []
    for line in require(PEOPLE_DAILY).read_text(encoding="utf-8").splitlines():
        if line.strip():
            sentence.append(line.split()[0])
        elif sentence:
            texts.append("".join(sentence))
            sentence = []
    return [t for t in texts if t]


def test_rjieba_gives_jiebas_tokens_on_the_shared_corpora_with_the_domain_dictionary():
    texts = _shared_texts()
    assert sum(map(len, texts)) > 100_000
    for text in texts:
        assert cut_words(text, engine="rjieba") == cut_words(text, engine="jieba"), text[:60]


@pytest.mark.parametrize("text", [
    "补助标准为1-5万元，2022-08-15发布",          # the port joins "1-5"; jieba splits it
    "版本A.B.C和x_y及1.5.3",
    "会元鿖Y和㐀会元A股",                         # characters the port reads as Han
    "组组组社中3共享社",                          # a tie between equally likely cuts
])
def test_rjieba_is_repaired_where_the_port_differs(text):
    assert cut_words(text, engine="rjieba") == cut_words(text, engine="jieba")


_ALPHABET = list("中国人民社会组织公益创投万元亿个家鿖㐀😀é") + list("abcXYZ0123456789+#&._%-") \
    + list(" \n\r\t，。·／１２３－％") + ["\r\n", "共享社·幸福里", "T恤", "3D", "C#", "A股", "组组组"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=40).map("".join))
def test_rjieba_matches_jieba_on_generated_text(text):
    assert cut_words(text, engine="rjieba") == cut_words(text, engine="jieba")


def test_user_dictionary_is_parsed_like_jieba_and_hashed(tmp_path):
    d = tmp_path / "dict.txt"
    d.write_text("\ufeff# a comment\n苍南模式 500 n\n幸福圈\n\n", encoding="utf-8")
    assert S.read_user_dictionary(str(d)) == [("苍南模式", 500, "n"), ("幸福圈", None, None)]
    assert "苍南模式" in words("推广苍南模式", user_dictionary=str(d), engine="rjieba")
    first = S.dictionary_fingerprint(str(d))
    d.write_text("苍南模式 600 n\n", encoding="utf-8")
    assert S.dictionary_fingerprint(str(d)) != first


def test_unknown_engine_and_bad_dictionary_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="engine"):
        segment("文本", engine="nope")
    bad = tmp_path / "gbk.txt"
    bad.write_bytes("社会组织".encode("gbk"))
    with pytest.raises(ValueError, match="UTF-8"):
        S.read_user_dictionary(str(bad))


def test_jiebas_prefix_dictionary_is_kept_and_read_back(tmp_path, monkeypatch):
    import jieba
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    reference = jieba.Tokenizer()
    reference.initialize()                  # jieba's own loading
    made = S._initialized_tokenizer()       # loaded by jieba, then kept
    (kept,) = (tmp_path / "cn-news-pipeline" / "jieba-prefix").iterdir()
    read = S._initialized_tokenizer()       # read back from the copy
    for tk in (made, read):
        assert tk.initialized and tk.total == reference.total and tk.FREQ == reference.FREQ
    text = "我们在野生动物园玩，中华人民共和国成立了"
    assert list(read.cut(text)) == list(reference.cut(text))
    # a copy cut short, or one made from another source, is made again
    whole = kept.read_bytes()
    for broken in (whole[: len(whole) // 2], whole.replace(b"dict.txt", b"dict.TXT", 1)):
        kept.write_bytes(broken)
        assert S._initialized_tokenizer().FREQ == reference.FREQ
        assert kept.read_bytes() == whole


def test_a_new_prefix_copy_prunes_the_copies_of_old_sources(tmp_path, monkeypatch):
    import os
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "cn-news-pipeline" / "jieba-prefix"
    folder.mkdir(parents=True)
    for age in range(5):   # copies of earlier jieba or Python versions, the oldest last
        old = folder / f"old{age}.marshal"
        old.write_bytes(b"made by another version")
        os.utime(old, ns=(10**18 - age * 10**9, 10**18 - age * 10**9))
    S._initialized_tokenizer()
    kept = sorted(p.name for p in folder.iterdir())
    # the new copy and the two newest old ones
    assert len(kept) == 3 and {"old0.marshal", "old1.marshal"} < set(kept)


def test_jieba_loads_without_a_writable_cache_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))   # the cache folder cannot be made
    tk = S._initialized_tokenizer()
    assert tk.initialized and tk.FREQ.get("中华人民共和国")
