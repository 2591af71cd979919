"""Stage 4 — tables: per-article rows → one typed DataFrame per table, sorted by primary key.

Columns and dtypes come from ``schemas/`` (``schemas.pandas_dtypes``); a row field that the schema
does not declare is not published. Speakers are merged across articles here: one row per
normalised name, whatever spelling each article used.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable

import pandas as pd

from . import schemas
from .extract import ArticleRows
from .extract.speakers import SpeakerRef, keyed_speakers, merge_keyed_speakers, speaker_id

ROW_TABLES = ("lines", "quotes", "speaker_mentions", "figures", "events")


def frame(table: str, rows: Iterable[dict]) -> pd.DataFrame:
    """A DataFrame of ``rows`` with exactly the schema's columns and dtypes, sorted by primary key."""
    return _typed(table, pd.DataFrame.from_records(list(rows), columns=list(schemas.pandas_dtypes(table))))


def frame_of_columns(table: str, columns: dict[str, list]) -> pd.DataFrame:
    """``frame`` of rows given column by column (the columns the schema does not declare are left out)."""
    dtypes = schemas.pandas_dtypes(table)
    n = len(next(iter(columns.values()), []))
    return _typed(table, pd.DataFrame({c: columns[c] if c in columns else [None] * n for c in dtypes}))


def _typed(table: str, df: pd.DataFrame) -> pd.DataFrame:
    dtypes = schemas.pandas_dtypes(table)
    for col, dtype in dtypes.items():
        if dtype.startswith("datetime64"):
            df[col] = pd.to_datetime(df[col]).astype(dtype)
        else:
            df[col] = df[col].astype(dtype)
    return df.sort_values(schemas.primary_key(table), kind="mergesort", ignore_index=True)


def speaker_rows(refs: Iterable[SpeakerRef]) -> list[dict]:
    """One row per speaker, merged across every article that names them."""
    return keyed_speaker_rows(keyed_speakers(refs))


def speakers_frame(keyed: Iterable[tuple[str, SpeakerRef]]) -> pd.DataFrame:
    """``frame("speakers", keyed_speaker_rows(keyed))``, made column by column: no dict a speaker
    (~0.7 KB each, ~140 MB for the 200,000 speakers of a 300k build, at the end of the build)."""
    merged = merge_keyed_speakers(keyed)
    columns = {"speaker_id": [speaker_id(key) for key in merged], "name_key": list(merged)}
    for field in dataclasses.fields(SpeakerRef):
        columns[field.name] = [getattr(ref, field.name) for ref in merged.values()]
    return frame_of_columns("speakers", columns)


def keyed_speaker_rows(keyed: Iterable[tuple[str, SpeakerRef]]) -> list[dict]:
    """``speaker_rows`` of refs given with their ``speaker_key`` (``merge_keyed_speakers``)."""
    return [
        {"speaker_id": speaker_id(key), "name_key": key, **vars(ref)}
        for key, ref in merge_keyed_speakers(keyed).items()
    ]


_SHARED_FIELDS = ("kind", "title", "role", "affiliation")  # texts that recur across speakers


class SpeakerFold:
    """The speakers of a build's blocks, merged as the blocks come: one ref per speaker, where a
    list of every block's refs held one per block that names them, and one copy of each title, role
    and affiliation text, which recur across speakers (at 10,000 articles: 6,883 refs in 3.5 MB of
    objects against 7,823 in 6.7 MB).

    The same speakers as merging every block's refs at the end (``merge_keyed_speakers``): the
    merge does not depend on order, and merging merges changes nothing (tests/test_speakers.py).
    """

    def __init__(self) -> None:
        self.refs: dict[str, SpeakerRef] = {}

    def add(self, keyed: Iterable[tuple[str, SpeakerRef]]) -> None:
        """A block's refs with their ``speaker_key``, each already merged within the block."""
        for key, ref in keyed:
            seen = self.refs.get(key)
            if seen is None:
                self.refs[key] = self._sharing_texts(ref)
            elif seen != ref:
                self.refs[key] = self._sharing_texts(merge_keyed_speakers([(key, seen), (key, ref)])[key])

    def _sharing_texts(self, ref: SpeakerRef) -> SpeakerRef:
        shared = {field: sys.intern(text) for field in _SHARED_FIELDS if (text := getattr(ref, field))}
        return dataclasses.replace(ref, **shared)

    def __len__(self) -> int:
        return len(self.refs)


def build_tables(article_rows: list[ArticleRows], speakers: bool = True) -> dict[str, pd.DataFrame]:
    """All tables, keyed by name, in the data package's order (without ``speakers`` when False: a
    batch of a larger build leaves the merge across articles to the end)."""
    rows: dict[str, list[dict]] = {"articles": [r.article for r in article_rows]}
    for table in ROW_TABLES:
        rows[table] = [row for r in article_rows for row in getattr(r, table)]
    frames = {table: frame(table, table_rows) for table, table_rows in rows.items()}
    if speakers:
        frames["speakers"] = speakers_frame(keyed_speakers(ref for r in article_rows for ref in r.speakers))
    return {table: frames[table] for table in schemas.table_names() if table in frames}
