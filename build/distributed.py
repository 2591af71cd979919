"""Beyond one machine: per-article extraction on Dask, and hive-partitioned Parquet.

``extract_with_dask`` runs ``extract_article`` over a ``dask.bag`` of checked articles, on a
Dask cluster: the one at ``scheduler`` (``tcp://host:8786``), or a ``LocalCluster`` started for the
build. Every worker must have the same ``coalition_news`` installed (same code, lexicons and pinned
libraries), or its rows could differ; the rows come back in article order, so the tables are
byte-identical to a serial build.

``publish_partitioned`` writes each table as ``<out>/<table>/article_block=NNNNN/part-0.parquet``
(1,000 articles per block, by the article's running number), for corpora too large to read as
one file. ``pyarrow.dataset.dataset(out / "quotes", partitioning="hive")`` (or DuckDB's
``read_parquet('…/quotes/*/*.parquet', hive_partitioning=true)``) reads a table back whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schemas
from .extract import ArticleRows, extract_article
from .ingest import Article
from .publish import PARQUET_OPTIONS

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

    def compute(self, collection):
        if self._client is None:
            self._client, self._cluster = _cluster_client(self.scheduler, self.workers)
        return self._client.compute(collection)

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
    if not articles:
        return []
    npartitions = max(workers * 4, -(-len(articles) // ARTICLES_PER_PARTITION))
    bag = extract_bag(articles, npartitions)
    if client is not None:
        return list(client.compute(bag).result())
    with dask_client(scheduler, workers) as own:
        return list(own.compute(bag).result())


# --- partitioned Parquet --------------------------------------------------------------------

def article_block(article_id: pd.Series) -> pd.Series:
    """``"012345_0123abcd…"`` → ``"00012"``: the article's running number // ARTICLES_PER_BLOCK."""
    number = article_id.str.split("_", n=1).str[0].astype("int64")
    return (number // ARTICLES_PER_BLOCK).map(lambda b: f"{b:05d}")


def write_partitioned(frames: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """Write every table, split by article block; a table without ``article_id`` stays one file."""
    written: list[Path] = []
    for table, df in frames.items():
        schema = schemas.arrow_schema(table)
        if "article_id" in df.columns and len(df):
            groups = df.groupby(article_block(df["article_id"]), sort=True)
        else:
            groups = [(None, df)]
        for block, part in groups:
            folder = out_dir / table / (f"{PARTITION_COLUMN}={block}" if block is not None else "")
            folder.mkdir(parents=True, exist_ok=True)
            arrow = pa.Table.from_pandas(part, schema=schema, preserve_index=False)
            path = folder / "part-0.parquet"
            pq.write_table(arrow, path, **PARQUET_OPTIONS)
            written.append(path)
    return written


def publish_partitioned(data_dir: Path, out_dir: Path) -> None:
    """The release in ``data_dir`` partitioned (``write_partitioned``), one table read at a time:
    written to ``<out_dir>.tmp-PID`` then swapped into place; a failure leaves ``out_dir`` as it was."""
    from .validate import read_parquet_typed

    staging = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for table in schemas.table_names():
            write_partitioned({table: read_parquet_typed(table, data_dir / "parquet" / f"{table}.parquet")}, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def read_partitioned(out_dir: Path, table: str) -> pd.DataFrame:
    """A partitioned table read back whole, in primary-key order, with the declared columns only."""
    parts = sorted((out_dir / table).rglob("*.parquet"))
    df = pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
    return df.sort_values(schemas.primary_key(table), kind="mergesort", ignore_index=True)
