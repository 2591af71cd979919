"""Beyond one machine: per-article extraction on Dask, and hive-partitioned Parquet.

A build with ``--engine dask`` sends each block of articles to a Dask cluster (the one at
``scheduler``, ``tcp://host:8786``, or a ``LocalCluster`` started for the build), with their texts
and the rows the extraction cache holds of them: the cluster's workers extract the others and
table the block in pieces (``start_tables_with_dask``), and the build joins the pieces, checks
and writes them. ``extract_with_dask`` runs ``extract_article`` alone over a ``dask.bag``. Every
worker must have the same ``coalition_news`` installed (same code, lexicons and pinned
libraries), or its rows could differ; rows and pieces come back in article order, so the tables
are byte-identical to a serial build.

``publish_partitioned`` writes each table as ``<out>/<table>/article_block=NNNNN/part-0.parquet``
(1,000 articles per block, by the article's running number), for corpora too large to read as
one file. It streams each published Parquet file a row group at a time (``partition_file``), so
its memory does not grow with the corpus, and writes again only the blocks whose articles changed
since the last time (``PARTITIONS_RECORD``). ``pyarrow.dataset.dataset(out / "quotes",
partitioning="hive")`` (or DuckDB's ``read_parquet('…/quotes/*/*.parquet', hive_partitioning=true)``)
reads a table back whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import schemas
from .extract import ArticleRows, extract_article
from .ingest import Article
from .publish import ParquetStream

ARTICLES_PER_BLOCK = 1000
PARTITION_COLUMN = "article_block"
# Articles per Dask partition: large enough that scheduling overhead stays small.
ARTICLES_PER_PARTITION = 250


def _cluster_client(scheduler: str | None, workers: int):
    """A Dask client on ``scheduler``, or on a new LocalCluster of ``workers`` one-thread processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


class LazyClient:
    """Connects (or starts a LocalCluster) on first use: a fully cached build starts nothing."""

    def __init__(self, scheduler: str | None, workers: int):
        self.scheduler, self.workers = scheduler, workers
        self._client = self._cluster = None

    def _connected(self):
        if self._client is None:
            self._client, self._cluster = _cluster_client(self.scheduler, self.workers)
        return self._client

    def compute(self, collection):
        return self._connected().compute(collection)

    def nthreads(self) -> dict[str, int]:
        """The cluster's workers and their threads (as ``distributed.Client.nthreads``)."""
        return self._connected().nthreads()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int):
    """A client for the whole build (every batch), closed with the cluster it started, if any."""
    client = LazyClient(scheduler, workers)
    try:
        yield client
    finally:
        client.close()


def extract_bag(articles: list[Article], npartitions: int | None = None):
    """The lazy dask.bag of ``extract_article`` over ``articles`` (order kept)."""
    import dask.bag as db

    npartitions = npartitions or max(1, -(-len(articles) // ARTICLES_PER_PARTITION))
    return db.from_sequence(articles, npartitions=min(npartitions, max(1, len(articles)))).map(extract_article)


def extract_with_dask(articles: list[Article], *, scheduler: str | None = None, workers: int = 2, client=None) -> list[ArticleRows]:
    """Rows of every article, extracted on a Dask cluster, in the order of ``articles``.

    ``client`` (a ``distributed.Client`` or a ``LazyClient``) wins over ``scheduler``; tests pass one
    on a LocalCluster.
    """
    if client is not None:
        return start_with_dask(articles, client, workers)()
    with dask_client(scheduler, workers) as own:
        return start_with_dask(articles, own, workers)()


def start_with_dask(articles: list[Article], client, workers: int = 2) -> Callable[[], list[ArticleRows]]:
    """Submit ``articles`` to the cluster and return at once; the function returned waits for their
    rows, in order. The build tables one block while the cluster extracts the next, as with its
    own processes (``pipeline.Workers.start``).

    The block is cut into at least 4 partitions for each thread the cluster has (``workers``
    while none has joined yet), and at most ``ARTICLES_PER_PARTITION`` articles each."""
    if not articles:
        return list
    threads = sum(client.nthreads().values()) or workers
    npartitions = max(threads * 4, -(-len(articles) // ARTICLES_PER_PARTITION))
    future = client.compute(extract_bag(articles, npartitions))
    return lambda: list(future.result())


def start_tables_with_dask(articles: list[Article], keys: list[str] | None, cached: dict[str, bytes] | None,
                           client, workers: int = 2) -> Callable[[], list[tuple]]:
    """Submit a block to the cluster to be extracted and tabled (``pipeline.table_block``), in
    consecutive pieces, and return at once; the function returned waits for each piece's
    ``TablePart`` and fresh rows (packed for the cache), in order, for the build to join
    (``pipeline.joined_part``), check and write while the cluster tables the next block.

    ``articles`` come with their texts, and the rows the cache holds of them packed (``cached``,
    by their ``keys``): the cluster's workers need not see the repository. One piece for each of
    the cluster's threads at least (``pipeline.table_pieces``)."""
    import dask.bag as db

    from .pipeline import table_pieces

    if not articles:
        return list
    threads = sum(client.nthreads().values()) or workers
    work = []
    for a, b in table_pieces(len(articles), threads):
        piece_keys = None if keys is None else keys[a:b]
        piece_cached = None if cached is None else {k: cached[k] for k in piece_keys if k in cached}
        work.append((articles[a:b], piece_keys, piece_cached))
    future = client.compute(db.from_sequence(work, npartitions=len(work)).map(_table_piece))
    return lambda: list(future.result())


def _table_piece(piece: tuple) -> tuple:
    from .pipeline import table_block

    articles, keys, cached = piece
    return table_block(articles, keys, key=None, root=None, cache_root=None, fingerprint=None, cached=cached)


# --- partitioned Parquet --------------------------------------------------------------------

# Partitions open at once. A partition's file is closed after its last row (``block_ends``), so
# only blocks whose rows interleave are open together: ids sort as text, and past 999 blocks
# interleave ("5000_…" < "50000_…" < "5001_…"). Past this many (ids of some other scheme) the one
# unused longest is closed, and rows of it that come later go to its next file (``part-1.parquet``).
MAX_OPEN_PARTITIONS = 64


def article_blocks(article_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``"012345_0123abcd…"`` → 12: each article's running number // ARTICLES_PER_BLOCK."""
    numbers = pc.list_element(pc.split_pattern(article_ids, "_", max_splits=1), 0)
    return pc.cast(numbers, pa.int64()).to_numpy() // ARTICLES_PER_BLOCK


def article_block(article_id: pd.Series) -> pd.Series:
    """``"012345_0123abcd…"`` → ``"00012"``: ``article_blocks``, as the partition's name."""
    blocks = article_blocks(pa.array(article_id, type=pa.string()))
    return pd.Series([f"{b:05d}" for b in blocks], index=article_id.index, dtype=object)


def partition_folder(block: int) -> str:
    """A block's folder in a partitioned table: ``article_block=00012``."""
    return f"{PARTITION_COLUMN}={block:05d}"


def block_ends(block_batches: Iterable[np.ndarray]) -> dict[int, int]:
    """For each block, the position of its last row in a table, given the block of each row
    (``article_blocks``) in consecutive batches."""
    ends: dict[int, int] = {}
    offset = 0
    for blocks in block_batches:
        found, first_from_end = np.unique(blocks[::-1], return_index=True)
        ends.update(zip(found.tolist(), (offset + len(blocks) - 1 - first_from_end).tolist()))
        offset += len(blocks)
    return ends


class PartitionWriter:
    """One table's partitions, written as its rows stream by in key order: each run of rows of one
    block goes on in that block's file (``ParquetStream``: row groups of a fixed size), closed after
    the block's last row (``ends``, from ``block_ends``). What is held is a row group being read
    and, for each block open, less than a row group, whatever the table's size."""

    def __init__(self, table: str, folder: Path, ends: dict[int, int], skip: frozenset[int] = frozenset()):
        self.table, self.folder, self.ends, self.skip = table, folder, ends, skip
        self.written: list[Path] = []
        self._open: OrderedDict[int | None, ParquetStream] = OrderedDict()  # least recently used first
        self._files: Counter[int | None] = Counter()  # files started for each block
        self._rows = 0  # rows added so far

    def add(self, rows: pa.Table, blocks: np.ndarray | None = None) -> None:
        """``rows`` in the table's key order; ``blocks``: their ``article_blocks``, when known."""
        offset, self._rows = self._rows, self._rows + len(rows)
        if "article_id" not in rows.column_names or not len(rows):
            if len(rows) or not self.written:  # a table of no article (the speakers), or no rows: one file
                self._stream(None).add_arrow(rows)
            return
        blocks = article_blocks(rows.column("article_id")) if blocks is None else blocks
        # Each block's rows of the batch, copied (``take``): a slice would keep the whole batch
        # alive for as long as its block's file holds it.
        order = np.argsort(blocks, kind="stable")
        found, first = np.unique(blocks[order], return_index=True)
        for block, start, end in zip(found.tolist(), first.tolist(), [*first[1:].tolist(), len(order)]):
            if block in self.skip:  # its files are carried from the last partitioning
                continue
            where = order[start:end]
            self._stream(block).add_arrow(rows.take(where))
            if self.ends.get(block) == offset + int(where[-1]):  # its last row
                self._open.pop(block).close()

    def pass_over(self, rows: int) -> None:
        """Rows not read (every one of a block in ``skip``): positions move on past them."""
        self._rows += rows

    def _stream(self, block: int | None) -> ParquetStream:
        stream = self._open.get(block)
        if stream is None:
            folder = self.folder if block is None else self.folder / partition_folder(block)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{self._files[block]}.parquet"
            self._files[block] += 1
            stream = self._open[block] = ParquetStream(self.table, path)
            self.written.append(path)
            if len(self._open) > MAX_OPEN_PARTITIONS:
                self._open.popitem(last=False)[1].close()
        self._open.move_to_end(block)
        return stream

    def close(self) -> list[Path]:
        while self._open:
            self._open.popitem(last=False)[1].close()
        return self.written


def write_partitioned(frames: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """Write every table, split by article block; a table without ``article_id`` stays one file."""
    written: list[Path] = []
    for table, df in frames.items():
        rows = pa.Table.from_pandas(df, schema=schemas.arrow_schema(table), preserve_index=False)
        ends = block_ends([article_blocks(rows.column("article_id"))]) if "article_id" in rows.column_names else {}
        writer = PartitionWriter(table, out_dir / table, ends)
        writer.add(rows)
        written += writer.close()
    return written


def partition_file(table: str, source: Path, out_dir: Path, skip: frozenset[int] = frozenset()) -> list[Path]:
    """A published Parquet file of ``table`` partitioned into ``out_dir/table``, read twice a row
    group at a time: its ``article_id`` column for where each block ends, then its rows. The rows
    of the blocks in ``skip`` are left out, and a row group holding nothing else is not read."""
    with pq.ParquetFile(source) as parquet:
        groups = range(parquet.metadata.num_row_groups)
        if "article_id" not in parquet.schema_arrow.names:
            writer = PartitionWriter(table, out_dir / table, {})
            for group in groups:
                writer.add(parquet.read_row_group(group, use_threads=False))
        else:
            blocks = [article_blocks(parquet.read_row_group(group, columns=["article_id"], use_threads=False).column(0))
                      for group in groups]
            writer = PartitionWriter(table, out_dir / table, block_ends(blocks), skip)
            for group, in_group in zip(groups, blocks):
                if skip.issuperset(in_group.tolist()):
                    writer.pass_over(len(in_group))
                else:
                    writer.add(parquet.read_row_group(group, use_threads=False), in_group)
        if parquet.metadata.num_rows == 0:
            writer.add(parquet.schema_arrow.empty_table())
    return writer.close()


# What ``publish_partitioned`` keeps beside the partitions, to carry unchanged blocks to the next one.
PARTITIONS_RECORD = ".partitions.json"


def partition_stamp() -> str:
    """What a partition's bytes depend on besides its articles: the tables fingerprint (extraction,
    the tables and publishing code, the schemas, the pandas and pyarrow versions) and this module."""
    from .cache import extractor_fingerprint, tables_fingerprint

    digest = hashlib.sha256(tables_fingerprint(extractor_fingerprint()).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def block_digests(articles: Path) -> dict[int, str]:
    """For each block, a digest of its rows of the ``articles`` table (a published Parquet file).
    An article's row holds its raw file's SHA-256 and every manifest field it is extracted with, so
    under one ``partition_stamp`` a block with the same digest has the same rows in every table."""
    digests: dict[int, hashlib._Hash] = {}
    with pq.ParquetFile(articles) as parquet:
        for group in range(parquet.metadata.num_row_groups):
            rows = parquet.read_row_group(group, use_threads=False)
            hashes = pd.util.hash_pandas_object(rows.to_pandas(), index=False).to_numpy()
            blocks = article_blocks(rows.column("article_id"))
            for block in np.unique(blocks).tolist():
                digests.setdefault(block, hashlib.sha256()).update(hashes[blocks == block].tobytes())
    return {block: digest.hexdigest() for block, digest in digests.items()}


def _carried(previous: Path, digests: dict[int, str], stamp: str) -> dict[int, dict[str, list[str]]]:
    """The blocks whose partitions in ``previous`` (a partitioned release and its record) are still
    right: same stamp, same digest, and every file the record names still there."""
    try:
        record = json.loads((previous / PARTITIONS_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict) or record.get("stamp") != stamp:
        return {}
    carried = {}
    try:
        for key, entry in record["blocks"].items():
            block, files = int(key), entry["files"]
            if digests.get(block) == entry["digest"] and all(
                    (previous / table / partition_folder(block) / name).is_file()
                    for table, names in files.items() for name in names):
                carried[block] = files
    except (KeyError, TypeError, ValueError, AttributeError):  # a record not of this code: carry nothing
        return {}
    return carried


def _link_or_copy(source: Path, target: Path) -> None:
    """A carried file: a hard link (no bytes copied), or a copy where the file system has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def publish_partitioned(data_dir: Path, out_dir: Path, reuse: bool = True) -> dict[str, int]:
    """The release in ``data_dir`` partitioned (``partition_file``), each table streamed from its
    Parquet file: written to ``<out_dir>.tmp-PID`` then swapped into place; a failure leaves
    ``out_dir`` as it was.

    With ``reuse``, the blocks whose articles are as they were in the last partitioning, under the
    same code and libraries (``PARTITIONS_RECORD``), have their files linked from it instead of
    written again: adding an article rewrites the partitions of its block (and the speakers).
    Returns how many blocks were written and carried."""
    staging = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        stamp, digests = partition_stamp(), block_digests(data_dir / "parquet" / "articles.parquet")
        carried = _carried(out_dir, digests, stamp) if reuse else {}
        files: dict[int, dict[str, list[str]]] = {block: {} for block in digests}
        for table in schemas.table_names():
            for path in partition_file(table, data_dir / "parquet" / f"{table}.parquet", staging, frozenset(carried)):
                if path.parent.name.startswith(f"{PARTITION_COLUMN}="):
                    block = int(path.parent.name.split("=")[1])
                    files.setdefault(block, {}).setdefault(table, []).append(path.name)
        for block, by_table in carried.items():
            files[block] = by_table
            for table, names in by_table.items():
                folder = staging / table / partition_folder(block)
                folder.mkdir(parents=True, exist_ok=True)
                for name in names:
                    _link_or_copy(out_dir / table / folder.name / name, folder / name)
        record = {"stamp": stamp, "blocks": {str(b): {"digest": digests[b], "files": files[b]} for b in sorted(digests)}}
        (staging / PARTITIONS_RECORD).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return {"blocks_written": len(digests) - len(carried), "blocks_carried": len(carried)}


def read_partitioned(out_dir: Path, table: str) -> pd.DataFrame:
    """A partitioned table read back whole, in primary-key order, with the declared columns only."""
    parts = sorted((out_dir / table).rglob("*.parquet"))
    df = pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
    return df.sort_values(schemas.primary_key(table), kind="mergesort", ignore_index=True)
