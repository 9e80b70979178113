"""Run work in a forked process while this one goes on.

A writer that is fed all along a run (the tables and review sheets) or a
corpus step that nothing after it waits for (the topic model) can use a
second core: :class:`InChildObject` builds the object in a forked process
and forwards calls to it in order.  Forking shares what the parent has
built so far without pickling it.
"""
from __future__ import annotations

import os
import queue
import signal
import threading
from typing import Any, Callable

#: pickled calls an InChildObject holds for the pipe before ``call`` waits
QUEUED_CALLS = 2
#: seconds a stopped child has to discard its object before it is killed
ABANDON_SECONDS = 10


class InChildObject:
    """An object built and used in a forked process; calls to it go one way, in order.

    The child builds ``factory(*args)`` and applies each :meth:`call` to it
    in the order they were made, while this process goes on: a call is
    pickled at once and written to the pipe by a thread, which holds up to
    :data:`QUEUED_CALLS` calls besides the pipe's own buffer; past that a
    slow child makes :meth:`call` wait, so nothing piles up.
    :meth:`finish` makes a last call, waits for the child and returns that
    call's result; :meth:`ask` waits for one call's result and leaves the
    child running.  The first error in the child ends it; the next
    :meth:`call`, :meth:`ask` or :meth:`finish` raises it: an ``OSError`` as the
    same ``OSError``, anything else as a ``RuntimeError`` naming ``what`` and
    the error.  :meth:`abandon` stops the child at once.  An object with a
    ``discard()`` method has it called when its child fails or is stopped,
    so what it leaves half-written (temporary files) goes with it.

    Arguments are pickled; the object and its open files stay in the child.
    """

    def __init__(self, factory: Callable, *args, what: str = "a helper process"):
        import multiprocessing
        context = multiprocessing.get_context("fork")
        self.what = what
        self._receiver, sender = context.Pipe(duplex=False)
        commands, self._commands = context.Pipe(duplex=False)
        self._proc = context.Process(target=_object_main,
                                     args=(commands, sender, factory, *args), daemon=True)
        self._proc.start()
        sender.close()    # the child holds its own ends
        commands.close()
        self._done = False
        # Calls are pickled by the caller and written to the pipe by a thread
        # of their own: a child still busy with the previous call then holds
        # back only that thread, not the caller, which goes on with its work
        # (gathering worker results, keeping the workers fed) while the pipe
        # drains.  The queue bounds what waits.
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUED_CALLS)
        self._broken = threading.Event()
        self._writer = threading.Thread(target=self._write_queued, daemon=True,
                                        name=f"calls to {what}")
        self._writer.start()

    def _write_queued(self) -> None:
        while True:
            data = self._queue.get()
            if data is None:
                return
            if not self._broken.is_set():
                try:
                    self._commands.send_bytes(data)
                except OSError:  # the child has ended (or was stopped): its last word says why
                    self._broken.set()

    def _send(self, message: tuple) -> None:
        if self._broken.is_set():
            self._wait()  # the child has ended: on an error, which is raised here
            raise RuntimeError(f"{self.what} failed: the helper process ended early")
        self._queue.put(_pickled(message))

    def _flush(self) -> None:
        """Wait until every queued call is written to the pipe (or the pipe broke)."""
        self._queue.put(None)
        self._writer.join()

    def call(self, method: str, *args) -> None:
        """Have the child run ``obj.method(*args)``; return without waiting for it."""
        self._send(("call", method, args))

    def ask(self, method: str, *args) -> Any:
        """Run ``obj.method(*args)`` in the child and wait for its result; the child goes on."""
        self._send(("ask", method, args))
        message = _last_word(self._receiver)
        if message and message[0] == "ok":
            return message[1]
        self._done = True
        self._flush()
        self._proc.join()
        self._receiver.close()
        self._commands.close()
        return _result_of(message, self.what, self._proc.exitcode)  # raises

    def finish(self, method: str, *args) -> Any:
        """Run ``obj.method(*args)`` in the child, wait for it to end; return the result."""
        if not self._broken.is_set():
            self._queue.put(_pickled(("finish", method, args)))
        return self._wait()

    def _wait(self) -> Any:
        self._done = True
        try:
            message = _last_word(self._receiver)
            self._proc.join()
            self._flush()
        finally:
            self._receiver.close()
            self._commands.close()
        return _result_of(message, self.what, self._proc.exitcode)

    def abandon(self) -> None:
        """Stop the child (its object is dropped unfinished); idempotent."""
        if self._done:
            return
        self._done = True
        self._proc.terminate()
        # The stop is raised in the child, which discards its object and ends;
        # one that does not end soon (stuck in a write to a full pipe, say) is killed.
        self._proc.join(ABANDON_SECONDS)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._broken.set()  # what is still queued goes nowhere
        self._flush()
        self._receiver.close()
        self._commands.close()


def _pickled(message: tuple):
    # pickled here, in the caller's thread: the arguments as they are at the call
    from multiprocessing.reduction import ForkingPickler
    return ForkingPickler.dumps(message)


def _last_word(receiver):
    try:
        return receiver.recv()  # blocks until the child reports or ends
    except EOFError:
        return None  # the child died without a word (killed)


def _result_of(message, what: str, exitcode) -> Any:
    """The result a child reported, or its failure raised as an exception."""
    if message and message[0] == "ok":
        return message[1]
    if message and message[0] == "oserror":
        raise OSError(*message[1:])
    if message and message[0] == "error":
        raise RuntimeError(f"{what} failed: {message[1]}")
    raise RuntimeError(f"{what} failed: the helper process ended with exit code {exitcode}")


class _Stopped(BaseException):
    """SIGTERM (from :meth:`InChildObject.abandon`, or sent to the whole process group),
    raised where the child is.  A BaseException, as KeyboardInterrupt is: library code
    that catches ``Exception`` (matplotlib building its font cache, for one) must not
    swallow the stop and leave the child waiting for calls that never come."""


def _stop(signum, frame):
    raise _Stopped("stopped by SIGTERM")


def _object_main(commands, sender, factory: Callable, *args) -> None:
    # abandon() terminates the child: raised as an exception, the stop lets
    # the object discard what it has half-written before the process ends
    signal.signal(signal.SIGTERM, _stop)

    def serve():
        obj = None
        # A stop while the object is being built is held until it is whole:
        # only a whole object can discard what it has begun to write (files
        # opened in its constructor).  Threads it starts inherit the mask, so
        # the stop comes to this thread once it is let through, below.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            obj = factory(*args)
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            while True:
                try:
                    kind, method, call_args = commands.recv()
                except EOFError:
                    raise RuntimeError("the parent went away") from None
                result = getattr(obj, method)(*call_args)
                if kind == "finish":
                    return result
                if kind == "ask":
                    sender.send(("ok", result))
        except BaseException:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop is enough
            discard = getattr(obj, "discard", None)  # None too when it was never built
            if discard is not None:
                try:
                    discard()
                except Exception:  # noqa: BLE001 - the failure reported is the one above
                    pass
            raise
    _report_and_exit(sender, serve)


def _report_and_exit(sender, work: Callable[[], Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    status = 1
    try:
        try:
            result = work()
            status = 0
        except OSError as exc:
            report = ("oserror", exc.errno, exc.strerror or str(exc), exc.filename)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            report = ("error", f"{type(exc).__name__}: {exc}"[:500])
        else:
            report = ("ok", result)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the report is the last word
        try:
            sender.send(report)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - a result that does not pickle
            status = 1
            sender.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
    except BaseException:  # noqa: BLE001 - the parent is gone (or stopped us): no one to tell
        pass
    finally:
        sender.close()
    # No traceback here: the parent reports the failure once.  _exit skips
    # the atexit handlers the forked child inherited from the parent.
    os._exit(status)


__all__ = ["InChildObject"]
