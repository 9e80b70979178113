"""Outputs that are never half written, and one run at a time per output folder.

A run writes everything into a staging folder inside the output folder
(``OUTPUT/.staging``).  When the run is complete it *commits*:

1. it writes the journal ``OUTPUT/.commit.json`` (the list of files) under a
   temporary name, fsyncs it and renames it into place: from now on the run
   counts as done;
2. it moves each staged file into place with ``os.replace`` (atomic per file);
3. it deletes files the previous run wrote and this one did not, writes the
   new ``OUTPUT/.manifest.json`` and removes the journal and the staging folder.

A run killed before step 1 leaves the previous output untouched (the staging
folder is discarded by the next run); a run killed after it is finished by
the next run (:func:`recover`), so the output is always either the previous
complete output or the new one.  ``OutputLock`` keeps a second run off the
folder while one is working; the lock is a POSIX record lock, which the
kernel drops when its process dies, so the lock of a killed run is taken over.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Optional

STAGING = ".staging"
JOURNAL = ".commit.json"
MANIFEST = ".manifest.json"
LOCK = ".lock"
#: entries of the output folder that belong to the machinery, never to a run's files
RESERVED = {STAGING, JOURNAL, MANIFEST, LOCK, ".cache"}


class OutputBusy(RuntimeError):
    """Another live run holds the output folder."""


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (no-op where directories can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` under a temporary name in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


class OutputLock:
    """An exclusive lock on an output folder, held for the length of a run.

    Parameters
    ----------
    folder : Path
        The output folder (created if missing).

    Raises
    ------
    OutputBusy
        When a live process holds the lock; the message names its PID, host
        and start time.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self._fd: Optional[int] = None
        #: the PID found in a lock file nobody held (a killed run), if any
        self.stale_pid: Optional[int] = None

    def acquire(self) -> "OutputLock":
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # A POSIX record lock: not inherited by worker processes, and
            # released by the kernel when this process dies, however it dies.
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = self._read(fd)
            os.close(fd)
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            who = (f"run {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
                   if holder else "another run")
            raise OutputBusy(f"output folder {self.folder} is in use by {who}; "
                             f"wait for it to finish or choose another --output") from None
        previous = self._read(fd)
        if previous.get("pid"):
            self.stale_pid = int(previous["pid"])
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}).encode("utf-8"), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    @staticmethod
    def _read(fd: int) -> dict:
        try:
            return json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
        except (ValueError, OSError):
            return {}

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # an empty lock file: no run, and nothing stale
        finally:
            os.close(self._fd)  # closing drops the record lock
            self._fd = None

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _staged_files(staging: Path) -> list[str]:
    return sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())


def begin(folder: Path) -> Path:
    """A fresh, empty staging folder inside ``folder`` (call with the lock held)."""
    recover(folder)
    staging = Path(folder) / STAGING
    staging.mkdir(parents=True)
    return staging


def commit(folder: Path) -> list[str]:
    """Publish the staging folder's files into ``folder``; see the module docstring.

    Returns
    -------
    list of str
        The files now in place, relative to ``folder``.
    """
    folder = Path(folder)
    staging = folder / STAGING
    files = _staged_files(staging)
    # Ctrl-C or SIGTERM waits until the files are in place (a few renames), so
    # an interrupted run never leaves its journal for the next run to finish.
    held = _block_stop_signals()
    try:
        write_text_atomic(folder / JOURNAL, json.dumps({"files": files}, ensure_ascii=False))
        fsync_dir(folder)
        _finish(folder, files)
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return files


def _block_stop_signals():
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _finish(folder: Path, files: list[str]) -> None:
    staging = folder / STAGING
    for rel in files:
        src, dst = staging / rel, folder / rel
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    previous = _read_json(folder / MANIFEST, {}).get("files", [])
    for rel in sorted(set(previous) - set(files)):
        stale = folder / rel
        if stale.is_file() and rel.split("/", 1)[0] not in RESERVED:
            stale.unlink()
            _prune_empty_parents(stale.parent, folder)
    write_text_atomic(folder / MANIFEST, json.dumps({"files": files}, ensure_ascii=False))
    fsync_dir(folder)
    (folder / JOURNAL).unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)


def _prune_empty_parents(path: Path, root: Path) -> None:
    while path != root and path.is_dir() and not any(path.iterdir()):
        path.rmdir()
        path = path.parent


def recover(folder: Path) -> str:
    """Bring ``folder`` back to one complete output after a killed run.

    Returns ``"finished"`` when a committed run was completed, ``"discarded"``
    when an unfinished staging folder was removed, ``""`` when there was
    nothing to do.  Call it with the lock held.
    """
    folder = Path(folder)
    journal = folder / JOURNAL
    if journal.exists():
        files = _read_json(journal, None)
        if files is not None:
            _finish(folder, files.get("files", []))
            return "finished"
        journal.unlink()  # a journal is renamed into place whole; unreadable means foreign
    _remove_temporaries(folder)
    staging = folder / STAGING
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)
        return "discarded"
    return ""


def _remove_temporaries(folder: Path) -> None:
    # Temporary names of write_bytes_atomic left by a killed process.
    for tmp in folder.glob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)


def published_files(folder: Path) -> list[str]:
    """The files of the last complete run, as listed by its manifest."""
    return list(_read_json(Path(folder) / MANIFEST, {}).get("files", []))


def discard(folder: Path) -> None:
    """Drop an unfinished staging folder (a run that stops before committing)."""
    if not (Path(folder) / JOURNAL).exists():
        shutil.rmtree(Path(folder) / STAGING, ignore_errors=True)
