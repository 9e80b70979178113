from pipeline.segment import segment, words


def test_domain_phrases_stay_whole():
    ws = words("组织56家社会组织参与公益创投，助力共同富裕，建设共享社·幸福里和长者食堂")
    for phrase in ("社会组织", "公益创投", "共同富裕", "共享社·幸福里", "长者食堂"):
        assert phrase in ws


def test_tokens_slice_back_and_skip_whitespace():
    text = "补 助 5000 元\n苍南县民政局"
    tokens = segment(text)
    assert all(text[t.start:t.end] == t.text for t in tokens)
    assert not any(t.text.isspace() for t in tokens)
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)
