"""Shared fixtures: paths, and one pipeline run on the seed page for the whole session."""
from __future__ import annotations

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
