"""The whole build, stage by stage: raw → lines → extract → tables → validate → publish.

Reading and writing happen only here and in ``ingest``/``publish``; every stage in between is a
pure function of its input.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .extract import ArticleRows, extract_article
from .ingest import Article, read_raw
from .publish import publish
from .tables import build_tables
from .validate import validate_frames


def extract_all(articles: list[Article]) -> list[ArticleRows]:
    """Run the per-article extractor over every article, in article_id order."""
    return [extract_article(a) for a in sorted(articles, key=lambda a: a.article_id)]


def build(root: Path) -> dict[str, pd.DataFrame]:
    """Build, validate and publish the release of the repository at ``root``; return its tables."""
    articles = read_raw(root / "raw")                      # 1 ingest (checks every raw file)
    article_rows = extract_all(articles)                   # 2 lines + 3 extract, per article
    frames = build_tables(article_rows)                    # 4 tables
    validate_frames(frames, {a.article_id: a.text for a in articles})  # 5 validate
    publish(frames, root / "data")                         # 6 publish (checks the files, then swaps)
    return frames
