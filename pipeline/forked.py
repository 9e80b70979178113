"""Run one function in a forked process while this one goes on.

A corpus step that nothing after it waits for (the topic model) can use a
second core: :class:`InChild` forks, runs the function there, and hands its
return value back when the ``with`` block ends.  Forking shares what the
parent has built so far without pickling it.
"""
from __future__ import annotations

import os
import signal
from typing import Any, Callable


class InChild:
    """Run ``func(*args)`` in a forked process for the length of a ``with`` block.

    Leaving the block waits for the child and sets :attr:`result` to what
    ``func`` returned (it must pickle).  A child that failed raises here: an
    ``OSError`` as the same ``OSError``, anything else as a ``RuntimeError``
    naming ``what`` and the error.  Leaving the block on an exception
    (Ctrl-C) stops the child first.
    """

    def __init__(self, func: Callable, *args, what: str = "a helper process"):
        import multiprocessing
        context = multiprocessing.get_context("fork")
        self.what = what
        self.result: Any = None
        self._receiver, self._sender = context.Pipe(duplex=False)
        self._proc = context.Process(target=_child_main, args=(self._sender, func, *args),
                                     daemon=True)

    def __enter__(self) -> "InChild":
        self._proc.start()
        self._sender.close()  # the child holds its own end
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is not None:
                self._proc.terminate()
                self._proc.join()
                return False
            message = None
            try:
                message = self._receiver.recv()  # blocks until the child reports or ends
            except EOFError:
                pass  # the child died without a word (killed)
            self._proc.join()
        finally:
            self._receiver.close()
        if message and message[0] == "ok":
            self.result = message[1]
            return False
        if message and message[0] == "oserror":
            raise OSError(*message[1:])
        if message and message[0] == "error":
            raise RuntimeError(f"{self.what} failed: {message[1]}")
        raise RuntimeError(f"{self.what} failed: the helper process ended with exit code "
                           f"{self._proc.exitcode}")


def _child_main(sender, func: Callable, *args) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    status = 0
    try:
        sender.send(("ok", func(*args)))
    except OSError as exc:
        sender.send(("oserror", exc.errno, exc.strerror or str(exc), exc.filename))
        status = 1
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        sender.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
        status = 1
    finally:
        sender.close()
    # No traceback here: the parent reports the failure once.  _exit skips
    # the atexit handlers the forked child inherited from the parent.
    os._exit(status)


__all__ = ["InChild"]
