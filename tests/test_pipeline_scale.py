"""Scale options never change the release: parallel, cached, incremental and Dask builds are
byte-identical to a serial clean build; the cache invalidates when an article, its manifest entry or
the extractor changes; partitioned Parquet reads back as the same tables."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition_news import cache as cache_mod
from coalition_news import pipeline, schemas, tables
from coalition_news.cache import ExtractCache, article_key, extractor_fingerprint
from coalition_news import distributed
from coalition_news.errors import BuildError
from coalition_news.distributed import article_block, partition_file, read_partitioned, write_partitioned
from coalition_news.files import read_sealed
from coalition_news.ingest import IngestError, read_raw
from coalition_news.manifest import read_manifest, write_manifest
from coalition_news.pipeline import BuildOptions, build, extract_all, extract_parallel, extract_serial
from coalition_news.publish import PARQUET_OPTIONS, write_release
from coalition_news.tables import build_tables
from coalition_news.validate import ValidationError

from conftest import REPO, run_cli, tree_bytes


@pytest.fixture(scope="module")
def articles():
    return pipeline.by_article_id(read_raw(REPO / "raw"))


@pytest.fixture(scope="module")
def serial_rows(articles):
    return extract_serial(articles)


def release_bytes(rows, tmp: Path) -> dict[str, bytes]:
    write_release(build_tables(rows), tmp)
    return tree_bytes(tmp)


def test_parallel_extraction_equals_serial(articles, serial_rows, tmp_path):
    parallel = extract_parallel(articles, jobs=2, min_articles=1)
    assert [r.article["article_id"] for r in parallel] == [a.article_id for a in articles]
    assert parallel == serial_rows
    assert release_bytes(parallel, tmp_path / "p") == release_bytes(serial_rows, tmp_path / "s")


def test_extract_all_sorts_by_article_id(articles, serial_rows):
    assert extract_all(list(reversed(articles))) == serial_rows


def test_cli_parallel_cached_build_equals_serial_clean_build(repo_copy, tmp_path):
    clean = tmp_path / "clean"
    shutil.copytree(repo_copy / "raw", clean / "raw")
    assert run_cli(clean, "build", "--jobs", "1", "--no-cache").returncode == 0
    assert not (clean / ".cache").exists()
    for _ in range(2):  # the first run fills the cache, the second reads every article from it
        result = run_cli(repo_copy, "build", "--jobs", "2")
        assert result.returncode == 0, result.stderr
        assert tree_bytes(repo_copy / "data") == tree_bytes(clean / "data")
    assert (repo_copy / cache_mod.CACHE_DIR / cache_mod.CACHE_FILE).is_file()


def test_incremental_build_extracts_only_the_new_article(repo_copy, tmp_path, monkeypatch):
    """Build four articles, add the fifth, rebuild: one extraction, and the bytes of a clean build."""
    entries = read_manifest(repo_copy / "raw")
    held_back = entries[-1]
    moved = tmp_path / held_back.file
    shutil.move(repo_copy / "raw" / held_back.file, moved)
    write_manifest(repo_copy / "raw", entries[:-1])
    build(repo_copy, BuildOptions(jobs=1, cache=True))

    (repo_copy / "raw" / held_back.file).write_bytes(moved.read_bytes())
    write_manifest(repo_copy / "raw", entries)
    extracted = []
    real = pipeline.extract_article
    monkeypatch.setattr(pipeline, "extract_article", lambda a: extracted.append(a.article_id) or real(a))
    build(repo_copy, BuildOptions(jobs=1, cache=True))
    assert extracted == [held_back.article_id]

    clean = tmp_path / "clean"
    shutil.copytree(repo_copy / "raw", clean / "raw")
    build(clean, BuildOptions(jobs=1, cache=False))
    assert tree_bytes(repo_copy / "data") == tree_bytes(clean / "data")


def _hold_back(root: Path, tmp_path: Path, which: list[int]) -> list:
    """Take the manifest entries at positions ``which`` (and their files) out of ``root``'s raw/;
    return a function that puts them back."""
    entries = read_manifest(root / "raw")
    held = [entries[i] for i in which]
    for entry in held:
        shutil.move(root / "raw" / entry.file, tmp_path / entry.file)
    write_manifest(root / "raw", [e for e in entries if e not in held])

    def put_back():
        for entry in held:
            (root / "raw" / entry.file).write_bytes((tmp_path / entry.file).read_bytes())
        write_manifest(root / "raw", entries)
    return held, put_back


def test_an_incremental_build_tables_its_new_blocks_aside_in_a_warm_worker(repo_copy, tmp_path, monkeypatch):
    """With two cores and the cache: a worker is forked before ingest, and tables the blocks of
    the new articles (the first and the last block) while this process writes the others; the
    bytes are a clean build's, and the new rows are cached."""
    held, put_back = _hold_back(repo_copy, tmp_path, [0, 4])
    options = BuildOptions(jobs=2, cache=True, batch=2)
    warmed, aside, here = [], [], []
    real_warm, real_submit, real_table = pipeline.Workers.warm_aside, pipeline.Workers.submit_aside, pipeline.table_part
    monkeypatch.setattr(pipeline.Workers, "warm_aside", lambda self: warmed.append(True) or real_warm(self))
    monkeypatch.setattr(pipeline.Workers, "submit_aside",
                        lambda self, fn, arts, *args: aside.append([a.article_id for a in arts]) or real_submit(self, fn, arts, *args))
    monkeypatch.setattr(pipeline, "table_part", lambda rows, *args: here.append(len(rows)) or real_table(rows, *args))
    build(repo_copy, options)
    assert warmed == [] and aside == []  # no cache yet: a clean build has no worker aside
    assert here  # ... and tables each block here

    put_back()
    here.clear()
    build(repo_copy, options)
    assert warmed == [True]
    new_ids = {e.article_id for e in held}
    assert len(aside) == 2 and all(new_ids & set(block) for block in aside)
    assert here == []  # nothing tabled here (the worker counts its own in its copy of ``here``)
    cache = ExtractCache.open(repo_copy)
    try:
        assert not cache.missing(article_key(a) for a in read_raw(repo_copy / "raw"))
    finally:
        cache.close()
    clean = tmp_path / "clean"
    shutil.copytree(repo_copy / "raw", clean / "raw")
    build(clean, BuildOptions(jobs=1, cache=False))
    assert tree_bytes(repo_copy / "data") == tree_bytes(clean / "data")


def test_many_new_articles_or_blocks_are_tabled_in_their_turn(repo_copy, tmp_path, monkeypatch):
    """From ``PARALLEL_MIN_ARTICLES`` new articles, or more than ``BLOCKS_ASIDE`` new blocks, on,
    the warm worker is stopped and each block is tabled in its turn (by the pool's workers, when it
    has ``PARALLEL_MIN_ARTICLES`` articles); the bytes are the same."""
    _, put_back = _hold_back(repo_copy, tmp_path, [1, 3])
    options = BuildOptions(jobs=2, cache=True, batch=2)
    build(repo_copy, options)
    put_back()
    aside, ended = [], []
    real_end = pipeline.Workers.end_aside
    monkeypatch.setattr(pipeline.Workers, "submit_aside", lambda self, *args: aside.append(args))
    monkeypatch.setattr(pipeline.Workers, "end_aside", lambda self: ended.append(self._aside is not None) or real_end(self))
    for name, value in (("PARALLEL_MIN_ARTICLES", 2), ("BLOCKS_ASIDE", 1)):
        with monkeypatch.context() as patched:
            patched.setattr(pipeline, name, value)
            ended.clear()
            (repo_copy / cache_mod.CACHE_DIR / cache_mod.BLOCKS_DIR).rename(tmp_path / f"blocks-{name}")  # new blocks again
            build(repo_copy, options)
            assert aside == [] and ended[0] is True, name  # the warm worker stopped as soon as it was not needed
            assert tree_bytes(repo_copy / "data") == tree_bytes(REPO / "data")


def test_an_error_in_a_block_tabled_aside_stops_the_build(repo_copy, tmp_path):
    """A raw file changed after ingest checked it is found in the worker, and named."""
    (held,), put_back = _hold_back(repo_copy, tmp_path, [2])
    options = BuildOptions(jobs=2, cache=True, batch=2)
    build(repo_copy, options)
    put_back()
    real_read_raw = pipeline.read_raw

    def read_then_change(*args, **kwargs):
        articles = real_read_raw(*args, **kwargs)
        (repo_copy / "raw" / held.file).write_bytes(b"\xd8\xa7" * 10)  # after ingest, before the worker reads it
        return articles

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(pipeline, "read_raw", read_then_change)
        with pytest.raises(IngestError, match=f"raw/{held.file}: changed during the build"):
            build(repo_copy, options)


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_workers_end_when_the_build_process_is_killed():
    """A build killed with SIGKILL leaves no worker behind (each would wait for tasks forever and
    keep the build's output pipes open: ``capture_output`` would never see them close)."""
    code = f"""
import os, signal
from pathlib import Path
from coalition_news.ingest import read_raw
from coalition_news.pipeline import Workers
workers = Workers(jobs=2, min_articles=1)
workers.warm_aside()
workers.submit_aside(int).result()
workers.extract(read_raw(Path({str(REPO / "raw")!r})))
print(*workers._aside._processes, *workers._pool._processes, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    pids = [int(p) for p in result.stdout.split()]
    assert len(pids) == 3, result.stderr
    deadline = time.monotonic() + 30
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(p) for p in pids)


def test_the_cache_says_which_keys_it_lacks_and_whether_it_holds_any(tmp_path, serial_rows):
    cache = ExtractCache.open(tmp_path, fingerprint="this")
    assert not cache.has_rows()
    assert cache.missing(["k1", "k2"]) == {"k1", "k2"}
    cache.put_many([("k1", serial_rows[0])])
    assert cache.has_rows()
    assert cache.missing(["k1", "k2"]) == {"k2"}
    cache.close()
    other = ExtractCache.open(tmp_path, fingerprint="another extractor")
    assert not other.has_rows() and other.missing(["k1"]) == {"k1"}
    other.close()


def test_warm_up_compiles_the_patterns_extraction_compiles_on_first_use():
    code = ("from coalition_news.extract import warm_up, figures\n"
            "from coalition_news.text import dates\n"
            "assert dates._grammar.cache_info().currsize == 0\n"
            "warm_up()\n"
            "assert dates._grammar.cache_info().currsize == 1\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_cache_key_covers_bytes_and_manifest_entry_not_its_line(articles):
    a = articles[0]
    assert article_key(a) == article_key(dataclasses.replace(a, source=dataclasses.replace(a.source, manifest_line=999)))
    assert article_key(a) != article_key(dataclasses.replace(a, source=dataclasses.replace(a.source, outlet="وكالة أخرى")))
    assert article_key(a) != article_key(dataclasses.replace(a, sha256="0" * 64))


def test_fingerprint_changes_when_a_lexicon_or_extractor_changes(tmp_path):
    package = tmp_path / "pkg"
    shutil.copytree(REPO / "build", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = extractor_fingerprint(package)
    assert extractor_fingerprint(package) == before
    lexicon = next((package / "lexicons").glob("*.yaml"))
    lexicon.write_text(lexicon.read_text(encoding="utf-8") + "\n# قائمة معدلة\n", encoding="utf-8")
    after_lexicon = extractor_fingerprint(package)
    assert after_lexicon != before
    extractor = package / "extract" / "__init__.py"
    extractor.write_text(extractor.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert extractor_fingerprint(package) not in (before, after_lexicon)
    (package / "cli.py").write_text("# not part of extraction\n", encoding="utf-8")
    assert extractor_fingerprint(package) == extractor_fingerprint(package)


def test_cache_ignores_rows_of_another_fingerprint_and_prunes_them(tmp_path, serial_rows):
    old = ExtractCache.open(tmp_path, fingerprint="old")
    old.put_many([("k1", serial_rows[0]), ("k2", serial_rows[1])])
    old.close()
    new = ExtractCache.open(tmp_path, fingerprint="new")
    assert dict(new.get_many(["k1", "k2"])) == {}
    new.put_many([("k1", serial_rows[0])])
    assert dict(new.get_many(["k1", "k2"])) == {"k1": serial_rows[0]}
    assert new.prune(["k1"]) == 1          # "k2" of "old" goes; "k1" was replaced by the "new" rows
    assert len(new) == 1
    new.close()


def test_cached_rows_are_stored_compressed_and_older_plain_pickles_still_read(tmp_path, serial_rows):
    cache = ExtractCache.open(tmp_path, fingerprint="f")
    cache.put_many([("new", serial_rows[0])])
    (blob,) = cache.db.execute("SELECT data FROM rows WHERE key = 'new'").fetchone()
    plain = pickle.dumps(serial_rows[0], protocol=pickle.HIGHEST_PROTOCOL)
    assert len(blob) < 0.7 * len(plain)  # an article's rows: quotes, lines and spans repeat a lot
    with cache.db:  # as a cache written before the rows were compressed holds them
        cache.db.execute("INSERT INTO rows VALUES ('old', 'f', ?)", [plain])
        cache.db.execute("INSERT INTO rows VALUES ('cut', 'f', ?)", [blob[: len(blob) // 2]])
    assert dict(cache.get_many(["new", "old", "cut"])) == {"new": serial_rows[0], "old": serial_rows[0]}
    cache.close()


def test_the_rows_kept_are_those_of_every_block_the_build_named(tmp_path, serial_rows):
    cache = ExtractCache.open(tmp_path, fingerprint="f")
    cache.put_many([(k, serial_rows[0]) for k in ("a", "b", "c", "d")])
    cache.keep(["a"])
    cache.keep(["c", "a"])
    assert cache.prune() == 2 and dict(cache.get_many(["a", "b", "c", "d"])).keys() == {"a", "c"}
    cache.keep(["c"])  # the next build names its own: nothing of the last one stays kept
    assert cache.prune() == 1 and len(cache) == 1
    cache.close()


def test_the_keys_kept_for_the_prune_are_held_as_digests(tmp_path):
    """100,000 article keys kept cost 8 bytes each (not a string each, nor a table to fill), and the
    prune still drops exactly the rows of the keys no block named."""
    import hashlib

    cache = ExtractCache.open(tmp_path, fingerprint="f")
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(100_003)]
    with cache.db:
        cache.db.executemany("INSERT INTO rows VALUES (?, 'f', x'00')", [(k,) for k in keys])
    named = [k for i, k in enumerate(keys) if i not in (7, 50_000, 100_002)]
    for i in range(0, len(named), 1000):
        cache.keep(named[i:i + 1000])
    assert sum(a.nbytes for a in cache._kept) == 8 * len(named)
    assert cache.prune() == 3 and len(cache) == len(named)
    assert cache.missing([keys[7], keys[50_000], keys[100_002], keys[8]]) == {keys[7], keys[50_000], keys[100_002]}
    cache.close()


def test_a_build_drops_the_cached_rows_of_an_article_no_longer_in_raw(repo_copy):
    def cached_rows() -> int:
        cache = ExtractCache.open(repo_copy, read_only=True)
        try:
            return len(cache)
        finally:
            cache.close()

    build(repo_copy, BuildOptions(jobs=1))
    assert cached_rows() == 5
    gone = read_manifest(repo_copy / "raw")[0]
    (repo_copy / "raw" / gone.file).unlink()
    write_manifest(repo_copy / "raw", read_manifest(repo_copy / "raw")[1:])
    build(repo_copy, BuildOptions(jobs=1))
    assert cached_rows() == 4


def test_blocks_wait_on_disk_and_come_back_as_they_were(repo_copy):
    """``WaitingBlocks``: what a block waits with (its articles and their keys) is in a file, not
    in memory; each comes back equal."""
    import gc
    import pickle
    import tracemalloc

    from coalition_news.cache import article_key
    from coalition_news.ingest import read_raw
    from coalition_news.pipeline import WaitingBlocks

    articles = read_raw(repo_copy / "raw")

    def blocks():  # three blocks of some size, each article a copy with a text of its own
        copies = [dataclasses.replace(a, text=f"{a.text}{i}") for i in range(20) for a in articles]
        return [copies[:40], copies[40:80], copies[80:]]

    keys = [[article_key(a) for a in chunk] for chunk in blocks()]
    size = sum(len(pickle.dumps(c)) + len(pickle.dumps(k)) for c, k in zip(blocks(), keys))
    with WaitingBlocks() as shelf:
        shelf.add(articles[:1], keys[0][:1], "warm")  # pickle's first use fills caches of its own
        chunks = blocks()
        tracemalloc.start()
        try:
            waiting = [shelf.add(c, k, f"block{i}") for i, (c, k) in enumerate(zip(chunks, keys))]
            del chunks  # (pickling a text caches its UTF-8 in it: gone with the articles, as in a build)
            gc.collect()
            held, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert held < size / 50, f"{held:,} bytes held for {size:,} bytes of waiting blocks"
        assert [w.articles() for w in reversed(waiting)] == list(reversed(blocks()))
        assert [w.keys() for w in waiting] == keys and [len(w) for w in waiting] == [40, 40, 20]


def test_dask_extraction_equals_serial(articles, serial_rows, tmp_path):
    pytest.importorskip("dask.bag")
    distributed = pytest.importorskip("distributed")
    from coalition_news.distributed import extract_with_dask

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            rows = extract_with_dask(articles, client=client, workers=2)
    assert rows == serial_rows
    assert release_bytes(rows, tmp_path / "d") == release_bytes(serial_rows, tmp_path / "s")


class _QueuedCluster:
    """A client whose computations wait until their result is asked for, on a cluster of
    ``threads`` threads: what ``start_with_dask`` submits, and when it waits."""

    def __init__(self, threads: dict[str, int]):
        self.threads, self.submitted, self.waited = threads, [], 0

    def nthreads(self) -> dict[str, int]:
        return self.threads

    def compute(self, bag):
        self.submitted.append(bag.npartitions)
        client = self

        class Future:
            def result(self):
                client.waited += 1
                return bag.compute(scheduler="sync")

        return Future()


def test_dask_blocks_are_submitted_and_waited_for_later(articles, serial_rows):
    """The build tables one block while the cluster extracts the next: submitting returns at once,
    and the block is cut into 4 partitions for each of the cluster's threads."""
    pytest.importorskip("dask.bag")
    from coalition_news.distributed import start_with_dask

    many, rows = articles * 8, serial_rows * 8  # 40 articles
    cluster = _QueuedCluster({"tcp://a:1": 2, "tcp://b:1": 3})
    waiting = start_with_dask(many, cluster, workers=2)
    assert cluster.submitted == [20] and cluster.waited == 0
    assert waiting() == rows and cluster.waited == 1
    empty = _QueuedCluster({})
    assert start_with_dask(many, empty, workers=1)() == rows
    assert empty.submitted == [4]  # no worker has joined yet: the build's own count


def _assert_same_part(joined, whole) -> None:
    """Two ``TablePart``s hold the same frames, speakers and provenance problems."""
    for table in whole.frames:
        pd.testing.assert_frame_equal(joined.frames[table], whole.frames[table])
    assert joined.speakers == whole.speakers and joined.provenance == whole.provenance


def test_dask_tables_a_block_in_pieces_with_its_texts_and_cached_rows(articles, serial_rows):
    """``--engine dask`` sends each block with its texts and the rows the cache holds, packed: the
    cluster extracts the others and tables the block in pieces (one a thread at least), which
    join into the block tabled whole; the fresh rows come back packed, in order."""
    pytest.importorskip("dask.bag")
    from coalition_news.cache import packed_rows, unpacked_rows
    from coalition_news.distributed import start_tables_with_dask

    keys = [f"k{i}" for i in range(len(articles))]
    cached = {keys[1]: packed_rows(serial_rows[1]), keys[3]: packed_rows(serial_rows[3]), keys[4]: b"damaged"}
    cluster = _QueuedCluster({"tcp://a:1": 2, "tcp://b:1": 1})
    waiting = start_tables_with_dask(articles, keys, cached, cluster, workers=2)
    assert cluster.submitted == [3] and cluster.waited == 0  # a piece a thread; nothing waited for yet
    pieces = waiting()
    fresh = [item for _, packed in pieces for item in packed]
    assert [k for k, _ in fresh] == [keys[0], keys[2], keys[4]]  # the damaged one extracted again
    assert [unpacked_rows(blob) for _, blob in fresh] == [serial_rows[0], serial_rows[2], serial_rows[4]]
    whole = pipeline.table_part(serial_rows, {a.article_id: a.text for a in articles}, "block")
    _assert_same_part(pipeline.joined_part([part for part, _ in pieces], "block"), whole)


def test_article_block_groups_a_thousand_articles():
    ids = pd.Series(["000_6380a1c75a270f68", "999_ed127326e84fb47c", "1000_a469f832d7dd3b47", "123456_596b086985615e85"])
    assert article_block(ids).tolist() == ["00000", "00000", "00001", "00123"]


def test_partitioned_parquet_reads_back_as_the_tables(serial_rows, tmp_path):
    frames = build_tables(serial_rows)
    written = write_partitioned(frames, tmp_path / "parts")
    assert tmp_path / "parts" / "quotes" / "article_block=00000" / "part-0.parquet" in written
    for table, df in frames.items():
        back = read_partitioned(tmp_path / "parts", table)
        dtypes = schemas.pandas_dtypes(table)
        back = back.astype({c: d for c, d in dtypes.items() if not d.startswith("datetime64")})
        for c, d in dtypes.items():
            if d.startswith("datetime64"):
                back[c] = pd.to_datetime(back[c]).astype(d)
        pd.testing.assert_frame_equal(back, df)


def _lines_of(article_ids: list[str], per_article: int = 3) -> pd.DataFrame:
    """A lines table of made-up articles (``per_article`` lines each), in key order as published:
    ids sort as text, so "1000_…" comes before "100_…"."""
    ids = sorted(article_ids)
    line = list(range(1, per_article + 1)) * len(ids)
    df = pd.DataFrame({
        "article_id": [a for a in ids for _ in range(per_article)], "line": line,
        "char_start": [10 * n for n in line], "char_end": [10 * n + 9 for n in line],
        "text": [f"سطر {n} من الخبر" for n in line], "kind": "body", "repeat_of": None,
    })
    return df.astype(schemas.pandas_dtypes("lines"))


def _published(df: pd.DataFrame, path: Path, group_rows: int | None = None) -> Path:
    """``df`` written as the release writes a table (``ParquetStream``), in row groups of
    ``group_rows`` (the release's size when None): the pieces ``partition_file`` reads."""
    from coalition_news.publish import ParquetStream

    stream = ParquetStream("lines", path)
    stream.group_rows = group_rows or stream.group_rows
    stream.add(df)
    stream.close()
    return path


# Running numbers past 999 are not zero-padded: blocks 0, 1, 10 and 100 interleave when sorted as text.
_INTERLEAVED = [f"{n:03d}_{n:016x}" for n in (*range(95, 115), *range(995, 1015), *range(9995, 10015), 100000, 100001)]


def test_partition_file_streams_each_block_into_one_file(tmp_path):
    df = _lines_of(_INTERLEAVED)  # row groups of 7 rows, each cutting across blocks:
    written = partition_file("lines", _published(df, tmp_path / "lines.parquet", 7), tmp_path / "parts")
    blocks = article_block(df["article_id"])
    assert sorted(p.parent.name for p in written) == [f"article_block={b}" for b in sorted(set(blocks))]
    assert {p.name for p in written} == {"part-0.parquet"}
    for path in written:
        block = path.parent.name.split("=")[1]
        part = pq.read_table(path).to_pandas().astype(schemas.pandas_dtypes("lines"))
        pd.testing.assert_frame_equal(part, df[blocks == block].reset_index(drop=True))
    back = read_partitioned(tmp_path / "parts", "lines").astype(schemas.pandas_dtypes("lines"))
    pd.testing.assert_frame_equal(back, df)


def test_partition_file_equals_partitions_of_the_whole_table(tmp_path):
    """Streamed from the published file, a row group at a time, the partitions are the bytes of
    the whole table's (``write_partitioned``)."""
    df = _lines_of(_INTERLEAVED)
    streamed = partition_file("lines", _published(df, tmp_path / "lines.parquet", 5), tmp_path / "streamed")
    whole = write_partitioned({"lines": df}, tmp_path / "whole")
    assert sorted(p.relative_to(tmp_path / "streamed") for p in streamed) == sorted(p.relative_to(tmp_path / "whole") for p in whole)
    assert tree_bytes(tmp_path / "streamed") == tree_bytes(tmp_path / "whole")


def test_partitions_past_the_open_limit_go_on_in_a_next_file(tmp_path, monkeypatch):
    monkeypatch.setattr(distributed, "MAX_OPEN_PARTITIONS", 1)
    df = _lines_of(_INTERLEAVED)
    written = partition_file("lines", _published(df, tmp_path / "lines.parquet", 4), tmp_path / "parts")
    assert any(p.name == "part-1.parquet" for p in written)  # a block closed early, then seen again
    back = read_partitioned(tmp_path / "parts", "lines").astype(schemas.pandas_dtypes("lines"))
    pd.testing.assert_frame_equal(back, df)


_ARROW_PEAK = """
import json, sys
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
from coalition_news.distributed import partition_file
source, out = Path(sys.argv[1]), Path(sys.argv[2])
pool = pa.proxy_memory_pool(pa.default_memory_pool())
pa.set_memory_pool(pool)  # in a process of its own: buffers made here never outlive their pool
partition_file("lines", source, out)
peak = pool.max_memory()
print(json.dumps({"peak": peak, "whole": pq.read_table(source).nbytes}))
"""


def test_partition_file_holds_a_few_row_groups_not_the_table(tmp_path):
    """Arrow's memory while partitioning a table of 8 row groups stays a small part of the table's
    (reading it whole, as the partitioning did before, takes all of it)."""
    df = _lines_of([f"{n:03d}_{n:016x}" for n in range(0, 25_000)], per_article=20)  # 500,000 rows, 25 blocks
    source = _published(df, tmp_path / "lines.parquet")
    run = subprocess.run([sys.executable, "-c", _ARROW_PEAK, str(source), str(tmp_path / "parts")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    row_group_bytes = measured["whole"] * PARQUET_OPTIONS["row_group_size"] / len(df)
    assert measured["peak"] < 4 * row_group_bytes < measured["whole"] / 1.9, (measured, row_group_bytes)
    assert len(list((tmp_path / "parts" / "lines").iterdir())) == 25


def test_partitioning_again_carries_the_unchanged_blocks(repo_copy, monkeypatch):
    """A block whose articles are as they were, under the same code, keeps its files (linked from
    the last partitioning); a changed article, a missing file or other code writes its block
    again; and what comes out is always the bytes of partitioning from scratch."""
    from coalition_news.distributed import publish_partitioned

    monkeypatch.setattr(distributed, "ARTICLES_PER_BLOCK", 1)  # each of the five articles a block of its own
    build(repo_copy, BuildOptions(jobs=1, cache=True))
    data, parts, fresh = repo_copy / "data", repo_copy / "data-partitioned", repo_copy / "fresh"

    def from_scratch() -> dict:
        publish_partitioned(data, fresh, reuse=False)
        return tree_bytes(fresh)

    assert publish_partitioned(data, parts) == {"blocks_written": 5, "blocks_carried": 0}
    assert tree_bytes(parts) == from_scratch()
    assert publish_partitioned(data, parts) == {"blocks_written": 0, "blocks_carried": 5}
    assert tree_bytes(parts) == from_scratch()

    entries = read_manifest(repo_copy / "raw")  # one article's outlet changes (e.g. a corrected name)
    entries[2] = dataclasses.replace(entries[2], outlet="صحيفة الشرق الأوسط")
    write_manifest(repo_copy / "raw", entries)
    build(repo_copy, BuildOptions(jobs=1, cache=True))
    assert publish_partitioned(data, parts) == {"blocks_written": 1, "blocks_carried": 4}
    assert tree_bytes(parts) == from_scratch()

    next((parts / "quotes").glob("article_block=00003/*.parquet")).unlink()
    assert publish_partitioned(data, parts) == {"blocks_written": 1, "blocks_carried": 4}
    assert tree_bytes(parts) == from_scratch()

    def no_links(source, target):
        raise OSError("this file system has no hard links")

    with monkeypatch.context() as patched:  # carried files are copied where they cannot be linked
        patched.setattr(distributed.os, "link", no_links)
        assert publish_partitioned(data, parts) == {"blocks_written": 0, "blocks_carried": 5}
    assert tree_bytes(parts) == from_scratch()

    record = parts / distributed.PARTITIONS_RECORD
    record.write_text(record.read_text(encoding="utf-8").replace('"files"', '"the files"', 1), encoding="utf-8")
    assert publish_partitioned(data, parts) == {"blocks_written": 5, "blocks_carried": 0}  # a record it cannot read

    monkeypatch.setattr(distributed, "partition_stamp", lambda: "other code")
    assert publish_partitioned(data, parts) == {"blocks_written": 5, "blocks_carried": 0}
    assert publish_partitioned(data, parts, reuse=False) == {"blocks_written": 5, "blocks_carried": 0}


def _tables_of_batches(batches) -> dict[str, pd.DataFrame]:
    """Each batch's ``table_part``, its tables concatenated in key order and its speakers merged
    across batches, as ``build`` streams them (``tables.SpeakerFold`` aside)."""
    parts = [pipeline.table_part(rows) for rows in batches]
    frames = {}
    for table in schemas.table_names():
        if table == "speakers":
            frames[table] = tables.frame(table, tables.keyed_speaker_rows([k for p in parts for k in p.speakers]))
        else:
            df = pd.concat([p.frames[table] for p in parts], ignore_index=True)
            frames[table] = df.sort_values(schemas.primary_key(table), kind="mergesort", ignore_index=True)
    return frames


def test_tables_built_batch_by_batch_equal_tables_built_at_once(serial_rows, tmp_path):
    """Batches of two articles (speakers merged across batches) give the release of one batch."""
    batches = [serial_rows[i:i + 2] for i in range(0, len(serial_rows), 2)]
    frames = _tables_of_batches(batches)
    whole = build_tables(serial_rows)
    assert list(frames) == list(whole)
    for table in whole:
        pd.testing.assert_frame_equal(frames[table], whole[table])
    write_release(frames, tmp_path / "batched")
    assert tree_bytes(tmp_path / "batched") == release_bytes(serial_rows, tmp_path / "whole")


def test_build_in_small_batches_equals_one_batch(repo_copy, tmp_path):
    one = tmp_path / "one"
    shutil.copytree(repo_copy / "raw", one / "raw")
    build(one, BuildOptions(jobs=1, cache=False))
    build(repo_copy, BuildOptions(jobs=1, cache=True, batch=2))
    assert tree_bytes(repo_copy / "data") == tree_bytes(one / "data")


@pytest.mark.slow
def test_cli_dask_partitioned_build_equals_serial_clean_build(repo_copy, tmp_path):
    pytest.importorskip("distributed")
    clean = tmp_path / "clean"
    shutil.copytree(repo_copy / "raw", clean / "raw")
    assert run_cli(clean, "build", "--jobs", "1", "--no-cache").returncode == 0
    result = run_cli(repo_copy, "build", "--engine", "dask", "--jobs", "2", "--no-cache", "--partitioned")
    assert result.returncode == 0, result.stderr
    assert tree_bytes(repo_copy / "data") == tree_bytes(clean / "data")
    # with the cache: the first build fills it; then, the blocks' tables lost, the cluster tables
    # every block again from the rows sent with it
    for _ in range(2):
        result = run_cli(repo_copy, "build", "--engine", "dask", "--jobs", "2")
        assert result.returncode == 0, result.stderr
        assert tree_bytes(repo_copy / "data") == tree_bytes(clean / "data")
        shutil.rmtree(repo_copy / cache_mod.CACHE_DIR / cache_mod.BLOCKS_DIR)
    parts = repo_copy / "data-partitioned"
    assert sorted(p.name for p in parts.iterdir()) == sorted([*schemas.table_names(), distributed.PARTITIONS_RECORD])
    quotes = read_partitioned(parts, "quotes")
    assert quotes["quote_id"].tolist() == pd.read_csv(clean / "data" / "csv" / "quotes.csv")["quote_id"].tolist()


# --- blocks: the unit the tables are cached in -------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Id:
    article_id: str


@settings(max_examples=200, deadline=None)
@given(st.sets(st.text(alphabet="0123456789abcdef_", min_size=1, max_size=6), min_size=1, max_size=60),
       st.text(alphabet="0123456789abcdef_", min_size=1, max_size=6), st.integers(min_value=1, max_value=8))
def test_adding_an_article_changes_only_the_block_it_falls_in(ids, new_id, size):
    """Blocks are content-defined: a block that ends before the new article (the last block ends
    with the list, not by its ids), or starts after the first block end the ids decide after it (both builds cut there), is the same block after the insertion."""
    ids.discard(new_id)
    if not ids:
        return
    blocks = lambda names: [tuple(a.article_id for a in b) for b in pipeline.article_blocks([_Id(n) for n in names], size)]
    before, after = blocks(ids), blocks(ids | {new_id})
    assert [n for b in before for n in b] == sorted(ids)
    assert all(1 <= len(b) <= size for b in before)
    ordered = sorted(ids | {new_id})
    expected = max(1, size // 2)
    ends = [n for n in ordered[ordered.index(new_id) + 1:] if pipeline._ends_block(n, expected)]
    for block in before:
        if (block[-1] < new_id and block != before[-1]) or (ends and block[0] > ends[0]):
            assert block in after


def test_block_tables_come_from_the_cache_and_one_new_article_rebuilds_one_block(repo_copy, tmp_path, monkeypatch):
    """Blocks of one article (batch=2): a second build tables nothing; adding an article tables
    its block only; the bytes are those of a clean build each time."""
    entries = read_manifest(repo_copy / "raw")
    held_back = entries[2]
    moved = tmp_path / held_back.file
    shutil.move(repo_copy / "raw" / held_back.file, moved)
    write_manifest(repo_copy / "raw", [e for e in entries if e is not held_back])
    options = BuildOptions(jobs=1, cache=True, batch=2)
    build(repo_copy, options)

    tabled = []
    real = pipeline.table_part
    monkeypatch.setattr(pipeline, "table_part",
                        lambda rows, *args: tabled.append([r.article["article_id"] for r in rows]) or real(rows, *args))
    first = tree_bytes(repo_copy / "data")
    build(repo_copy, options)
    assert tabled == []
    assert tree_bytes(repo_copy / "data") == first

    # every block's CSV lines are kept, and the rebuild copied them
    kept = sorted((repo_copy / cache_mod.CACHE_DIR).rglob("*.lines.csv"))
    assert len(kept) == len(entries) - 1
    lines_csv = first["csv/lines.csv"]
    assert all(read_sealed(p) in lines_csv for p in kept)
    assert sum(len(read_sealed(p)) for p in kept) == len(lines_csv) - len(lines_csv.split(b"\n", 1)[0]) - 1

    (repo_copy / "raw" / held_back.file).write_bytes(moved.read_bytes())
    write_manifest(repo_copy / "raw", entries)
    build(repo_copy, options)
    assert tabled == [[held_back.article_id]]
    clean = tmp_path / "clean"
    shutil.copytree(repo_copy / "raw", clean / "raw")
    build(clean, BuildOptions(jobs=1, cache=False))
    assert tree_bytes(repo_copy / "data") == tree_bytes(clean / "data")


def test_tables_fingerprint_covers_the_extractor_tables_code_and_schemas(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    shutil.copytree(REPO / "build", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = cache_mod.tables_fingerprint("x", package)
    assert cache_mod.tables_fingerprint("x", package) == before
    assert cache_mod.tables_fingerprint("y", package) != before
    (package / "tables.py").write_text((package / "tables.py").read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    after_code = cache_mod.tables_fingerprint("x", package)
    assert after_code != before
    schema_dir = tmp_path / "schemas"
    shutil.copytree(schemas.SCHEMA_DIR, schema_dir)
    quotes = schema_dir / "quotes.yaml"
    quotes.write_text(quotes.read_text(encoding="utf-8").replace("description:", "description: (edited)", 1), encoding="utf-8")
    monkeypatch.setattr(schemas, "SCHEMA_DIR", schema_dir)
    assert cache_mod.tables_fingerprint("x", package) not in (before, after_code)


def test_block_cache_keeps_only_the_blocks_of_the_latest_build(tmp_path):
    cache = ExtractCache.open(tmp_path, fingerprint="f")
    cache.put_block("a", {"tables": 1})
    cache.put_block("b", {"tables": 2})
    assert cache.get_block("a") == {"tables": 1}
    assert cache.prune_blocks(["a"]) == 1
    assert cache.get_block("b") is None and cache.get_block("a") == {"tables": 1}
    cache.close()
    other = ExtractCache.open(tmp_path, fingerprint="g")  # another extractor: its tables differ
    assert other.get_block("a") is None
    other.put_block("c", {"tables": 3})
    assert other.prune_blocks(["c"]) == 1  # the block of fingerprint "f" goes, with its folder
    assert [p.name for p in (tmp_path / cache_mod.CACHE_DIR).rglob("*.pickle*")] == ["c.pickle.zst"]
    other.close()


def test_damaged_kept_csv_lines_are_formatted_again(repo_copy):
    """Kept CSV lines are sealed with their digest: a damaged file is not copied (its rows are
    formatted, and read back against the Parquet file), the release is the clean build's, and the
    lines are kept again, sealed."""
    build(repo_copy, BuildOptions(jobs=1, cache=True))
    before = tree_bytes(repo_copy / "data")
    kept = next((repo_copy / cache_mod.CACHE_DIR).rglob("*.quotes.csv"))
    sealed = kept.read_bytes()
    kept.write_bytes(sealed.replace("التحالف".encode(), "التحالق".encode()))
    assert kept.read_bytes() != sealed
    build(repo_copy, BuildOptions(jobs=1, cache=True))
    assert tree_bytes(repo_copy / "data") == before
    assert kept.read_bytes() == sealed


def test_rows_formatted_in_a_piecewise_build_are_read_back_against_parquet(repo_copy, monkeypatch):
    """When some pieces of a CSV are kept lines, the pieces formatted in this build are still read
    back against the Parquet file: a formatter that writes a wrong cell stops the build."""
    from coalition_news import publish

    build(repo_copy, BuildOptions(jobs=1, cache=True, batch=2))  # several blocks, their lines kept
    before = tree_bytes(repo_copy / "data")
    for kept in (repo_copy / cache_mod.CACHE_DIR).rglob("*.quotes.csv"):
        kept.unlink()
        break  # one block's quotes to format again, the others copied
    real = publish.csv_chunks

    def wrong_verb(df):  # the quotes formatted with another reporting verb
        if "reporting_verb" in df.columns and len(df):
            df = df.assign(reporting_verb=df["reporting_verb"].where(df["reporting_verb"].isna(), "همس"))
        return real(df)

    monkeypatch.setattr(publish, "csv_chunks", wrong_verb)
    with pytest.raises(ValidationError, match="quotes: Parquet and CSV contents differ: reporting_verb"):
        build(repo_copy, BuildOptions(jobs=1, cache=True, batch=2))
    assert tree_bytes(repo_copy / "data") == before


def test_a_damaged_block_file_is_a_miss(tmp_path):
    cache = ExtractCache.open(tmp_path, fingerprint="f")
    cache.put_block("a", {"tables": 1})
    stored = next((tmp_path / cache_mod.CACHE_DIR).rglob("a.pickle.zst"))
    whole = stored.read_bytes()
    stored.write_bytes(whole[: len(whole) // 2])  # cut short
    assert cache.get_block("a") is None
    stored.write_bytes(b"\x80\x05 not compressed")
    assert cache.get_block("a") is None
    cache.close()


def test_blocks_of_an_earlier_layout_are_misses_and_pruned(tmp_path):
    """A block cached before its pickle was compressed (``<key>.pickle``) is built again, and
    goes with the next prune."""
    cache = ExtractCache.open(tmp_path, fingerprint="f")
    cache.put_block("a", {"tables": 1})
    old = cache.lines_path("a", "x").with_name("b.pickle")
    old.write_bytes(pickle.dumps({"tables": 2}, protocol=pickle.HIGHEST_PROTOCOL))
    assert cache.get_block("b") is None and not cache.has_block("b")
    assert cache.prune_blocks(["a", "b"]) == 1 and not old.exists()
    cache.close()


def test_a_cached_block_is_compressed(tmp_path):
    import pandas as pd

    texts = [f"قال المتحدث إن الطائرات نفذت {i} غارة قرب الموصل" for i in range(20_000)]
    part = pipeline.TablePart({"lines": pd.DataFrame({"text": pd.array(texts, dtype="string[pyarrow]")})}, [], "k")
    cache = ExtractCache.open(tmp_path, fingerprint="f")
    cache.put_block("k", part)
    stored = next((tmp_path / cache_mod.CACHE_DIR).rglob("k.pickle.zst")).stat().st_size
    assert stored < len(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)) / 4
    pd.testing.assert_frame_equal(cache.get_block("k").frames["lines"], part.frames["lines"])
    cache.close()


def _with_first_quote(column: str, value: str):
    """``pipeline.extract_article``, with ``column`` of each article's first quote set to ``value``."""
    real = pipeline.extract_article

    def corrupted(article):
        rows = real(article)
        if rows.quotes:
            rows.quotes[0][column] = value
        return rows

    return corrupted


def test_a_block_that_fails_its_row_checks_is_not_cached_and_fails_again(repo_copy, monkeypatch):
    """A quote whose text differs from the raw text at its span: the build names the article and
    line and caches no block, so the next build checks the blocks again and fails the same way;
    data/ is untouched both times."""
    monkeypatch.setattr(pipeline, "extract_article", _with_first_quote("text", "نص لم يرد في المقال"))
    before = tree_bytes(repo_copy / "data")
    messages = []
    for _ in range(2):
        with pytest.raises(ValidationError) as failure:
            build(repo_copy, BuildOptions(jobs=1, cache=True, batch=2))
        messages.append(str(failure.value))
        assert tree_bytes(repo_copy / "data") == before
    assert messages[0] == messages[1]
    assert "quotes: article " in messages[0] and "differs from the raw text" in messages[0]
    assert not list((repo_copy / cache_mod.CACHE_DIR).rglob("*" + cache_mod.BLOCK_SUFFIX))


def test_rows_that_fail_pandera_in_the_second_process_fail_the_build(repo_copy, monkeypatch):
    """With the check process running (PARALLEL_MIN_ARTICLES lowered), pandera's row checks run
    there (``BlockChecks._sent``): a quote attributed in a way the schema does not list stops the
    build with pandera's message naming its article and line, as the same check here would, and
    data/ is untouched."""
    from coalition_news import validate

    sent = []
    original = validate.CheckProcess.schema_rows

    def spy(self, frames):
        sent.append(frames)
        return original(self, frames)

    monkeypatch.setattr(pipeline, "extract_article", _with_first_quote("attribution", "rumour"))
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ARTICLES", 1)
    monkeypatch.setattr(validate.CheckProcess, "schema_rows", spy)
    before = tree_bytes(repo_copy / "data")
    with pytest.raises(ValidationError) as failure:
        build(repo_copy, BuildOptions(jobs=1, cache=False))
    assert sent  # the fresh block's rows as they came, then the speakers
    here = [problem for frames in sent for problem in validate.schema_row_problems(frames)]
    assert here and all(problem in str(failure.value) for problem in here)
    assert "quotes: article " in here[0] and "column attribution: isin" in here[0]
    assert tree_bytes(repo_copy / "data") == before


def test_the_written_files_are_read_back_once_the_build_has_checked_its_tables(repo_copy, monkeypatch):
    """Parquet = CSV (``validate.check_written``, on a thread) starts once the build's own checks
    (``BlockChecks.problems``: pandera, unique columns) are done, beside frictionless: run beside
    them, its buffers were added to theirs at the build's peak (docs/performance.md, thirteenth round)."""
    from coalition_news import publish, validate

    events = []
    problems, check_written = validate.BlockChecks.problems, publish.check_written

    def checked_here(self, *args):
        events.append("build's checks started")
        found = problems(self, *args)
        events.append("build's checks done")
        return found

    def read_back(*args):
        events.append("read back")
        return check_written(*args)

    monkeypatch.setattr(validate.BlockChecks, "problems", checked_here)
    monkeypatch.setattr(publish, "check_written", read_back)
    build(repo_copy, BuildOptions(jobs=1, cache=False))
    assert events == ["build's checks started", "build's checks done", "read back"]
    assert tree_bytes(repo_copy / "data") == tree_bytes(REPO / "data")


def test_a_build_with_frictionless_in_a_second_process_gives_the_same_release(repo_copy, monkeypatch):
    """Above PARALLEL_MIN_ARTICLES, frictionless runs in a second process while the tables are
    checked here; the release is the same, and the process is gone when the build ends."""
    import subprocess

    from coalition_news import validate

    started = []
    original = validate.CheckProcess.__init__

    def spy(self):
        original(self)
        started.append(self._process)

    monkeypatch.setattr(validate.CheckProcess, "__init__", spy)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ARTICLES", 1)
    build(repo_copy, BuildOptions(jobs=1, cache=False))
    assert tree_bytes(repo_copy / "data") == tree_bytes(REPO / "data")
    (process,) = started
    assert process.returncode == 0  # it read the end of its input and returned


def test_kept_csv_lines_are_pruned_with_their_block(tmp_path):
    written = tmp_path / "quotes.csv"
    written.write_bytes(b"header\nrow a\nrow b\n")
    cache = ExtractCache.open(tmp_path, fingerprint="f")
    for key, (start, end) in {"a": (7, 13), "b": (13, 19)}.items():
        cache.put_block(key, {"tables": key})
        cache.put_lines(key, "quotes", written, start, end)
    assert read_sealed(cache.lines_path("a", "quotes")) == b"row a\n"
    stray = cache.lines_path("a", "quotes").with_name("a.tmp-123")  # left by a killed build
    stray.write_bytes(b"")
    assert cache.prune_blocks(["a"]) == 3
    assert sorted(p.name for p in cache.lines_path("a", "quotes").parent.iterdir()) == ["a.pickle.zst", "a.quotes.csv"]
    cache.close()


def test_workers_extract_the_next_block_while_the_last_is_collected(articles, serial_rows):
    """``Workers.start`` returns at once; blocks started one after the other come back in order."""
    with pipeline.Workers(jobs=2, min_articles=1) as workers:
        first = workers.start(articles[:3])
        second = workers.start(articles[3:])  # submitted before the first block is collected
        assert first() + second() == serial_rows


def test_pipelined_parallel_build_of_many_blocks_equals_the_committed_release(repo_copy, monkeypatch):
    """Blocks of about one article, two workers: each block is tabled while the next is extracted."""
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ARTICLES", 1)
    build(repo_copy, BuildOptions(jobs=2, cache=True, batch=2))
    assert tree_bytes(repo_copy / "data") == tree_bytes(REPO / "data")
    build(repo_copy, BuildOptions(jobs=2, cache=True, batch=4))  # other blocks: some rows from the cache
    assert tree_bytes(repo_copy / "data") == tree_bytes(REPO / "data")


def test_a_block_joined_from_the_parts_of_its_runs_equals_the_block_tabled_whole(articles, serial_rows):
    """``joined_part`` of runs of 2, 1 and 2 articles: the same frames, speakers and provenance
    problems (one planted in each of two runs) as ``table_part`` of the five at once."""
    texts = {a.article_id: a.text for a in articles}
    texts[articles[1].article_id] = texts[articles[1].article_id].replace("،", ",")  # spans now differ here ...
    texts[articles[4].article_id] = "قصير"                                            # ... and fall outside here
    whole = pipeline.table_part(serial_rows, texts, "block")
    runs = [serial_rows[:2], serial_rows[2:3], serial_rows[3:]]
    joined = pipeline.joined_part([pipeline.table_part(run, texts) for run in runs], "block")
    assert list(joined.frames) == list(whole.frames) and joined.key == "block"
    _assert_same_part(joined, whole)
    problems = [p for found in whole.provenance.values() for p in found]
    assert any(articles[1].article_id in p for p in problems) and any(articles[4].article_id in p for p in problems)


def test_workers_table_the_blocks_of_a_clean_build_and_the_bytes_stay_the_same(repo_copy, tmp_path, monkeypatch):
    """With blocks of enough articles, the workers read, extract and table each block in pieces
    (``Workers.start_tables``): this process tables nothing, joins the pieces, stores the packed rows
    in the cache, and the release is a serial clean build's. Then, with the rows cached but not the
    blocks' tables, the workers take the rows from the cache instead of extracting them."""
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ARTICLES", 1)
    here, pieces = [], []
    real_table, real_start = pipeline.table_part, pipeline.Workers.start_tables
    monkeypatch.setattr(pipeline, "table_part", lambda rows, *args: here.append(len(rows)) or real_table(rows, *args))
    monkeypatch.setattr(pipeline.Workers, "start_tables",
                        lambda self, arts, *args: pieces.append(len(arts)) or real_start(self, arts, *args))
    build(repo_copy, BuildOptions(jobs=2, cache=True, batch=4))
    assert here == [] and sum(pieces) == 5  # every block tabled in the workers
    assert tree_bytes(repo_copy / "data") == tree_bytes(REPO / "data")
    cache = ExtractCache.open(repo_copy)
    try:
        assert not cache.missing(article_key(a) for a in read_raw(repo_copy / "raw"))
    finally:
        cache.close()

    # the blocks' tables and one article's rows lost: the workers extract that article alone
    shutil.rmtree(repo_copy / cache_mod.CACHE_DIR / cache_mod.BLOCKS_DIR)
    lost = read_raw(repo_copy / "raw")[2]
    with sqlite3.connect(repo_copy / cache_mod.CACHE_DIR / cache_mod.CACHE_FILE) as db:
        assert db.execute("DELETE FROM rows WHERE key = ?", [article_key(lost)]).rowcount == 1
    db.close()
    pieces.clear()
    real_extract = pipeline.extract_article
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "extract_article",
                        lambda a: real_extract(a) if a.article_id == lost.article_id else pytest.fail(f"extracted {a.article_id} again"))
        build(repo_copy, BuildOptions(jobs=2, cache=True, batch=4))
    assert here == [] and sum(pieces) == 5
    assert tree_bytes(repo_copy / "data") == tree_bytes(REPO / "data")


def test_a_raw_file_changed_after_ingest_is_named_by_the_workers_that_table_it(repo_copy, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ARTICLES", 1)
    changed = read_manifest(repo_copy / "raw")[3]
    real_read_raw = pipeline.read_raw

    def read_then_change(*args, **kwargs):
        found = real_read_raw(*args, **kwargs)
        (repo_copy / "raw" / changed.file).write_bytes(b"\xd8\xa7" * 10)  # after ingest, before a worker reads it
        return found

    monkeypatch.setattr(pipeline, "read_raw", read_then_change)
    before = tree_bytes(repo_copy / "data")
    with pytest.raises(IngestError, match=f"raw/{changed.file}: changed during the build"):
        build(repo_copy, BuildOptions(jobs=2, cache=False))
    assert tree_bytes(repo_copy / "data") == before


def test_a_block_is_tabled_in_pieces_of_a_few_hundred_articles_and_one_a_worker_at_least(monkeypatch):
    submitted = []

    class Pool:
        def submit(self, fn, arts, keys, *args):
            submitted.append((len(arts), keys))
            return None

    workers = pipeline.Workers(jobs=2)
    workers._pool = Pool()
    for n, expected in ((1000, [250] * 4), (5, [2, 3]), (1, [1]), (2000, [250] * 8), (300, [150, 150])):
        submitted.clear()
        workers.start_tables([object()] * n, [str(i) for i in range(n)], None, None, None)
        assert [size for size, _ in submitted] == expected, n
        assert [k for _, keys in submitted for k in keys] == [str(i) for i in range(n)]  # each piece with its keys, in order
    workers._pool = None


def test_a_worker_killed_while_tabling_stops_the_build_naming_the_block(repo_copy, monkeypatch):
    """A worker that dies (the system's OOM killer, a kill by hand) is a build error naming the
    block the workers had, not a traceback from the process pool; the last release stays."""
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_ARTICLES", 1)
    victim = pipeline.by_article_id(read_raw(repo_copy / "raw"))[3]
    real_extract, parent = pipeline.extract_article, os.getpid()

    def killed_on_the_victim(article):
        if article.article_id == victim.article_id and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_extract(article)

    monkeypatch.setattr(pipeline, "extract_article", killed_on_the_victim)  # the forked workers inherit it
    before = tree_bytes(repo_copy / "data")
    with pytest.raises(pipeline.WorkerLost, match=r"ended abruptly .* nothing was published") as lost:
        build(repo_copy, BuildOptions(jobs=2, cache=False))  # one block of the five
    assert isinstance(lost.value, BuildError)
    ids = pipeline.by_article_id(read_raw(repo_copy / "raw"))
    assert f"the block of 5 articles {ids[0].raw_path} to {ids[-1].raw_path}, or the block after it" in str(lost.value)
    assert tree_bytes(repo_copy / "data") == before
