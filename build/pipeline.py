"""The whole build, stage by stage: raw → lines → extract → tables → validate → publish.

Reading and writing happen only here and in ``ingest``/``publish`` (and the extraction cache);
every stage in between is a pure function of its input.

Scale (docs/performance.md): per-article extraction is cached by the article's bytes, manifest
entry and extractor fingerprint (``cache``), and the remaining articles are extracted on every core
(a process pool) or on a Dask cluster (``distributed``). Whichever way, the rows are put in
article_id order before the tables are built, so the release is byte-identical to a serial build.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import schemas, tables
from .extract import ArticleRows, extract_article
from .extract.speakers import merge_speakers
from .ingest import Article, read_raw
from .publish import publish
from .tables import build_tables
from .validate import ValidationError, row_problems, table_problems

log = logging.getLogger(__name__)

# Below this many articles to extract, a process pool costs more than it saves.
PARALLEL_MIN_ARTICLES = 64
# Articles whose rows are held at once before they become DataFrames: bounds memory.
BATCH_ARTICLES = 2000
# Tasks per worker: enough to balance long and short articles, few enough to keep pickling cheap.
CHUNKS_PER_WORKER = 8

ENGINES = ("processes", "dask")
STAGES = ("ingest", "extract", "tables", "validate", "publish")  # what ``build`` reports, in order

# A stage observer: ``with stage("extract"): ...`` (the benchmark times and measures memory with it).
StageObserver = Callable[[str], contextlib.AbstractContextManager]


@dataclass(frozen=True)
class BuildOptions:
    """How to run the build; none of these options changes a byte of the release."""

    jobs: int | None = None          # extraction processes; None = every core, 1 = serial
    cache: bool = True               # reuse per-article rows from <root>/.cache/extract
    engine: str = "processes"        # "processes" (this machine) or "dask" (dask.bag, local or remote)
    scheduler: str | None = None     # Dask scheduler address (tcp://host:8786); None = a local cluster
    partitioned: bool = False        # also write hive-partitioned Parquet to <root>/data-partitioned/
    batch: int = BATCH_ARTICLES      # articles extracted and tabled at a time (bounds memory)


def _no_observer(name: str) -> contextlib.AbstractContextManager:
    return contextlib.nullcontext()


def worker_count(jobs: int | None) -> int:
    """``jobs`` or, when None or 0, every core this process may use."""
    if jobs:
        return max(1, jobs)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def by_article_id(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: a.article_id)


def extract_serial(articles: list[Article]) -> list[ArticleRows]:
    return [extract_article(a) for a in articles]


def extract_parallel(articles: list[Article], jobs: int, min_articles: int = PARALLEL_MIN_ARTICLES) -> list[ArticleRows]:
    """``extract_article`` over a process pool, results in input order (``map`` keeps order).

    Fewer than ``min_articles`` articles are extracted here, serially (starting workers costs more).
    """
    if jobs <= 1 or len(articles) < min_articles:
        return extract_serial(articles)
    # The first article is extracted here: lexicons and patterns load once, and the forked workers
    # inherit them instead of each loading its own.
    first = extract_article(articles[0])
    rest = articles[1:]
    chunksize = max(1, len(rest) // (jobs * CHUNKS_PER_WORKER))
    # Forked workers share this process's pages until they write to them; a garbage collection in a
    # worker would write to every object header it visits. Frozen objects are never visited.
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            return [first, *pool.map(extract_article, rest, chunksize=chunksize)]
    finally:
        gc.unfreeze()


def _extract_uncached(articles: list[Article], options: BuildOptions, client=None) -> list[ArticleRows]:
    if not articles:
        return []
    if options.engine == "dask":
        from .distributed import extract_with_dask

        return extract_with_dask(articles, scheduler=options.scheduler, workers=worker_count(options.jobs), client=client)
    return extract_parallel(articles, worker_count(options.jobs))


def _extract_cached(articles: list[Article], options: BuildOptions, cache, client=None,
                    keys: list[str] | None = None) -> tuple[list[ArticleRows], list[str], int]:
    """(rows, cache keys, how many came from the cache); fresh rows are saved to the cache."""
    from .cache import article_key

    keys = keys if keys is not None else [article_key(a) for a in articles]
    found = dict(cache.get_many(keys))
    missing = [(k, a) for k, a in zip(keys, articles) if k not in found]
    fresh = _extract_uncached([a for _, a in missing], options, client)
    cache.put_many((k, rows) for (k, _), rows in zip(missing, fresh))
    found.update((k, rows) for (k, _), rows in zip(missing, fresh))
    return [found[k] for k in keys], keys, len(keys) - len(missing)


@contextlib.contextmanager
def _dask_client(options: BuildOptions):
    """One Dask client for every batch of the build (None with the process engine)."""
    if options.engine not in ENGINES:
        raise ValueError(f"unknown engine {options.engine!r}; choose one of {', '.join(ENGINES)}")
    if options.engine != "dask":
        yield None
        return
    from .distributed import dask_client

    with dask_client(options.scheduler, worker_count(options.jobs)) as client:
        yield client


@contextlib.contextmanager
def _open_cache(root: Path | None, options: BuildOptions):
    if not (options.cache and root is not None):
        yield None
        return
    from .cache import ExtractCache

    cache = ExtractCache.open(root)
    try:
        yield cache
    finally:
        cache.close()


def _ends_block(article_id: str, expected: int) -> bool:
    """Whether a block ends after this article: decided by its id alone."""
    digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % expected == 0


def article_blocks(articles: list[Article], size: int) -> Iterator[list[Article]]:
    """``articles`` in article_id order, in consecutive blocks of at most ``size`` articles.

    A block ends after an article whose id hashes to 0 modulo ``size // 2`` (or when it is full):
    where blocks end depends on the ids, not on positions (content-defined chunking, as rsync and
    restic cut files). Adding or removing an article changes the one block it falls in, so every
    other block keeps its key and its cached tables. Blocks hold about ``size // 2`` articles.
    """
    expected = max(1, size // 2)
    block: list[Article] = []
    for article in by_article_id(articles):
        block.append(article)
        if len(block) >= size or _ends_block(article.article_id, expected):
            yield block
            block = []
    if block:
        yield block


def extract_batches(articles: list[Article], options: BuildOptions, root: Path | None = None,
                    stage: StageObserver = _no_observer) -> Iterator[list[ArticleRows]]:
    """Rows of ``options.batch`` articles at a time, in article_id order, via the cache when on.

    Only one batch of rows is alive at a time: the caller turns each into DataFrames and drops it.
    """
    with _open_cache(root, options) as cache, _dask_client(options) as client:
        keys: list[str] = []
        cached = 0
        for batch in article_blocks(articles, options.batch):
            with stage("extract"):
                if cache is None:
                    rows = _extract_uncached(batch, options, client)
                else:
                    rows, batch_keys, hits = _extract_cached(batch, options, cache, client)
                    keys += batch_keys
                    cached += hits
            yield rows
            del rows  # the caller has made tables of it
        if cache is not None:
            with stage("extract"):
                log.info("extract: %d of %d articles cached, %d to extract", cached, len(keys), len(keys) - cached)
                cache.prune(keys)


def extract_all(articles: list[Article], options: BuildOptions | None = None, root: Path | None = None) -> list[ArticleRows]:
    """Run the per-article extractor over every article, in article_id order.

    With ``root`` and ``options.cache``, rows are reused from and saved to ``root/.cache/extract``.
    Serial by default (``options`` None): the plain reference a parallel build must equal.
    """
    options = options or BuildOptions(jobs=1, cache=False)
    return [rows for batch in extract_batches(articles, options, root) for rows in batch]


@dataclass
class TablePart:
    """The tables of one block of articles — every table but ``speakers`` — with the block's
    speaker refs merged within it (the release merges them across blocks) and what the checks that
    hold row by row found in it (``validate.row_problems``, run with the block's raw texts)."""

    frames: dict[str, pd.DataFrame]
    speakers: list
    problems: list[str]


def table_part(rows: list[ArticleRows], texts: dict[str, str] | None = None, stage: StageObserver = _no_observer) -> TablePart:
    """A block's tables; checked row by row when its raw ``texts`` are given."""
    with stage("tables"):
        frames = build_tables(rows, speakers=False)
        speakers = list(merge_speakers(ref for r in rows for ref in r.speakers).values())
    with stage("validate"):
        problems = row_problems(frames, texts) if texts is not None else []
    return TablePart(frames, speakers, problems)


def table_parts(articles: list[Article], options: BuildOptions, root: Path | None = None,
                stage: StageObserver = _no_observer) -> Iterator[TablePart]:
    """The tables of each block of articles (``article_blocks``), in article_id order.

    With the cache, a block whose articles are all unchanged comes whole from the block cache;
    any other block is tabled from its articles' rows, cached or extracted. Only one block's rows
    are alive at a time.
    """
    from .cache import article_key, block_key

    with _open_cache(root, options) as cache, _dask_client(options) as client:
        keys: list[str] = []
        blocks: list[str] = []
        cached_articles = cached_blocks = 0
        for block in article_blocks(articles, options.batch):
            part = key = None
            with stage("extract"):
                if cache is None:
                    rows = _extract_uncached(block, options, client)
                else:
                    article_keys = [article_key(a) for a in block]
                    keys += article_keys
                    key = block_key(article_keys)
                    blocks.append(key)
                    part = cache.get_block(key)
                    if part is None:
                        rows, _, hits = _extract_cached(block, options, cache, client, article_keys)
                        cached_articles += hits
                    else:
                        cached_articles += len(block)
                        cached_blocks += 1
            if part is None:
                part = table_part(rows, {a.article_id: a.text for a in block}, stage)
                del rows
                if cache is not None:
                    with stage("tables"):
                        cache.put_block(key, part)
            yield part
        if cache is not None:
            with stage("extract"):
                log.info("extract: %d of %d articles cached, %d to extract; tables of %d of %d blocks cached",
                         cached_articles, len(keys), len(keys) - cached_articles, cached_blocks, len(blocks))
                cache.prune(keys)
                cache.prune_blocks(blocks)


def merge_table_parts(parts: list[dict[str, pd.DataFrame]], speaker_refs: list) -> dict[str, pd.DataFrame]:
    """The tables of consecutive batches (built without speakers) as one release: concatenated, in
    primary-key order, with speakers merged across every batch (as ``build_tables`` does over all
    articles at once)."""
    frames = {}
    for table in schemas.table_names():
        if table == "speakers":
            frames[table] = tables.frame(table, tables.speaker_rows(speaker_refs))
        elif not parts:
            frames[table] = tables.frame(table, [])
        elif len(parts) == 1:
            frames[table] = parts[0][table]
        else:
            df = pd.concat([p[table] for p in parts], ignore_index=True)
            frames[table] = df.sort_values(schemas.primary_key(table), kind="mergesort", ignore_index=True)
    return frames


def tables_of_parts(parts: Iterable[TablePart], stage: StageObserver = _no_observer) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The release's tables from its blocks' parts, and the problems the parts' checks found.
    Memory holds the tables plus one block of rows."""
    frames: list[dict[str, pd.DataFrame]] = []
    speaker_refs: list = []
    problems: list[str] = []
    for part in parts:
        frames.append(part.frames)
        speaker_refs += part.speakers
        problems += part.problems
    with stage("tables"):
        return merge_table_parts(frames, speaker_refs), problems


def tables_in_batches(article_batches: Iterable[list[ArticleRows]], stage: StageObserver = _no_observer) -> dict[str, pd.DataFrame]:
    """The tables of consecutive batches of rows, merged (``table_part`` of each, then ``tables_of_parts``)."""
    return tables_of_parts((table_part(rows) for rows in article_batches), stage)[0]


def validate_release(frames: dict[str, pd.DataFrame], block_problems: list[str]) -> None:
    """Raise ValidationError unless every check passes: the blocks' row checks (already run),
    the same on the speakers table (merged across blocks), then keys and foreign keys over the
    whole tables. Together these are ``validate_frames``."""
    problems = block_problems + row_problems({"speakers": frames["speakers"]}, {}) + table_problems(frames)
    if problems:
        raise ValidationError(problems)


def build(root: Path, options: BuildOptions | None = None, stage: StageObserver = _no_observer) -> dict[str, pd.DataFrame]:
    """Build, validate and publish the release of the repository at ``root``; return its tables.

    Extraction and table building alternate block by block (at most ``options.batch`` articles),
    so the per-article rows of the whole corpus are never in memory at once.
    """
    options = options or BuildOptions()
    with stage("ingest"):
        articles = read_raw(root / "raw")                      # 1 ingest (checks every raw file)
    # 2 lines + 3 extract, per article; 4 tables and 5 the row-by-row checks, block by block
    frames, block_problems = tables_of_parts(table_parts(articles, options, root, stage), stage)
    del articles  # the raw texts were needed for the blocks' provenance checks only
    with stage("validate"):
        validate_release(frames, block_problems)              # 5 validate: the whole tables
    with stage("publish"):
        publish(frames, root / "data")                         # 6 publish (checks the files, then swaps)
    if options.partitioned:
        from .distributed import publish_partitioned

        with stage("partitioned"):
            publish_partitioned(frames, root / "data-partitioned")
    return frames

