from pipeline.config import DATA_DIR, load_config, prune_derived_tables


def test_defaults_resolve_data_files_under_the_package():
    cfg = load_config()
    assert cfg.path("segment", "user_dictionary") == DATA_DIR / "userdict.txt"
    assert cfg.path("segment", "user_dictionary").exists()


def test_user_file_overrides_key_by_key_and_resolves_its_own_paths(tmp_path):
    (tmp_path / "my.toml").write_text('[report]\ntitle = "测试简报"\n[segment]\nuser_dictionary = "words.txt"\n',
                                      encoding="utf-8")
    cfg = load_config(str(tmp_path / "my.toml"))
    assert cfg.get("report", "title") == "测试简报"
    assert cfg.get("report", "top_keywords") == load_config().get("report", "top_keywords")
    assert cfg.path("segment", "user_dictionary") == tmp_path / "words.txt"


def test_pruning_keeps_the_table_written_and_the_newest_others_of_its_kind(tmp_path):
    import os
    for i, name in enumerate(["a.tsv", "b.tsv", "c.tsv", "d.otf", "e.otf", ".f.tsv.12.tmp"]):
        (tmp_path / name).write_text(name, encoding="utf-8")
        os.utime(tmp_path / name, ns=(10**18 + i * 10**9,) * 2)
    (tmp_path / "new.tsv").write_text("just written", encoding="utf-8")  # now: older than all
    prune_derived_tables(tmp_path / "new.tsv", keep=2)
    # the one written, the newest other .tsv; other kinds and writes in progress left alone
    assert sorted(p.name for p in tmp_path.iterdir()) == [".f.tsv.12.tmp", "c.tsv", "d.otf",
                                                          "e.otf", "new.tsv"]
    prune_derived_tables(tmp_path / "missing" / "x.tsv")   # nothing to prune, nothing raised
