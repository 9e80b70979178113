"""The embedded font: Noto Sans SC cut down to a page's characters, from a cache.

The reference is fontTools' own subset of the source font with the options
the pages use: the cached route must give the same bytes, hence the same
glyphs, outlines, metrics and licence names.
"""
from __future__ import annotations

import io

import pytest
from fontTools import subset
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont

from pipeline import fonts

#: CJK, CJK punctuation (some with vertical forms), Latin (kerned), a full-width
#: form, a character the font lacks (an emoji) and a space
TEXT = "中文新闻「引号」，。《标题》AVAWToyo１２３%\U0001F600 "


def reference_subset(chars: str) -> bytes:
    """The subset fontTools makes from the source font directly."""
    font = TTFont(str(fonts.source_font_path()), recalcTimestamp=False)
    subsetter = subset.Subsetter(fonts.subset_options())
    subsetter.populate(text=chars)
    subsetter.subset(font)
    font.flavor = "woff"
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def source():
    return TTFont(str(fonts.source_font_path()), lazy=True)


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """(subset bytes, cache folder) made with a fresh cache."""
    folder = tmp_path_factory.mktemp("font-cache")
    return fonts.EmbeddedFont(cache_dir=folder).subset(TEXT), folder


def test_the_subset_is_the_one_fonttools_makes_from_the_source(cached):
    data, _ = cached
    assert data[:4] == b"wOFF"
    assert data == reference_subset(TEXT)


def test_the_subset_maps_exactly_the_characters_of_the_text(cached, source):
    font = TTFont(io.BytesIO(cached[0]))
    in_source = {ord(c) for c in TEXT} & set(source.getBestCmap())
    assert set(font.getBestCmap()) == in_source
    assert 0x1F600 not in font.getBestCmap()


def test_glyph_outlines_are_those_of_the_source(cached, source):
    font = TTFont(io.BytesIO(cached[0]))
    subset_glyphs, source_glyphs = font.getGlyphSet(), source.getGlyphSet()
    for code, name in font.getBestCmap().items():
        drawn, expected = RecordingPen(), RecordingPen()
        subset_glyphs[name].draw(drawn)
        source_glyphs[source.getBestCmap()[code]].draw(expected)
        assert drawn.value == expected.value, chr(code)
        assert font["hmtx"][name] == source["hmtx"][source.getBestCmap()[code]]


def test_the_licence_names_are_kept(cached):
    names = TTFont(io.BytesIO(cached[0]))["name"]
    assert {r.nameID for r in names.names} == set(fonts.NAME_IDS)
    assert "Open Font License" in str(names.getDebugName(13))
    assert names.getDebugName(14)


def test_a_warm_cache_gives_the_same_bytes(cached):
    data, folder = cached
    assert sorted(p.suffix for p in folder.iterdir()) == [".npz", ".otf"]
    # a new process: everything read back from the cache files
    assert fonts.EmbeddedFont(cache_dir=folder).subset(TEXT) == data


def test_glyphs_missing_from_the_store_are_added(cached):
    _, folder = cached
    more = TEXT + "龘喆堃"
    first = fonts.EmbeddedFont(cache_dir=folder)
    data = first.subset(more)
    assert data == reference_subset(more)
    stored = fonts.EmbeddedFont(cache_dir=folder)._read_store()
    assert len(stored) == len(first._load_store())
    assert fonts.EmbeddedFont(cache_dir=folder).subset(more) == data


def test_an_unwritable_cache_folder_falls_back_to_memory(cached, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    font = fonts.EmbeddedFont(cache_dir=blocker / "fonts")
    assert font.subset(TEXT) == cached[0]
    assert font.subset("中") == reference_subset("中")
    assert blocker.read_text() == "not a folder"


def test_the_default_cache_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert fonts.default_cache_dir() == tmp_path / "cn-news-pipeline" / "fonts"
