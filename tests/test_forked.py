import errno

import pytest

from pipeline.forked import InChild


def _disk_full():
    raise OSError(errno.ENOSPC, "No space left on device", "/full/tables/topics.csv")


def _broken():
    raise ValueError("a bug in the step")


def test_the_child_hands_back_its_result_and_raises_its_failure_in_the_parent(tmp_path):
    with InChild(sorted, [3, 1, 2]) as step:
        pass
    assert step.result == [1, 2, 3]
    with pytest.raises(OSError) as caught:
        with InChild(_disk_full):
            pass
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == "/full/tables/topics.csv"
    with pytest.raises(RuntimeError, match="the topic model failed: ValueError: a bug in the step"):
        with InChild(_broken, what="the topic model"):
            pass


def test_the_parent_goes_on_while_the_child_works(tmp_path):
    done = tmp_path / "done.txt"
    with InChild(done.write_text, "written by the child") as step:
        mine = sum(range(1000))
    assert step.result == len("written by the child") and mine == 499500
    assert done.read_text() == "written by the child"
