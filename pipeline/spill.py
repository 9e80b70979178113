"""A list kept on disk: append during a run, read back by index, slice or in order.

The corpus-level steps (keywords, topics) read every article's terms twice or
more, after all articles went by; holding them in memory would make a run's
memory grow with the corpus.  :class:`SpillList` pickles them in chunks into
one file and loads one chunk at a time, so reading them back costs a chunk of
memory however long the corpus is.
"""
from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Iterator


class SpillList(Sequence):
    """An append-only sequence stored in chunks in ``path``.

    Parameters
    ----------
    path : path-like
        File to write; created (truncated), and removed by :meth:`close`.
    chunk_size : int, default 256
        Items per pickled chunk: the most held in memory while reading.

    Notes
    -----
    Reading is sequential-friendly: indexes and slices in increasing order
    load each chunk once (the last chunk read is kept).
    """

    def __init__(self, path: os.PathLike | str, *, chunk_size: int = 256):
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size!r}")
        self.path = Path(path)
        self.chunk_size = chunk_size
        self._fh = open(self.path, "w+b")
        self._spans: list[tuple[int, int]] = []   # (offset, length) of each full chunk
        self._tail: list = []                     # items not yet written
        self._loaded: tuple[int, list] = (-1, [])
        self._owner = True

    def append(self, item: Any) -> None:
        self._tail.append(item)
        if len(self._tail) >= self.chunk_size:
            self._write_tail()

    def _write_tail(self) -> None:
        data = pickle.dumps(self._tail, protocol=pickle.HIGHEST_PROTOCOL)
        self._fh.seek(0, os.SEEK_END)
        self._spans.append((self._fh.tell(), len(data)))
        self._fh.write(data)
        self._tail = []

    def __len__(self) -> int:
        return len(self._spans) * self.chunk_size + len(self._tail)

    def _chunk(self, index: int) -> list:
        if index == len(self._spans):
            return self._tail
        if self._loaded[0] != index:
            offset, length = self._spans[index]
            self._fh.seek(offset)
            self._loaded = (index, pickle.loads(self._fh.read(length)))
        return self._loaded[1]

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self[i] for i in range(*key.indices(len(self)))]
        n = len(self)
        if key < 0:
            key += n
        if not 0 <= key < n:
            raise IndexError("SpillList index out of range")
        chunk, offset = divmod(key, self.chunk_size)
        return self._chunk(chunk)[offset]

    def __iter__(self) -> Iterator:
        for index in range(len(self._spans) + 1):
            yield from list(self._chunk(index))

    def reopen(self) -> None:
        """Read through a file handle of this object's own.

        A forked process shares the parent's handle, and with it the file
        position: it calls this before reading, so neither moves the other's.
        """
        self._fh = open(self.path, "rb")
        self._loaded = (-1, [])

    def __getstate__(self) -> dict:
        # Sent to another process (pickled), the list is a read-only view of
        # what was appended so far: the chunks in the file and the unwritten tail.
        self._fh.flush()
        return {"path": self.path, "chunk_size": self.chunk_size,
                "spans": list(self._spans), "tail": list(self._tail)}

    def __setstate__(self, state: dict) -> None:
        self.path, self.chunk_size = state["path"], state["chunk_size"]
        self._spans, self._tail = state["spans"], state["tail"]
        self._fh = open(self.path, "rb")
        self._loaded = (-1, [])
        self._owner = False  # the file is the sender's: close() leaves it

    def close(self) -> None:
        """Close and remove the file (a received copy leaves it); the list is empty afterwards."""
        if not self._fh.closed:
            self._fh.close()
        if self._owner:
            self.path.unlink(missing_ok=True)
        self._spans, self._tail, self._loaded = [], [], (-1, [])

    def __enter__(self) -> "SpillList":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["SpillList"]
