"""Tables: fixed columns, offsets that slice back, CSV safe to open in a spreadsheet."""
import pandas as pd

from pipeline import tables as T
from pipeline.model import Article, ArticleAnalysis, Figure


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
