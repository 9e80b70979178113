import pickle

import pytest

from pipeline.spill import SpillList


def test_a_spill_list_reads_back_what_was_appended_by_index_slice_and_in_order(tmp_path):
    items = [[f"词{i}", i] for i in range(23)]
    spill = SpillList(tmp_path / "terms.pickle", chunk_size=5)
    for item in items:
        spill.append(item)
    assert len(spill) == 23
    assert list(spill) == items
    assert [spill[i] for i in (0, 4, 5, 22, -1)] == [items[i] for i in (0, 4, 5, 22, -1)]
    assert spill[3:17] == items[3:17] and spill[20:40] == items[20:]
    with pytest.raises(IndexError):
        spill[23]
    spill.close()
    assert not (tmp_path / "terms.pickle").exists() and len(spill) == 0


def test_a_spill_list_holds_one_chunk_in_memory_and_the_rest_on_disk(tmp_path):
    with SpillList(tmp_path / "s.pickle", chunk_size=100) as spill:
        for i in range(1000):
            spill.append(["term"] * 10)
        assert len(spill._tail) == 0 and len(spill._spans) == 10
        assert (tmp_path / "s.pickle").stat().st_size >= 10 * len(pickle.dumps([["term"] * 10]))
        spill[950]
        assert spill._loaded[0] == 9   # the chunk read is the only one loaded


def test_chunk_size_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        SpillList(tmp_path / "x", chunk_size=0)


def test_a_pickled_spill_list_is_a_read_only_view_that_leaves_the_file(tmp_path):
    # how a run hands its terms to the topic model's process
    spill = SpillList(tmp_path / "terms.pickle", chunk_size=4)
    items = [[f"词{i}"] for i in range(10)]   # two chunks on disk, two items in the tail
    for item in items:
        spill.append(item)
    view = pickle.loads(pickle.dumps(spill))
    assert list(view) == items and view[9] == items[9] and len(view) == 10
    view.close()
    assert (tmp_path / "terms.pickle").exists() and list(spill) == items
    spill.close()
    assert not (tmp_path / "terms.pickle").exists()
