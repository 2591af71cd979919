"""The release streams block by block (docs/performance.md, "Streaming"): its files and its checks
must not depend on how the rows were cut into blocks, and must find what the whole-table checks find."""

from __future__ import annotations

import csv
import dataclasses
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news import pipeline, publish, schemas, validate
from coalition_news.ingest import read_raw
from coalition_news.pipeline import BuildOptions, build, extract_serial, table_part
from coalition_news.publish import CSV_OPTIONS, ParquetStream, ReleaseWriter, write_parquet
from coalition_news.tables import build_tables

from conftest import REPO, tree_bytes


@pytest.fixture(scope="module")
def articles():
    return pipeline.by_article_id(read_raw(REPO / "raw"))


@pytest.fixture(scope="module")
def rows(articles):
    return extract_serial(articles)


@pytest.fixture(scope="module")
def texts(articles):
    return {a.article_id: a.text for a in articles}


def _cuts(df: pd.DataFrame, bounds: list[int]) -> list[pd.DataFrame]:
    edges = [0, *sorted({min(b, len(df)) for b in bounds}), len(df)]
    return [df.iloc[a:b].reset_index(drop=True) for a, b in zip(edges, edges[1:])]


@settings(max_examples=40, deadline=None)
@given(bounds=st.lists(st.integers(0, 120), max_size=8), group=st.integers(1, 60))
def test_a_parquet_stream_writes_the_same_bytes_however_the_rows_arrive(rows, tmp_path_factory, bounds, group):
    """Row groups of a fixed size, whatever the blocks: the file equals the whole table's."""
    lines = build_tables(rows)["lines"]
    tmp = tmp_path_factory.mktemp("pq")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(publish.PARQUET_OPTIONS, "row_group_size", group)
        write_parquet("lines", lines, tmp / "whole")
        stream = ParquetStream("lines", tmp / "streamed.parquet")
        for piece in _cuts(lines, bounds):
            stream.add(piece)
        stream.close()
    whole = (tmp / "whole" / "parquet" / "lines.parquet").read_bytes()
    assert (tmp / "streamed.parquet").read_bytes() == whole
    meta = pq.ParquetFile(tmp / "streamed.parquet").metadata
    assert meta.num_row_groups == -(-len(lines) // group)
    assert all(meta.row_group(i).num_rows == group for i in range(meta.num_row_groups - 1))


def test_a_parquet_stream_holds_the_rows_not_yet_written_and_no_more(rows, tmp_path, monkeypatch):
    """What a written row group used is freed: the rows left over for the next group stay in the
    blocks they came in, not in a copy of the group they followed (a slice holds its parent's
    buffers), and the empty table kept for its schema holds no block. Arrow's allocator counts."""
    lines = pd.concat([build_tables(rows)["lines"]] * 40, ignore_index=True)
    group = 1000
    monkeypatch.setitem(publish.PARQUET_OPTIONS, "row_group_size", group)
    group_bytes = pa.Table.from_pandas(lines.iloc[:group], preserve_index=False).nbytes
    pieces = _cuts(lines, list(range(700, len(lines), 700)))  # each less than a group, never a multiple
    before = pa.total_allocated_bytes()
    stream = ParquetStream("lines", tmp_path / "streamed.parquet")
    held = []
    for piece in pieces:
        stream.add(piece)
        held.append(pa.total_allocated_bytes() - before)
    assert len(lines) > 3 * group and stream._held_rows % 700  # groups were written, rows are left over
    assert max(held) < group_bytes / 2, (held, group_bytes)
    assert stream._empty.get_total_buffer_size() < 64
    stream.close()


def test_a_table_without_rows_streams_to_the_file_of_its_empty_frame(rows, tmp_path):
    empty = build_tables(rows[:0])["quotes"]
    write_parquet("quotes", empty, tmp_path / "whole")
    stream = ParquetStream("quotes", tmp_path / "streamed.parquet")
    stream.add(empty)
    stream.add(empty)
    stream.close()
    assert (tmp_path / "streamed.parquet").read_bytes() == (tmp_path / "whole" / "parquet" / "quotes.parquet").read_bytes()


def test_a_cr_in_a_later_block_quotes_the_whole_csv_as_pandas_does(rows, tmp_path):
    """The first block was written unquoted before the CR showed up: the file is written again,
    from the Parquet file, every text field quoted (``publish.csv_quoting``)."""
    quotes = build_tables(rows)["quotes"].copy()
    quotes.loc[len(quotes) - 1, "text"] = "عنوان\rفرعي"
    writer = ReleaseWriter(tmp_path, ["quotes"])
    for piece in _cuts(quotes, [len(quotes) // 2]):
        writer.add({"quotes": piece})
    written = writer.close()
    assert "quotes" not in written  # not written piece by piece: no lines to keep
    expected = quotes.to_csv(quoting=csv.QUOTE_NONNUMERIC, **CSV_OPTIONS).encode("utf-8")
    assert (tmp_path / "csv" / "quotes.csv").read_bytes() == expected
    assert b'"\xd8\xb9' in expected  # Arabic text quoted


def _blocks(rows, texts, size):
    return [table_part(rows[i:i + size], texts) for i in range(0, len(rows), size)]


def _block_problems(parts, schema_rows=validate.SCHEMA_CHECK_ROWS) -> list[str]:
    checks = validate.BlockChecks(schema_rows)
    speakers = []
    for part in parts:
        checks.add(part.frames, provenance=part.provenance, parents=pipeline.speaker_parents(part))
        speakers += part.speakers
    checks.add({"speakers": pipeline.tables.frame("speakers", pipeline.tables.keyed_speaker_rows(speakers))})
    return checks.problems(lambda table, columns: _written(parts, table)[columns])


def _written(parts, table: str) -> pd.DataFrame:
    """A table as the blocks ``parts`` would write it: one after the other."""
    return pd.concat([part.frames[table] for part in parts], ignore_index=True)


def _whole_problems(frames, texts) -> list[str]:
    return validate.row_problems(frames, texts) + validate.table_problems(frames)


def _with(rows, index, table, change):
    """``rows`` with ``change(row_list)`` applied to a copy of article ``index``'s rows of ``table``."""
    copied = list(rows)
    own = [dict(r) for r in getattr(rows[index], table)]
    change(own)
    copied[index] = dataclasses.replace(rows[index], **{table: own})
    return copied


@pytest.mark.parametrize("size", [1, 2, 5])
@pytest.mark.parametrize("schema_rows", [1, 10**6])
def test_block_checks_pass_the_release_in_any_blocks(rows, texts, size, schema_rows):
    assert _block_problems(_blocks(rows, texts, size), schema_rows) == []


FAULTS = {
    "a quote id repeated in its article": ("quotes", lambda q: q.append(dict(q[0]))),
    "a figure on a line the article lacks": ("figures", lambda f: f[0].update(line=9999)),
    "a mention of a speaker no block names": ("speaker_mentions", lambda m: m[0].update(speaker_id="sp_000000000000")),
    "an attribution the schema does not list": ("quotes", lambda q: q[0].update(attribution="rumour")),
    "a span that is not the raw text": ("quotes", lambda q: q[0].update(text="نص لم يرد في المقال")),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("size", [1, 2])
def test_block_checks_find_what_the_whole_table_checks_find(rows, texts, fault, size):
    table, change = FAULTS[fault]
    index = next(i for i, r in enumerate(rows) if getattr(r, table))
    bad = _with(rows, index, table, change)
    whole = _whole_problems(build_tables(bad), texts)
    assert whole  # the fault is one
    assert sorted(_block_problems(_blocks(bad, texts, size))) == sorted(whole)


def test_a_sha256_repeated_across_blocks_is_found(rows, texts):
    """An article's SHA-256 is unique over the whole table, not only within its block."""
    bad = list(rows)
    bad[-1] = dataclasses.replace(bad[-1], article={**bad[-1].article, "raw_sha256": bad[0].article["raw_sha256"]})
    found = _block_problems(_blocks(bad, texts, 1))
    assert sorted(found) == sorted(_whole_problems(build_tables(bad), texts))
    assert sum("field_uniqueness" in p and "raw_sha256" in p for p in found) == 2


def test_the_unique_columns_are_read_back_only_when_a_digest_repeats(rows, texts, monkeypatch):
    """Across blocks, an article's raw path and SHA-256 are kept as 128-bit digests, not values;
    the written table is read back only when one repeats. A digest two values share (forced here)
    sends their rows to the exact check, which finds nothing."""
    parts = _blocks(rows, texts, 1)
    asked = []

    def written(table, columns):
        asked.append((table, columns))
        return _written(parts, table)[columns]

    def problems():
        checks = validate.BlockChecks()
        for part in parts:
            checks.add(part.frames, provenance=part.provenance, parents=pipeline.speaker_parents(part))
        return checks.problems(written)

    assert problems() == [] and asked == []
    monkeypatch.setattr(validate, "value_digests", lambda column: np.zeros((int(column.notna().sum()), 2), dtype=np.uint64))
    assert problems() == [] and asked == [("articles", ["raw_path", "raw_sha256", "article_id"])]


def test_block_checks_hold_none_of_a_blocks_arrow_memory(rows, texts):
    """What the checks keep of a block once it is added is theirs: before, the articles' unique
    columns were kept as frames that held the blocks' Arrow buffers to the end of the build."""
    import gc

    gc.collect()
    before = pa.total_allocated_bytes()
    parts = _blocks(rows, texts, 1)
    checks = validate.BlockChecks()
    for part in parts:
        checks.add(part.frames, fresh=False)
    del part, parts
    gc.collect()
    assert pa.total_allocated_bytes() == before, "the checks hold Arrow memory of blocks already added"


def test_blocks_out_of_key_order_are_a_problem(rows, texts):
    """A stream cannot sort: blocks must follow one another in key order."""
    parts = _blocks(rows, texts, 2)
    found = _block_problems([parts[1], parts[0], *parts[2:]])
    assert any("not in primary-key order" in p and p.startswith("articles: ") for p in found)


def test_a_streamed_build_in_small_blocks_and_row_groups_equals_one_block(repo_copy, tmp_path, monkeypatch):
    """Blocks of about one article, Parquet row groups of 16 rows: the release of one block, and
    every large table is written in several row groups."""
    monkeypatch.setitem(publish.PARQUET_OPTIONS, "row_group_size", 16)
    one = tmp_path / "one"
    shutil.copytree(repo_copy / "raw", one / "raw")
    build(one, BuildOptions(jobs=1, cache=False))
    build(repo_copy, BuildOptions(jobs=1, cache=True, batch=2))
    assert tree_bytes(repo_copy / "data") == tree_bytes(one / "data")
    assert pq.ParquetFile(one / "data" / "parquet" / "lines.parquet").metadata.num_row_groups > 2
    build(repo_copy, BuildOptions(jobs=1, cache=True, batch=2))  # the blocks from the cache, their CSV lines kept
    assert tree_bytes(repo_copy / "data") == tree_bytes(one / "data")
    # and the row groups change nothing but the Parquet files' layout
    for table in schemas.table_names():
        pd.testing.assert_frame_equal(validate.read_parquet_typed(table, one / "data" / "parquet" / f"{table}.parquet"),
                                      validate.read_parquet_typed(table, REPO / "data" / "parquet" / f"{table}.parquet"))


def test_the_build_returns_each_tables_rows(repo_copy):
    counts = build(repo_copy, BuildOptions(jobs=1, cache=False))
    assert list(counts) == list(schemas.table_names())
    for table, n in counts.items():
        assert pq.ParquetFile(repo_copy / "data" / "parquet" / f"{table}.parquet").metadata.num_rows == n


def test_a_cached_block_is_checked_for_its_place_not_again_for_its_own_rows(rows, texts):
    """A block from the cache passed its own keys and references when it was cached; its order
    among the blocks and the unique columns across blocks are checked again."""
    parts = _blocks(rows, texts, 2)
    checks = validate.BlockChecks()
    for part in [parts[1], parts[0]]:
        checks.add(part.frames, fresh=False, parents=pipeline.speaker_parents(part))
    found = checks.problems()
    assert found and all("not in primary-key order" in p for p in found)
