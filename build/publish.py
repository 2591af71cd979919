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

import contextlib
import csv
import ctypes
import errno
import itertools
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator
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
from .files import read_sealed
from .validate import CheckProcess, ValidationError, check_written, frictionless_problems

log = logging.getLogger(__name__)

PARQUET_OPTIONS = dict(
    compression="zstd",
    compression_level=3,  # zstd's default: 3× faster to write than 9, files ~9 % larger
    use_dictionary=True,
    write_statistics=True,
    version="2.6",
    data_page_version="1.0",
    row_group_size=1_000_000,
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
    from lines an earlier build kept, sealed (``files.read_sealed``), after they had been read back
    against that build's Parquet file; not formatted in this build."""

    start: int
    end: int
    rows: int
    kept: bool


def write_csv(table: str, df: pd.DataFrame, out_dir: Path, pieces: list[CsvPiece] | None = None) -> list[WrittenPiece] | None:
    """``df.to_csv`` with ``CSV_OPTIONS``; the same bytes come from Arrow (``csvtext``) when it can.

    ``pieces``: ``df``'s rows cut into runs, in order. csvtext formats each row on its own, so the
    file is then written piece by piece — a kept file of lines copied as it is, any other piece
    formatted — and where each piece went is returned. That gives the same bytes unless a text cell
    holds a CR (the whole table is then quoted, see ``csv_quoting``) or csvtext does not handle the
    table; then, or without ``pieces``, the table is written whole (None).
    """
    (out_dir / "csv").mkdir(parents=True, exist_ok=True)
    path = out_dir / "csv" / f"{table}.csv"
    chunks = csv_chunks(df)
    if pieces is not None and chunks is not None and sum(len(p.frame) for p in pieces) == len(df):
        written = _write_pieces(path, next(chunks), pieces)
        if written is not None:
            return written
    quoting = csv_quoting(df)
    chunks = csv_chunks(df) if quoting == csv.QUOTE_MINIMAL else None
    if chunks is None:
        df.to_csv(path, quoting=quoting, **CSV_OPTIONS)
        return None
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return None


def _write_pieces(path: Path, header: bytes, pieces: list[CsvPiece]) -> list[WrittenPiece] | None:
    """The CSV of the pieces at ``path``: where each went, or None when a piece to format holds a
    CR (a kept piece holds none: it was kept from a table written piece by piece)."""
    written = []
    with open(path, "wb") as out:
        out.write(header)
        for piece in pieces:
            start = out.tell()
            kept = piece.lines is not None and _copied(piece.lines, out)
            if not kept:
                if csv_quoting(piece.frame) != csv.QUOTE_MINIMAL:
                    return None
                for chunk in itertools.islice(csv_chunks(piece.frame), 1, None):  # without the header
                    out.write(chunk)
            written.append(WrittenPiece(start, out.tell(), len(piece.frame), kept))
    return written


def _copied(source: Path, out) -> bool:
    """Append the kept lines ``source`` to ``out``; False when they are gone (another build pruned
    them) or damaged: then the rows are formatted instead."""
    lines = read_sealed(source)
    if lines is None:
        if source.exists():
            log.warning("%s: kept CSV lines damaged; their rows are formatted again", source)
        return False
    out.write(lines)
    return True


def write_parquet(table: str, df: pd.DataFrame, out_dir: Path) -> None:
    (out_dir / "parquet").mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(df, schema=schemas.arrow_schema(table), preserve_index=False)
    pq.write_table(arrow, out_dir / "parquet" / f"{table}.parquet", **PARQUET_OPTIONS)


def write_release(frames: dict[str, pd.DataFrame], out_dir: Path, pieces: dict[str, list[CsvPiece]] | None = None,
                  csv_written: Callable[[], None] | None = None) -> dict[str, list[WrittenPiece]]:
    """Every table as CSV and Parquet; returns, for each CSV written from ``pieces`` (``write_csv``),
    where each piece went. The Parquet files are written on a second thread while this one
    writes the CSVs: pyarrow's encoder and its string kernels release the GIL. ``csv_written`` is
    called as soon as the CSVs are written (the Parquet files may still be being written)."""
    pieces = pieces or {}
    written_pieces = {}
    with ThreadPoolExecutor(max_workers=1) as parquet_writer:
        pending = [parquet_writer.submit(write_parquet, table, df, out_dir) for table, df in frames.items()]
        for table, df in frames.items():
            written = write_csv(table, df, out_dir, pieces.get(table))
            if written is not None:
                written_pieces[table] = written
        if csv_written is not None:
            csv_written()
        for future in pending:
            future.result()  # re-raises a writing error here
    return written_pieces


def check_release(package_root: Path, running=None, passed: Path | None = None, written: Future | None = None) -> None:
    """Checks of the written files under ``package_root/data``; raises ValidationError.

    Parquet = CSV (``check_written``: Arrow's readers, which release the GIL) runs on a second
    thread while frictionless (pure Python) checks the CSVs on this one, or, when ``running`` is
    its job in a second process (``validate.CheckProcess``), there. ``passed``: the file
    naming the CSV bytes frictionless passed last (``validate.frictionless_validate``).
    ``written``: ``check_written``'s result, when it was started already."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        written = written or reader.submit(check_written, package_root / "data")
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


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing folders; False when this system or file system cannot."""
    libc = _libc()
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
    written: dict[str, list[WrittenPiece]]        # where the CSV pieces went (``write_release``)
    commit: Callable[[], None]


@contextlib.contextmanager
def staged(frames: dict[str, pd.DataFrame], data_dir: Path, checker: CheckProcess | None = None,
           pieces: dict[str, list[CsvPiece]] | None = None, passed: Path | None = None) -> Iterator[StagedRelease]:
    """Write the release to a staging folder beside ``data_dir`` and start frictionless on its CSVs
    (in the second process ``checker``, when given); yield it, to be committed: its files checked, then swapped in.
    ``passed``: the file naming the CSV bytes frictionless passed last (``check_release``).

    A build runs its own checks of the tables between the two, while frictionless runs: nothing is
    published until every check has passed. On any failure, or without ``commit``, ``data_dir``
    stays as it was and the staging folder is removed.
    """
    recover(data_dir)
    staging_root = data_dir.with_name(f"{data_dir.name}.tmp-{os.getpid()}")
    staging = staging_root / "data"
    reader = ThreadPoolExecutor(max_workers=1)
    try:
        failed, pieces_written, read_back = None, {}, None
        running = []  # frictionless's job, started as soon as the CSVs are written
        start_frictionless = (lambda: running.append(checker.frictionless(staging_root, passed))) if checker is not None else None
        try:
            pieces_written = write_release(frames, staging, pieces, start_frictionless)
            # Parquet = CSV starts now, on a thread (Arrow's readers release the GIL), while the
            # build runs its own checks: otherwise it would follow them (~0.4 s at 10,000 articles).
            read_back = reader.submit(check_written, staging, pieces_written)
        except Exception as exc:  # bad rows: the build's checks, run before commit, name them better
            failed = exc

        def commit() -> None:
            if failed is not None:
                raise failed
            check_release(staging_root, running[0] if running else None, passed, read_back)
            swap_in(staging, data_dir)

        yield StagedRelease(staging, pieces_written, commit)
    finally:
        reader.shutdown(wait=True)  # before the files it reads are removed
        shutil.rmtree(staging_root, ignore_errors=True)


__all__ = ["publish", "staged", "StagedRelease", "CsvPiece", "write_release", "check_release", "recover", "exchange", "swap_in", "BuildError", "ValidationError"]
