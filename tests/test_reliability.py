"""Reliability: atomic outputs, the output lock, clean stops, hostile input.

The fast tests run in ``make test``; the ``stress`` ones (``make stress``) kill
runs at random points, compare two clean runs byte for byte and push 10,000
generated documents through ingest and extraction, printing what they tried
and what survived.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline import atomic
from pipeline.bench.scale import sample_records, write_corpus
from tests.conftest import ROOT, SEEDS

# --------------------------------------------------------------------------- helpers


def published(out: Path) -> dict:
    """What a run published: every file but the cache, the lock and the run log."""
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(Path(out).rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] not in (".cache", ".lock")
            and p.name != "run_log.jsonl"}


def cli_args(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", "run", "--input", str(corpus), "--output", str(out),
            "--reviews", str(out.parent / "no-reviews"), *extra]


def start(args: list[str], cwd: Path = ROOT) -> subprocess.Popen:
    # A session of its own, so the test can stop the run and its workers as a group.
    return subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def code_snapshot(folder: Path) -> Path:
    """A frozen copy of the package and its templates to run ``python -m pipeline`` from.

    The stress runs take minutes; comparing outputs across them must not
    depend on edits made to the working tree meanwhile.
    """
    import shutil
    for name in ("pipeline", "templates"):
        shutil.copytree(ROOT / name, folder / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def stop_group(proc: subprocess.Popen) -> None:
    """Kill what is left of a run the test started (orphaned workers included)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists():
            return True
        time.sleep(0.02)
    return path.exists()


def _differing(a: dict, b: dict) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def cache_is_sound(out: Path) -> bool:
    db = out / ".cache" / "analyses.sqlite"
    if not db.exists():
        return True
    with sqlite3.connect(db) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def bench_corpus(path: Path, replicas: int) -> Path:
    write_corpus(path, sample_records(), replicas)
    return path


def small_corpus(path: Path) -> Path:
    rows = sample_records()[:3]
    path.write_text("".join(json.dumps(dict(r, id=f"small-{i}"), ensure_ascii=False) + "\n"
                            for i, r in enumerate(rows)), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- atomic publishing


def _stage(folder: Path, files: dict) -> None:
    staging = atomic.begin(folder)
    for rel, data in files.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_bytes(data)


def test_commit_publishes_whole_runs_and_drops_files_the_new_run_no_longer_writes(tmp_path):
    out = tmp_path / "out"
    _stage(out, {"tables/a.csv": b"1", "charts/old.svg": b"<svg/>", "briefing.html": b"v1"})
    atomic.commit(out)
    (out / "notes-of-an-editor.txt").write_bytes(b"mine")  # never published by a run
    _stage(out, {"tables/a.csv": b"2", "briefing.html": b"v2"})
    atomic.commit(out)
    assert (out / "tables" / "a.csv").read_bytes() == b"2"
    assert not (out / "charts").exists()
    assert (out / "notes-of-an-editor.txt").read_bytes() == b"mine"
    assert atomic.published_files(out) == ["briefing.html", "tables/a.csv"]
    assert not (out / atomic.STAGING).exists() and not (out / atomic.JOURNAL).exists()


def test_recovery_finishes_a_journaled_commit_and_discards_an_unfinished_run(tmp_path):
    out = tmp_path / "out"
    _stage(out, {"t.csv": b"old"})
    atomic.commit(out)
    # Killed after the journal and one rename: the next run finishes the commit.
    _stage(out, {"t.csv": b"new", "u.csv": b"new"})
    (out / atomic.JOURNAL).write_text(json.dumps({"files": ["t.csv", "u.csv"]}))
    os.replace(out / atomic.STAGING / "t.csv", out / "t.csv")
    assert atomic.recover(out) == "finished"
    assert (out / "u.csv").read_bytes() == b"new" and (out / "t.csv").read_bytes() == b"new"
    # Killed before the journal: the previous output stays, the staging goes.
    _stage(out, {"t.csv": b"half"})
    (out / ".t.csv.999.tmp").write_bytes(b"torn")
    assert atomic.recover(out) == "discarded"
    assert (out / "t.csv").read_bytes() == b"new"
    assert not (out / atomic.STAGING).exists() and not (out / ".t.csv.999.tmp").exists()


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "deep" / "f.bin"
    atomic.write_bytes_atomic(target, b"abc")
    atomic.write_bytes_atomic(target, b"abcd")
    assert target.read_bytes() == b"abcd"
    assert [p.name for p in target.parent.iterdir()] == ["f.bin"]


# --------------------------------------------------------------------------- the lock


_HOLD_LOCK = """
import sys, time
from pipeline.atomic import OutputLock
lock = OutputLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_live_lock_refuses_a_second_run_and_a_dead_ones_lock_is_taken_over(tmp_path):
    out = tmp_path / "out"
    holder = start([sys.executable, "-c", _HOLD_LOCK, str(out)])
    try:
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(atomic.OutputBusy, match=f"in use by run {holder.pid}"):
            atomic.OutputLock(out).acquire()
        proc = subprocess.run(cli_args(SEEDS, out, "--workers", "1"), cwd=ROOT,
                              capture_output=True, timeout=120)
        assert proc.returncode == 75
        assert f"in use by run {holder.pid}" in proc.stderr.decode()
    finally:
        stop_group(holder)
    # The holder was killed: its PID is still in the file, but nobody holds the lock.
    assert json.loads((out / atomic.LOCK).read_text())["pid"] == holder.pid
    lock = atomic.OutputLock(out).acquire()
    assert lock.stale_pid == holder.pid
    lock.release()


# --------------------------------------------------------------------------- clean stops


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_stop_cleanly_and_leave_the_previous_output(tmp_path, how):
    out = tmp_path / "out"
    # A previous output, published the way a run publishes it.
    _stage(out, {"briefing.html": b"<p>previous</p>", "tables/figures.csv": b"figure_id\n"})
    atomic.commit(out)
    before = published(out)
    proc = start(cli_args(bench_corpus(tmp_path / "big.jsonl", 4), out, "--workers", "2"))
    try:
        assert wait_for(out / atomic.STAGING, proc), "the run never started"
        time.sleep(0.5)
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        else:
            os.kill(proc.pid, signal.SIGTERM)  # what a scheduler's stop does: the main process
        _, err = proc.communicate(timeout=120)
    finally:
        stop_group(proc)
    assert proc.returncode == (130 if how == "ctrl-c" else 143), err.decode()
    assert ("interrupted" if how == "ctrl-c" else "SIGTERM") in err.decode()
    assert "Traceback" not in err.decode()
    assert published(out) == before
    assert not (out / atomic.STAGING).exists()
    assert cache_is_sound(out)


# --------------------------------------------------------------------------- hostile names


def test_hostile_file_names_are_read_and_nothing_is_written_outside_the_output(tmp_path):
    from pipeline.runner import run
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    body = "苍南县民政局拨付资金500万元，帮助3469位学子。".encode("utf-8")
    names = [b"with space.txt", b"new\nline.txt", b"\xff\xfe-not-utf8.txt",
             ("长" * 80 + ".txt").encode("utf-8"), b"..dots..txt", b"-rf.txt"]
    for name in names:
        with open(os.path.join(os.fsencode(inputs), name), "wb") as fh:
            fh.write(body)
    (inputs / "sub" / "x.txt").write_bytes(body)
    out = tmp_path / "out"
    # A path with ../ in it is just a path: it names the same folder.
    result = run([str(inputs / "sub" / ".." )], str(out), workers=1, reviews_dir=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]
    import pandas as pd
    docs = pd.read_parquet(out / "tables" / "documents.parquet")
    # every file is listed; the one whose name starts with a dot is a hidden file, not read
    assert len(docs) == len(names) + 1
    hidden = docs["path"].str.endswith("..dots..txt")
    assert (docs.loc[~hidden, "status"] == "ok").all() and (docs.loc[hidden, "status"] == "skipped").all()
    assert result.n_articles == len(names)
    assert docs["path"].str.contains("\\xff\\xfe", regex=False).any()
    csv = (out / "tables" / "documents.csv").read_bytes().decode("utf-8-sig")
    assert "with space.txt" in csv


# --------------------------------------------------------------------------- generated documents

_UNITS = ["万元", "亿元", "元", "%", "％", "个", "家", "名", "余", "多", "年", "月", "日", "第", "万", "亿",
          "千米", "公里", "吨", "平方米", "·", "-", "～", "至", "约", "近", "超过", "１２", "３．５", "〇"]
_CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=20)
_PIECE = st.one_of(
    _CJK,
    st.integers(min_value=-10**12, max_value=10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(_UNITS),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=5),
    st.text(max_size=30),                       # any Unicode, surrogates excluded by Hypothesis
    st.just("<script>alert(1)</script>"), st.just("=HYPERLINK(\"http://x\")"),
    st.just("<doc><content>"), st.just("\ufeff"), st.just("\r\n"),
)
DOCUMENT_TEXT = st.lists(_PIECE, max_size=60).map("".join)
DOCUMENT_FORMAT = st.sampled_from(["txt-utf8", "txt-gb18030", "txt-utf16", "jsonl", "csv", "bytes"])


def _document_bytes(text: str, fmt: str, raw: bytes) -> tuple[str, bytes]:
    if fmt == "txt-utf8":
        return "doc.txt", text.encode("utf-8", "surrogatepass")
    if fmt == "txt-gb18030":
        return "doc.txt", text.encode("gb18030", "replace")
    if fmt == "txt-utf16":
        return "doc.txt", text.encode("utf-16")
    if fmt == "jsonl":
        return "doc.jsonl", (json.dumps({"id": "1", "title": text[:10], "date": text[:10],
                                         "text": text}) + "\n").encode("utf-8")
    if fmt == "csv":
        quoted = text.replace('"', '""')
        return "doc.csv", f'id,title,date,text\n1,t,2022-08-15,"{quoted}"\n'.encode("utf-8", "replace")
    return "doc.bin", raw


def through_ingest_and_extract(folder: Path, name: str, data: bytes) -> tuple[int, int]:
    """Read one generated file and analyze its articles; (documents, articles)."""
    from pipeline.analyze import analyze_article
    from pipeline.ingest import read_documents
    path = folder / name
    path.write_bytes(data)
    docs = list(read_documents([str(path)]))
    articles = [a for d in docs for a in d.articles]
    for a in articles:
        an = analyze_article(a, base_date="2022-08-15")
        for span in [*an.figures, *an.mentions]:
            assert a.text[span.start:span.end] == span.text
    path.unlink()
    return len(docs), len(articles)


def _generated_documents_survive(examples: int, report: dict):
    with tempfile.TemporaryDirectory() as tmp:
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(text=DOCUMENT_TEXT, fmt=DOCUMENT_FORMAT, raw=st.binary(max_size=300))
        def check(text, fmt, raw):
            name, data = _document_bytes(text, fmt, raw)
            docs, articles = through_ingest_and_extract(Path(tmp), name, data)
            report["documents"] += 1
            report["articles"] += articles
            report["formats"][fmt] = report["formats"].get(fmt, 0) + 1
            assert docs >= 1
        check()


def test_generated_documents_pass_ingest_and_extraction_without_an_exception():
    report = {"documents": 0, "articles": 0, "formats": {}}
    _generated_documents_survive(150, report)
    assert report["documents"] >= 150


# --------------------------------------------------------------------------- stress (make stress)


@pytest.mark.stress
def test_stress_10000_generated_documents():
    report = {"documents": 0, "articles": 0, "formats": {}}
    started = time.monotonic()
    _generated_documents_survive(10_000, report)
    with tempfile.TemporaryDirectory() as tmp:
        rng = random.Random(0)
        huge = 0
        for size in (50_000, 200_000, 1_000_000):  # one line, no newline, CJK and digits
            line = "".join(rng.choice("社会组织拨款万元亿１２３4567890.%，") for _ in range(size))
            through_ingest_and_extract(Path(tmp), "huge.txt", line.encode("utf-8"))
            huge += 1
    print(f"\n[stress] generated documents: tried {report['documents']} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(report['formats'].items()))}), "
          f"{report['articles']} articles, plus {huge} single-line files of 50k-1M characters; "
          f"all survived, 0 exceptions, {time.monotonic() - started:.0f} s")
    assert report["documents"] >= 10_000


@pytest.mark.stress
def test_stress_two_clean_runs_write_identical_bytes(tmp_path):
    corpus = bench_corpus(tmp_path / "c.jsonl", 2)
    code = code_snapshot(tmp_path / "code")
    for name in ("a", "b"):
        proc = subprocess.run(cli_args(corpus, tmp_path / name, "--workers", "2"), cwd=code,
                              capture_output=True, timeout=600)
        assert proc.returncode == 0, proc.stderr.decode()
    a, b = published(tmp_path / "a"), published(tmp_path / "b")
    print(f"\n[stress] two clean runs: {len(a)} files compared, "
          f"{sum(a[k] == b.get(k) for k in a)} identical")
    assert a == b


@pytest.mark.stress
def test_stress_sigkill_at_random_points_then_rerun_gives_the_uninterrupted_output(tmp_path):
    # Two corpora, so every attempt replaces one complete output with another
    # and "old" and "new" can be told apart after each kill.
    records = sample_records()
    corpora = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    write_corpus(corpora[0], records, 3)
    write_corpus(corpora[1], records[::-1][:60], 4)
    code = code_snapshot(tmp_path / "code")
    expected, durations = [], []
    for i, corpus in enumerate(corpora):
        started = time.monotonic()
        proc = subprocess.run(cli_args(corpus, tmp_path / f"reference{i}", "--workers", "2",
                                       "--no-cache"), cwd=code, capture_output=True, timeout=900)
        assert proc.returncode == 0, proc.stderr.decode()
        durations.append(time.monotonic() - started)
        expected.append(published(tmp_path / f"reference{i}"))
    assert expected[0] != expected[1]

    out = tmp_path / "out"
    proc = subprocess.run(cli_args(corpora[1], out, "--workers", "2"), cwd=code,
                          capture_output=True, timeout=900)
    assert proc.returncode == 0, proc.stderr.decode()
    current = 1
    rng = random.Random(20221115)
    outcomes = []
    for attempt in range(14):
        target = 1 - current
        extra = ("--no-cache",) if attempt % 2 else ()
        run = start(cli_args(corpora[target], out, "--workers", "2", *extra), cwd=code)
        delay = rng.uniform(0.3, durations[target])
        time.sleep(delay)
        finished = run.poll() is not None
        if not finished:
            os.kill(run.pid, signal.SIGKILL)  # the run's main process only, as the OOM killer would
        run.wait()
        stop_group(run)
        # What the next run does first: take the lock, finish or discard the killed run's commit.
        with atomic.OutputLock(out) as lock:
            recovered = atomic.recover(out)
        state = published(out)
        label = "new" if state == expected[target] else "old" if state == expected[current] else "MIXED"
        sound = cache_is_sound(out)
        outcomes.append((round(delay, 2), "finished" if finished else "killed",
                         (recovered or "-") + (" stale-lock" if lock.stale_pid else ""),
                         label, sound, " ".join(extra) or "cache"))
        assert label != "MIXED", (f"attempt {attempt} ({outcomes[-1]}): output is neither the "
                                  f"previous nor the new one; differs from the new one in "
                                  f"{_differing(state, expected[target])}")
        assert sound, f"attempt {attempt}: cache damaged"
        if label == "new":
            current = target

    final = subprocess.run(cli_args(corpora[0], out, "--workers", "2"), cwd=code,
                           capture_output=True, timeout=900)
    assert final.returncode == 0, final.stderr.decode()
    killed = [o for o in outcomes if o[1] == "killed"]
    print(f"\n[stress] SIGKILL: uninterrupted runs {durations[0]:.1f} s / {durations[1]:.1f} s; "
          f"{len(killed)} kills at random points "
          f"({sum(o[3] == 'old' for o in killed)} left the previous output, "
          f"{sum(o[3] == 'new' for o in killed)} came after the commit):")
    for delay, what, recovered, state, sound, mode in outcomes:
        print(f"  at {delay:5.2f} s ({mode:10s}): {what:8s} recovery={recovered:20s} "
              f"output={state:3s} cache={'ok' if sound else 'DAMAGED'}")
    assert len(killed) >= 10
    assert sum(o[3] == "old" for o in killed) >= 5, "too few kills landed inside a run"
    assert published(out) == expected[0]
    print("  rerun after the kills: output identical to the uninterrupted run")


def test_an_output_path_that_is_a_file_is_refused_clearly(tmp_path, capsys):
    from pipeline.cli import main
    blocker = tmp_path / "out"
    blocker.write_bytes(b"not a folder")
    assert main(["run", "--input", str(SEEDS), "--output", str(blocker), "--workers", "1"]) == 74
    err = capsys.readouterr().err
    assert "cannot write the output" in err and str(blocker) in err
    assert blocker.read_bytes() == b"not a folder"
