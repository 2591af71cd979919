"""The whole build, stage by stage: raw → lines → extract → tables → validate → publish.

Reading and writing happen only here and in ``ingest``/``publish``; every stage in between is a
pure function of its input.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .ingest import read_raw
from .publish import publish
from .tables import build_tables, extract_all
from .validate import validate_frames


def build(root: Path) -> dict[str, pd.DataFrame]:
    """Build, validate and publish the release of the repository at ``root``; return its tables."""
    articles = read_raw(root / "raw")                      # 1 ingest (checks every raw file)
    article_rows = extract_all(articles)                   # 2 lines + 3 extract, per article
    frames = build_tables(article_rows)                    # 4 tables
    validate_frames(frames, {a.article_id: a.text for a in articles})  # 5 validate
    publish(frames, root / "data")                         # 6 publish (checks the files, then swaps)
    return frames
