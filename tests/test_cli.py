"""The command-line contract that tests and tools rely on."""
import json
import subprocess
import sys

from tests.conftest import ROOT, SEEDS


def cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], input=stdin.encode("utf-8"),
                          capture_output=True, cwd=ROOT, timeout=300)


FIELDS = {"start", "end", "text", "kind", "value", "low", "high", "unit", "qualifier", "object", "date"}


def test_figures_json_has_the_spec_fields_and_offsets_into_the_input():
    text = "累计投入500多万元，组织56家社会组织结对78个村社。"
    proc = cli("figures", "--json", stdin=text)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert rows and all(set(r) == FIELDS for r in rows)
    assert all(text[r["start"]:r["end"]] == r["text"] for r in rows)
    assert {"500多万元", "56家", "78个"} <= {r["text"] for r in rows}


def test_figures_lines_mode_numbers_lines_from_zero():
    text = "共3469位学子\n没有数字\n支出1734.8万元"
    rows = [json.loads(l) for l in cli("figures", "--json", "--lines", stdin=text).stdout.decode().splitlines()]
    lines = text.split("\n")
    assert {r["line"] for r in rows} == {0, 2}
    assert all(lines[r["line"]][r["start"]:r["end"]] == r["text"] for r in rows)


def test_figures_base_date_resolves_relative_dates():
    rows = [json.loads(l) for l in cli("figures", "--json", "--base-date", "2012-06-12",
                                       stdin="今年3月，他来到北京。").stdout.decode().splitlines()]
    assert any(r["kind"] == "date" and r["date"] == "2012-03" for r in rows)


def test_orgs_json_contract():
    text = "由苍南县民政局主办，县民政局负责。"
    proc = cli("orgs", "--json", stdin=text)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert rows and all({"start", "end", "text", "canonical", "type"} <= set(r) for r in rows)
    assert all(text[r["start"]:r["end"]] == r["text"] for r in rows)
    assert {r["canonical"] for r in rows} == {"苍南县民政局"}


def test_run_writes_briefing_and_reports_a_summary(tmp_path):
    proc = cli("run", "--input", str(SEEDS), "--output", str(tmp_path), "--workers", "1",
               "--base-date", "2022-08-15")
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "briefing.html").exists() and (tmp_path / "tables" / "figures.csv").exists()
    assert "characters/s" in proc.stderr.decode()


def test_bad_base_date_is_refused_with_a_clear_message(tmp_path):
    proc = cli("run", "--input", str(SEEDS), "--output", str(tmp_path), "--base-date", "2022-13-40")
    assert proc.returncode == 2
    assert "not a date" in proc.stderr.decode()


def test_run_with_nothing_readable_exits_non_zero(tmp_path):
    empty = tmp_path / "in"
    empty.mkdir()
    (empty / "blank.txt").write_text("", encoding="utf-8")
    proc = cli("run", "--input", str(empty), "--output", str(tmp_path / "out"))
    assert proc.returncode != 0
    assert "no article" in proc.stderr.decode()


def test_start_up_leaves_the_heavy_libraries_to_the_stages_that_use_them():
    # scikit-learn (corpus steps) and matplotlib (briefing) take about a second
    # to import; the command line and the runner must not load them up front.
    probe = ("import sys, pipeline.cli, pipeline.runner; "
             "print(sorted(m for m in ('sklearn', 'matplotlib') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().strip() == "[]"
