"""Ingest: formats, encodings, the newspaper page, dates, garbled runs and bad input.

Every input is made here in ``tmp_path`` (plus the shared real samples), so a
failure names the behaviour that broke.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from pipeline.config import Config, load_config
from pipeline.ingest import load_settings, read_documents
from pipeline.ingest.decode import detect_encoding
from pipeline.ingest.garble import garbled_spans
from pipeline.ingest.newspaper import split_page

from conftest import SEED_PAGE, SOGOU, require


def config_with(**ingest) -> Config:
    base = load_config()
    values = {k: dict(v) for k, v in base.values.items()}
    values["ingest"].update(ingest)
    return Config(values=values, origins=base.origins)


def test_a_config_built_by_hand_takes_the_shipped_defaults_for_unset_keys():
    shipped = load_settings()
    own = load_settings(Config(values={"ingest": {"max_heading_lines": 5}}, origins={}))
    assert own.max_heading_lines == 5
    assert shipped.max_heading_lines == load_config()["ingest"]["max_heading_lines"]
    assert own.section_labels == shipped.section_labels and shipped.section_labels
    assert (own.encodings, own.max_record_chars, own.columns) == \
        (shipped.encodings, shipped.max_record_chars, shipped.columns)


def read(*paths, **ingest):
    config = config_with(**ingest) if ingest else None
    return list(read_documents([str(p) for p in paths], config=config))


def only(docs):
    assert len(docs) == 1, [(d.path, d.status, d.message) for d in docs]
    return docs[0]


# ------------------------------------------------------------------ the seed page
@pytest.fixture(scope="module")
def seed_articles():
    doc = only(read(SEED_PAGE))
    assert doc.status == "ok" and doc.format == "page" and doc.encoding == "utf-8"
    return doc.articles


def test_seed_splits_into_its_five_articles(seed_articles):
    got = [(a.title, a.subtitle, a.byline, a.section) for a in seed_articles]
    assert got == [
        ("构筑共建共享共治共富幸福圈", "我县在全市“共享社·幸福里”建设工作推进会作交流发言", "民政", ""),
        ("2022苍南县社会组织公益创投大赛圆满落幕", "十佳项目将获公益资助", "丛容", ""),
        ("我县社会组织开展两岸共“富”迎七夕活动", "", "李士明/摄", ""),
        ("2022年度困难大学新生慈善助学活动正式启动", "", "慈善总会", ""),
        ("我县首家小区业主服务中心正式揭牌成立", "", "杨春碧", "简讯"),
    ]
    assert [a.article_id for a in seed_articles] == [f"{seed_articles[0].doc_id}-{i:03d}" for i in range(5)]


def test_seed_bodies_are_reflowed_and_keep_every_printed_character(seed_articles):
    bodies = [a.text for a in seed_articles]
    assert bodies[0].startswith("最近，全市社会组织党建助力“共享社·幸福里”建设工作推进会召开")
    assert bodies[1].startswith("日前，由苍南县民政局主办")
    assert bodies[4].startswith("最近，苍南县首家小区业主服务中心")
    fourth = bodies[3]
    # Numbers and words broken by the line end are whole again; OCR spaces stay.
    for piece in ("企业 2022年助学活动", "今年已是第15个年头", "累计支出 1734.8万元",
                  "补 助 5000 元（结 对 助 学 的 例外）", "普通高校（含高职高校）录取",
                  "8000 元（结对助学的例外），因"):
        assert piece in fourth
    assert "500多万元" in bodies[0] and "56家社会组织" in bodies[0]
    # Bylines, headlines and the section label are not in any body.
    for body in bodies:
        assert "（民政）" not in body and "（丛容）" not in body and "简讯" not in body
        assert not body.startswith(("\n", " ")) and "\n\n" not in body
    # Nothing printed is lost: every non-space character of the page is in a field.
    page = "".join(SEED_PAGE.read_text(encoding="utf-8").split())
    fields = "".join(a.title + a.subtitle + a.section + a.text + "（" + a.byline + "）"
                     for a in seed_articles)
    assert sorted(page) == sorted("".join(fields.split()))


def test_seed_paragraph_breaks_are_kept(seed_articles):
    first = seed_articles[0].text.split("\n")
    assert first[0].endswith("其有关做法如下：")
    assert first[1].startswith("一、做优服务品牌") and first[2].startswith("二、集结优势资源")


# ------------------------------------------------------- pages with other layouts
def _print_page(articles, *, width=12, headline_first: bool, bylines: bool = True,
                indent: str = "　　"):
    """Typeset articles as an OCR dump: fixed-width lines, a blank line between lines."""
    lines = []
    for art in articles:
        head = art["headline"]
        body = []
        for para in art["paragraphs"]:
            text = indent + para  # paragraphs indented as printed (or not)
            body.extend(text[i:i + width] for i in range(0, len(text), width))
        if bylines and art.get("byline"):
            body[-1] += f" （{art['byline']}）"
        lines.extend(([art["section"]] if art.get("section") else [])
                     + (head + body if headline_first else body + head))
    return "\n\n".join(lines) + "\n"


_ARTICLES = [
    {"headline": ["全市举办社区养老服务培训班"],
     "paragraphs": ["近日，全市社区养老服务培训班在市民政局开班，来自各区县的一百二十名社区工作者参加培训。",
                    "培训围绕居家养老上门服务、长者食堂运营等内容展开，邀请三位专家现场授课。"],
     "byline": "王芳"},
    {"headline": ["志愿服务走进乡村", "两百名志愿者为村民提供义诊和法律咨询服务"],
     "section": "简讯",
     "paragraphs": ["上周六，两百名志愿者来到青山村，为村民提供义诊、法律咨询和家电维修服务。",
                    "活动持续一整天，共服务村民八百余人次。"],
     "byline": "李明"},
    {"headline": ["第三届公益创投", "大赛启动报名"],
     "paragraphs": ["第三届公益创投大赛日前启动报名，社会组织可在下月底前提交项目申报材料。"],
     "byline": "赵强"},
]


@pytest.mark.parametrize("headline_first", [True, False])
@pytest.mark.parametrize("bylines", [True, False])
@pytest.mark.parametrize("indent", ["　　", ""])
def test_page_layout_headlines_before_or_after_bodies(tmp_path, headline_first, bylines, indent):
    page = tmp_path / "page.txt"
    page.write_text(_print_page(_ARTICLES, headline_first=headline_first, bylines=bylines,
                                indent=indent), encoding="utf-8")
    doc = only(read(page))
    got = [(a.title, a.subtitle, a.byline, a.section) for a in doc.articles]
    expected = [
        ("全市举办社区养老服务培训班", "", "王芳", ""),
        ("志愿服务走进乡村", "两百名志愿者为村民提供义诊和法律咨询服务", "李明", "简讯"),
        ("第三届公益创投大赛启动报名", "", "赵强", ""),
    ]
    assert got == [(t, s, b if bylines else "", sec) for t, s, b, sec in expected]
    if indent:
        assert [a.text.split("\n") for a in doc.articles] == [a["paragraphs"] for a in _ARTICLES]
    else:
        # Without indentation a full line that ends a sentence hides a paragraph
        # break; the text is whole all the same.
        assert [a.text.replace("\n", "") for a in doc.articles] == [
            "".join(a["paragraphs"]) for a in _ARTICLES]


def test_blank_lines_end_paragraphs_when_the_dump_does_not_put_one_everywhere(tmp_path):
    page = tmp_path / "page.txt"
    dense = _print_page(_ARTICLES, headline_first=True, indent="").replace("\n\n", "\n")
    # paragraphs separated by a blank line, printed lines adjacent
    page.write_text(dense.replace("。\n", "。\n\n"), encoding="utf-8")
    doc = only(read(page))
    assert [a.title for a in doc.articles][0] == "全市举办社区养老服务培训班"
    assert doc.articles[0].text.split("\n") == _ARTICLES[0]["paragraphs"]


def test_several_pages_in_a_folder_each_split_in_order(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "p2.txt").write_text(_print_page(_ARTICLES[2:], headline_first=True), encoding="utf-8")
    (pages / "p1.txt").write_text(_print_page(_ARTICLES[:2], headline_first=False), encoding="utf-8")
    docs = read(pages)
    assert [Path(d.path).name for d in docs] == ["p1.txt", "p2.txt"]
    assert [a.title for d in docs for a in d.articles] == [
        "全市举办社区养老服务培训班", "志愿服务走进乡村", "第三届公益创投大赛启动报名"]


def test_prose_text_is_one_article_with_title_and_byline(tmp_path):
    f = tmp_path / "prose.txt"
    f.write_text("市政府召开常务会议\n会议研究部署了今年的民生实事项目。\n"
                 "会议要求各部门抓好落实。（市府办）\n", encoding="utf-8")
    doc = only(read(f))
    assert doc.format == "text"
    art = only(doc.articles)
    assert (art.title, art.byline) == ("市政府召开常务会议", "市府办")
    assert art.text == "会议研究部署了今年的民生实事项目。\n会议要求各部门抓好落实。"


def test_parenthetical_inside_a_sentence_is_not_a_byline():
    lines = ["　　今年共资助学生三百名，每人补助", "", "八千元（结对助学的例外），因病", "",
             "致困的学生另行补助（含高职", "", "高校）。", "", "（教育局）"]
    art = only(split_page(lines, **load_settings().page_options()))
    assert art.byline == "教育局"
    assert art.text == "今年共资助学生三百名，每人补助八千元（结对助学的例外），因病致困的学生另行补助（含高职高校）。"


# ------------------------------------------------------------------- the Sogou dump
@pytest.fixture(scope="module")
def sogou_docs():
    return read(require(SOGOU))


def test_sogou_gives_100_documents_with_docno_title_and_intact_text(sogou_docs):
    raw = SOGOU.read_bytes().decode("gb18030")  # strict: the file decodes cleanly
    records = re.findall(r"<doc>.*?</doc>", raw, re.S)
    assert len(sogou_docs) == len(records) == 100
    empty = 0
    for doc, rec in zip(sogou_docs, records):
        content = re.search(r"<content>(.*?)</content>", rec, re.S).group(1)
        docno = re.search(r"<docno>(.*?)</docno>", rec).group(1)
        title = re.search(r"<contenttitle>(.*?)</contenttitle>", rec, re.S).group(1)
        assert doc.format == "sogou" and doc.encoding == "gb18030"
        if not content.strip():
            empty += 1
            assert doc.status == "empty" and not doc.articles and docno in doc.message
            continue
        art = only(doc.articles)
        assert doc.status == "ok"
        assert art.source_id == docno and art.title == title.strip()
        assert art.text == content  # character for character, offsets included
        assert art.url == re.search(r"<url>(.*?)</url>", rec).group(1)
    assert empty == 17
    assert len({d.doc_id for d in sogou_docs}) == 100


def test_sogou_garbled_runs_are_flagged_not_dropped(sogou_docs):
    first = sogou_docs[0].articles[0]
    runs = [first.text[s:e] for s, e in first.garbled]
    assert "?；泼鳎合衷谖倚?" in runs
    assert "garbled" in sogou_docs[0].message
    # Every stray "?" of the dump sits inside a flagged run; clean text is not flagged.
    for doc in sogou_docs:
        for art in doc.articles:
            covered = set()
            for s, e in art.garbled:
                assert 0 <= s < e <= len(art.text)
                covered.update(range(s, e))
            assert all(i in covered for i, c in enumerate(art.text) if c == "?")
            assert sum(e - s for s, e in art.garbled) < 0.3 * len(art.text)


def test_sogou_dates_from_dateline_then_url(sogou_docs):
    first = sogou_docs[0].articles[0]
    assert first.text.startswith("中广网唐山６月１２日消息")
    assert (first.date, first.date_source) == ("2012-06-12", "dateline")
    second = sogou_docs[1].articles[0]
    assert (second.date, second.date_source) == ("2012-06-07", "url")


def test_garble_detector_finds_other_mojibake_and_leaves_clean_text_alone():
    clean = "苍南县民政局召开会议，研究部署２０２２年工作（含高职高校）。"
    assert garbled_spans(clean) == []
    utf8_as_gbk = "中华人民共和国国务院".encode("utf-8").decode("gb18030", errors="replace")
    text = "通知：" + utf8_as_gbk + "。"
    spans = garbled_spans(text)
    assert spans == [(3, 3 + len(utf8_as_gbk))]
    assert garbled_spans("正常\ufffd文本") == [(2, 3)]


# -------------------------------------------------------------- encodings by content
SAMPLE = "苍南县慈善总会召开二〇二二年度困难大学新生慈善助学工作协调会，就助学条件展开讨论。\n"
TRADITIONAL = "蒼南縣慈善總會召開年度困難大學新生慈善助學工作協調會，就助學條件展開討論。\n"


@pytest.mark.parametrize("encoding,text,expected", [
    ("utf-8", SAMPLE, "utf-8"),
    ("utf-8-sig", SAMPLE, "utf-8-sig"),
    ("utf-16", SAMPLE, "utf-16"),
    ("utf-16-le", "Report 2022: " + SAMPLE, "utf-16-le"),
    ("gb18030", SAMPLE * 3, "gb18030"),
    ("gbk", SAMPLE, "gb18030"),
    ("big5", TRADITIONAL * 3, "big5"),
])
def test_plain_text_in_each_encoding_is_decoded_and_recorded(tmp_path, encoding, text, expected):
    f = tmp_path / "article.dat"  # the extension says nothing
    f.write_bytes(text.encode(encoding))
    doc = only(read(f))
    assert doc.status == "ok" and doc.encoding == expected, doc.message
    assert only(doc.articles).text == text.strip().removeprefix("\ufeff")
    assert doc.message == ""


def test_detect_encoding_on_short_samples():
    assert detect_encoding("你好，世界".encode("gbk"), complete=True) == "gb18030"
    assert detect_encoding(b"plain ascii", complete=True) == "utf-8"
    # Every 8-character window of a simplified and a traditional text.
    for text, encoding, expected in ((SAMPLE, "gbk", "gb18030"), (TRADITIONAL, "big5", "big5"),
                                     (SAMPLE, "utf-16-le", "utf-16-le"),
                                     (TRADITIONAL, "utf-16-be", "utf-16-be")):
        for i in range(0, len(text) - 9, 3):
            assert detect_encoding(text[i:i + 8].encode(encoding), complete=True) == expected, (
                text[i:i + 8], encoding)


def test_truncated_multibyte_sequence_is_kept_as_replacement_with_a_message(tmp_path):
    f = tmp_path / "cut.txt"
    data = (SAMPLE * 4).encode("gb18030")
    f.write_bytes(data + b"\xd6")  # the file ends in the middle of a character
    doc = only(read(f))
    assert doc.status == "ok" and doc.encoding == "gb18030"
    assert "not valid gb18030" in doc.message and f"at byte {len(data)}" in doc.message
    art = only(doc.articles)
    assert art.text.endswith("\ufffd")
    assert art.garbled[-1] == (len(art.text) - 1, len(art.text))

    g = tmp_path / "bad_utf8.txt"
    g.write_bytes(("正文" * 100).encode("utf-8") + b"\xe4\xb8" + "结尾。".encode("utf-8"))
    doc = only(read(g))
    assert doc.encoding == "utf-8" and "U+FFFD" in doc.message
    assert "\ufffd结尾。" in doc.articles[0].text


# ------------------------------------------------------------- records: JSONL / CSV
def test_jsonl_records_with_mapped_columns_and_a_bad_line(tmp_path):
    f = tmp_path / "feed.txt"  # JSON Lines told by content, not by the extension
    rows = [{"uid": "a1", "headline": "标题一", "published": "2022-08-15", "body": "正文一。", "site": "甲报"},
            "{not json",
            [1, 2],
            {"uid": "a3", "headline": "标题三", "published": "2022年8月17日", "body": "正文三。"},
            {"uid": "a4", "headline": "空", "body": "  "}]
    f.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                           for r in rows) + "\n", encoding="utf-8")
    docs = read(f, column_id="uid", column_title="headline", column_date="published",
                column_text="body", column_source="site")
    assert [d.status for d in docs] == ["ok", "failed", "failed", "ok", "empty"]
    assert all(d.format == "jsonl" for d in docs)
    assert "line 2 is not valid JSON" in docs[1].message
    a1, a3 = docs[0].articles[0], docs[3].articles[0]
    assert (a1.source_id, a1.title, a1.text, a1.source, a1.date, a1.date_source) == (
        "a1", "标题一", "正文一。", "甲报", "2022-08-15", "record")
    assert a3.date == "2022-08-17"


def test_csv_with_a_broken_row_goes_on(tmp_path):
    f = tmp_path / "articles.csv"
    f.write_text('id,title,date,text,url\n'
                 '1,第一篇,2022-08-15,"正文，含逗号。",http://x.cn/20220815/a.html\n'
                 '2,第二篇,2022-08-16\n'
                 '3,"第三"篇,2022-08-17,正文三。,\n'
                 '4,第四篇,,"多行\n正文。",\n', encoding="gb18030")
    docs = read(f)
    assert [d.status for d in docs] == ["ok", "failed", "failed", "ok"]
    assert docs[0].encoding == "gb18030"
    assert "4 fields" not in docs[1].message and "3 fields" in docs[1].message
    assert "broken row" in docs[2].message
    a = docs[0].articles[0]
    assert (a.source_id, a.title, a.text, a.date, a.url) == (
        "1", "第一篇", "正文，含逗号。", "2022-08-15", "http://x.cn/20220815/a.html")
    assert docs[3].articles[0].text == "多行\n正文。"


def test_csv_without_the_text_column_says_which_columns_it_has(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    doc = only(read(f))
    assert doc.status == "failed" and "column_text" in doc.message and "a, b" in doc.message


# ------------------------------------------------------------------ DOCX and PDF
def test_docx(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("县民政局开展养老服务检查")
    d.add_paragraph("近日，县民政局对全县养老机构开展安全检查。")
    d.add_paragraph("检查共发现问题十二个，已全部整改。（民政）")
    f = tmp_path / "report.docx"
    d.save(str(f))
    doc = only(read(f))
    art = only(doc.articles)
    assert (doc.format, art.title, art.byline) == ("docx", "县民政局开展养老服务检查", "民政")
    assert art.text == "近日，县民政局对全县养老机构开展安全检查。\n检查共发现问题十二个，已全部整改。"


def test_pdf_with_a_text_layer(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties
    fonts = list(Path(pytest.importorskip("pylopdf_fonts_zh_cn").__file__).parent.glob("NotoSansSC*"))
    if not fonts:
        pytest.skip("no CJK font")
    matplotlib.rcParams["pdf.fonttype"] = 42
    fig = plt.figure(figsize=(4, 6))
    for i, line in enumerate(["苍南县慈善总会召开协调会，就", "助学条件展开讨论。"]):
        fig.text(0.05, 0.9 - i * 0.05, line, fontproperties=FontProperties(fname=str(fonts[0])))
    f = tmp_path / "page.pdf"
    fig.savefig(f)
    plt.close(fig)
    doc = only(read(f))
    assert doc.format == "pdf" and doc.status == "ok"
    assert "苍南县慈善总会召开协调会，就" in "".join(a.text for a in doc.articles)


def test_pdf_without_text_layer_fails_with_a_message(tmp_path):
    from pypdf import PdfWriter
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    f = tmp_path / "scan.pdf"
    with open(f, "wb") as fh:
        w.write(fh)
    doc = only(read(f))
    assert doc.status == "failed" and "no text layer" in doc.message


# ------------------------------------------------------------------ dates and metadata
def test_dates_from_sidecar_filename_and_dateline(tmp_path):
    (tmp_path / "page.txt").write_text("本报讯 今天上午召开会议。\n会议由县长主持。\n", encoding="utf-8")
    (tmp_path / "page.meta.toml").write_text('date = 2022-08-15\nsource = "苍南新闻"\npage = 3\n',
                                             encoding="utf-8")
    (tmp_path / "2022-08-16_report.txt").write_text("会议召开。\n会议结束。\n", encoding="utf-8")
    (tmp_path / "wire_20220817.txt").write_text("新华网仰光６月１２日电 会议召开。\n会议结束。\n",
                                                encoding="utf-8")
    (tmp_path / "undated.txt").write_text("新华网仰光６月１２日电 会议召开。\n会议结束。\n",
                                          encoding="utf-8")
    docs = {Path(d.path).name: d for d in read(tmp_path)}
    assert docs["page.meta.toml"].status == "skipped" and "page.txt" in docs["page.meta.toml"].message
    page = docs["page.txt"].articles[0]
    assert (page.date, page.date_source, page.source) == ("2022-08-15", "sidecar", "苍南新闻")
    assert docs["2022-08-16_report.txt"].articles[0].date_source == "filename"
    wire = docs["wire_20220817.txt"].articles[0]
    assert (wire.date, wire.date_source) == ("2022-06-12", "dateline")
    assert docs["undated.txt"].articles[0].date is None  # month/day without any year


def test_doc_ids_are_stable_and_do_not_depend_on_where_the_folder_is(tmp_path):
    a = tmp_path / "one" / "corpus"
    a.mkdir(parents=True)
    for i in range(3):
        (a / f"{i}.txt").write_text(f"第{i}篇文章。\n正文。\n", encoding="utf-8")
    b = tmp_path / "two" / "corpus"
    shutil.copytree(a, b)
    ids_a = [d.doc_id for d in read(a)]
    assert ids_a == [d.doc_id for d in read(a)] == [d.doc_id for d in read(b)]
    assert len(set(ids_a)) == 3


# ---------------------------------------------------------------------- bad input
def test_bad_inputs_each_get_one_clear_message_and_the_run_goes_on(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    (folder / "b_random.bin").write_bytes(bytes(range(256)) * 8)
    (folder / "c_empty.txt").write_bytes(b"")
    (folder / "d_blank.txt").write_text(" \n\n\u3000\n", encoding="utf-8")
    (folder / "e_dangling").symlink_to(folder / "does-not-exist")
    (folder / "f_archive.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    (folder / "g_good.txt").write_text("这是正常的一篇文章。\n", encoding="utf-8")
    (folder / ".hidden").write_text("x", encoding="utf-8")
    os.mkfifo(folder / "h_pipe")
    docs = read(folder, tmp_path / "missing")
    by_name = {Path(d.path).name: d for d in docs}
    expect = {"a_image.txt": "skipped", "b_random.bin": "skipped", "c_empty.txt": "empty",
              "d_blank.txt": "empty", "e_dangling": "failed", "f_archive.zip": "skipped",
              "g_good.txt": "ok", ".hidden": "skipped", "h_pipe": "skipped", "missing": "failed"}
    assert {k: d.status for k, d in by_name.items()} == expect
    for name, d in by_name.items():
        if d.status != "ok":
            assert name in d.message and "\n" not in d.message and len(d.message) < 300
    assert "PNG" in by_name["a_image.txt"].message


def test_oversized_inputs_are_limited_not_loaded(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("字" * 400_000, encoding="utf-8")  # 1.2 MB on one line
    doc = only(read(big, max_file_mb=1))
    assert doc.status == "skipped" and "max_file_mb" in doc.message and "1.1 MB" in doc.message

    feed = tmp_path / "feed.jsonl"
    with open(feed, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": 1, "text": "前。"}, ensure_ascii=False) + "\n")
        fh.write('{"id": 2, "text": "' + "长" * 300_000 + '"}\n')
        fh.write(json.dumps({"id": 3, "text": "后。"}, ensure_ascii=False) + "\n")
    docs = read(feed, max_record_chars=100_000)
    assert [d.status for d in docs] == ["ok", "failed", "ok"]
    assert "max_record_chars" in docs[1].message and "line 2" in docs[1].message
    assert docs[2].articles[0].text == "后。"


def test_a_folder_of_10000_small_files(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(10_000):
        (folder / f"{i:05d}.txt").write_text(f"第{i}号简报。\n", encoding="utf-8")
    docs = read(folder)
    assert len(docs) == 10_000 and all(d.status == "ok" for d in docs)
    assert [Path(d.path).name for d in docs[:3]] == ["00000.txt", "00001.txt", "00002.txt"]
    assert docs[-1].articles[0].text == "第9999号简报。"


def test_sogou_truncated_record_and_stray_text_are_reported(tmp_path):
    f = tmp_path / "corpus.dat"
    rec = ("<doc>\n<url>http://news.sohu.com/20120612/n1.shtml</url>\n<docno>d1</docno>\n"
           "<contenttitle>标题</contenttitle>\n<content>正文。</content>\n</doc>\n")
    f.write_bytes(("<doclist>\n" + rec + "杂散文字\n" + rec.replace("d1", "d2")
                   + "<doc>\n<docno>d3</docno>\n<content>半截").encode("gb18030"))
    docs = read(f)
    assert [d.status for d in docs] == ["ok", "ok", "failed", "skipped"]
    assert docs[0].articles[0].source == "news.sohu.com"
    assert "truncated" in docs[2].message
    assert "4 characters outside" in docs[3].message


def test_json_array_and_xlsx_records(tmp_path):
    f = tmp_path / "items.json"
    f.write_text(json.dumps([{"id": 7, "title": "甲", "text": "正文甲。"}, "oops"],
                            ensure_ascii=False), encoding="utf-8")
    docs = read(f)
    assert [d.status for d in docs] == ["ok", "failed"]
    assert docs[0].articles[0].source_id == "7"

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "title", "date", "text"])
    ws.append(["x1", "乙", "2022-08-15", "正文乙。"])
    ws.append([None, None, None, None])
    ws.append(["x2", "丙", None, ""])
    g = tmp_path / "sheet.xlsx"
    wb.save(g)
    docs = read(g)
    assert [(d.format, d.status) for d in docs] == [("xlsx", "ok"), ("xlsx", "empty")]
    assert (docs[0].articles[0].title, docs[0].articles[0].date) == ("乙", "2022-08-15")


def test_unreadable_file_fails_with_a_message(tmp_path, monkeypatch):
    import builtins
    locked = tmp_path / "locked.txt"
    locked.write_text("内容。\n", encoding="utf-8")
    (tmp_path / "open.txt").write_text("内容。\n", encoding="utf-8")
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if Path(str(file)) == locked:
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", guarded)
    docs = {Path(d.path).name: d for d in read(tmp_path)}
    assert docs["locked.txt"].status == "failed" and "Permission denied" in docs["locked.txt"].message
    assert docs["open.txt"].status == "ok"


def test_credit_lines_go_to_the_byline_not_the_body_or_a_headline(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("本版编辑：王五\n\n" + _print_page(_ARTICLES, headline_first=False)
                    + "\n责任编辑：张三\n", encoding="utf-8")
    doc = only(read(page))
    assert [a.byline for a in doc.articles] == ["王芳；本版编辑：王五", "李明", "赵强；责任编辑：张三"]
    assert [a.title for a in doc.articles][2] == "第三届公益创投大赛启动报名"
    # an interview line is body text, not a credit
    qa = tmp_path / "qa.txt"
    qa.write_text("专访县民政局局长\n\n记者：今年的重点工作有哪些？\n\n局长：一是养老，二是救助。\n\n"
                  "记者：进展如何？\n\n局长：正在按计划推进。\n", encoding="utf-8")
    art = only(only(read(qa)).articles)
    assert art.text.startswith("记者：今年的重点工作有哪些？") and art.byline == ""
