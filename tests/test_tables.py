"""Tables: fixed columns, offsets that slice back, CSV safe to open in a spreadsheet."""
import pandas as pd

from pipeline import tables as T
from pipeline.model import Article, ArticleAnalysis, Figure
from pipeline.text import escape_formula, sentence_at


def _analysis(text: str, figures, article_id="d-000") -> ArticleAnalysis:
    article = Article(article_id=article_id, doc_id="d", seq=0, text=text)
    return ArticleAnalysis(article=article, base_date=None, base_date_source=None,
                           figures=figures, mentions=[])


def test_sentence_offsets_slice_back_to_the_sentence_shown():
    text = "第一句。\n\u3000\u3000共有56家社会组织参加。\n"
    start = text.index("56家")
    (row,) = T.figure_rows(_analysis(text, [Figure(start, start + 3, "56家", "count", 56)]))
    assert row["sentence"] == "共有56家社会组织参加。"
    assert text[row["sentence_start"]:row["sentence_end"]] == row["sentence"]


def test_figure_ids_are_unique_across_articles_that_share_a_passage():
    text = "累计投入500多万元开展助老活动。"
    fig = Figure(4, 11, "500多万元", "money", 5_000_000)
    rows = T.figure_rows(_analysis(text, [fig], "a-000")) + T.figure_rows(_analysis(text, [fig], "b-000"))
    unique = T.disambiguate_figure_ids(rows)
    ids = [r["figure_id"] for r in unique]
    assert len(set(ids)) == 2 and ids[0] == rows[0]["figure_id"] and ids[1] == ids[0] + "-2"


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_quoted_but_parquet_keeps_them(tmp_path):
    rows = [{"term": '=HYPERLINK("http://e.x","点我")', "score": 1.0, "df": 1},
            {"term": "-1+1", "score": 0.5, "df": 1},
            {"term": "社会组织", "score": 0.2, "df": 2}]
    T.write_table(T.frame("keywords", rows), tmp_path, "keywords")
    csv = pd.read_csv(tmp_path / "keywords.csv", encoding="utf-8-sig")
    assert csv["term"].tolist() == ['\'=HYPERLINK("http://e.x","点我")', "'-1+1", "社会组织"]
    assert T.read_table(tmp_path, "keywords")["term"].tolist() == [r["term"] for r in rows]


#: cells that CSV quoting, spreadsheet guards, UTF-8 or dtype conversion must get right
_HOSTILE_TEXT = ["a,b", 'say "hi"', "two\nlines", "cr\rlf\r\n", "=SUM(A1)", "+1", "-2", "@x",
                 "\tx", "'=already", "'", "", None, "lone \ud800 surrogate", "byte \udcff",
                 "\x00=nul", "中文，逗号", "nan"]
_HOSTILE_FLOAT = [None, 0.0, -0.0, 0.1, 1e16, 1e-05, 5e-324, 1.7976931348623157e308,
                  float("nan"), float("inf"), 3, 2 ** 60, "1.5", "x", True]
_HOSTILE_INT = [None, 0, -7, 2 ** 53 + 1, 2 ** 62, 3.0, "12", "x"]


def _hostile_rows(name, n=40):
    rows = []
    for i in range(n):
        row = {}
        for j, c in enumerate(T.COLUMNS[name]):
            pool = (_HOSTILE_FLOAT if c in T._FLOAT else _HOSTILE_INT if c in T._INT
                    else _HOSTILE_TEXT)
            if (i + j) % 11:  # now and then a column is left out
                row[c] = pool[(i * 7 + j * 3) % len(pool)]
        rows.append(row)
    return rows


def _pandas_csv(df) -> bytes:
    """The CSV the tables have always had: DataFrame.to_csv, formula cells guarded."""
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == "string":
            df[c] = df[c].map(escape_formula, na_action="ignore").astype("string")
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def test_csv_is_what_pandas_writes_and_parquet_reads_back_the_frame(tmp_path):
    for name in ("figures", "articles", "keywords"):
        chunks = [_hostile_rows(name), [], _hostile_rows(name, 7)]
        with T.TableWriter(tmp_path / "rows", name) as writer:
            for chunk in chunks:
                writer.write(chunk)
        with T.TableWriter(tmp_path / "frames", name) as writer:
            for chunk in chunks:
                writer.write_frame(T.frame(name, chunk))
        whole = T.frame(name, chunks[0] + chunks[2])
        written = (tmp_path / "rows" / f"{name}.csv").read_bytes()
        assert written == _pandas_csv(whole)
        assert written == (tmp_path / "frames" / f"{name}.csv").read_bytes()
        assert ((tmp_path / "rows" / f"{name}.parquet").read_bytes()
                == (tmp_path / "frames" / f"{name}.parquet").read_bytes())
        back = T.read_table(tmp_path / "rows", name)
        assert back.equals(whole) and list(back.dtypes) == list(whole.dtypes)


def test_frame_converts_cells_like_pandas():
    rows = _hostile_rows("figures")
    df = T.frame("figures", rows)
    for c in T.COLUMNS["figures"]:
        values = pd.Series([r.get(c) for r in rows], dtype=object)
        if c in T._FLOAT:
            expected = pd.to_numeric(values, errors="coerce").astype("float64")
        elif c in T._INT:
            expected = pd.to_numeric(values, errors="coerce").astype("Int64")
        else:
            expected = values.map(T.writable).astype("string")
        assert df[c].equals(expected), c


def test_a_table_without_rows_has_its_header(tmp_path):
    with T.TableWriter(tmp_path, "keywords"):
        pass
    assert (tmp_path / "keywords.csv").read_bytes() == "\ufeffterm,score,df\n".encode()
    assert T.read_table(tmp_path, "keywords").equals(T.frame("keywords", []))


def test_a_figures_sentence_is_the_one_sentence_at_finds():
    text = "\u3000\u3000第一句有3个。第二句“引用5次。”\n\n第三句7项；8项\n末尾9"
    figures = [Figure(i, i + 1, text[i], "count", 1.0) for i, ch in enumerate(text) if ch.isdigit()]
    figures += [Figure(3, text.index("二") + 1, "", "count", 1.0),   # across sentences
                Figure(0, 0, "", "count", None), Figure(len(text) - 1, len(text) + 5, "", "count", None)]
    for row, f in zip(T.figure_rows(_analysis(text, figures)), figures):
        s, e = sentence_at(text, f.start, f.end)
        while s < f.start and text[s].isspace():
            s += 1
        while e > f.end and text[e - 1].isspace():
            e -= 1
        assert (row["sentence_start"], row["sentence_end"], row["sentence"]) == (s, e, text[s:e])


def _many_figures(tmp_path, n=1_200, chunk=256):
    """A figures table of ``n`` rows in row groups of ``chunk``, some cells missing."""
    rows = [dict(figure_id=f"f{i:05d}", doc_id="d", article_id=f"a{i // 7}", start=i, end=i + 2,
                 text="三成" if i % 5 else None, kind="share", value=0.3 if i % 3 else None,
                 low=None, high=None, unit="%", review_status="ok" if i % 11 == 0 else None)
            for i in range(n)]
    with T.TableWriter(tmp_path, "figures") as writer:
        for lo in range(0, n, chunk):
            writer.write(rows[lo:lo + chunk])
    return T.TableSet(tmp_path)


def test_rows_where_gives_what_a_whole_read_filtered_gives(tmp_path):
    tables = _many_figures(tmp_path)
    wanted = {f"f{i:05d}" for i in (1_199, 3, 700, 255, 256, 257)} | {"not-there"}
    columns = [c for c in T.COLUMNS["figures"] if c != "sentence"]
    whole = tables.read("figures", columns=columns)
    expected = whole[whole["figure_id"].isin(wanted)].reset_index(drop=True)
    got = tables.rows_where("figures", "figure_id", wanted, columns=columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["figure_id"].tolist() == sorted(wanted - {"not-there"})  # file order
    # the column searched need not be among those returned
    texts = tables.rows_where("figures", "figure_id", wanted, columns=["text", "start"])
    assert list(texts.columns) == ["text", "start"] and texts["start"].tolist() == [3, 255, 256, 257, 700, 1199]
    none = tables.rows_where("figures", "figure_id", set(), columns=columns)
    pd.testing.assert_frame_equal(none, whole.iloc[0:0].reset_index(drop=True), check_exact=True)
    # a missing value asked for finds the rows where the column is missing, as isin does
    for missing in (None, float("nan"), pd.NA):
        got = tables.rows_where("figures", "text", {"三成", missing}, columns=["figure_id", "text"])
        pd.testing.assert_frame_equal(
            got, whole[whole["text"].isin(["三成", None])][["figure_id", "text"]].reset_index(drop=True),
            check_exact=True)


def test_article_texts_are_read_for_the_articles_asked_for(tmp_path):
    rows = [dict(article_id=f"a{i}", doc_id="d", text=f"正文{i}" if i != 4 else "") for i in range(600)]
    with T.TableWriter(tmp_path, "articles") as writer:
        writer.write(rows[:300])
        writer.write(rows[300:])
    texts = T.TableSet(tmp_path).article_texts(["a599", "a4", "a0", "nope", None, pd.NA])
    assert texts == {"a0": "正文0", "a4": "", "a599": "正文599"}  # no article lacks an id here
    assert T.TableSet(tmp_path).article_texts([]) == {}
