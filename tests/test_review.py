"""Editors' review sheets: written, filled, read back, applied; bad files and hostile text."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, strategies as st
from openpyxl import load_workbook

from pipeline import tables as T
from pipeline.model import figure_id
from pipeline.review import (CSV_NAME, PAGE_NAME, SHEET_COLUMNS, XLSX_NAME, ReviewSet,
                             apply_reviews, escape_formula, load_reviews, unescape_formula,
                             write_review_outputs)
from pipeline.text import sentence_at

HOSTILE_SENTENCE = '=HYPERLINK("http://x","y")，共计8000元。'
ARTICLES = [
    ("a1", "慈善总会年报", "累计投入500多万元，组织56家社会组织。第二句有3个人参加。",
     [("500多万元", "money", None), ("56家", "count", 56.0), ("3个", "count", 3.0)]),
    ("a2", "<script>alert(1)</script>", HOSTILE_SENTENCE + "另有-5个<b>标签</b>。",
     [("8000元", "money", 8000.0), ("5个", "count", 5.0)]),
]


def make_tables(articles=ARTICLES) -> dict:
    """Articles and figures tables as the pipeline builds them, from (id, title, text, figures)."""
    arows, frows = [], []
    for aid, title, text, figs in articles:
        arows.append({"article_id": aid, "title": title, "text": text})
        for surface, kind, value in figs:
            s = text.index(surface)
            e = s + len(surface)
            ss, se = sentence_at(text, s, e)
            frows.append({"figure_id": figure_id(text, s, e), "article_id": aid, "start": s,
                          "end": e, "text": surface, "kind": kind, "value": value,
                          "low": 5e6 if value is None else None, "qualifier": None,
                          "unit": "CNY" if kind == "money" else "个",
                          "sentence": text[ss:se].strip(), "sentence_start": ss,
                          "sentence_end": se})
    return {"articles": T.frame("articles", arows), "figures": T.frame("figures", frows)}


def ids_by_text(tables) -> dict:
    return dict(zip(tables["figures"]["text"], tables["figures"]["figure_id"]))


def fill_xlsx(src: Path, dst: Path, verdicts: dict) -> None:
    """Fill the written sheet as an editor would: {figure_id: (status, corrected, note)}."""
    wb = load_workbook(src, rich_text=True)
    ws = wb["figures"]
    col = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        fid = ws.cell(row, col["figure_id"]).value
        if fid in verdicts:
            for name, v in zip(("status", "corrected_value", "note"), verdicts[fid]):
                ws.cell(row, col[name]).value = v
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)


def write_csv(path: Path, rows: list, *, encoding: str = "utf-8-sig", delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def review_columns(figures: pd.DataFrame) -> dict:
    return {r.figure_id: (None if pd.isna(r.review_status) else r.review_status,
                          None if pd.isna(r.corrected_value) else r.corrected_value,
                          None if pd.isna(r.review_note) else r.review_note)
            for r in figures.itertuples()}


def snapshot(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- writing

def test_sheet_has_one_row_per_figure_with_marked_sentence_and_empty_editor_columns(tmp_path):
    tables = make_tables()
    write_review_outputs(tables, tmp_path)
    ws = load_workbook(tmp_path / XLSX_NAME, rich_text=True)["figures"]
    assert [c.value for c in ws[1]] == list(SHEET_COLUMNS)
    assert ws.max_row == len(tables["figures"]) + 1
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:O{ws.max_row}"
    assert ws.column_dimensions["C"].width > ws.column_dimensions["E"].width
    (validation,) = ws.data_validations.dataValidation
    assert validation.formula1 == '"ok,wrong,fix"' and "M2" in str(validation.sqref)
    col = {c.value: c.column for c in ws[1]}
    money = next(r for r in range(2, ws.max_row + 1)
                 if ws.cell(r, col["figure"]).value == "500多万元")
    rich = ws.cell(money, col["sentence"]).value
    assert str(rich) == "累计投入【500多万元】，组织56家社会组织。"
    marked = [b for b in rich if not isinstance(b, str)]
    assert len(marked) == 1 and marked[0].text == "【500多万元】" and marked[0].font.b
    assert ws.cell(money, col["article"]).value == "慈善总会年报"
    assert ws.cell(money, col["low"]).value == 5e6
    for r in range(2, ws.max_row + 1):
        assert all(ws.cell(r, col[c]).value is None for c in ("status", "corrected_value", "note"))
    with open(tmp_path / CSV_NAME, "rb") as fh:
        assert fh.read(3) == b"\xef\xbb\xbf"
    twin = list(csv.DictReader(open(tmp_path / CSV_NAME, encoding="utf-8-sig", newline="")))
    assert len(twin) == len(tables["figures"])
    assert twin[0]["sentence"] == "累计投入【500多万元】，组织56家社会组织。"
    assert twin[1]["value"] == "56"


def test_workbook_bytes_are_deterministic(tmp_path):
    tables = make_tables()
    write_review_outputs(tables, tmp_path / "one")
    write_review_outputs(tables, tmp_path / "two")
    for name in (XLSX_NAME, CSV_NAME, PAGE_NAME):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    # the bytes cannot depend on the clock: every stored date is fixed
    with zipfile.ZipFile(tmp_path / "one" / XLSX_NAME) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core) == \
        ["2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"]
    assert not list((tmp_path / "one").glob(".*tmp"))


def test_formula_injection_stays_inert_text_in_xlsx_and_csv(tmp_path):
    tables = make_tables()
    ids = ids_by_text(tables)
    figures, _ = apply_reviews(tables["figures"], ReviewSet(reviews=[
        _review(ids["8000元"], "ok", None, "=1+1", "x.csv", 2),
        _review(ids["5个"], "ok", None, "@SUM(A1)", "x.csv", 3)]))
    tables["figures"] = figures
    tables["articles"].loc[1, "title"] = "+cmd|' /C calc'!A0"
    write_review_outputs(tables, tmp_path)
    ws = load_workbook(tmp_path / XLSX_NAME)["figures"]
    col = {c.value: c.column for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col["figure_id"]).value == ids["8000元"])
    sentence = ws.cell(row, col["sentence"])
    assert sentence.data_type == "s" and sentence.value.startswith('=HYPERLINK("http://x","y")')
    for name, text in (("article", "+cmd|' /C calc'!A0"), ("note", "=1+1")):
        c = ws.cell(row, col[name])
        assert c.data_type == "s" and c.value == text and c.quotePrefix
    with zipfile.ZipFile(tmp_path / XLSX_NAME) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
    rows = {r["figure_id"]: r for r in
            csv.DictReader(open(tmp_path / CSV_NAME, encoding="utf-8-sig", newline=""))}
    r = rows[ids["8000元"]]
    assert r["sentence"] == "'" + '=HYPERLINK("http://x","y")，共计【8000元】。'
    assert r["article"] == "'+cmd|' /C calc'!A0" and r["note"] == "'=1+1"
    assert rows[ids["5个"]]["note"] == "'@SUM(A1)"
    # an escaped note comes back exactly as written
    again, _ = apply_reviews(tables["figures"], load_reviews(_only(tmp_path / CSV_NAME, tmp_path / "r")))
    assert review_columns(again)[ids["8000元"]] == ("ok", None, "=1+1")


@given(st.text(alphabet=st.sampled_from("'=+-@\t\rab 元"), max_size=8) | st.text(max_size=12))
def test_formula_escaping_round_trips_exactly(text):
    escaped = escape_formula(text)
    assert unescape_formula(escaped) == text
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_review_page_escapes_hostile_text_and_filters_by_data_attributes(tmp_path):
    tables = make_tables()
    write_review_outputs(tables, tmp_path)
    html = (tmp_path / PAGE_NAME).read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>标签</b>" not in html and "&lt;b&gt;标签&lt;/b&gt;" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1 and "alert" not in scripts[0] and "慈善" not in scripts[0]
    digest = hashlib.sha256(scripts[0].encode()).digest()
    assert f"script-src 'sha256-{base64.b64encode(digest).decode()}'" in html
    rows = re.findall(r'<tr id="fig-(\w+)" class="[^"]*" data-kind="(\w+)" data-article="(\w+)"', html)
    assert len(rows) == len(tables["figures"])
    assert {(k, a) for _, k, a in rows} == {("money", "a1"), ("count", "a1"), ("money", "a2"),
                                            ("count", "a2")}
    assert '<mark>500多万元</mark>' in html
    for name in ("kind", "article", "status"):
        assert f'<select name="{name}">' in html


def test_review_page_carries_the_font_for_the_characters_it_shows(tmp_path):
    # An editor's machine without a CJK font still shows the page as intended:
    # the font is embedded (cut to the page's characters) and the CSP admits it.
    write_review_outputs(make_tables(), tmp_path)
    html = (tmp_path / PAGE_NAME).read_text(encoding="utf-8")
    assert "font-src data:" in html
    assert re.search(r"@font-face \{[^}]*src: url\(data:font/woff;base64,", html)


def test_review_page_lists_stale_reviews_and_errors_when_given_a_summary(tmp_path):
    tables = make_tables()
    summary = {"stale": [{"figure_id": "fdeadbeef", "file": "old<i>.csv", "row": 4,
                          "status": "ok", "note": None}],
               "errors": ["bad.csv, row 2, column status (M): unknown status '<b>x</b>'"]}
    write_review_outputs(tables, tmp_path, summary=summary)
    html = (tmp_path / PAGE_NAME).read_text(encoding="utf-8")
    assert "fdeadbeef" in html and "old&lt;i&gt;.csv" in html
    assert "unknown status &#39;&lt;b&gt;x&lt;/b&gt;&#39;" in html


# --------------------------------------------------------------------------- reading and applying

def _review(fid, status, value, note, file, row):
    from pipeline.review import Review
    return Review(figure_id=fid, status=status, corrected_value=value, note=note, file=file, row=row)


def _only(sheet: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(sheet, folder / sheet.name)
    return folder


def test_filled_sheet_applies_ok_wrong_fix_and_keeps_dtypes(tmp_path):
    tables = make_tables()
    ids = ids_by_text(tables)
    write_review_outputs(tables, tmp_path / "out")
    reviews = tmp_path / "reviews"
    fill_xlsx(tmp_path / "out" / XLSX_NAME, reviews / "王编辑 第1轮.xlsx", {
        ids["500多万元"]: ("ok", None, None),
        ids["56家"]: ("Wrong ", None, "不是数量"),
        ids["8000元"]: ("fix", 9000, "原文笔误"),
    })
    before = snapshot(reviews)
    figures, summary = apply_reviews(tables["figures"], load_reviews(reviews))
    assert snapshot(reviews) == before
    assert list(figures.columns) == T.COLUMNS["figures"]
    assert figures.dtypes.equals(tables["figures"].dtypes)
    got = review_columns(figures)
    assert got[ids["500多万元"]] == ("ok", None, None)
    assert got[ids["56家"]] == ("wrong", None, "不是数量")
    assert got[ids["8000元"]] == ("fix", 9000.0, "原文笔误")
    assert got[ids["3个"]] == (None, None, None)
    assert {k: summary[k] for k in ("n_figures", "n_verified", "n_wrong", "n_fixed")} == \
        {"n_figures": 5, "n_verified": 2, "n_wrong": 1, "n_fixed": 1}
    assert summary["stale"] == [] and summary["errors"] == []
    assert summary["files"] == ["王编辑 第1轮.xlsx"]


def test_no_reviews_applies_nothing_with_the_same_summary_shape(tmp_path):
    tables = make_tables()
    figures, summary = apply_reviews(tables["figures"], None)
    pd.testing.assert_frame_equal(figures, tables["figures"])
    _, with_empty = apply_reviews(tables["figures"], load_reviews(tmp_path / "missing"))
    assert summary == with_empty
    assert summary["n_verified"] == 0 and summary["n_figures"] == 5 and summary["stale"] == []
    empty, s = apply_reviews(tables["figures"].iloc[0:0], None)
    assert s["n_figures"] == 0 and list(empty.columns) == T.COLUMNS["figures"]


def test_prefilled_sheet_reads_back_to_the_same_reviews(tmp_path):
    tables = make_tables()
    ids = ids_by_text(tables)
    write_review_outputs(tables, tmp_path / "out1")
    reviews = tmp_path / "reviews"
    fill_xlsx(tmp_path / "out1" / XLSX_NAME, reviews / "round1.xlsx", {
        ids["500多万元"]: ("ok", None, "核对原文"), ids["56家"]: ("wrong", None, None),
        ids["8000元"]: ("fix", -12.5, "-负数备注")})
    first, _ = apply_reviews(tables["figures"], load_reviews(reviews))
    tables["figures"] = first
    write_review_outputs(tables, tmp_path / "out2")
    ws = load_workbook(tmp_path / "out2" / XLSX_NAME)["figures"]
    col = {c.value: c.column for c in ws[1]}
    assert sorted(ws.cell(r, col["status"]).value or "" for r in range(2, ws.max_row + 1)) == \
        ["", "", "fix", "ok", "wrong"]
    for name in (XLSX_NAME, CSV_NAME):
        folder = _only(tmp_path / "out2" / name, tmp_path / f"again_{name}")
        again, summary = apply_reviews(tables["figures"], load_reviews(folder))
        assert review_columns(again) == review_columns(first), name
        assert summary["errors"] == []
    # the prefilled copy next to the file it came from agrees with it: no conflict
    shutil.copy(tmp_path / "out2" / XLSX_NAME, reviews / "round2.xlsx")
    shutil.copy(tmp_path / "out2" / CSV_NAME, reviews / "round2.csv")
    both, summary = apply_reviews(tables["figures"], load_reviews(reviews))
    assert summary["errors"] == [] and review_columns(both) == review_columns(first)


def test_stale_review_is_kept_and_listed(tmp_path):
    tables = make_tables()
    ids = ids_by_text(tables)
    reviews = tmp_path / "reviews"
    write_csv(reviews / "r.csv", [["figure_id", "status", "corrected_value", "note"],
                                  ["fgone0000000000", "ok", "", "旧稿"],
                                  [ids["3个"], "ok", "", ""]])
    figures, summary = apply_reviews(tables["figures"], load_reviews(reviews))
    assert summary["stale"] == [{"figure_id": "fgone0000000000", "file": "r.csv", "row": 2,
                                 "status": "ok", "note": "旧稿", "corrected_value": None}]
    assert review_columns(figures)[ids["3个"]][0] == "ok" and summary["n_verified"] == 1


def _good_csv(path: Path, fid: str) -> None:
    write_csv(path, [["figure_id", "status", "corrected_value", "note"], [fid, "ok", "", ""]])


MALFORMED = {
    "unknown_status": (
        lambda ids: [["figure_id", "status", "corrected_value", "note"],
                     [ids["56家"], "ok", "", ""], [ids["3个"], "maybe", "", ""]],
        ["bad.csv, row 3, column status (B)", "'maybe'"]),
    "non_numeric_value": (
        lambda ids: [["figure_id", "status", "corrected_value", "note"],
                     [ids["56家"], "ok", "", ""], [ids["3个"], "fix", "五百万", ""]],
        ["bad.csv, row 3, column corrected_value (C)", "'五百万' is not a number"]),
    "fix_without_value": (
        lambda ids: [["figure_id", "status", "corrected_value", "note"],
                     [ids["56家"], "ok", "", ""], [ids["3个"], "fix", "", ""]],
        ["bad.csv, row 3, column corrected_value (C)", "needs a corrected value"]),
    "value_with_ok": (
        lambda ids: [["figure_id", "status", "corrected_value", "note"],
                     [ids["56家"], "ok", "", ""], [ids["3个"], "ok", "4", ""]],
        ["bad.csv, row 3, column corrected_value (C)", "with status fix"]),
    "conflicting_verdicts": (
        lambda ids: [["figure_id", "status", "corrected_value", "note"],
                     [ids["56家"], "ok", "", ""], [ids["3个"], "ok", "", ""],
                     [ids["3个"], "wrong", "", ""]],
        ["bad.csv, row 4, column status (B)", "already reviewed in row 3"]),
    "missing_columns": (
        lambda ids: [["figure_id", "verdict"], [ids["56家"], "ok"]],
        ["bad.csv, row 1", "missing column(s) status"]),
    "review_without_id": (
        lambda ids: [["figure_id", "status", "corrected_value", "note"],
                     [ids["56家"], "ok", "", ""], ["", "wrong", "", ""]],
        ["bad.csv, row 3, column figure_id (A)"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_is_not_applied_and_the_error_names_file_row_column(tmp_path, case):
    tables = make_tables()
    ids = ids_by_text(tables)
    rows, expected = MALFORMED[case]
    reviews = tmp_path / "reviews"
    write_csv(reviews / "bad.csv", rows(ids))
    _good_csv(reviews / "good.csv", ids["500多万元"])
    figures, summary = apply_reviews(tables["figures"], load_reviews(reviews))
    got = review_columns(figures)
    assert got[ids["500多万元"]][0] == "ok"          # the good file applies
    assert got[ids["56家"]][0] is None               # no row of the bad file does
    assert summary["files"] == ["good.csv"] and summary["n_verified"] == 1
    assert summary["errors"], case
    message = " | ".join(summary["errors"])
    for part in expected:
        assert part in message, (case, message)


@pytest.mark.parametrize("name,content,expected", [
    ("fake.xlsx", b"this is not a workbook", "fake.xlsx: not a readable .xlsx workbook"),
    ("garbage.csv", bytes(range(256)) * 4, "garbage.csv: not a CSV text file"),
    ("garbage2.csv", "\ufeff随便写的\n一些,文字\n".encode(), "garbage2.csv, row 1: missing column(s) figure_id, status"),
    ("empty.xlsx", b"", "empty.xlsx: not a readable .xlsx workbook"),
    ("notes.txt", "备忘".encode(), "notes.txt: not a review sheet"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "old.xls: .xls workbooks are not read"),
])
def test_files_that_are_not_review_sheets_give_errors_and_others_apply(tmp_path, name, content,
                                                                       expected):
    tables = make_tables()
    ids = ids_by_text(tables)
    reviews = tmp_path / "reviews"
    reviews.mkdir()
    (reviews / name).write_bytes(content)
    _good_csv(reviews / "good.csv", ids["56家"])
    figures, summary = apply_reviews(tables["figures"], load_reviews(reviews))
    assert any(e.startswith(expected) for e in summary["errors"]), summary["errors"]
    assert review_columns(figures)[ids["56家"]][0] == "ok"


def test_conflict_across_files_applies_neither_and_names_both(tmp_path):
    tables = make_tables()
    ids = ids_by_text(tables)
    reviews = tmp_path / "reviews"
    header = ["figure_id", "status", "corrected_value", "note"]
    write_csv(reviews / "a.csv", [header, [ids["56家"], "ok", "", ""], [ids["3个"], "ok", "", ""]])
    write_csv(reviews / "b.csv", [header, [ids["8000元"], "ok", "", ""],
                                  [ids["3个"], "wrong", "", ""]])
    write_csv(reviews / "c.csv", [header, [ids["56家"], "ok", "", ""]])  # agrees with a.csv
    figures, summary = apply_reviews(tables["figures"], load_reviews(reviews))
    got = review_columns(figures)
    assert got[ids["3个"]] == (None, None, None)
    assert got[ids["56家"]][0] == "ok" and got[ids["8000元"]][0] == "ok"
    (error,) = summary["errors"]
    assert ids["3个"] in error and "a.csv, row 3" in error and "b.csv, row 3" in error
    assert summary["files"] == ["a.csv", "b.csv", "c.csv"]


def test_editor_csv_variants_are_read(tmp_path):
    """GB18030 from Excel on Chinese Windows, ';' separators, full-width digits, lock files."""
    tables = make_tables()
    ids = ids_by_text(tables)
    reviews = tmp_path / "reviews"
    write_csv(reviews / "gbk.csv", [["Figure_ID", "Status", "Corrected_Value", "Note"],
                                    [ids["8000元"], "fix", "８,５００", "中文备注"]],
              encoding="gb18030")
    write_csv(reviews / "semi.csv", [["figure_id", "status", "note"], [ids["3个"], "ok", ""],
                                     [ids["56家"], "", "只写了备注"], ["", "", ""]], delimiter=";")
    (reviews / "~$gbk.xlsx").write_bytes(b"lock")
    (reviews / ".DS_Store").write_bytes(b"\x00\x01")
    figures, summary = apply_reviews(tables["figures"], load_reviews(reviews))
    got = review_columns(figures)
    assert summary["errors"] == []
    assert got[ids["8000元"]] == ("fix", 8500.0, "中文备注")
    assert got[ids["3个"]] == ("ok", None, None)
    assert got[ids["56家"]] == (None, None, "只写了备注")  # a note alone is kept, not a verdict
    assert summary["n_verified"] == 2


def test_reviews_path_that_is_a_file_is_an_error(tmp_path):
    (tmp_path / "reviews").write_text("x")
    rs = load_reviews(tmp_path / "reviews")
    assert rs.reviews == [] and rs.errors == ["reviews: the reviews folder is not a folder"]


# --------------------------------------------------------------------------- streaming

FOUR_ARTICLES = ARTICLES + [
    ("a3", "第三篇", "今年新建3所学校，投入2亿元。", [("3所", "count", 3.0), ("2亿元", "money", 2e8)]),
    ("a4", "第四篇", "共有7个项目。", [("7个", "count", 7.0)]),
]


def _some_reviews(ids) -> ReviewSet:
    return ReviewSet(reviews=[
        _review("fgone0000000000", "ok", None, "旧稿", "r.csv", 2),
        _review(ids["56家"], "wrong", None, None, "r.csv", 3),
        _review(ids["8000元"], "fix", 9000.0, "=1+1", "r.csv", 4),
        _review("fgone1111111111", "fix", 3.0, None, "r.csv", 5),
        _review(ids["500多万元"], None, None, "只写了备注", "r.csv", 6),
        _review(ids["3所"], "ok", None, None, "r.csv", 7)], files=["r.csv"], errors=["bad.csv: x"])


def _figure_rows_by_article(tables) -> list:
    """(article_id, title, text, figure rows as dicts) per article, as a run streams them."""
    figures = tables["figures"].astype(object).where(tables["figures"].notna(), None)
    rows = figures.to_dict("records")
    return [(a.article_id, a.title, a.text, [r for r in rows if r["article_id"] == a.article_id])
            for a in tables["articles"].itertuples()]


@pytest.mark.parametrize("chunk", [1, 2, 100])
def test_tally_in_chunks_gives_what_apply_reviews_gives(chunk):
    from pipeline.review import ReviewTally
    tables = make_tables(FOUR_ARTICLES)
    reviews = _some_reviews(ids_by_text(tables))
    expected, summary = apply_reviews(tables["figures"], reviews)
    tally = ReviewTally(reviews)
    rows = [r for _, _, _, rs in _figure_rows_by_article(tables) for r in rs]
    for i in range(0, len(rows), chunk):
        tally.apply(rows[i:i + chunk])
    assert tally.summary() == summary
    assert [s["figure_id"] for s in summary["stale"]] == ["fgone0000000000", "fgone1111111111"]
    got = {r["figure_id"]: (r["review_status"], r["corrected_value"], r["review_note"]) for r in rows}
    assert got == review_columns(expected)
    assert (summary["n_figures"], summary["n_verified"], summary["n_wrong"], summary["n_fixed"],
            summary["n_unreviewed"]) == (8, 2, 1, 1, 5)


def test_tally_without_reviews_counts_the_verdicts_rows_carry():
    from pipeline.review import ReviewTally
    tables = make_tables(FOUR_ARTICLES)
    reviewed, _ = apply_reviews(tables["figures"], _some_reviews(ids_by_text(tables)))
    _, expected = apply_reviews(reviewed, None)
    tally = ReviewTally(None)
    rows = [r for _, _, _, rs in _figure_rows_by_article({**tables, "figures": reviewed})
            for r in rs]
    tally.apply(rows)
    assert tally.summary() == expected and expected["n_verified"] == 2
    bare = [{"figure_id": "f1"}]
    ReviewTally(None).apply(bare)
    assert bare == [{"figure_id": "f1", "review_status": None, "corrected_value": None,
                     "review_note": None}]


def test_streamed_outputs_equal_the_whole_table_ones(tmp_path):
    from pipeline.review import ReviewTally, ReviewWriter
    tables = make_tables(FOUR_ARTICLES)
    reviews = _some_reviews(ids_by_text(tables))
    tables["figures"], summary = apply_reviews(tables["figures"], reviews)
    write_review_outputs(tables, tmp_path / "whole", summary=summary)
    tally = ReviewTally(reviews)
    with ReviewWriter(tmp_path / "stream") as writer:
        for aid, title, text, rows in _figure_rows_by_article(make_tables(FOUR_ARTICLES)):
            tally.apply(rows)
            writer.add(aid, title, text, rows)
        writer.close(tally.summary())
    for name in (XLSX_NAME, CSV_NAME, PAGE_NAME):
        assert (tmp_path / "stream" / name).read_bytes() == \
            (tmp_path / "whole" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "stream").iterdir()) == \
        sorted([XLSX_NAME, CSV_NAME, PAGE_NAME])


def test_streamed_sheet_is_the_same_whatever_the_chunks(tmp_path):
    from pipeline.review import _XlsxStream, sheet_rows, xlsx_bytes
    rows = sheet_rows(make_tables(FOUR_ARTICLES))
    buf = io.BytesIO()
    stream = _XlsxStream(buf)
    for r in rows:
        stream.add([r])
    stream.close()
    assert buf.getvalue() == xlsx_bytes(rows)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        # a streamed sheet does not know its size up front; the element is optional
        assert "<dimension" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_pages_break_between_articles_and_link_each_other(tmp_path):
    from pipeline.review import ReviewWriter
    tables = make_tables(FOUR_ARTICLES)  # 3, 2, 2 and 1 figures
    tables["figures"], summary = apply_reviews(tables["figures"], _some_reviews(ids_by_text(tables)))
    (tmp_path / "page-7.html").write_text("an earlier, longer run", encoding="utf-8")
    with ReviewWriter(tmp_path, page_figures=2) as writer:
        for aid, title, text, rows in _figure_rows_by_article(tables):
            writer.add(aid, title, text, rows)
        writer.close(summary)
    names = sorted(p.name for p in tmp_path.glob("*.html"))
    assert names == ["index.html", "page-2.html", "page-3.html", "page-4.html"]
    pages = [(tmp_path / n).read_text(encoding="utf-8") for n in
             ("index.html", "page-2.html", "page-3.html", "page-4.html")]
    on_page = [re.findall(r'<tr id="fig-\w+" class="[^"]*" data-kind="\w+" data-article="(\w+)"', h)
               for h in pages]
    # an article's figures stay on one page, even when it has more than a page holds
    assert on_page == [["a1", "a1", "a1"], ["a2", "a2"], ["a3", "a3"], ["a4"]]
    for number, html in enumerate(pages, start=1):
        assert f"第 {number} / 4 页" in html and "共 8 个数字" in html
        assert re.search(r"@font-face \{[^}]*src: url\(data:font/woff;base64,", html)
        options = re.findall(r'<option value="(a\d)">', html)
        assert options == sorted(set(on_page[number - 1]))
        assert html.count("<tbody>") == html.count("</tbody>")
    assert '<a href="page-2.html">2</a>' in pages[0] and '<a href="index.html">1</a>' in pages[3]
    assert "fgone0000000000" in pages[0] and "bad.csv: x" in pages[0]
    assert "fgone0000000000" not in pages[1] and '见<a href="index.html">第 1 页</a>' in pages[1]
    # one font subset, for the characters of every page
    faces = {re.search(r"@font-face \{[^}]*\}", h).group() for h in pages}
    assert len(faces) == 1


def test_a_failed_write_leaves_the_previous_files_and_no_temporaries(tmp_path):
    from pipeline.review import ReviewWriter
    tables = make_tables()
    write_review_outputs(tables, tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(RuntimeError, match="stopped"):
        with ReviewWriter(tmp_path) as writer:
            for aid, title, text, rows in _figure_rows_by_article(tables):
                writer.add(aid, title, text, rows)
            raise RuntimeError("stopped")
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([XLSX_NAME, CSV_NAME, PAGE_NAME])


@pytest.mark.parametrize("stop_at", ["the zip", "the first rename", "the second rename"])
def test_a_stop_inside_close_leaves_no_temporaries(tmp_path, monkeypatch, stop_at):
    # a stop (SIGTERM raised in the writer process) can land anywhere in close()
    import os as os_module

    from pipeline import review as review_module
    from pipeline.review import ReviewWriter
    tables = make_tables()
    writer = ReviewWriter(tmp_path)
    for aid, title, text, rows in _figure_rows_by_article(tables):
        writer.add(aid, title, text, rows)
    if stop_at == "the zip":
        def stopped(self):
            self._sheet.close()   # the sheet's part is finished, the zip is not
            raise KeyboardInterrupt("stopped")
        monkeypatch.setattr(review_module._XlsxStream, "close", stopped)
    else:
        real_replace, renames = os_module.replace, []

        def replace(src, dst):
            renames.append(dst)
            if len(renames) == (1 if stop_at == "the first rename" else 2):
                raise KeyboardInterrupt("stopped")
            real_replace(src, dst)
        monkeypatch.setattr(review_module.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        writer.close()
    writer.discard()          # as the writer process does after any stop
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_staged_file_whose_close_fails_is_still_removed(tmp_path):
    from pipeline.review import _StagedFile
    staged = _StagedFile(tmp_path / "sheet.csv", "w", encoding="utf-8")
    staged.fh.write("half")

    class Unclosable:
        def close(self):
            raise KeyboardInterrupt("stopped in the middle of closing")
    real, staged.fh = staged.fh, Unclosable()
    with pytest.raises(KeyboardInterrupt):
        staged.discard()      # the stop goes on, once the file is gone
    real.close()
    assert list(tmp_path.iterdir()) == []


def test_no_figures_give_one_page_that_says_so(tmp_path):
    tables = make_tables([("a1", "无数字", "今天天气很好。", [])])
    write_review_outputs(tables, tmp_path)
    html = (tmp_path / PAGE_NAME).read_text(encoding="utf-8")
    assert "本期没有抽取到数字" in html and "共 0 个数字" in html and "<nav" not in html
    ws = load_workbook(tmp_path / XLSX_NAME)["figures"]
    assert ws.max_row == 1 and ws.auto_filter.ref == "A1:O1"


def test_streamed_article_with_lone_surrogates_is_written_as_the_tables_spell_it(tmp_path):
    from pipeline.review import ReviewWriter
    text = "共有12个人。"
    (aid, _, _, rows), = _figure_rows_by_article(make_tables([("a1", "t", text,
                                                               [("12个", "count", 12.0)])]))
    with ReviewWriter(tmp_path) as writer:
        writer.add(aid, "标题\udcff", text, rows)
        writer.close()
    html = (tmp_path / PAGE_NAME).read_text(encoding="utf-8")
    assert "标题\\xff" in html and "<mark>12个</mark>" in html
    assert load_workbook(tmp_path / XLSX_NAME)["figures"]["B2"].value == "标题\\xff"


# --------------------------------------------------------------------------- whole pipeline

def _runner():
    from pipeline.runner import run
    return run


@pytest.mark.slow
def test_round_trip_through_the_pipeline(tmp_path):
    from tests.conftest import SEEDS
    run = _runner()
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    reviews = tmp_path / "reviews"
    reviews.mkdir()
    out = tmp_path / "out"
    first = run([str(seeds)], str(out), workers=1, reviews_dir=str(reviews))
    assert first.reviews["n_verified"] == 0 and first.reviews["errors"] == []
    first_briefing = (out / "briefing.html").read_text(encoding="utf-8")
    figs = first.tables["figures"]
    assert (out / "review" / XLSX_NAME).exists() and (out / "review" / CSV_NAME).exists()
    assert (out / "review" / PAGE_NAME).exists()
    money = figs[(figs.kind == "money") & figs.value.notna()]
    ok_id = money.figure_id.iloc[0]
    wrong_id = money.figure_id.iloc[1]
    page = next(seeds.iterdir())
    content = page.read_text(encoding="utf-8")
    counts = figs[(figs.kind == "count") & figs.value.notna()]
    # a figure the stale step below can remove by editing the page once
    fix_row = next(f for f in counts.itertuples() if content.count(f.text) == 1)
    fix_id = fix_row.figure_id
    fill_xlsx(out / "review" / XLSX_NAME, reviews / "编辑审核.xlsx", {
        ok_id: ("ok", None, None), wrong_id: ("wrong", None, "不是金额"),
        fix_id: ("fix", 57, "原文为57家")})
    before = snapshot(reviews)
    second = run([str(seeds)], str(out), workers=1, reviews_dir=str(reviews))
    assert snapshot(reviews) == before  # the pipeline never writes into reviews/
    got = review_columns(second.tables["figures"])
    assert got[ok_id] == ("ok", None, None)
    assert got[wrong_id] == ("wrong", None, "不是金额")
    assert got[fix_id] == ("fix", 57.0, "原文为57家")
    n = len(figs)
    assert {k: second.reviews[k] for k in ("n_figures", "n_verified", "n_wrong", "n_fixed")} == \
        {"n_figures": n, "n_verified": 2, "n_wrong": 1, "n_fixed": 1}
    written = pd.read_parquet(out / "tables" / "figures.parquet")
    assert review_columns(written) == got
    briefing = (out / "briefing.html").read_text(encoding="utf-8")
    assert f"0 / {n}" in first_briefing and f"2 / {n}" in briefing  # "编辑已核实 2 / n 个数字"
    sheet = load_workbook(out / "review" / XLSX_NAME)["figures"]
    col = {c.value: c.column for c in sheet[1]}
    prefilled = {sheet.cell(r, col["figure_id"]).value: sheet.cell(r, col["status"]).value
                 for r in range(2, sheet.max_row + 1)}
    assert prefilled[ok_id] == "ok" and prefilled[fix_id] == "fix"

    # an edit removes the reviewed "fix" figure: its review turns stale, never dropped
    page.write_text(content.replace(fix_row.text, "若干"), encoding="utf-8")
    third = run([str(seeds)], str(out), workers=1, reviews_dir=str(reviews))
    now = set(third.tables["figures"].figure_id)
    assert fix_id not in now
    stale = {s["figure_id"]: s for s in third.reviews["stale"]}
    assert set(stale) == {ok_id, wrong_id, fix_id} - now
    assert (stale[fix_id]["file"], stale[fix_id]["status"], stale[fix_id]["note"]) == \
        ("编辑审核.xlsx", "fix", "原文为57家")
    survivors = review_columns(third.tables["figures"])
    for fid in {ok_id, wrong_id} & now:
        assert survivors[fid] == got[fid]
    assert fix_id in (out / "briefing.html").read_text(encoding="utf-8")
    assert snapshot(reviews) == before


def test_control_characters_surrogates_and_huge_sentences_are_written_safely(tmp_path):
    huge = "很长" * 30000
    text = "开头\x01\x0b" + huge + "共有12个人" + huge + "。"
    tables = make_tables([("a9", "标题\x07", text, [("12个", "count", 12.0)])])
    write_review_outputs(tables, tmp_path)
    ws = load_workbook(tmp_path / XLSX_NAME)["figures"]
    sentence = ws["C2"].value
    assert "【12个】" in sentence and len(sentence) < 1000
    assert sentence.startswith("…") and sentence.endswith("…")
    assert ws["B2"].value == "标题\ufffd"
    csv_text = (tmp_path / CSV_NAME).read_text(encoding="utf-8-sig")
    assert "\x07" not in csv_text and "【12个】" in csv_text
    html = (tmp_path / PAGE_NAME).read_text(encoding="utf-8")
    assert "<mark>12个</mark>" in html
    # the tables cannot hold lone surrogates; the writers would not choke on one either
    from pipeline.review import writable_text
    assert writable_text("a\ud800b\x00") == "a\ufffdb\ufffd"


def test_odd_file_names_and_subfolders_in_reviews(tmp_path):
    tables = make_tables()
    ids = ids_by_text(tables)
    reviews = tmp_path / "reviews"
    write_csv(reviews / "第2轮\n审核 ..x.csv", [["figure_id", "status"], [ids["3个"], "okay"]])
    _good_csv(reviews / "王编辑" / "good.csv", ids["56家"])
    _good_csv(reviews / ".git" / "hidden.csv", ids["8000元"])
    figures, summary = apply_reviews(tables["figures"], load_reviews(reviews))
    assert summary["errors"] == ["第2轮?审核 ..x.csv, row 2, column status (B): unknown status "
                                 "'okay'; use one of ok, wrong, fix"]
    assert summary["files"] == ["王编辑/good.csv"]
    assert review_columns(figures)[ids["8000元"]][0] is None


@pytest.mark.browser
def test_review_page_filters_in_a_real_browser_under_its_csp(tmp_path):
    import subprocess
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless Chromium")
    tables = make_tables()
    write_review_outputs(tables, tmp_path)
    page = (tmp_path / PAGE_NAME).as_uri()

    def dom(fragment: str) -> str:
        return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                               "--dump-dom", page + fragment], capture_output=True, text=True,
                              timeout=120).stdout

    everything = dom("")
    assert '<form id="filters" class="filters">' in everything  # the script ran under the CSP
    assert '<output id="shown">5 / 5</output>' in everything
    money_a2 = dom("#kind=money&article=a2")
    visible = re.findall(r'<tr id="fig-(\w+)" class="[^"]*" data-kind="(\w+)" data-article="(\w+)"'
                         r'[^>]*>', money_a2)
    shown = [m for m in visible if "hidden" not in money_a2.split(f'id="fig-{m[0]}"')[1].split(">")[0]]
    assert [(k, a) for _, k, a in shown] == [("money", "a2")]
    assert '<output id="shown">1 / 5</output>' in money_a2


def test_page_rows_fill_gives_the_rows_block_jinja_renders():
    import jinja2
    from pipeline.review import _PAGE_FIELDS, _RowsFill, _page_template
    template = _page_template()
    fill = _RowsFill.of(template)
    assert fill is not None
    hostile = ["<&>\"'", "{0}", "\x00", "😀\ud800", " ", "", "{{ x }}", "&amp;", "a\x01b"]
    figures = [tuple(hostile[(i + j) % len(hostile)] + k for j, k in enumerate(_PAGE_FIELDS))
               for i in range(len(hostile))] + [(None,) + ("x",) * (len(_PAGE_FIELDS) - 1)]
    context = template.new_context({"figures": [dict(zip(_PAGE_FIELDS, f)) for f in figures]})
    assert fill(figures) == "".join(template.blocks["rows"](context))
    # a block that does more than print fields is left to Jinja
    env = jinja2.Environment(autoescape=True)
    for block in ('{% for f in figures %}<b>{{ f["note"] | upper }}</b>{% endfor %}',
                  '{% for f in figures %}{% if f["note"] %}<b>{{ f["note"] }}</b>{% endif %}{% endfor %}',
                  '{% for f in figures %}{{ f["note"] | safe }}{% endfor %}'):
        assert _RowsFill.of(env.from_string("{% block rows %}" + block + "{% endblock %}")) is None
    plain = env.from_string('{% block rows %}{% for f in figures %}<i>{{ f["note"] }}</i>\n'
                            '{% endfor %}{% endblock %}')
    assert _RowsFill.of(plain)([("x",) * (len(_PAGE_FIELDS) - 1) + ("<n>",)]) == "<i>&lt;n&gt;</i>\n"
