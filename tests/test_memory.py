"""The build's memory: Arrow allocates from jemalloc in the build's processes unless the user chose
(ARROW_DEFAULT_MEMORY_POOL; ``memory``), and no choice changes a byte of the release; ingest's
articles are let go once the blocks are made (``pipeline.table_parts``); a block goes to the block
cache without its pickle whole in memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from coalition_news.memory import ARROW_POOL, lean_arrow_pool, use_lean_arrow_pool
from coalition_news.pipeline import BuildOptions, build
from coalition_news.validate import CheckProcess
from conftest import REPO, tree_bytes


needs_lean_pool = pytest.mark.skipif(lean_arrow_pool() is None, reason=f"this pyarrow has no {ARROW_POOL} allocator")


@pytest.fixture
def arrow_pool_restored():
    """Each test leaves Arrow's default allocator as it found it."""
    before = pa.default_memory_pool()
    yield
    pa.set_memory_pool(before)


@needs_lean_pool
def test_the_lean_pool_is_used_unless_the_user_chose_another(monkeypatch, arrow_pool_restored):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    pa.set_memory_pool(pa.system_memory_pool())
    assert use_lean_arrow_pool() == ARROW_POOL
    assert pa.default_memory_pool().backend_name == ARROW_POOL

    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")  # Arrow chose it when it started
    pa.set_memory_pool(pa.system_memory_pool())
    assert use_lean_arrow_pool() == "system"
    assert pa.default_memory_pool().backend_name == "system"


@needs_lean_pool
def test_a_build_allocates_from_the_lean_pool(repo_copy, monkeypatch, arrow_pool_restored):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    pa.set_memory_pool(pa.system_memory_pool())
    build(repo_copy, BuildOptions(jobs=1, cache=False))
    assert pa.default_memory_pool().backend_name == ARROW_POOL


@needs_lean_pool
def test_the_check_process_allocates_as_the_build_process_does(monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    with CheckProcess() as checker:
        assert checker._send("arrow_pool").result() == ARROW_POOL
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    with CheckProcess() as checker:
        assert checker._send("arrow_pool").result() == "system"


def test_the_allocator_changes_no_byte_of_the_release(tmp_path):
    """A clean build with Arrow's own default allocator writes the same bytes as one with the build's."""
    built = {}
    for pool in ("", "system"):
        root = tmp_path / (pool or "lean")
        shutil.copytree(REPO / "raw", root / "raw")
        env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": pool}
        result = subprocess.run([sys.executable, "-m", "coalition_news", "--root", str(root), "build", "--no-cache"],
                                capture_output=True, text=True, timeout=600, env=env)
        assert result.returncode == 0, result.stderr
        built[pool] = tree_bytes(root / "data")
    assert built[""] == built["system"]
    assert built[""] == tree_bytes(REPO / "data")


def test_table_parts_lets_each_blocks_articles_go_once_it_is_tabled(repo_copy):
    """Ingest's articles (~0.7 KB an article, scattered among ingest's garbage) are not held while
    their blocks wait: each block waits on disk (``WaitingBlocks``), and every article ingest made is
    gone once the first block is tabled. (Before, they went block by block; before that, at the end.)"""
    import gc
    import weakref

    from coalition_news.ingest import read_raw
    from coalition_news.pipeline import table_parts

    articles = read_raw(repo_copy / "raw", unread_ok=True)
    alive = [weakref.ref(a) for a in articles]
    parts = table_parts(articles, BuildOptions(jobs=1, cache=False, batch=2), root=repo_copy)
    del articles
    left = []
    for part in parts:
        assert len(part.frames["articles"])
        gc.collect()
        left.append(sum(ref() is not None for ref in alive))
    assert len(left) >= 2, "the test needs blocks"
    assert left == [0] * len(left)


def test_a_block_goes_to_the_block_cache_streamed_not_as_one_pickle_in_memory(tmp_path):
    """``stage_block`` dumps a block's tables into the file: ``pickle.dumps`` held the whole pickle
    (~30 MB a block of 1,000 articles), the build's highest moments between blocks at 100k."""
    import pickle
    import tracemalloc

    import pandas as pd

    from coalition_news.cache import ExtractCache
    from coalition_news.pipeline import TablePart

    texts = pd.array([f"قال المتحدث إن الطائرات نفذت {i} غارة قرب الموصل" for i in range(100_000)], dtype="string[pyarrow]")
    part = TablePart({"lines": pd.DataFrame({"text": texts, "line": range(100_000)})}, [], "block")
    size = len(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    cache = ExtractCache.open(tmp_path, "fingerprint")
    tracemalloc.start()
    try:
        cache.stage_block("block", part)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 5_000_000 and peak < size / 10, (peak, size)
    cache.commit_block("block")
    again = cache.get_block("block")
    pd.testing.assert_frame_equal(again.frames["lines"], part.frames["lines"])


def test_the_build_process_keeps_no_speaker_keys_from_block_to_block(repo_copy, monkeypatch):
    """When workers extract, the build process only tables: the keys of a block's speakers, cached
    as it merges them, are forgotten after the block (``extract.forget_text_memos``), so its caches
    do not grow with the corpus. The release is the same."""
    from coalition_news import pipeline, tables
    from coalition_news.extract.speakers import _speaker_key
    from coalition_news.lexicon import load_lexicon

    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ARTICLES", 1)
    held, add = [], tables.SpeakerFold.add

    def spy(fold, keyed):  # after each block is tabled, before it is let go
        held.append(_speaker_key.cache_info().currsize)
        add(fold, keyed)

    monkeypatch.setattr(tables.SpeakerFold, "add", spy)
    counts = build(repo_copy, BuildOptions(jobs=2, cache=False, batch=2))
    assert len(held) >= 4, "the test needs blocks"
    assert max(held[1:]) < counts["speakers"], held  # the first block's count may hold other tests' keys
    assert load_lexicon.cache_info().currsize > 0  # lexicons and patterns are kept
    assert tree_bytes(repo_copy / "data") == tree_bytes(REPO / "data")
