"""Incremental runs: per-article results cached by content hash and pipeline version.

A result is stored under a key made of the article's content (every field
``analyze_article`` reads) and the *context*: the pipeline's version, a hash
of its code and data files, the user dictionary, the theme taxonomy, the
config and the run's base date.  Re-running after one input file changed
redoes only that file's articles; changing the code, a dictionary or the
config redoes everything, because every key changes.

The store is one SQLite file (default ``OUTPUT/.cache/analyses.sqlite``).
SQLite commits atomically, so a run killed at any point leaves the cache
holding only whole entries.  Entries of a context no run has used lately
are deleted (:meth:`AnalysisCache.close`): the results of the last few
contexts are kept (a config switched back and forth, two checkouts sharing
one cache folder), so the file does not grow with every edit of the code.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import pickle
import sqlite3
import time
import zlib
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from pipeline import __version__
from pipeline.model import Article, ArticleAnalysis

PACKAGE_DIR = Path(__file__).resolve().parent
CACHE_FILE = "analyses.sqlite"
#: distributions whose version is part of every cache key
ANALYSIS_LIBRARIES = ("jieba", "rjieba", "pyahocorasick", "lunardate", "scikit-learn")
#: ``PRAGMA user_version`` of the layout below; a file of another layout is started afresh
_LAYOUT = 2
_SCHEMA = (
    # context may be NULL: an older checkout sharing the file writes (key, value)
    # only; its entries have no context and go at the next prune
    "CREATE TABLE IF NOT EXISTS analyses"
    " (key TEXT PRIMARY KEY, value BLOB NOT NULL, context TEXT)",
    "CREATE INDEX IF NOT EXISTS analyses_by_context ON analyses (context)",
    # each context's latest use, as a count of runs: clocks can go back
    "CREATE TABLE IF NOT EXISTS contexts (context TEXT PRIMARY KEY, last_run INTEGER NOT NULL)",
)
#: contexts whose entries a cache keeps, the most recently used first
KEEP_CONTEXTS = 3
#: seconds a run waits for another one holding the cache file
LOCK_SECONDS = 30
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _file_digest(h, path: Path) -> None:
    h.update(str(path.relative_to(PACKAGE_DIR) if path.is_relative_to(PACKAGE_DIR) else path)
             .encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(path.read_bytes())
    h.update(b"\0")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the package's Python files and shipped data files.

    Any edit to an extractor, a dictionary or a taxonomy changes it, so a
    cached result is never reused by different code.
    """
    h = hashlib.sha1(__version__.encode("ascii"))
    # The libraries whose data or algorithms shape an analysis: a new jieba
    # dictionary or calendar table must not reuse results of the old one.
    for dist in ANALYSIS_LIBRARIES:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{dist}=={version}\0".encode("ascii"))
    files = sorted(p for p in PACKAGE_DIR.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts
                   and (p.suffix == ".py" or "data" in p.relative_to(PACKAGE_DIR).parts))
    for p in files:
        _file_digest(h, p)
    return h.hexdigest()


def context_fingerprint(*, config_values: dict, files: Iterable[Optional[str]],
                        options: dict) -> str:
    """The part of every key that is the same for a whole run.

    Parameters
    ----------
    config_values : dict
        The effective configuration (sections of settings).
    files : iterable of str or None
        Files the per-article stages read besides the package's own (a user
        dictionary or taxonomy named by the config or the command line).
    options : dict
        Run options that change results (``base_date``, ``themes_path``).
    """
    h = hashlib.sha1(code_fingerprint().encode("ascii"))
    h.update(json.dumps(config_values, sort_keys=True, ensure_ascii=False, default=str)
             .encode("utf-8", "surrogatepass"))
    h.update(json.dumps(options, sort_keys=True, ensure_ascii=False, default=str)
             .encode("utf-8", "surrogatepass"))
    for f in files:
        if f and Path(f).is_file():
            _file_digest(h, Path(f).resolve())
    return h.hexdigest()


def article_key(article: Article, context: str) -> str:
    """The cache key of one article's analysis under ``context``."""
    h = hashlib.sha1(context.encode("ascii"))
    # the fields read directly: dataclasses.asdict deep-copies every value
    # first, which cost more than the hashing; the JSON is the same
    values = {name: getattr(article, name) for name in _article_fields()}
    h.update(json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
             .encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@lru_cache(maxsize=1)
def _article_fields() -> tuple:
    return tuple(f.name for f in fields(Article))


class AnalysisCache:
    """Per-article results in a SQLite file; ``None`` as ``path`` disables caching.

    Parameters
    ----------
    path : Path or None
        The SQLite file; its folder is created.
    context : str
        :func:`context_fingerprint` of the run.
    keep_contexts : int, default KEEP_CONTEXTS
        :meth:`close` deletes the entries of every context but the
        ``keep_contexts`` most recently used (this one among them).

    Notes
    -----
    Results are stored without their article (the run has it already), as
    zlib-compressed pickles.  An entry that cannot be read back (a cache
    written by an older Python, a damaged file) counts as a miss.  The pages
    of deleted entries are reused by later ones: the file stays about the
    size of the entries of ``keep_contexts`` contexts.
    """

    def __init__(self, path: Optional[Path], *, context: str,
                 keep_contexts: int = KEEP_CONTEXTS):
        if keep_contexts < 1:
            raise ValueError(f"keep_contexts must be at least 1, got {keep_contexts}")
        self.context = context
        self.keep_contexts = keep_contexts
        self.hits = 0
        self.misses = 0
        self._db = None
        self._pending: list[tuple[str, bytes, str]] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open(path)
            except sqlite3.OperationalError:
                raise  # locked past the timeout, or unwritable: not a damaged file
            except sqlite3.DatabaseError:
                # Not a database (a stray or damaged file): start a fresh cache.
                path.unlink(missing_ok=True)
                self._db = self._open(path)
            self._used()

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(str(path), timeout=LOCK_SECONDS, isolation_level=None)
        try:
            # Switching a new file to WAL fails at once, without waiting, while
            # another run is laying it out: wait as for any other lock.
            deadline = time.monotonic() + LOCK_SECONDS
            while True:
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if (getattr(exc, "sqlite_errorcode", None) not in _BUSY
                            or time.monotonic() > deadline):
                        raise
                    time.sleep(0.05)
            db.execute("BEGIN IMMEDIATE")  # one run at a time lays out a new file
            if db.execute("PRAGMA user_version").fetchone()[0] != _LAYOUT:
                # An older layout: its entries were made by older code, whose
                # keys (they hash the code) no run of this code makes.
                db.execute("DROP TABLE IF EXISTS analyses")
                db.execute("DROP TABLE IF EXISTS contexts")
                db.execute(f"PRAGMA user_version = {_LAYOUT}")
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()
            raise
        db.isolation_level = ""  # back to the module's transactions (with db: ...)
        return db

    def _used(self) -> None:
        """Mark this cache's context as the most recently used one."""
        with self._db:
            self._db.execute(
                "INSERT INTO contexts (context, last_run)"
                " VALUES (?, (SELECT COALESCE(MAX(last_run), 0) + 1 FROM contexts))"
                " ON CONFLICT (context) DO UPDATE SET last_run = excluded.last_run",
                (self.context,))

    def prune(self) -> int:
        """Delete the entries of all but the ``keep_contexts`` most recently used contexts.

        Returns how many entries went.  An entry whose context was pruned
        while its run still wrote (more runs of different contexts at once
        than are kept) has no context row and goes too.
        """
        if self._db is None:
            return 0
        recent = "SELECT context FROM contexts ORDER BY last_run DESC LIMIT ?"
        with self._db:
            gone = self._db.execute(
                f"DELETE FROM analyses WHERE context IS NULL OR context NOT IN ({recent})",
                (self.keep_contexts,)).rowcount
            self._db.execute(f"DELETE FROM contexts WHERE context NOT IN ({recent})",
                             (self.keep_contexts,))
        return gone

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def key(self, article: Article) -> str:
        return article_key(article, self.context)

    def get_many(self, keys: list[str]) -> dict[str, ArticleAnalysis]:
        """The cached analyses among ``keys`` (article left as None)."""
        if self._db is None or not keys:
            return {}
        found = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            rows = self._db.execute(
                f"SELECT key, value FROM analyses WHERE key IN ({','.join('?' * len(part))})",
                part).fetchall()
            for key, blob in rows:
                try:
                    found[key] = pickle.loads(zlib.decompress(blob))
                except Exception:  # noqa: BLE001 - any unreadable entry is a miss
                    continue
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put(self, key: str, analysis: ArticleAnalysis) -> None:
        """Queue ``analysis`` (whose article must be None) for the next :meth:`commit`."""
        if self._db is not None:
            self._pending.append((key, zlib.compress(pickle.dumps(analysis, protocol=5), 1),
                                  self.context))

    def commit(self) -> None:
        """Write the queued entries in one transaction."""
        if self._db is None or not self._pending:
            return
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO analyses (key, value, context) VALUES (?, ?, ?)",
                self._pending)
        self._pending = []

    def close(self) -> None:
        """Write what is queued, :meth:`prune`, and close the file."""
        if self._db is not None:
            self.commit()
            self.prune()
            self._db.close()
            self._db = None
