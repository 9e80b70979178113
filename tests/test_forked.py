import errno

import pytest

from pipeline.forked import InChildObject


def _disk_full():
    raise OSError(errno.ENOSPC, "No space left on device", "/full/tables/topics.csv")


def _broken():
    raise ValueError("a bug in the step")


class _Steps:
    def run(self, func, *args):
        return func(*args)


def test_the_child_hands_back_results_and_raises_its_failure_in_the_parent(tmp_path):
    child = InChildObject(_Steps)
    assert child.ask("run", sorted, [3, 1, 2]) == [1, 2, 3]
    with pytest.raises(OSError) as caught:
        child.finish("run", _disk_full)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == "/full/tables/topics.csv"
    child = InChildObject(_Steps, what="the topic model")
    with pytest.raises(RuntimeError, match="the topic model failed: ValueError: a bug in the step"):
        child.finish("run", _broken)


class _Log:
    """Appends every call to a file, so the parent can see the child's order."""

    def __init__(self, path):
        self.path = path
        self.seen = []

    def add(self, *items):
        self.seen.extend(items)
        if "bad" in items:
            raise ValueError(f"cannot take {items}")

    def total(self, suffix):
        self.path.write_text(" ".join(map(str, self.seen)) + suffix)
        return len(self.seen)


class _Gate:
    """Holds its first call until a file appears (a busy child); fails after a minute."""

    def __init__(self, gate):
        self.gate, self.sizes = gate, []

    def wait(self):
        import time
        for _ in range(600):
            if self.gate.exists():
                return
            time.sleep(0.1)
        raise TimeoutError("the gate never opened")

    def take(self, data):
        self.sizes.append(len(data))

    def taken(self):
        return self.sizes

    def discard(self):
        (self.gate.parent / "discarded").write_text(str(len(self.sizes)))


def test_calls_to_a_busy_child_return_until_the_queue_is_full(tmp_path):
    from pipeline.forked import QUEUED_CALLS
    gate = tmp_path / "open"
    child = InChildObject(_Gate, gate, what="the gate")
    child.call("wait")
    # Each call is bigger than a pipe's buffer: the child, busy waiting, reads
    # none of them, so without the sending thread the first would block here
    # and the gate would never open (the child would then fail).
    big = b"x" * (1 << 20)
    for _ in range(QUEUED_CALLS):
        child.call("take", big)
    gate.touch()
    assert child.finish("taken") == [len(big)] * QUEUED_CALLS


def test_an_object_in_a_child_takes_calls_in_order_and_hands_back_the_last_result(tmp_path):
    log = InChildObject(_Log, tmp_path / "log.txt", what="the log")
    for i in range(2000):  # more than a pipe buffer holds: calls wait for the child
        log.call("add", i, str(i) * 20)
    assert log.finish("total", "!") == 4000
    text = (tmp_path / "log.txt").read_text()
    assert text.startswith("0 " + "0" * 20 + " 1 ") and text.endswith(" 1999 " + "1999" * 20 + "!")
    log.abandon()  # after finish: nothing left to stop


def test_a_failed_call_in_the_child_is_raised_by_a_later_call_or_the_finish(tmp_path):
    log = InChildObject(_Log, tmp_path / "log.txt", what="the log")
    log.call("add", "bad")
    with pytest.raises(RuntimeError, match=r"the log failed: ValueError: cannot take \('bad',\)"):
        for i in range(100_000):  # the child is gone: a call soon finds its pipe closed
            log.call("add", "x" * 1000)
        log.finish("total", "")
    assert not (tmp_path / "log.txt").exists()


def test_an_abandoned_object_stops_its_child(tmp_path):
    log = InChildObject(_Log, tmp_path / "log.txt")
    log.call("add", 1)
    log.abandon()
    assert not log._proc.is_alive()
    log.abandon()


def test_asking_the_child_waits_for_one_result_and_leaves_it_running(tmp_path):
    log = InChildObject(_Log, tmp_path / "log.txt", what="the log")
    log.call("add", 1, 2)
    assert log.ask("total", "?") == 2      # the calls before it are done first
    assert (tmp_path / "log.txt").read_text() == "1 2?"
    log.call("add", 3)
    assert log.finish("total", "!") == 3
    with pytest.raises(RuntimeError, match=r"the log failed: ValueError: cannot take \('bad',\)"):
        failing = InChildObject(_Log, tmp_path / "other.txt", what="the log")
        failing.ask("add", "bad")


def test_a_child_stopped_while_busy_discards_its_object_first(tmp_path):
    gate = tmp_path / "open"
    child = InChildObject(_Gate, gate, what="the gate")
    child.call("take", b"abc")
    child.ask("taken")       # built, and the first call done
    child.call("wait")       # busy until the gate opens, which it never does
    child.abandon()
    assert not child._proc.is_alive()
    assert (tmp_path / "discarded").read_text() == "1"


def test_a_failed_call_discards_the_object(tmp_path):
    child = InChildObject(_Gate, tmp_path / "open", what="the gate")
    child.call("take", b"abc")
    with pytest.raises(RuntimeError, match="the gate failed: TypeError"):
        child.finish("take", None)   # len(None)
    assert (tmp_path / "discarded").read_text() == "1"


class _Stubborn(_Gate):
    """Waits as library code does that catches Exception around its work."""

    def wait(self):
        import time
        while not self.gate.exists():
            try:
                time.sleep(0.05)
            except Exception:  # noqa: BLE001 - what the stop must get through
                pass


def test_a_stop_gets_through_code_that_catches_exception(tmp_path):
    import time
    from pipeline.forked import ABANDON_SECONDS
    child = InChildObject(_Stubborn, tmp_path / "open", what="the gate")
    child.call("take", b"abc")
    child.ask("taken")
    child.call("wait")
    time.sleep(0.2)          # inside the loop
    started = time.monotonic()
    child.abandon()
    # ended by the stop itself (and discarded), not by the kill after the grace time
    assert time.monotonic() - started < ABANDON_SECONDS / 2
    assert (tmp_path / "discarded").read_text() == "1"


class _SlowStart:
    """Opens a file in its constructor, then takes its time (a writer loading fonts)."""

    def __init__(self, folder):
        import time
        self.part = folder / ".half-written.tmp"
        self.part.write_text("begun")
        (folder / "building").touch()
        time.sleep(1.0)

    def discard(self):
        self.part.unlink()


def test_a_stop_while_the_object_is_built_waits_for_it_then_discards_it(tmp_path):
    import time
    child = InChildObject(_SlowStart, tmp_path, what="the writer")
    for _ in range(200):             # the constructor is running
        if (tmp_path / "building").exists():
            break
        time.sleep(0.01)
    child.abandon()
    assert not (tmp_path / ".half-written.tmp").exists()
