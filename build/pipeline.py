"""The whole build, stage by stage: raw → lines → extract → tables → validate → publish.

Reading and writing happen only here and in ``ingest``/``publish`` (and the extraction cache);
every stage in between is a pure function of its input.

Scale (docs/performance.md): the articles are taken in content-defined blocks (``article_blocks``).
A block's tables, and what its row-by-row checks found, are cached whole under its articles' keys;
the rows of each article are cached by its bytes, manifest entry and extractor fingerprint
(``cache``); the remaining articles are extracted, and their blocks tabled, on every core (a
process pool) or on a Dask cluster (``distributed``). Whichever way, rows and blocks stay in
article_id order, so the release is byte-identical to a serial build.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import signal
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import pandas as pd

from . import pickles, schemas, tables
from .extract import ArticleRows, extract_article, forget_text_memos, warm_up
from .extract.speakers import SpeakerRef, merge_keyed_speakers, merge_speakers, speaker_id
from .errors import BuildError
from .files import libc
from .ingest import Article, read_raw, with_texts
from .memory import give_back_freed_memory, use_lean_arrow_pool
from .publish import WrittenPiece, streamed
from .tables import build_tables
from .validate import BlockChecks, CheckProcess, ValidationError, provenance_by_table, read_written

log = logging.getLogger(__name__)

# Below this many articles to extract (or a block of fewer to table), a process pool costs more than it saves.
PARALLEL_MIN_ARTICLES = 64
# Up to this many rows, pandera's row checks run in the second process (``BlockChecks._sent``):
# sending them there costs less than pandera's import and warm-up here (~0.7 s); more would hold a
# second copy of the tables in memory.
SCHEMA_ROWS_ELSEWHERE = 250_000
# Articles whose rows are held at once before they become DataFrames: bounds memory.
BATCH_ARTICLES = 2000
# Tasks per worker and block: enough that the last task of a block is short (the other worker
# idles while it runs: ~15 articles, ~0.2 s, in a 1,000-article block), few enough to keep pickling cheap.
CHUNKS_PER_WORKER = 32
# Articles a worker tables at a time when the workers table a block (``Workers.start_tables``):
# pandas costs the same per frame whatever its rows, so tabling 1,000 articles took 0.18 s whole or
# in pieces of 250, 0.24 s in pieces of 125 and 1.1 s in pieces of 15 (the extraction tasks' size).
TABLE_PIECE_ARTICLES = 250

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


class Workers:
    """The extraction processes of one build: started by the first block with enough articles to
    need them (``min_articles``), kept for every later block, stopped when the build ends. A build
    has them extract and table its blocks (``start_tables``); ``extract`` and ``start`` give rows.

    >>> with Workers(jobs=2) as workers:        # doctest: +SKIP
    ...     rows = workers.extract(articles)      # in input order (``map`` keeps order)
    ...     later = workers.start(more)           # extracting while this process does other work
    ...     more_rows = later()                   # waits for them
    ...     pieces = workers.start_tables(block, keys, root, cache.root, cache.fingerprint)()
    """

    def __init__(self, jobs: int, min_articles: int = PARALLEL_MIN_ARTICLES):
        self.jobs = jobs
        self.min_articles = min_articles
        self._pool: ProcessPoolExecutor | None = None
        self._aside: ProcessPoolExecutor | None = None  # ``warm_aside``'s one worker

    def extract(self, articles: list[Article]) -> list[ArticleRows]:
        return self.start(articles)()

    def start(self, articles: list[Article]) -> Callable[[], list[ArticleRows]]:
        """Start extracting ``articles`` in the workers; the function returned waits for their
        rows, in input order. Too few articles for the workers: extracted here, when it is called."""
        if self.jobs <= 1 or len(articles) < self.min_articles:
            return lambda: extract_serial(articles)  # starting workers would cost more than it saves
        if self._pool is not None:
            return self._submit(articles)
        # The first article is extracted here: lexicons and patterns load once, and the forked
        # workers inherit them instead of each loading its own.
        first = extract_article(articles[0])
        rest = self._forking(lambda: self._submit(articles[1:]))
        return lambda: [first, *rest()]

    def start_tables(self, articles: list[Article], keys: list[str] | None, root: Path | None,
                     cache_root: Path | None, fingerprint: str | None) -> Callable[[], list[tuple["TablePart", list[tuple[str, bytes]]]]]:
        """Start tabling ``articles`` (a block) in the workers, in consecutive
        pieces of about ``TABLE_PIECE_ARTICLES``, at least one a worker (``table_block``: each
        worker reads its texts, takes its cached rows, extracts the others and tables them). The
        function returned waits for each piece's part and its fresh rows, packed, in order.

        This process then has only to join the parts (``joined_part``): it no longer reads the
        texts, receives and tables every article's rows and packs them for the cache (a clean
        10k build: 10.7–11.7 → 6.0–7.2 s of its CPU), which capped the build on more cores."""
        def submit() -> list[Future]:
            return [self._pool.submit(table_block, articles[a:b], None if keys is None else keys[a:b], None,
                                      root, cache_root, fingerprint) for a, b in table_pieces(len(articles), self.jobs)]

        if self._pool is None:
            warm_up()  # the lexicons and patterns, loaded once, here: the forked workers inherit them
            futures = self._forking(submit)
        else:
            futures = submit()
        return lambda: [worker_result(future, articles) for future in futures]

    def _forking(self, submit: Callable):
        """Start the pool and ``submit`` its first tasks (the workers fork as they are submitted)."""
        # Forked workers share this process's pages until they write to them; a garbage collection
        # in a worker would write to every object header it visits. Frozen objects are never
        # visited. The workers fork during the first submission (a map submits every chunk at once).
        gc.freeze()
        try:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=end_with_parent, initargs=(os.getpid(),))
            return submit()
        finally:
            gc.unfreeze()

    def warm_aside(self) -> None:
        """Fork one worker now, before ingest, to load what extraction loads on first use
        (``extract.warm_up``: ~0.5 s) while this process reads the raw files: it then tables the
        few blocks of an incremental build (``BlocksAside``), their few new articles extracted in
        ~10 ms each. A pool forks its workers on its first task, hence the empty one."""
        if self.jobs > 1 and self._aside is None:
            self._aside = ProcessPoolExecutor(max_workers=1, initializer=_warm_worker, initargs=(os.getpid(),))
            self._aside.submit(int)

    @property
    def extracting(self) -> bool:
        """Whether the workers extract (their pool is started): then this process only joins, checks and writes."""
        return self._pool is not None

    @property
    def warm(self) -> bool:
        """Whether ``warm_aside``'s worker is running."""
        return self._aside is not None

    def submit_aside(self, fn: Callable, *args) -> Future:
        """Run ``fn(*args)`` in ``warm_aside``'s worker."""
        if self._aside is None:
            raise RuntimeError("submit_aside needs warm_aside's worker")
        return self._aside.submit(fn, *args)

    def end_aside(self) -> None:
        """Stop ``warm_aside``'s worker (not needed, or done)."""
        if self._aside is not None:
            self._aside.shutdown(cancel_futures=True)
            self._aside = None

    def _submit(self, articles: list[Article]) -> Callable[[], list[ArticleRows]]:
        chunksize = max(1, len(articles) // (self.jobs * CHUNKS_PER_WORKER))
        results = self._pool.map(extract_article, articles, chunksize=chunksize)  # submits every chunk now
        return lambda: list(results)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.end_aside()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class WorkerLost(BuildError):
    """A worker process ended without a result (killed: by the system when memory ran out, or by hand)."""


def worker_result(future: Future, block: list[Article]):
    """``future.result()`` of a task on a ``block`` of articles; a worker that ended abruptly is a
    ``BuildError`` naming the block (nothing is published: the build stops before its release is
    swapped in). The pool then fails every task it holds, so the worker may have had the block
    after this one (submitted ahead): the message says so."""
    try:
        return future.result()
    except BrokenProcessPool as lost:
        raise WorkerLost(f"a worker process ended abruptly (killed, perhaps by the system for want of memory) while the "
                         f"workers were extracting and tabling the block of {len(block)} articles {block[0].raw_path} to "
                         f"{block[-1].raw_path}, or the block after it; nothing was published. "
                         f"Build again, with fewer --jobs if memory is short") from lost


def table_pieces(n: int, at_least: int) -> list[tuple[int, int]]:
    """The [start, end) of each piece a block of ``n`` articles is tabled in by workers: about
    ``TABLE_PIECE_ARTICLES`` each, and ``at_least`` pieces (one a worker) while there are articles.

    >>> table_pieces(1000, 2), table_pieces(5, 2)
    ([(0, 250), (250, 500), (500, 750), (750, 1000)], [(0, 2), (2, 5)])
    """
    pieces = max(1, min(n, max(at_least, round(n / TABLE_PIECE_ARTICLES))))
    bounds = [n * i // pieces for i in range(pieces + 1)]
    return list(zip(bounds, bounds[1:]))


def end_with_parent(parent: int) -> None:
    """Make this worker end when the build process ``parent`` does, killed too (Linux's
    ``PR_SET_PDEATHSIG``): a forked worker inherits both ends of its task pipe, so it would never
    see the pipe close, and would wait for tasks forever, holding the build's output pipes open."""
    prctl = getattr(libc(), "prctl", None)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # killed before the line above ran
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _warm_worker(parent: int) -> None:
    end_with_parent(parent)
    warm_up()


def extract_parallel(articles: list[Article], jobs: int, min_articles: int = PARALLEL_MIN_ARTICLES) -> list[ArticleRows]:
    """``extract_article`` over a process pool of ``jobs`` workers, results in input order."""
    with Workers(jobs, min_articles) as workers:
        return workers.extract(articles)


def _start_uncached(articles: list[Article], options: BuildOptions, client, workers: Workers) -> Callable[[], list[ArticleRows]]:
    """Start extracting ``articles``; the function returned waits for their rows (``Workers.start``,
    or on Dask ``distributed.start_with_dask``)."""
    if not articles:
        return list
    if options.engine == "dask":
        from .distributed import start_with_dask

        return start_with_dask(articles, client, worker_count(options.jobs))
    return workers.start(articles)


def _cached_or_extracted(articles: list[Article], keys: list[str], cache) -> Callable[[], tuple[list[ArticleRows], int]]:
    """For a block tabled in this process (too few articles for the workers, or one worker): the
    function returned gives (the rows of every article, how many came from the cache), extracting
    here those the cache lacks and saving their rows to it."""
    found = dict(cache.get_many(keys))

    def rows() -> tuple[list[ArticleRows], int]:
        fresh = [(k, extract_article(a)) for k, a in zip(keys, articles) if k not in found]
        cache.put_many(fresh)
        found.update(fresh)
        return [found[k] for k in keys], len(keys) - len(fresh)

    return rows


def table_block(articles: list[Article], keys: list[str] | None, key: str | None, root: Path | None,
                cache_root: Path | None, fingerprint: str | None,
                cached: dict[str, bytes] | None = None) -> tuple[TablePart, list[tuple[str, bytes]]]:
    """A block's ``TablePart`` (checked against its raw texts, read from ``root``) from its
    articles' rows: from the article cache (read only; with their ``keys``), or sent with them
    (``cached``: packed, as the cache stores them), or extracted. Returns it with the rows
    extracted, packed (``cache.packed_rows``) for the build process to store. Runs in a worker:
    ``Workers.warm_aside``'s, the pool's (``Workers.start_tables``) or Dask's (``distributed``)."""
    from .cache import ExtractCache, packed_rows, readable_rows

    found: dict[str, ArticleRows] = {}
    if cached is not None:
        found = dict(readable_rows(cached.items()))
    elif keys is not None and cache_root is not None:
        reader = ExtractCache.open(cache_root, fingerprint, read_only=True)
        try:
            found = dict(reader.get_many(keys))
        finally:
            reader.close()
    articles = with_texts(articles, root) if root is not None else articles
    rows = [found[k] if k in found else extract_article(a) for k, a in zip(keys or [None] * len(articles), articles)]
    fresh = [] if keys is None else [(k, packed_rows(r)) for k, r in zip(keys, rows) if k not in found]
    return table_part(rows, {a.article_id: a.text for a in articles}, key), fresh


class BlocksAside:
    """The blocks an incremental build tables in ``Workers.warm_aside``'s worker (``table_block``)
    while this process reads, checks and writes the cached blocks: each is submitted ahead of its
    turn, at most ``ahead`` not yet taken, so that their tables do not pile up in memory."""

    def __init__(self, workers: Workers, blocks: list["WaitingBlock"], root: Path | None,
                 cache_root: Path, fingerprint: str, ahead: int = 2):
        self.keys = {block.key for block in blocks}
        self._workers = workers
        self._waiting = list(reversed(blocks))  # popped from the end: in block order
        self._running: dict[str, tuple[Future, list[Article]]] = {}  # with its articles, to name them if its worker is lost
        self._args = (root, cache_root, fingerprint)
        self._ahead = ahead
        self._submit()

    def _submit(self) -> None:
        while self._waiting and len(self._running) < self._ahead:
            block = self._waiting.pop()
            articles = block.articles()
            self._running[block.key] = self._workers.submit_aside(table_block, articles, block.keys(), block.key, *self._args), articles

    def __contains__(self, key: str | None) -> bool:
        return key in self.keys

    def take(self, key: str) -> tuple[TablePart, list[tuple[str, bytes]]]:
        """The block's part and its extracted rows, once the worker has them (the next block is
        submitted first, so the worker goes on while this process waits)."""
        running, articles = self._running.pop(key)
        self._submit()
        return worker_result(running, articles)


# At most this many blocks are tabled aside (``BlocksAside``): enough for the few new articles
# of an incremental build; more (new tables code: every block) are tabled here, in their turn.
BLOCKS_ASIDE = 4


def _blocks_aside(blocks: list["WaitingBlock"], cache, workers: Workers, root: Path | None) -> BlocksAside | None:
    """The blocks not in the block cache, tabled aside (``BlocksAside``) when ``Workers.warm_aside``'s
    worker is running and they are few (``BLOCKS_ASIDE``), with fewer new articles than the workers
    take (``PARALLEL_MIN_ARTICLES``): an incremental build. Otherwise the worker is stopped."""
    if not workers.warm:
        return None
    fresh = [b for b in blocks if not cache.has_block(b.key)]
    if 0 < len(fresh) <= BLOCKS_ASIDE and sum(len(cache.missing(b.keys())) for b in fresh) < PARALLEL_MIN_ARTICLES:
        return BlocksAside(workers, fresh, root, cache.root, cache.fingerprint)
    workers.end_aside()
    return None


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
    from .cache import ExtractCache, keeping_derived

    cache = ExtractCache.open(root)
    try:
        # the gazetteer, the parsed manifest, the raw contents checked: kept beside the cache
        with keeping_derived(root, cache.fingerprint):
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


def extract_all(articles: list[Article], options: BuildOptions | None = None) -> list[ArticleRows]:
    """Run the per-article extractor over every article, in article_id order, without the cache.

    Serial by default (``options`` None): the plain reference a parallel build must equal.
    """
    options = options or BuildOptions(jobs=1, cache=False)
    with _dask_client(options) as client, Workers(worker_count(options.jobs)) as workers:
        return [rows for block in article_blocks(articles, options.batch)
                for rows in _start_uncached(block, options, client, workers)()]


class WaitingBlocks:
    """The blocks of a build waiting their turn, in a temporary file (``table_parts``): each block
    is one pickle of its articles and one of their cache keys, written once and read when needed.

    As ``Article`` objects, waiting blocks held ~0.7 KB an article (70 MB at 100,000 articles);
    pickled in memory, ~0.4 KB with their keys (400 MB at a million articles). On disk they hold
    nothing but their place in the file, and a build's memory no longer grows with them."""

    def __init__(self):
        self._file = tempfile.TemporaryFile(prefix="coalition-news-blocks-")

    def add(self, articles: list[Article], keys: list[str] | None, key: str | None) -> "WaitingBlock":
        start = self._file.seek(0, os.SEEK_END)
        self._file.write(pickles.dumps(articles))
        middle = self._file.tell()
        self._file.write(pickle.dumps(keys, protocol=pickle.HIGHEST_PROTOCOL))
        return WaitingBlock(self, start, middle, self._file.tell(), len(articles), key)

    def read(self, start: int, end: int):
        self._file.seek(start)
        return pickle.loads(self._file.read(end - start))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "WaitingBlocks":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class WaitingBlock:
    """One block in ``WaitingBlocks``: where its articles and keys are, how many, its block key."""

    shelf: WaitingBlocks
    start: int
    middle: int
    end: int
    count: int
    key: str | None  # its key in the block cache (None without the cache)

    def articles(self) -> list[Article]:
        return self.shelf.read(self.start, self.middle)

    def keys(self) -> list[str] | None:
        """Its articles' keys in the extraction cache (None without the cache)."""
        return self.shelf.read(self.middle, self.end)

    def __len__(self) -> int:
        return self.count


@dataclass
class TablePart:
    """The tables of one block of articles — every table but ``speakers`` — with the block's
    speaker refs merged within it (the release merges them across blocks). A block tabled in this
    build (not read from the block cache) keeps what the provenance check found in it, the one
    check that needs its raw texts, run as it is tabled, until the whole release has been checked."""

    frames: dict[str, pd.DataFrame]
    speakers: list[tuple[str, SpeakerRef]]  # the block's speakers, merged within it, with their speaker_key
    key: str | None = None                 # its key in the block cache
    provenance: dict[str, list[str]] | None = None  # table → provenance problems, while still to be checked

    @property
    def checked(self) -> bool:
        return self.provenance is None


def table_part(rows: list[ArticleRows], texts: dict[str, str] | None = None, key: str | None = None) -> TablePart:
    """A block's tables; with its raw ``texts``, a block still to be checked, its spans checked
    against them now (``provenance_by_table``), so the texts need not be kept."""
    frames = build_tables(rows, speakers=False)
    speakers = list(merge_speakers(ref for r in rows for ref in r.speakers).items())
    return TablePart(frames, speakers, key, None if texts is None else provenance_by_table(frames, texts))


def joined_part(parts: list[TablePart], key: str | None) -> TablePart:
    """The part of a block from the parts of its consecutive runs of articles, in order: the same
    as ``table_part`` of the whole block. Each table's rows are sorted by a primary key that begins
    with the article, so the runs' rows follow one another; speakers are merged across the runs
    (``merge_keyed_speakers`` does not depend on how refs were grouped: tests/test_speakers.py)."""
    if len(parts) == 1:
        return replace(parts[0], key=key)
    frames = {table: pd.concat([part.frames[table] for part in parts], ignore_index=True) for table in parts[0].frames}
    speakers = list(merge_keyed_speakers(keyed for part in parts for keyed in part.speakers).items())
    provenance = None
    if parts[0].provenance is not None:
        provenance = {table: [problem for part in parts for problem in part.provenance[table]] for table in parts[0].provenance}
    return TablePart(frames, speakers, key, provenance)


@dataclass
class _Counts:
    """What ``table_parts`` found in the caches, for its log line."""

    articles: int = 0
    cached_articles: int = 0
    blocks: int = 0
    cached_blocks: int = 0


@dataclass
class _StartedBlock:
    """A block on its way to a ``TablePart``: whole from the block cache (``part``), or its rows
    being extracted (``rows`` waits for them and for how many came from the article cache), or
    tabled by the workers or Dask (``pieces``: ``Workers.start_tables``,
    ``distributed.start_tables_with_dask``) or aside (``aside``)."""

    articles: list[Article]  # with their texts, for the block to extract and table here (else none)
    key: str | None
    part: TablePart | None = None
    rows: Callable[[], tuple[list[ArticleRows], int]] | None = None
    pieces: Callable[[], list[tuple[TablePart, list[tuple[str, bytes]]]]] | None = None
    aside: "BlocksAside | None" = None  # tabled in the warm worker (``BlocksAside.take``)


def _tabled_by_workers(articles: list[Article], options: BuildOptions, workers: Workers) -> bool:
    """Whether the workers table this block (``Workers.start_tables``): with the process engine,
    more than one worker, and a block large enough to be worth them — whether its rows are to be
    extracted or are cached (new tables code tables every block again, from the cached rows)."""
    return options.engine == "processes" and workers.jobs > 1 and len(articles) >= workers.min_articles


def table_parts(articles: list[Article], options: BuildOptions, cache=None,
                stage: StageObserver = _no_observer, root: Path | None = None,
                workers: Workers | None = None) -> Iterator[TablePart]:
    """The tables of each block of articles (``article_blocks``), in article_id order.

    With the ``cache``, a block whose articles are all unchanged comes whole, and checked, from
    the block cache; any other block is tabled from its articles' rows, cached or extracted: by
    the pool's workers (``Workers.start_tables``) or the Dask cluster
    (``distributed.start_tables_with_dask``), the next block while this process checks and writes
    the current one, so at most two blocks are alive at a time; or here, in a serial build or for
    a block too small for the workers. A block's texts are read where it is tabled (from ``root``,
    when ingest left them unread: ``read_raw(unread_ok=True)``), or here to be sent to Dask. The blocks
    wait their turn on disk (``WaitingBlocks``): a caller that drops its own list of ``articles`` (as
    ``build`` does) holds no ``Article`` but those of the blocks being extracted and tabled.
    """
    from .cache import article_key, block_key

    counts = _Counts()

    def start(waiting: WaitingBlock, client, workers: Workers, aside: BlocksAside | None) -> _StartedBlock:
        counts.blocks += 1
        counts.articles += len(waiting)
        article_keys = None
        if cache is not None:
            article_keys = waiting.keys()
            cache.keep(article_keys)  # their rows stay in the cache (``prune``)
            part = cache.get_block(waiting.key)
            if part is not None:  # its articles are not needed
                counts.cached_blocks += 1
                counts.cached_articles += len(waiting)
                return _StartedBlock([], waiting.key, part=part)
            if aside is not None and waiting.key in aside:
                counts.cached_articles += len(waiting)  # less the articles extracted aside (``finish``)
                return _StartedBlock([], waiting.key, aside=aside)
        block = waiting.articles()
        if _tabled_by_workers(block, options, workers):
            counts.cached_articles += len(waiting)  # less the articles the workers extracted (``finish``)
            cache_root, fingerprint = (None, None) if cache is None else (cache.root, cache.fingerprint)
            return _StartedBlock([], waiting.key, pieces=workers.start_tables(block, article_keys, root, cache_root, fingerprint))
        block = with_texts(block, root)
        if options.engine == "dask":  # the texts and cached rows go with the block: the cluster need not see the repository
            from .distributed import start_tables_with_dask

            counts.cached_articles += len(waiting)  # less the articles the cluster extracted (``finish``)
            cached = None if cache is None else cache.get_packed(article_keys)
            return _StartedBlock([], waiting.key, pieces=start_tables_with_dask(block, article_keys, cached, client, worker_count(options.jobs)))
        # tabled here: too few articles for the workers to be worth it, or a serial build
        if cache is None:
            return _StartedBlock(block, None, rows=lambda: (extract_serial(block), 0))
        return _StartedBlock(block, waiting.key, rows=_cached_or_extracted(block, article_keys, cache))

    def finish(started: _StartedBlock) -> TablePart:
        if started.part is not None:
            return started.part
        if started.aside is not None:
            with stage("extract"):
                part, fresh = started.aside.take(started.key)
                cache.put_many(fresh, packed=True)
                counts.cached_articles -= len(fresh)
            return part
        if started.pieces is not None:
            with stage("extract"):
                pieces = started.pieces()
                if cache is not None:
                    fresh = [item for _, packed in pieces for item in packed]
                    cache.put_many(fresh, packed=True)
                    counts.cached_articles -= len(fresh)
            with stage("tables"):
                return joined_part([part for part, _ in pieces], started.key)
        with stage("extract"):
            rows, hits = started.rows()
            counts.cached_articles += hits
        with stage("tables"):
            return table_part(rows, {a.article_id: a.text for a in started.articles}, started.key)

    with _dask_client(options) as client, contextlib.ExitStack() as running:
        if workers is None:
            workers = running.enter_context(Workers(worker_count(options.jobs), PARALLEL_MIN_ARTICLES))
        shelf = running.enter_context(WaitingBlocks())
        blocks: list[WaitingBlock] = []
        for block in article_blocks(articles, options.batch):
            article_keys = [article_key(a) for a in block] if cache is not None else None
            blocks.append(shelf.add(block, article_keys, block_key(article_keys) if cache is not None else None))
        articles = block = article_keys = None  # ingest's articles are let go: each block waits on disk
        aside = None
        if cache is not None:
            with stage("extract"):
                aside = _blocks_aside(blocks, cache, workers, root)
        blocks.reverse()
        waiting: _StartedBlock | None = None
        while blocks:
            with stage("extract"):
                started = start(blocks.pop(), client, workers, aside)
            if waiting is not None:
                yield finish(waiting)  # tabled while the workers extract ``started``
            waiting = started
        if waiting is not None:
            yield finish(waiting)
        if cache is not None:
            with stage("extract"):
                log.info("extract: %d of %d articles cached, %d to extract; tables of %d of %d blocks cached",
                         counts.cached_articles, counts.articles, counts.articles - counts.cached_articles,
                         counts.cached_blocks, counts.blocks)
                cache.prune()


def block_lines(part: TablePart, cache) -> dict[str, Path | None]:
    """For each table of a block from the block cache, the file of its CSV lines an earlier build
    kept (``publish.CsvStream`` copies them instead of formatting the rows); none for a fresh block."""
    if cache is None or not part.checked:
        return {}
    return {table: cache.lines_path(part.key, table) for table in part.frames}


def speaker_parents(part: TablePart) -> dict[str, pd.DataFrame]:
    """The speakers a block names, as the parent rows its speaker ids refer to (``BlockChecks``):
    the release's speakers table is made from every block's, at the end."""
    return {"speakers": pd.DataFrame({"speaker_id": [speaker_id(key) for key, _ in part.speakers]}, dtype="string")}


@dataclass(frozen=True)
class PublishedBlock:
    """What the build keeps of a block once its rows are written: its key in the block cache, and
    whether it was tabled in this build (then cached once the release passes every check)."""

    key: str | None
    fresh: bool


def cache_checked_blocks(blocks: list[PublishedBlock], cache, written: dict[str, list[WrittenPiece]] | None = None,
                         csv_dir: Path | None = None) -> None:
    """Once the release has passed every check: keep the blocks tabled in this build (staged in the
    cache as they were written: ``ExtractCache.stage_block``), with the CSV lines of their rows
    (``written``: for each table written block by block, where its blocks went in the staged CSVs in
    ``csv_dir``) that this build formatted (a fresh block's, or lines lost or damaged since they were
    kept), and only the blocks of this build."""
    for block in blocks:
        if block.fresh:
            cache.commit_block(block.key)
    for table, pieces in (written or {}).items():
        for block, piece in zip(blocks, pieces, strict=True):
            if not piece.kept:
                cache.put_lines(block.key, table, csv_dir / f"{table}.csv", piece.start, piece.end)
    cache.prune_blocks(b.key for b in blocks)


def _article_files(raw_dir: Path) -> int:
    """How many .txt files ``raw_dir`` holds (before ingest has checked them)."""
    try:
        with os.scandir(raw_dir) as listing:
            return sum(1 for item in listing if item.name.endswith(".txt"))
    except OSError:
        return 0  # ingest names the problem


def build(root: Path, options: BuildOptions | None = None, stage: StageObserver = _no_observer) -> dict[str, int]:
    """Build, validate and publish the release of the repository at ``root``; return each table's rows.

    The release streams (docs/performance.md): block by block (at most ``options.batch`` articles),
    the workers extract and table the next block while this process checks the current one
    (``validate.BlockChecks``) and writes its rows to the staged files (``publish.streamed``), then
    drops it. No table is held whole: the speakers, merged block by block into a temporary
    database (``tables.SpeakerFold``), are read back from it a frame at a time at the end.
    """
    options = options or BuildOptions()
    use_lean_arrow_pool()  # less of what the streamed tables free stays resident (``memory``)
    with _open_cache(root, options) as cache, contextlib.ExitStack() as running:
        # the checks get a second process (pandera, frictionless), which imports and warms up while the build runs
        checker = running.enter_context(CheckProcess()) if _article_files(root / "raw") >= PARALLEL_MIN_ARTICLES else None
        workers = running.enter_context(Workers(worker_count(options.jobs), PARALLEL_MIN_ARTICLES))
        if cache is not None and options.engine == "processes" and cache.has_rows():
            workers.warm_aside()  # likely an incremental build: a worker gets ready for its new articles
        with stage("ingest"):
            articles = read_raw(root / "raw", unread_ok=True)  # 1 ingest (checks every raw file)
            give_back_freed_memory()
        release = running.enter_context(streamed(root / "data", checker, cache.frictionless_passed if cache is not None else None))
        checks = BlockChecks(checker=checker, elsewhere=SCHEMA_ROWS_ELSEWHERE)
        speakers = running.enter_context(contextlib.closing(tables.SpeakerFold()))  # every block's, merged as they come
        blocks: list[PublishedBlock] = []
        counts = dict.fromkeys(schemas.table_names(), 0)
        # 2 lines + 3 extract, per article; 4 tables, 5 validate and 6 publish, block by block
        parts = table_parts(articles, options, cache, stage, root, workers)
        del articles  # ``table_parts`` puts them by block on disk and lets them go (``WaitingBlocks``)
        for part in parts:
            with stage("validate"):
                checks.add(part.frames, fresh=not part.checked, provenance=part.provenance,
                           parents=None if part.checked else speaker_parents(part))
            with stage("publish"):
                release.add(part.frames, block_lines(part, cache))
            if cache is not None and not part.checked:
                with stage("tables"):
                    cache.stage_block(part.key, TablePart(part.frames, part.speakers, part.key))
            speakers.add(part.speakers)
            blocks.append(PublishedBlock(part.key, not part.checked))
            for table, df in part.frames.items():
                counts[table] += len(df)
            del part
            if workers.extracting:
                forget_text_memos()  # filled by this block's speaker keys only (``extract.forget_text_memos``)
            give_back_freed_memory()
        speaker_frames = speakers.frames()  # the speakers table, a frame at a time in primary-key order
        while True:
            with stage("tables"):
                part_of_speakers = next(speaker_frames, None)
            if part_of_speakers is None:
                break
            with stage("validate"):
                checks.add({"speakers": part_of_speakers})
            with stage("publish"):
                release.add({"speakers": part_of_speakers})
            counts["speakers"] += len(part_of_speakers)
            del part_of_speakers
        with stage("validate"):
            checks.start_schema_rows()                         # pandera in the second process ...
        with stage("publish"):
            staged_release = release.finish()                  # ... and frictionless, while ...
        with stage("validate"):
            problems = checks.problems(partial(read_written, staged_release.folder))  # ... this one finishes its checks
            if problems:
                raise ValidationError(problems)
            give_back_freed_memory()  # what pandera and the last key checks freed, before the cache is written
        if cache is not None:
            with stage("tables"):
                block_csvs = {t: pieces for t, pieces in staged_release.written.items() if t != "speakers"}
                cache_checked_blocks(blocks, cache, block_csvs, staged_release.folder / "csv")
        with stage("publish"):
            staged_release.commit()                            # 6 the files checked, then swapped in
    if options.partitioned:
        from .distributed import publish_partitioned

        with stage("partitioned"):
            # without the cache, a clean build: every partition is written again
            done = publish_partitioned(root / "data", root / "data-partitioned", reuse=options.cache)
            log.info("partitioned: %d blocks written, %d carried unchanged", done["blocks_written"], done["blocks_carried"])
    return counts
