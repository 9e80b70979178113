"""The font the pages embed: Noto Sans SC cut down to the characters a page shows.

Cutting a CFF font down with fontTools the usual way runs every kept glyph's
charstring program in Python five times (closure, desubroutinizing, dropping
hints, dropping unused subroutines, bounds), about half a millisecond a
glyph: a second for the few thousand characters of a large run's pages.
This module does that work once per glyph and keeps it on disk:

- the *prepared font*: the source font with its layout tables cut down to the
  features the pages use and its name table to the licence records, all its
  glyphs kept and its CFF table untouched.  Cutting the layout tables is what
  costs when the subsetter reads them; built once (about a second);
- the *glyph store*: for each glyph some page needed, its charstring without
  subroutines and hints (the bytes fontTools writes for it) and its bounds.
  It grows as pages need new glyphs, so no run pays for glyphs it never shows.

A subset is then made without running any charstring: the subsetter cuts
every table but the CFF, the CFF keeps the selected glyphs with their stored
charstrings, and the font bounds come from the stored glyph bounds.  The
bytes are the same as those of a subset made with fontTools directly from the
source font (``hinting=False, desubroutinize=True``), whether the store held
the glyphs or they were just made, and whether or not the cache could be
written.

Both files live in ``$XDG_CACHE_HOME/cn-news-pipeline/fonts`` (``~/.cache``
without it), named after the source font's path, size and modification time
and the fontTools version, and are written atomically, so concurrent runs
share them safely.  When the folder cannot be written, the same work is done
in memory for the run.
"""
from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path
from typing import Optional

import numpy as np

from pipeline.config import prune_derived_tables

#: OpenType layout features the subset keeps: kerning, proportional CJK
#: punctuation, vertical forms
LAYOUT_FEATURES = ("kern", "palt", "vert")
#: name records kept: copyright, family, subfamily, licence and licence URL (OFL)
NAME_IDS = (0, 1, 2, 13, 14)
#: bump when what is cached changes meaning, so old cache files are not read
CACHE_FORMAT = 1
#: Private-dict entries that only hinting reads (what fontTools drops with the hints)
_HINT_KEYS = ("BlueValues", "OtherBlues", "FamilyBlues", "FamilyOtherBlues", "BlueScale",
              "BlueShift", "BlueFuzz", "StemSnapH", "StemSnapV", "StdHW", "StdVW",
              "ForceBold", "LanguageGroup", "ExpansionFactor")


def source_font_path() -> Path:
    """Noto Sans SC Regular (a CFF OpenType font) from ``pylopdf_fonts_zh_cn``."""
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/cn-news-pipeline/fonts``, ``~/.cache/…`` when it is unset."""
    from pipeline.config import machine_cache_dir
    return machine_cache_dir("fonts")


def subset_options():
    """The fontTools subsetting options of every embedded subset."""
    from fontTools import subset

    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    options.layout_features = list(LAYOUT_FEATURES)
    options.name_IDs = list(NAME_IDS)  # keep the copyright and licence (OFL)
    options.notdef_outline = True
    return options


class EmbeddedFont:
    """Subsets of one CFF font, made from a prepared copy and a store of prepared glyphs.

    Parameters
    ----------
    source : Path, optional
        The font (default :func:`source_font_path`).
    cache_dir : Path, optional
        Where the prepared font and the glyph store are kept (default
        :func:`default_cache_dir`).  When it cannot be written, both are kept
        in memory: subsets are then as slow as without a cache, and the same.
    """

    def __init__(self, source: Optional[Path] = None, cache_dir: Optional[Path] = None):
        import fontTools

        self.source = Path(source) if source is not None else source_font_path()
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        st = self.source.stat()
        key = hashlib.sha256(repr((str(self.source.resolve()), st.st_size, st.st_mtime_ns,
                                   fontTools.version, CACHE_FORMAT)).encode()).hexdigest()[:16]
        stem = f"{self.source.stem}-{key}"
        self.prepared_path = self.cache_dir / f"{stem}.otf"
        self.store_path = self.cache_dir / f"{stem}-glyphs.npz"
        self._prepared: Optional[bytes] = None  # the prepared font, when it is not on disk
        self._store: Optional[dict] = None
        self._store_stat = None

    def load(self) -> None:
        """Import the subsetter and read the glyph store now, not on the first :meth:`subset`."""
        from fontTools import subset  # noqa: F401 - imported for the later subset()
        from fontTools.ttLib import TTFont  # noqa: F401

        self._load_store()

    # -- the subset ----------------------------------------------------------

    def subset(self, chars: str) -> bytes:
        """The WOFF font of the glyphs of ``chars`` (and ``.notdef``).

        The same characters always give the same bytes.
        """
        from fontTools import subset

        font = self._open_prepared()
        cff_table = font["CFF "]
        order = font.getGlyphOrder()
        # The subsetter cuts every other table; the CFF is cut below without
        # running its charstrings (the subsetter's CFF closure would).
        del font["CFF "]
        font.setGlyphOrder(order)
        subsetter = subset.Subsetter(subset_options())
        subsetter.populate(text=chars)
        subsetter.subset(font)
        kept = font.getGlyphOrder()
        gid = {name: i for i, name in enumerate(order)}
        records = self._records([gid[name] for name in kept])

        top = _select_glyphs(cff_table, font, set(kept), order)
        _drop_subroutines_and_hints(cff_table.cff)
        charstrings = top.CharStrings
        bounds = []
        for name in kept:
            bytecode, box = records[gid[name]]
            # a charstring read from the file keeps its bytes until decompiled:
            # these are the prepared ones, written as they are
            charstrings[name].bytecode = bytecode
            bounds.append(box)
        font["CFF "] = cff_table
        _set_font_bounds(font, kept, bounds)
        font.recalcBBoxes = False  # set above, from the stored glyph bounds
        font.flavor = "woff"
        buf = io.BytesIO()
        font.save(buf)
        font.close()
        return buf.getvalue()

    # -- the prepared font ---------------------------------------------------

    def _open_prepared(self):
        from fontTools.ttLib import TTFont

        if self._prepared is None and self.prepared_path.is_file():
            try:
                return TTFont(str(self.prepared_path), recalcTimestamp=False)
            except FileNotFoundError:
                pass  # pruned by a run of another font source meanwhile: made again
        if self._prepared is None:
            data = prepare_font(self.source)
            if not _write_atomic(self.prepared_path, data):
                self._prepared = data
            else:
                prune_derived_tables(self.prepared_path)  # the prepared fonts of other sources
                return TTFont(str(self.prepared_path), recalcTimestamp=False)
        return TTFont(io.BytesIO(self._prepared), recalcTimestamp=False)

    # -- the glyph store -----------------------------------------------------

    def _records(self, gids: list[int]) -> dict:
        """``{gid: (charstring bytes, bounds)}`` for ``gids``, prepared where missing."""
        store = self._load_store()
        missing = [g for g in gids if g not in store]
        if missing and self._store_changed():
            # another run may have prepared them meanwhile
            store.update(self._read_store())
            missing = [g for g in missing if g not in store]
        if missing:
            prepared = self._open_prepared()
            store.update(prepare_glyphs(prepared, missing))
            prepared.close()
            self._save_store(store)
        return {g: store[g] for g in gids}

    def _load_store(self) -> dict:
        if self._store is None:
            self._store = self._read_store()
        return self._store

    def _stat(self):
        try:
            st = self.store_path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _store_changed(self) -> bool:
        return self._stat() != self._store_stat

    def _read_store(self) -> dict:
        self._store_stat = self._stat()
        if self._store_stat is None:
            return {}
        try:
            with np.load(self.store_path, allow_pickle=False) as z:
                return _unpack_store(z["gids"], z["bounds"], z["offsets"], z["blob"])
        except (OSError, ValueError, KeyError):
            return {}  # unreadable (e.g. half written by an old version): rebuilt

    def _save_store(self, store: dict) -> None:
        buf = io.BytesIO()
        np.savez(buf, **_pack_store(store))
        if _write_atomic(self.store_path, buf.getvalue()):
            self._store_stat = self._stat()
            prune_derived_tables(self.store_path)  # the glyph stores of other sources


def prepare_font(source: Path) -> bytes:
    """The prepared font of ``source`` (OpenType bytes): its layout tables cut to
    :data:`LAYOUT_FEATURES`, its name table to :data:`NAME_IDS`, all glyphs
    kept and the CFF table as it is (the glyph store prepares glyphs from it)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables.DefaultTable import DefaultTable

    font = TTFont(str(source), recalcTimestamp=False)
    order = font.getGlyphOrder()
    raw_cff = DefaultTable("CFF ")
    raw_cff.data = font.reader["CFF "]
    del font["CFF "]
    font.setGlyphOrder(order)
    subsetter = subset.Subsetter(subset_options())
    subsetter.populate(glyphs=order)
    subsetter.subset(font)
    if font.getGlyphOrder() != order:
        raise RuntimeError("preparing the font changed its glyph order")
    font["CFF "] = raw_cff
    font.recalcBBoxes = False  # the CFF is copied as it is, its bounds stay
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def prepare_glyphs(font, gids: list[int]) -> dict:
    """``{gid: (charstring bytes, bounds)}``: glyphs of ``font`` without subroutines
    and hints, as fontTools writes them, and their bounds rounded outwards
    (``None`` for a glyph without outline)."""
    from fontTools.cffLib.transforms import desubroutinize, remove_hints

    order = font.getGlyphOrder()
    cff_table = font["CFF "]
    top = _select_glyphs(cff_table, font, {order[g] for g in gids}, order)
    desubroutinize(cff_table.cff)
    remove_hints(cff_table.cff, removeUnusedSubrs=False)
    charstrings = top.CharStrings
    out = {}
    for g in gids:
        cs = charstrings[order[g]]
        box = cs.calcBounds(charstrings)  # drawing decompiles: compile after
        cs.compile()
        out[g] = (bytes(cs.bytecode), None if box is None else (
            math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3])))
    return out


# --------------------------------------------------------------------------
# What the subsetter does to a CFF table besides running its charstrings
# --------------------------------------------------------------------------

def _select_glyphs(cff_table, font, names: set, order: list):
    """Cut ``cff_table`` to the glyphs ``names`` as the subsetter does, without
    running a charstring; its top dict."""
    from types import SimpleNamespace

    options = subset_options()
    cff_table.prune_pre_subset(font, options)
    # the CFF half of a Subsetter's state that subset_glyphs reads
    cff_table.subset_glyphs(SimpleNamespace(glyphs=names, glyphs_emptied=set(),
                                            orig_glyph_order=order, options=options))
    top = cff_table.cff.topDictIndex[0]
    _drop_unused_font_dicts(top)
    return top


def _drop_unused_font_dicts(top) -> None:
    """Keep the CID font dicts the kept glyphs select, renumbered (as fontTools does)."""
    if not hasattr(top, "FDSelect"):
        return
    sel = top.FDSelect
    used = sorted(set(sel.gidArray))
    new_index = {old: new for new, old in enumerate(used)}
    sel.gidArray = [new_index[i] for i in sel.gidArray]
    arr = top.FDArray
    arr.items = [arr[i] for i in used]
    del arr.file, arr.offsets


def _drop_subroutines_and_hints(cff) -> None:
    """The font-wide half of fontTools' desubroutinizing and hint removal: the
    subroutines go, and the Private-dict values only hinting reads (the
    charstrings come already prepared)."""
    for name in cff.fontNames:
        top = cff[name]
        privates = [fd.Private for fd in top.FDArray] if hasattr(top, "FDArray") else [top.Private]
        for pd in privates:
            if hasattr(pd, "Subrs"):
                del pd.Subrs
            pd.rawDict.pop("Subrs", None)
            for k in _HINT_KEYS:
                if hasattr(pd, k):
                    setattr(pd, k, None)
    cff.GlobalSubrs.clear()


def _set_font_bounds(font, names: list[str], bounds: list) -> None:
    """The font-wide bounds fontTools computes from every glyph when it saves
    (CFF FontBBox, head box, hhea and vhea extremes), from the glyphs' bounds."""
    boxes = [b for b in bounds if b is not None]
    top = font["CFF "].cff.topDictIndex[0]
    if boxes:
        box = [min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes)]
        top.FontBBox = box
    else:
        top.FontBBox = top.defaults["FontBBox"][:]
    head = font["head"]
    head.xMin, head.yMin, head.xMax, head.yMax = top.FontBBox
    for tag, metrics_tag, lo, hi in (("hhea", "hmtx", 0, 2), ("vhea", "vmtx", 1, 3)):
        if tag not in font or metrics_tag not in font:
            continue
        table, metrics = font[tag], font[metrics_tag]
        advance_max = max(adv for adv, _ in metrics.metrics.values())
        before, after, extent = 0, 0, 0
        sized = [(name, b[hi] - b[lo]) for name, b in zip(names, bounds) if b is not None]
        if sized:
            before = after = math.inf
            extent = -math.inf
            for name, size in sized:
                advance, bearing = metrics[name]
                before = min(before, bearing)
                after = min(after, advance - bearing - size)
                extent = max(extent, bearing + size)
        if tag == "hhea":
            table.advanceWidthMax = advance_max
            table.minLeftSideBearing, table.minRightSideBearing, table.xMaxExtent = \
                before, after, extent
        else:
            table.advanceHeightMax = advance_max
            table.minTopSideBearing, table.minBottomSideBearing, table.yMaxExtent = \
                before, after, extent


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

def _pack_store(store: dict) -> dict:
    gids = np.array(sorted(store), dtype=np.int64)
    bounds = np.zeros((len(gids), 5), dtype=np.int64)  # has outline, xMin, yMin, xMax, yMax
    offsets = np.zeros(len(gids) + 1, dtype=np.int64)
    parts = []
    for i, g in enumerate(gids.tolist()):
        bytecode, box = store[g]
        if box is not None:
            bounds[i] = (1, *box)
        parts.append(bytecode)
        offsets[i + 1] = offsets[i] + len(bytecode)
    blob = np.frombuffer(b"".join(parts), dtype=np.uint8)
    return {"gids": gids, "bounds": bounds, "offsets": offsets, "blob": blob}


def _unpack_store(gids, bounds, offsets, blob) -> dict:
    data = blob.tobytes()
    offsets = offsets.tolist()
    out = {}
    for i, (g, row) in enumerate(zip(gids.tolist(), bounds.tolist())):
        out[g] = (data[offsets[i]:offsets[i + 1]], tuple(row[1:]) if row[0] else None)
    return out


def _write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically; False when the folder cannot be written."""
    from pipeline.atomic import write_bytes_atomic

    try:
        write_bytes_atomic(path, data)
    except OSError:
        return False
    return True


_FONTS: dict = {}


def embedded_font() -> EmbeddedFont:
    """The :class:`EmbeddedFont` of the source font and the default cache, one per process."""
    key = (str(source_font_path()), str(default_cache_dir()))
    if key not in _FONTS:
        _FONTS[key] = EmbeddedFont(*map(Path, key))
    return _FONTS[key]
