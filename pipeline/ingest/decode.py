"""Bytes to text: what kind of file this is, which encoding, and decoding that loses nothing.

Detection works on a sample from the head of the file (``sample_bytes``), so a
200 MB file costs no more to sniff than a 2 KB one.  Order of evidence:

1. magic numbers of binary formats (PDF, ZIP/DOCX/XLSX, images, archives …);
2. a byte-order mark (UTF-8, UTF-16, UTF-32);
3. strict UTF-8 (a false positive on GBK or Big5 bytes is practically impossible
   once a few multi-byte characters occur);
4. charset-normalizer, limited to the configured candidate encodings;
5. a plausibility score over each candidate's strict decode: the share of
   characters that are printable ASCII, common hanzi (GB2312 and Big5 frequent
   characters, taken from the codecs themselves), CJK punctuation or full-width
   forms.  It settles short samples where statistical detection guesses wildly.

Decoding never drops or silently replaces a byte: undecodable sequences become
U+FFFD and are counted with their byte offsets, so the caller can say so in the
document's message (and the garble detector flags them).
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional, Sequence

from pipeline.config import load_config

#: Magic numbers of formats that are not text, with a name for the message.
_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"BM", None),  # bitmap only if more evidence; too short to trust alone
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "ELF executable"),
    (b"MZ", None),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office file (.doc/.xls)"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"PAR1", "Parquet file"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"\x00\x00\x00\x18ftyp", "MP4 media"),
    (b"\x00\x00\x00\x20ftyp", "MP4 media"),
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


@dataclass
class DecodeReport:
    """Undecodable byte sequences met while decoding one file or stream."""
    count: int = 0
    #: byte offsets (from the start of the file) of the first few
    offsets: list = field(default_factory=list)

    def describe(self, encoding: str) -> str:
        where = ", ".join(str(o) for o in self.offsets)
        more = " …" if self.count > len(self.offsets) else ""
        return (f"{self.count} byte sequence(s) not valid {encoding} (at byte {where}{more}; "
                f"truncated multi-byte character?), kept as U+FFFD and flagged garbled")


def sniff_binary(sample: bytes) -> Optional[str]:
    """The binary kind of a file from its first bytes, or None for text-like bytes.

    ``"pdf"`` and ``"zip"`` are returned for the readers that handle them.
    """
    for magic, name in _MAGIC:
        if sample.startswith(magic) and name:
            return name
    if not sample or _bom_encoding(sample):
        return None
    if _utf16_guess(sample) or _plausible_utf16(sample):
        return None
    if b"\x00" in sample:
        return "binary data (NUL bytes)"
    controls = len(_CONTROL.findall(sample))
    if controls > max(8, 0.05 * len(sample)):
        return f"binary data ({controls} control bytes in the first {len(sample)})"
    return None


def _bom_encoding(sample: bytes) -> Optional[str]:
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    return None


def _plausible_utf16(sample: bytes) -> Optional[str]:
    """UTF-16 without BOM whose text reads as Chinese or ASCII (NUL bytes are expected there)."""
    if b"\x00" not in sample:
        return None
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = _trim_incomplete(sample, enc)
        except UnicodeDecodeError:
            continue
        if plausibility(text) >= 0.9:
            return enc
    return None


def _utf16_guess(sample: bytes) -> Optional[str]:
    """UTF-16 without BOM, told by the NUL half of mostly-ASCII code units."""
    if len(sample) < 4:
        return None
    even = sample[0::2]
    odd = sample[1::2]
    z_even = even.count(0) / len(even)
    z_odd = odd.count(0) / max(1, len(odd))
    if z_odd > 0.3 and z_even < 0.05:
        return "utf-16-le"
    if z_even > 0.3 and z_odd < 0.05:
        return "utf-16-be"
    return None


@lru_cache(maxsize=1)
def common_characters() -> frozenset:
    """Frequent hanzi, simplified and traditional, read from the codecs' own tables.

    GB2312 (levels 1 and 2, rows B0–F7) and Big5's frequent-character block
    (A440–C67E) are the national standards' lists of common characters.
    """
    chars = set()
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for lead in range(0xA4, 0xC7):
        for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            try:
                chars.add(bytes((lead, trail)).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


def plausibility(text: str) -> float:
    """Share of ``text`` made of characters real Chinese or ASCII text consists of.

    Those are printable ASCII, tab and line ends, the common hanzi, CJK
    punctuation (U+3000-U+303F), full-width forms (U+FF01-U+FF5E), general
    punctuation U+2010-U+2027 and ``·×÷°±``.
    """
    if not text:
        return 0.0
    bad = sum(map(len, _implausible_runs().findall(text)))
    return (len(text) - bad) / len(text)


@lru_cache(maxsize=1)
def _implausible_runs() -> re.Pattern:
    """Runs of characters that ``plausibility`` does not count (one regex scan, not a loop)."""
    good = set(map(ord, common_characters() | set("\n\r\t·×÷°±")))
    for low, high in ((0x20, 0x7E), (0x3000, 0x303F), (0xFF01, 0xFF5E), (0x2010, 0x2027)):
        good.update(range(low, high + 1))
    ranges: list[list[int]] = []
    for cp in sorted(good):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    members = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                      for a, b in ranges)
    return re.compile(f"[^{members}]+")


def _trim_incomplete(sample: bytes, encoding: str) -> str:
    """Strict-decode a sample that may end in the middle of a character."""
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    return dec.decode(sample, final=False)


def detect_encoding(sample: bytes, *, candidates: Optional[Sequence[str]] = None,
                    complete: bool = False) -> Optional[str]:
    """The encoding of ``sample`` (the head of a file), or None if it is not text.

    Parameters
    ----------
    sample : bytes
        The first bytes of the file.
    candidates : sequence of str
        Encodings tried after BOM and UTF-8 (config ``[ingest] encodings``).
    complete : bool
        True when ``sample`` is the whole file (its end is not a cut).
    """
    if candidates is None:
        candidates = tuple(load_config()["ingest"]["encodings"])
    bom = _bom_encoding(sample)
    if bom:
        return bom
    utf16 = _utf16_guess(sample) or _plausible_utf16(sample)
    if utf16:
        return utf16
    if _decodes(sample, "utf-8", complete=complete, tolerance=0.002):
        return "utf-8"
    scored = []
    for rank, enc in enumerate(candidates):
        text = _decode_sample(sample, enc, complete=complete)
        if text is None:
            continue
        scored.append((plausibility(text), -rank, enc))
    statistical = _charset_normalizer_guess(sample, candidates)
    if statistical:
        for i, (score, rank, enc) in enumerate(scored):
            # charset-normalizer's pick wins among equally plausible decodes.
            if codecs.lookup(enc).name == codecs.lookup(statistical).name:
                scored[i] = (score + 0.02, rank, enc)
    if not scored:
        return None
    score, _, best = max(scored)
    return best if score >= 0.6 else None


def _decodes(sample: bytes, encoding: str, *, complete: bool, tolerance: float) -> bool:
    """True if ``sample`` decodes with at most ``tolerance`` share of bad bytes."""
    text, bad = _decode_quietly(sample, encoding, final=complete)
    if bad == 0:
        return True
    if bad > tolerance * len(sample):
        return False
    non_ascii = sum(1 for c in text if ord(c) > 0x7F and c != "\ufffd")
    return non_ascii >= 20


def _decode_sample(sample: bytes, encoding: str, *, complete: bool) -> Optional[str]:
    """A candidate's decode of the sample, tolerating a few bad sequences."""
    text, bad = _decode_quietly(sample, encoding, final=complete)
    if bad > max(2, 0.002 * len(sample)):
        return None
    return text


def _decode_quietly(data: bytes, encoding: str, *, final: bool) -> tuple[str, int]:
    """``data`` decoded with U+FFFD for bad sequences, and how many there were.

    The same text and count as ``_decode_counting`` without a Python call per
    bad sequence (a GB18030 sample read as UTF-8 has thousands).  The count is
    the U+FFFD the "replace" decode has beyond those of the "ignore" decode:
    both resume at the same byte after each bad sequence, so the "ignore"
    decode holds only the file's own U+FFFD.
    """
    def decode(errors: str) -> str:
        if final:
            return data.decode(encoding, errors=errors)
        return codecs.getincrementaldecoder(encoding)(errors=errors).decode(data, final=False)

    text = decode("replace")
    if "\ufffd" not in text:
        return text, 0
    return text, text.count("\ufffd") - decode("ignore").count("\ufffd")


def _charset_normalizer_guess(sample: bytes, candidates: Sequence[str]) -> Optional[str]:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency, but detection works without it
        return None
    isolation = [codecs.lookup(c).name.replace("-", "_") for c in candidates]
    best = from_bytes(sample[:32768], cp_isolation=isolation).best()
    return best.encoding if best else None


_ERROR_HANDLER = "pipeline-ingest-count"
_ACTIVE: list = []  # (report, base offset) of the decode in progress, innermost last


def _count_and_replace(err: UnicodeDecodeError):
    report, base = _ACTIVE[-1]
    report.count += 1
    if len(report.offsets) < 5:
        report.offsets.append(base + err.start)
    return ("\ufffd", err.end)


codecs.register_error(_ERROR_HANDLER, _count_and_replace)


def _decode_counting(data: bytes, encoding: str, report: DecodeReport, *,
                     final: bool = True, base: int = 0) -> str:
    _ACTIVE.append((report, base))
    try:
        if final:
            return data.decode(encoding, errors=_ERROR_HANDLER)
        return codecs.getincrementaldecoder(encoding)(errors=_ERROR_HANDLER).decode(data, final=False)
    finally:
        _ACTIVE.pop()


def decode_bytes(data: bytes, encoding: str, report: DecodeReport) -> str:
    """All of ``data`` as text; bad sequences become U+FFFD and are counted in ``report``."""
    return _decode_counting(data, encoding, report)


class StreamDecoder:
    """Incremental decoding of a file read in chunks, counting bad sequences.

    A multi-byte character cut by a chunk boundary is completed by the next
    chunk; one cut by the end of the file is a bad sequence.
    """

    def __init__(self, encoding: str, report: DecodeReport):
        self.encoding = encoding
        self.report = report
        self._decoder = codecs.getincrementaldecoder(encoding)(errors=_ERROR_HANDLER)
        self._consumed = 0

    def decode(self, chunk: bytes, *, final: bool = False) -> str:
        pending = len(self._decoder.getstate()[0])
        _ACTIVE.append((self.report, self._consumed - pending))
        try:
            text = self._decoder.decode(chunk, final=final)
        finally:
            _ACTIVE.pop()
        self._consumed += len(chunk)
        return text
