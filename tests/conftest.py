"""Shared fixtures: paths, and one pipeline run on the seed page for the whole session."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_PAGE = SEEDS / "000_4164016ad59407c4.txt"
SHARED = ROOT.parent / "shared"
SOGOU = SHARED / "data" / "sogou_news_dev.dat"
PEOPLE_DAILY = SHARED / "data" / "people_daily_ner_dev.bio"


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory):
    """The pipeline run once on ``seeds/``: (result, output folder)."""
    from pipeline.runner import run
    out = tmp_path_factory.mktemp("seed_output")
    result = run([str(SEEDS)], str(out), workers=1)
    return result, out


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


#: a word of each seed article's title or subtitle, naming the article in tests
SEED_ARTICLE_KEYS = ("推进会", "公益创投", "两岸", "慈善助学", "业主服务中心")


@lru_cache(maxsize=1)
def seed_bodies() -> dict[str, str]:
    """The seed page's article bodies as the ingest stage gives them, by SEED_ARTICLE_KEYS."""
    from pipeline.ingest import read_documents
    articles = [a for d in read_documents([SEED_PAGE]) for a in d.articles]
    out = {}
    for key in SEED_ARTICLE_KEYS:
        (match,) = [a for a in articles if key in a.title + a.subtitle]
        out[key] = match.text
    return out


@lru_cache(maxsize=1)
def sogou_contents() -> tuple[str, ...]:
    """Bodies of the Sogou sample's records as ingest reads them (empty ones left out)."""
    from pipeline.ingest import read_documents
    docs = list(read_documents([require(SOGOU)]))
    assert len(docs) == 100
    return tuple(a.text for d in docs for a in d.articles if a.text.strip())


def peoples_daily_texts(*, sentences_per_text: int = 10) -> list[str]:
    """People's Daily sentences (char-per-line BIO, blank line between sentences), grouped."""
    sentences, chars = [], []
    for line in require(PEOPLE_DAILY).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if chars:
                sentences.append("".join(chars))
                chars = []
            continue
        chars.append(line.split()[0])
    if chars:
        sentences.append("".join(chars))
    return ["".join(sentences[i:i + sentences_per_text])
            for i in range(0, len(sentences), sentences_per_text)]
