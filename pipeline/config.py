"""The one configuration object, loaded once per run.

Defaults live in ``pipeline/data/config.toml``; a user file passed with
``--config`` overrides them key by key.  Paths in the config are resolved
against the folder of the file that named them, so a user's dictionary can sit
next to the user's config and the shipped ones next to the package.
"""
from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CONFIG = DATA_DIR / "config.toml"


@dataclass(frozen=True)
class Config:
    """Sections of settings (``config["report"]["title"]``) and where they came from."""
    values: Mapping[str, Mapping[str, Any]]
    #: for each (section, key), the folder of the file that set it
    origins: Mapping[tuple, Path]

    def __getitem__(self, section: str) -> Mapping[str, Any]:
        return self.values.get(section, {})

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.values.get(section, {}).get(key, default)

    def path(self, section: str, key: str) -> Optional[Path]:
        """The file a setting names, resolved against the file that set it."""
        raw = self.get(section, key)
        if not raw:
            return None
        p = Path(raw)
        if not p.is_absolute():
            p = self.origins.get((section, key), DATA_DIR) / p
        return p


def _read(path: Path) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=8)
def load_config(path: Optional[str] = None) -> Config:
    """Load the defaults, then the user's file at ``path`` if one is given."""
    values: dict = {}
    origins: dict = {}
    sources = [DEFAULT_CONFIG] + ([Path(path)] if path else [])
    for src in sources:
        for section, table in _read(src).items():
            if not isinstance(table, dict):
                raise ValueError(f"{src}: top-level key {section!r} must be a [section]")
            values.setdefault(section, {}).update(table)
            for key in table:
                origins[(section, key)] = src.resolve().parent
    return Config(values=values, origins=origins)


def machine_cache_dir(name: str) -> Path:
    """``$XDG_CACHE_HOME/cn-news-pipeline/<name>`` (``~/.cache/…`` when it is unset).

    Where the tables derived once per machine from installed files (font
    subsets, jieba's dictionary read fast) are kept between runs.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cn-news-pipeline" / name


#: derived tables of each kind kept in a machine cache folder, the newest first
KEEP_MACHINE_TABLES = 3


def prune_derived_tables(written: Path, *, keep: int = KEEP_MACHINE_TABLES) -> None:
    """Keep ``written`` and the ``keep - 1`` newest other files of its kind beside it.

    Called after a derived table is written into its machine cache folder:
    that happens only when its source changed (a new jieba, Python or font),
    and the tables of the old source would otherwise stay for good.  A few
    are kept for checkouts of other versions sharing the folder; one whose
    table goes makes it again.  Files of its kind are the files of the same
    suffix; temporary files (dot files) are left alone.  Nothing here fails
    a run: a file that cannot be listed or deleted stays.
    """
    written = Path(written)
    others = []
    try:
        for path in written.parent.iterdir():
            if (path.suffix == written.suffix and path.name != written.name
                    and not path.name.startswith(".") and path.is_file()):
                others.append((path.stat().st_mtime_ns, path.name, path))
    except OSError:
        return
    # newest first; a clock set back (mtimes in the future) can only make an
    # old table look new: the one just written is kept whatever its time
    for _, _, path in sorted(others, reverse=True)[max(keep - 1, 0):]:
        try:
            path.unlink()
        except OSError:
            pass


def file_source(fh) -> Optional[str]:
    """An open file as ``path<TAB>size<TAB>mtime_ns``: what a table derived from it
    is named after, so a changed file gets a table of its own.  None when it
    is not a plain file (nothing to name a table after)."""
    try:
        stat = os.fstat(fh.fileno())
        return f"{getattr(fh, 'name', '')}\t{stat.st_size}\t{stat.st_mtime_ns}"
    except (OSError, AttributeError, ValueError):
        return None


def derived_table_path(name: str, source: str, suffix: str) -> Path:
    """Where the table derived from ``source`` (:func:`file_source`) is kept:
    in :func:`machine_cache_dir` ``name``, named after a hash of the source."""
    digest = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return machine_cache_dir(name) / f"{digest}{suffix}"
