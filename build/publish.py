"""Stage 6 — publish: write the tables to ``data/`` only once they have passed every check.

The release is written to a temporary folder beside ``data/``, checked there (frictionless on the
CSVs, schema and content of the Parquet files), and only then swapped into place. A failed build
leaves the previous ``data/`` untouched.

The swap is one atomic exchange of the two folders where the system offers it (``renameat2`` with
``RENAME_EXCHANGE`` on Linux, ``renamex_np`` with ``RENAME_SWAP`` on macOS): a reader, or a build
killed at any instant, sees ``data/`` as the whole previous release or the whole new one. Elsewhere
the swap is two renames (``data`` → ``data.old``, staging → ``data``); a kill between them leaves no
``data/`` but a complete ``data.old/``, which ``recover()`` (run by every publish) puts back.

Bytes are reproducible: rows sorted by primary key, the explicit pyarrow schema from ``schemas/``,
no index, fixed writer options (below, in one place), LF line endings, no timestamps anywhere.
The pyarrow and pandas versions are written into each Parquet file, so both are pinned exactly.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import ctypes
import errno
import itertools
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schemas
from .csvtext import csv_chunks
from .errors import BuildError
from .files import append_sealed, libc as files_libc
from .validate import CheckProcess, ValidationError, check_written, frictionless_problems

log = logging.getLogger(__name__)

PARQUET_OPTIONS = dict(
    compression="zstd",
    compression_level=3,  # zstd's default: 3× faster to write than 9, files ~9 % larger
    use_dictionary=True,
    write_statistics=True,
    version="2.6",
    data_page_version="1.0",
    # Fixed, and small enough to hold while a table streams in (``ParquetStream``): every row
    # group but the last holds exactly this many rows, however the build cut the rows into blocks.
    row_group_size=65_536,
)
CSV_OPTIONS = dict(index=False, lineterminator="\n", encoding="utf-8", date_format="%Y-%m-%d")


def csv_quoting(df: pd.DataFrame) -> int:
    """Minimal RFC 4180 quoting, unless a text cell holds a CR: then every text field is quoted.

    Python's csv writer quotes a field holding a character of its line terminator (LF here) but not
    a lone CR ("عنوان\rفرعي", an old Mac line break kept verbatim), and every CSV reader would take
    that CR for the end of the row. Quoting all text in such a table is valid RFC 4180, and the
    choice depends on the content only, so builds stay byte-identical.
    """
    for column in df.columns:
        if df[column].dtype == object or pd.api.types.is_string_dtype(df[column]):
            if df[column].astype("string").str.contains("\r", regex=False).any():
                return csv.QUOTE_NONNUMERIC
    return csv.QUOTE_MINIMAL


class CsvPiece(NamedTuple):
    """Consecutive rows of a table (a block's), and the file of their CSV lines when an earlier
    build kept it (``cache.ExtractCache.put_lines``)."""

    frame: pd.DataFrame
    lines: Path | None = None


class WrittenPiece(NamedTuple):
    """Where a piece's rows went in the CSV: bytes ``start:end``, ``rows`` records; ``kept``: copied
    from lines an earlier build kept, sealed (``files.append_sealed``), after they had been read back
    against that build's Parquet file; not formatted in this build."""

    start: int
    end: int
    rows: int
    kept: bool


def write_csv(table: str, df: pd.DataFrame, out_dir: Path, pieces: list[CsvPiece] | None = None) -> list[WrittenPiece] | None:
    """``df.to_csv`` with ``CSV_OPTIONS``; the same bytes come from Arrow (``csvtext``) when it can.

    ``pieces``: ``df``'s rows cut into runs, in order. csvtext formats each row on its own, so the
    file is then written piece by piece — a kept file of lines copied as it is, any other piece
    formatted — and where each piece went is returned (``CsvStream``). That gives the same bytes;
    when a text cell holds a CR the whole table is written again, quoted (see ``csv_quoting``), and,
    as without ``pieces``, None is returned.
    """
    (out_dir / "csv").mkdir(parents=True, exist_ok=True)
    stream = CsvStream(table, out_dir / "csv" / f"{table}.csv")
    if pieces is None or sum(len(p.frame) for p in pieces) != len(df):
        stream.add(df)
        stream.close(lambda: [df])
        return None
    for piece in pieces:
        stream.add(piece.frame, piece.lines)
    return stream.close(lambda: [df])


def _copied(source: Path, out) -> bool:
    """Append the kept lines ``source`` to ``out``; False when they are gone (another build pruned
    them) or damaged: then the rows are formatted instead."""
    if append_sealed(source, out):  # streamed: a block's kept lines are never whole in memory
        return True
    if source.exists():
        log.warning("%s: kept CSV lines damaged; their rows are formatted again", source)
    return False


def write_parquet(table: str, df: pd.DataFrame, out_dir: Path) -> None:
    (out_dir / "parquet").mkdir(parents=True, exist_ok=True)
    stream = ParquetStream(table, out_dir / "parquet" / f"{table}.parquet")
    stream.add(df)
    stream.close()


class ParquetStream:
    """One table's Parquet file, written a row group at a time as its rows arrive in key order.

    Every row group but the last holds exactly ``PARQUET_OPTIONS["row_group_size"]`` rows, each
    written from contiguous arrays, so the bytes do not depend on how the rows arrived (one whole
    table, or blocks of any size): the file equals ``write_parquet`` of the whole table. At most a
    row group and one ``add`` are held.
    """

    def __init__(self, table: str, path: Path):
        self.path = path
        self.schema = schemas.arrow_schema(table)
        self.group_rows = PARQUET_OPTIONS["row_group_size"]
        self._held: list[pa.Table] = []
        self._held_rows = 0
        self._empty: pa.Table | None = None  # the file of a table without rows
        self._writer: pq.ParquetWriter | None = None

    def add(self, df: pd.DataFrame) -> None:
        if self._empty is None:
            arrow = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
            # its schema carries pandas' metadata, the same for every block (an empty table of it,
            # not a slice: a slice would hold the first block's buffers to the end)
            self._empty = arrow.schema.empty_table()
        else:  # the same table as ``from_pandas`` gives, without its per-call cost (~2–5 ms a block)
            schema = self._empty.schema
            arrow = pa.Table.from_arrays([pa.array(df[f.name], type=f.type, from_pandas=True) for f in schema], schema=schema)
        self.add_arrow(arrow)

    def add_arrow(self, arrow: pa.Table) -> None:
        """Rows already in the table's Arrow schema (read from a published file, say)."""
        if self._empty is None:
            self._empty = arrow.schema.empty_table()
        if len(arrow):
            self._held.append(arrow)
            self._held_rows += len(arrow)
        while self._held_rows >= self.group_rows:
            self._write_group(self.group_rows)

    def _write_group(self, rows: int) -> None:
        held = pa.concat_tables(self._held)
        # Only the group is copied: the rest stays in the adds it came in, so that the memory of a
        # written group is not kept alive by the rows after it (a slice holds its parent's buffers).
        group, rest = held.slice(0, rows).combine_chunks(), held.slice(rows)
        if self._writer is None:
            options = {k: v for k, v in PARQUET_OPTIONS.items() if k != "row_group_size"}
            self._writer = pq.ParquetWriter(self.path, group.schema, **options)
        self._writer.write_table(group, row_group_size=rows)
        self._held, self._held_rows = ([rest] if len(rest) else []), len(rest)

    def close(self) -> None:
        if self._held_rows:
            self._write_group(self._held_rows)
        if self._writer is not None:
            self._writer.close()
        elif self._empty is not None:
            pq.write_table(self._empty, self.path, **PARQUET_OPTIONS)
        else:
            raise ValueError(f"{self.path}: no rows and no columns were given")


class CsvStream:
    """One table's CSV file, written piece by piece as its rows arrive in key order (``write_csv``
    with ``pieces``, without holding the table): a kept file of lines is copied, any other piece
    formatted. When a piece holds a CR, every text field of the table must be quoted
    (``csv_quoting``): the file is then written again at the end, from the table's Parquet file."""

    def __init__(self, table: str, path: Path):
        self.table, self.path = table, path
        self._out = None
        self.pieces: list[WrittenPiece] = []
        self.quote_all = False

    def add(self, df: pd.DataFrame, lines: Path | None = None) -> None:
        if self._out is None:
            self._out = open(self.path, "wb")
            self._out.write(_csv_header(df))
        if self.quote_all:
            return
        start = self._out.tell()
        kept = lines is not None and _copied(lines, self._out)
        if not kept:
            if csv_quoting(df) != csv.QUOTE_MINIMAL:
                self.quote_all = True
                return
            _write_csv_rows(df, self._out)
        self.pieces.append(WrittenPiece(start, self._out.tell(), len(df), kept))

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()

    def close(self, rows_again: Callable[[], Iterable[pd.DataFrame]]) -> list[WrittenPiece] | None:
        """Where each piece went; None when the table was written again, every text field quoted,
        from ``rows_again()`` (the table's rows once more, in order, a frame at a time)."""
        if self._out is not None:
            self._out.close()
        if not self.quote_all:
            return self.pieces
        with open(self.path, "wb") as out:
            for i, df in enumerate(rows_again()):
                out.write(df.to_csv(header=i == 0, quoting=csv.QUOTE_NONNUMERIC, **CSV_OPTIONS).encode("utf-8"))
        return None


def parquet_frames(table: str, path: Path, rows: int = 100_000) -> Iterator[pd.DataFrame]:
    """A table's rows read back from its Parquet file, ``rows`` at a time, with the declared dtypes."""
    from .validate import as_built

    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
        yield as_built(table, pa.Table.from_batches([batch]).to_pandas())


def _csv_header(df: pd.DataFrame) -> bytes:
    chunks = csv_chunks(df)
    return next(chunks) if chunks is not None else df.iloc[:0].to_csv(**CSV_OPTIONS).encode("utf-8")


def _write_csv_rows(df: pd.DataFrame, out) -> None:
    """``df``'s CSV lines without the header: Arrow's (``csvtext``) or, for what it does not handle, pandas'."""
    chunks = csv_chunks(df)
    if chunks is None:
        out.write(df.to_csv(header=False, **CSV_OPTIONS).encode("utf-8"))
        return
    for chunk in itertools.islice(chunks, 1, None):
        out.write(chunk)


# Blocks the Parquet thread may lag behind the CSVs: it then need not wait while this thread
# reads the next block (from the cache: ~40 ms of unpickling), at the cost of holding them.
PARQUET_BLOCKS_BEHIND = 2


class ReleaseWriter:
    """The release's files written block by block: each table's CSV (``CsvStream``) on this
    thread, its Parquet file (``ParquetStream``) on a second one (pyarrow's encoder releases the
    GIL), up to ``PARQUET_BLOCKS_BEHIND`` blocks behind. Blocks must come in primary-key order."""

    def __init__(self, out_dir: Path, tables: Iterable[str]):
        (out_dir / "csv").mkdir(parents=True, exist_ok=True)
        (out_dir / "parquet").mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self._csv = {t: CsvStream(t, out_dir / "csv" / f"{t}.csv") for t in tables}
        self._parquet = {t: ParquetStream(t, out_dir / "parquet" / f"{t}.parquet") for t in tables}
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._pending: collections.deque[list[Future]] = collections.deque()  # each block's Parquet tasks

    def add(self, frames: dict[str, pd.DataFrame], lines: dict[str, Path | None] | None = None) -> None:
        """The next block of rows of some tables (``lines``: a table's CSV lines an earlier build kept for them)."""
        self._wait(behind=PARQUET_BLOCKS_BEHIND - 1)  # bounds the blocks held for the Parquet thread
        self._pending.append([self._thread.submit(self._parquet[t].add, df) for t, df in frames.items()])
        for table, df in frames.items():
            self._csv[table].add(df, (lines or {}).get(table))

    def abandon(self) -> None:
        """Stop the Parquet thread (after its current task), whatever state the files are in."""
        self._thread.shutdown(wait=True, cancel_futures=True)
        for stream in self._csv.values():
            stream.discard()

    def _wait(self, behind: int = 0) -> None:
        """Wait until at most ``behind`` blocks' Parquet tasks are left."""
        while len(self._pending) > behind:
            for future in self._pending.popleft():
                future.result()  # re-raises a writing error here

    def close(self, csv_written: Callable[[], None] | None = None) -> dict[str, list[WrittenPiece]]:
        """Finish every file; return where each CSV's pieces went (tables written whole again left out).
        ``csv_written`` is called as soon as the CSVs are finished."""
        try:
            self._wait()
            closing = {t: self._thread.submit(stream.close) for t, stream in self._parquet.items()}
            written = {}
            for table, stream in self._csv.items():
                if stream.quote_all:
                    closing[table].result()
                pieces = stream.close(lambda: parquet_frames(table, self._parquet[table].path))
                if pieces is not None:
                    written[table] = pieces
            if csv_written is not None:
                csv_written()
            for future in closing.values():
                future.result()
            return written
        finally:
            self._thread.shutdown(wait=True)


def write_release(frames: dict[str, pd.DataFrame], out_dir: Path) -> dict[str, list[WrittenPiece]]:
    """Every table as CSV and Parquet (``ReleaseWriter``, each table one block)."""
    writer = ReleaseWriter(out_dir, frames)
    writer.add(frames)
    return writer.close()


def check_release(package_root: Path, running=None, passed: Path | None = None,
                  pieces: dict[str, list[WrittenPiece]] | None = None) -> None:
    """Checks of the written files under ``package_root/data``; raises ValidationError.

    Parquet = CSV (``check_written``: Arrow's readers, which release the GIL) runs on a second
    thread while frictionless (pure Python) checks the CSVs on this one, or, when ``running`` is
    its job in a second process (``validate.CheckProcess``), there. ``passed``: the file
    naming the CSV bytes frictionless passed last (``validate.frictionless_validate``).
    ``pieces``: where each CSV written piece by piece went (``ReleaseWriter.close``), for
    ``check_written``. A build calls this once its own checks of the tables are done: beside them,
    the read-back's buffers were added to theirs at the build's peak (docs/performance.md)."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        written = reader.submit(check_written, package_root / "data", pieces)
        conformance = frictionless_problems(package_root, running, passed)
        problems = written.result() + conformance
    if problems:
        raise ValidationError(problems)


def _owner_alive(tmp: Path) -> bool:
    """Whether the build that made ``data.tmp-PID`` is still running (another process than this one)."""
    pid = tmp.name.rsplit("-", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def recover(data_dir: Path) -> None:
    """Repair what an interrupted build left: restore ``data.old`` if ``data`` is missing, drop the
    staging folders of builds that are no longer running."""
    old = data_dir.with_name(data_dir.name + ".old")
    if old.exists() and not data_dir.exists():
        old.rename(data_dir)
    elif old.exists():
        shutil.rmtree(old)
    for tmp in data_dir.parent.glob(data_dir.name + ".tmp-*"):
        if not _owner_alive(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing folders; False when this system or file system cannot."""
    libc = files_libc()
    if libc is None:
        return False
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        rename_swap = 2
        result = libc.renamex_np(os.fsencode(a), os.fsencode(b), rename_swap)
    else:
        return False
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):  # not offered here
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def swap_in(staging: Path, data_dir: Path) -> None:
    """Put ``staging`` in place of ``data_dir``; afterwards ``staging`` holds the previous release."""
    if not data_dir.exists():
        staging.rename(data_dir)  # first release: one atomic rename
        return
    if exchange(staging, data_dir):
        return
    old = data_dir.with_name(data_dir.name + ".old")  # fallback: two renames, repaired by recover()
    data_dir.rename(old)
    staging.rename(data_dir)
    old.rename(staging)


def publish(frames: dict[str, pd.DataFrame], data_dir: Path, checker: CheckProcess | None = None,
            passed: Path | None = None) -> None:
    """Write, check, then swap into ``data_dir``. On any failure ``data_dir`` is left as it was."""
    with staged(frames, data_dir, checker, passed=passed) as release:
        release.commit()


@dataclass
class StagedRelease:
    """A release written to a staging folder, not yet checked (``commit`` checks it and swaps it in)."""

    folder: Path                                  # the staging data/ folder
    written: dict[str, list[WrittenPiece]]        # where the CSV pieces went (``ReleaseWriter.close``)
    commit: Callable[[], None]


class StreamingRelease:
    """A release being written to a staging folder block by block (``streamed``): ``add`` each
    block's rows in primary-key order, then ``finish``.

    A block that cannot be written (rows of the wrong type) stops the writing; the error is raised
    by ``commit``, after the build's own checks, which name bad rows better."""

    def __init__(self, staging_root: Path, data_dir: Path, checker: CheckProcess | None, passed: Path | None):
        self.staging_root, self.folder, self.data_dir = staging_root, staging_root / "data", data_dir
        self.checker, self.passed = checker, passed
        self.writer = ReleaseWriter(self.folder, schemas.table_names())
        self.failed: BaseException | None = None

    def add(self, frames: dict[str, pd.DataFrame], lines: dict[str, Path | None] | None = None) -> None:
        if self.failed is not None:
            return
        try:
            self.writer.add(frames, lines)
        except Exception as exc:
            self.failed = exc

    def finish(self) -> StagedRelease:
        """Finish the files and start frictionless on the CSVs (in the second process ``checker``,
        when given); return the release, to be committed: its files checked (Parquet = CSV then
        starts, on a thread, beside frictionless), then swapped in."""
        running = []  # frictionless's job, started as soon as the CSVs are written
        start_frictionless = (lambda: running.append(self.checker.frictionless(self.staging_root, self.passed))) \
            if self.checker is not None else None
        written = {}
        if self.failed is None:
            try:
                written = self.writer.close(start_frictionless)
            except Exception as exc:
                self.failed = exc

        def commit() -> None:
            if self.failed is not None:
                raise self.failed
            check_release(self.staging_root, running[0] if running else None, self.passed, written)
            swap_in(self.folder, self.data_dir)

        return StagedRelease(self.folder, written, commit)


@contextlib.contextmanager
def streamed(data_dir: Path, checker: CheckProcess | None = None, passed: Path | None = None) -> Iterator[StreamingRelease]:
    """A release written block by block to a staging folder beside ``data_dir`` (``StreamingRelease``).

    A build runs its own checks of the tables between ``finish`` and ``commit``, while frictionless
    runs: nothing is published until every check has passed. On any failure, or without
    ``commit``, ``data_dir`` stays as it was and the staging folder is removed.
    ``passed``: the file naming the CSV bytes frictionless passed last (``check_release``).
    """
    recover(data_dir)
    staging_root = data_dir.with_name(f"{data_dir.name}.tmp-{os.getpid()}")
    release = None
    try:
        release = StreamingRelease(staging_root, data_dir, checker, passed)
        yield release
    finally:
        if release is not None:
            release.writer.abandon()
        shutil.rmtree(staging_root, ignore_errors=True)


@contextlib.contextmanager
def staged(frames: dict[str, pd.DataFrame], data_dir: Path, checker: CheckProcess | None = None,
           passed: Path | None = None) -> Iterator[StagedRelease]:
    """``streamed`` with the whole tables as one block: yield the written release, to be committed."""
    with streamed(data_dir, checker, passed) as release:
        release.add(frames)
        yield release.finish()


__all__ = ["publish", "staged", "streamed", "StagedRelease", "StreamingRelease", "ReleaseWriter", "CsvPiece", "write_release", "check_release", "recover", "exchange", "swap_in", "BuildError", "ValidationError"]
