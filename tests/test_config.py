from pipeline.config import DATA_DIR, load_config


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
