"""Stage 5 — validate: refuse to publish any table that breaks its schema, a key, or provenance.

Checks, all collected before failing so one run shows every problem:

1. pandera, lazily, per table (types, required, unique, enum, pattern, bounds, primary key);
   each failure names its table, column, check, and the row's article and line;
2. foreign keys between tables (an anti-join per key; null references are allowed);
3. the provenance rule on every row: ``raw_text[char_start:char_end]`` equals the verbatim column,
   and ``line`` is the raw line holding ``char_start``; a publication date printed in an article
   agrees with the manifest;
4. on the written files: ``frictionless validate`` of the CSVs (types, constraints, foreign keys;
   above ``FRICTIONLESS_FULL_ROWS`` rows, of a sample of articles chosen by id, logged; a package
   whose bytes passed in an earlier build is not validated again), and for each Parquet file its
   schema equals the declared one and its content equals the CSV (every row; in a build that
   copied a block's sealed CSV lines, kept after they were read back, the rows it formatted).
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import schemas
from .errors import BuildError
from .files import write_atomically
from .memory import use_lean_arrow_pool

MAX_REPORTED = 50
log = logging.getLogger(__name__)


class ValidationError(BuildError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_REPORTED]
        more = f"\n  … and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        super().__init__(f"{len(problems)} validation problem(s); nothing was published:\n" + "\n".join(f"  - {p}" for p in shown) + more)


def _where(df: pd.DataFrame, index) -> str:
    """'article 000_… line 11' for a row, when the table carries provenance."""
    try:
        row = df.loc[index]
    except (KeyError, TypeError):
        return f"row {index}"
    parts = []
    if "article_id" in df.columns:
        parts.append(f"article {row['article_id']}")
    if "line" in df.columns and pd.notna(row["line"]):
        parts.append(f"line {row['line']}")
    return ", ".join(parts) or f"row {index}"


def check_schema(table: str, df: pd.DataFrame, checks: str = "all") -> list[str]:
    """pandera's failures for ``df``, each naming its table, row (article and line) and column;
    ``checks`` as in ``schemas.pandera_schema`` (row by row, whole-table keys, or all)."""
    import pandera.errors

    try:
        schemas.pandera_schema(table, checks).validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        problems = []
        for case in exc.failure_cases.itertuples(index=False):
            where = _where(df, case.index) if case.index is not None and not pd.isna(case.index) else "table"
            problems.append(f"{table}: {where}: column {case.column}: {case.check} failed for {case.failure_case!r}")
        return problems
    return []


def schema_row_problems(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The row-by-row schema checks (``check_schema(table, df, "rows")``) of every frame, in order."""
    return [problem for table, df in frames.items() for problem in check_schema(table, df, "rows")]


def check_foreign_keys(frames: dict[str, pd.DataFrame]) -> list[str]:
    """Every reference (a row whose key columns are all set) names a row of the table it refers to."""
    problems = []
    for table, df in frames.items():
        for fk in schemas.foreign_keys(table):
            problems += foreign_key_problems(table, df, fk, frames[fk.resource])
    return problems


def foreign_key_problems(table: str, df: pd.DataFrame, fk: schemas.ForeignKey, parent: pd.DataFrame,
                         limit: int = MAX_REPORTED) -> list[str]:
    """The rows of ``df`` (of ``table``) whose reference ``fk`` names no row of ``parent``: at most ``limit``."""
    cols = list(fk.fields)
    missing = unmatched_rows([pa.array(df[c], from_pandas=True) for c in cols],
                             [pa.array(parent[c], from_pandas=True) for c in fk.reference_fields])
    problems = []
    for i in missing[:limit].tolist():
        idx = df.index[i]
        values = ", ".join(f"{c}={df.loc[idx, c]!r}" for c in cols)
        problems.append(f"{table}: {_where(df, idx)}: {values} has no match in {fk.resource}")
    return problems


def unmatched_rows(child: list[pa.Array], parent: list[pa.Array]) -> np.ndarray:
    """Positions, in order, of the rows of ``child`` (columns) set in every column whose values are
    no row of ``parent`` (the same number of columns): a foreign key's anti-join.

    Each column's values become their position among the parent's distinct values, plus one (0:
    not among them), and a row's positions one integer in mixed radix, so rows compare as numbers
    (Arrow's hash kernels and numpy: ~0.2 s for the 12 keys at 10,000 articles; a pandas merge
    per key took 0.65 s).

    >>> unmatched_rows([pa.array(["a", "b", None, "c"]), pa.array([1, 2, 3, 1])],
    ...                [pa.array(["a", "b", "c"]), pa.array([1, 1, 2])]).tolist()
    [1, 3]
    """
    rows = len(child[0])
    is_set = np.ones(rows, dtype=bool)
    child_codes, parent_codes, radix = np.zeros(rows, np.int64), np.zeros(len(parent[0]), np.int64), 1
    for c, p in zip(child, parent):
        is_set &= ~np.asarray(pc.is_null(c))  # a null reference refers to nothing: allowed
        values = pc.unique(p)
        radix *= len(values) + 1
        if radix >= 1 << 62:  # too many combinations for one integer: hash the tuples instead
            return _unmatched_rows_by_tuple(child, parent, is_set)
        child_codes = child_codes * (len(values) + 1) + _position_in(c, values)
        parent_codes = parent_codes * (len(values) + 1) + _position_in(p, values)
    return np.flatnonzero(is_set & ~np.isin(child_codes, parent_codes))


def _position_in(column: pa.Array, values: pa.Array) -> np.ndarray:
    """1 + the position of each value of ``column`` among ``values``; 0 where it is not there."""
    if column.type != values.type:  # e.g. string beside large_string
        column = column.cast(values.type)
    found = pc.index_in(column, value_set=values)
    return pc.fill_null(pc.add(found, 1), 0).to_numpy(zero_copy_only=False).astype(np.int64)


def _unmatched_rows_by_tuple(child: list[pa.Array], parent: list[pa.Array], is_set: np.ndarray) -> np.ndarray:
    known = set(zip(*(p.to_pylist() for p in parent)))
    return np.array([i for i, row in enumerate(zip(*(c.to_pylist() for c in child))) if is_set[i] and row not in known], dtype=np.int64)


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of ``text`` starts (line n starts at ``result[n - 1]``).

    >>> line_starts("سطر\\nثان\\n")
    [0, 4, 8]
    """
    starts, i = [0], text.find("\n")
    while i != -1:
        starts.append(i + 1)
        i = text.find("\n", i + 1)
    return starts


def check_provenance(frames: dict[str, pd.DataFrame], texts: dict[str, str]) -> list[str]:
    """Every span is in bounds, equals its verbatim column, and starts on its stated line."""
    return [problem for problems in provenance_by_table(frames, texts).values() for problem in problems]


def provenance_by_table(frames: dict[str, pd.DataFrame], texts: dict[str, str]) -> dict[str, list[str]]:
    """``check_provenance``'s problems, table by table (every table with a verbatim column)."""
    starts_of: dict[str, list[int]] = {}
    by_table = {}
    for table, df in frames.items():
        column = schemas.verbatim_column(table)
        if column is None:
            continue
        problems = by_table[table] = []
        columns = (df[c].tolist() for c in ("article_id", "line", "char_start", "char_end", column))
        for aid, line, start, end, verbatim in zip(*columns):
            text = texts.get(aid)
            if text is None:
                problems.append(f"{table}: article {aid}, line {line}: no raw text for the article")
            elif not (0 <= start < end <= len(text)):
                problems.append(f"{table}: article {aid}, line {line}: span [{start}, {end}) is outside the text (0..{len(text)})")
            elif text[start:end] != verbatim:
                problems.append(f"{table}: article {aid}, line {line}: {column} {verbatim!r} differs from the raw text {text[start:end]!r} at [{start}, {end})")
            else:
                starts = starts_of.get(aid)
                if starts is None:
                    starts = starts_of[aid] = line_starts(text)
                actual = bisect.bisect_right(starts, start)
                if actual != line:
                    problems.append(f"{table}: article {aid}, line {line}: span starts on line {actual}, not {line}")
    return by_table


def check_publication_dates(frames: dict[str, pd.DataFrame]) -> list[str]:
    """A date the article prints must fall in the publication period the manifest gives."""
    art = frames["articles"]
    both = art.dropna(subset=["published_date_in_text", "published_period"])
    problems = []
    for row in both.itertuples(index=False):
        printed = row.published_date_in_text.date().isoformat()
        if not printed.startswith(row.published_period):
            problems.append(
                f"articles: article {row.article_id}: the text prints the publication date {printed}, "
                f"but raw/sources.yaml says {row.published_period}; correct the manifest entry"
            )
    return problems


def row_problems(frames: dict[str, pd.DataFrame], texts: dict[str, str] | None,
                 provenance: list[str] | None = None, schema: list[str] | None = None) -> list[str]:
    """The checks that hold row by row or article by article (schema but keys, provenance,
    publication dates): a block of articles can be checked alone, with its own raw texts.
    ``provenance``, ``schema``: what ``check_provenance`` and the row-by-row schema checks found,
    when they ran already (as blocks were tabled; in the second process, ``CheckProcess.schema_rows``)."""
    problems = schema_row_problems(frames) if schema is None else list(schema)
    problems += check_provenance(frames, texts) if provenance is None else provenance
    if "articles" in frames:
        problems += check_publication_dates(frames)
    return problems


def table_problems(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The checks that hold only over whole tables: unique columns, primary keys, foreign keys."""
    problems: list[str] = []
    for table, df in frames.items():
        problems += key_problems(table, df)
    return problems + check_foreign_keys(frames)


def key_problems(table: str, df: pd.DataFrame) -> list[str]:
    """What ``check_schema(table, df, "keys")`` reports (unique columns, a primary key of several
    columns unique together), in the same words, found by pandas' ``duplicated`` without pandera:
    the whole-table checks run in every build, and pandera's import and first check (~0.7 s) would
    be most of an incremental build's checks. A test holds it to pandera's report."""
    return unique_problems(table, df, unique_fields(table)) + primary_key_problems(table, df)


def unique_fields(table: str) -> list[str]:
    """The columns declared unique, in the schema's order."""
    return [f["name"] for f in schemas.fields(table) if f.get("constraints", {}).get("unique")]


def unique_problems(table: str, df: pd.DataFrame, columns: list[str]) -> list[str]:
    """A value repeated in a unique column (pandera's "field_uniqueness"); a null repeats nothing."""
    problems = []
    for name in columns:
        column = df[name]
        problems += _repeated(table, df, column.duplicated(keep=False) & column.notna(), [name], "field_uniqueness")
    return problems


def key_bounds(df: pd.DataFrame, key: list[str]) -> tuple[tuple, tuple]:
    """The first and the last row's ``key`` of a non-empty frame sorted by it."""
    return tuple(df[c].iat[0] for c in key), tuple(df[c].iat[-1] for c in key)


def primary_key_problems(table: str, df: pd.DataFrame) -> list[str]:
    """A primary key of several columns repeated (one column's is declared unique: ``unique_problems``)."""
    key = schemas.primary_key(table)
    if len(key) > 1:
        return _repeated(table, df, df.duplicated(subset=key, keep=False), key, "multiple_fields_uniqueness")
    return []


def _repeated(table: str, df: pd.DataFrame, repeated: pd.Series, columns: list[str], check: str) -> list[str]:
    positions = np.flatnonzero(repeated.to_numpy(dtype=bool))
    where = [_where(df, i) for i in df.index[positions]]
    return [f"{table}: {w}: column {c}: {check} failed for {value!r}"
            for c in columns for w, value in zip(where, df[c].iloc[positions].tolist())]


def validate_frames(frames: dict[str, pd.DataFrame], texts: dict[str, str] | None = None,
                    rows: dict[str, pd.DataFrame] | None = None, provenance: list[str] | None = None,
                    schema: list[str] | None = None) -> None:
    """Raise ValidationError listing every schema, key and provenance problem.

    ``rows``: the frames the row-by-row checks run on, when not all of ``frames`` need them (the
    rows a build tabled itself; a cached block passed them already). Keys run on ``frames``.
    ``provenance``, ``schema``: the provenance check's and the row-by-row schema checks' problems,
    when they ran already (then ``texts`` is not needed, or pandera is not called here)."""
    problems = row_problems(frames if rows is None else rows, texts, provenance, schema) + table_problems(frames)
    if problems:
        raise ValidationError(problems)


# Rows held for pandera's row checks in a streamed build before they are checked together: each
# call costs ~40 ms whatever its size, so few large calls; the bound keeps memory flat as N grows.
SCHEMA_CHECK_ROWS = 200_000


class BlockChecks:
    """``validate_frames``' checks, run block by block as a build tables its blocks in primary-key
    order, without holding the tables (docs/performance.md, "Streaming"). ``problems()`` returns
    what they found, in ``validate_frames``' order (rows, then keys, then foreign keys).

    - Row by row, on the blocks tabled in this build (``add(fresh=True)``; a block from the cache
      passed them when it was cached): pandera, a few blocks' rows at a time
      (``SCHEMA_CHECK_ROWS``); provenance, found as the block was tabled; publication dates.
    - Keys: within each block tabled in this build (a cached block's keys and references are its
      own, and passed when it was cached), and the block's first key after the previous block's last — each
      block is sorted, so then no key repeats across blocks. Other unique columns (an article's
      raw path and SHA-256, a speaker's name key) are kept as digests, and checked at the end.
    - Foreign keys: within each block, whose rows refer to rows of their own articles; a table the
      build makes at the end (speakers, then added like a block, a part at a time in key order)
      is given per block as the ``parents`` the block names.
    """

    def __init__(self, schema_rows: int = SCHEMA_CHECK_ROWS, checker: "CheckProcess | None" = None, elsewhere: int = 0):
        self.schema_rows = schema_rows
        # pandera in the second process ``checker`` for up to ``elsewhere`` rows (``_sent``)
        self._checker, self._elsewhere = checker, elsewhere
        self._job: CheckJob | None = None
        self._sent_rows = 0
        self._schema: list[str] = []
        self._provenance: list[str] = []
        self._dates: list[str] = []
        self._keys: list[str] = []
        self._foreign: list[str] = []
        self._reported: dict[tuple[str, int], int] = {}  # foreign key → problems reported (MAX_REPORTED each)
        self._last_key: dict[str, tuple] = {}
        self._held: dict[str, list[pd.DataFrame]] = {}   # fresh rows waiting for pandera
        self._held_rows = 0
        self._checked_here = False                         # whether pandera has run in this process
        self._digests: dict[str, dict[str, list[np.ndarray]]] = {}  # the other unique columns' values, as digests

    def add(self, frames: dict[str, pd.DataFrame], fresh: bool = True, provenance: dict[str, list[str]] | None = None,
            parents: dict[str, pd.DataFrame] | None = None) -> None:
        """A block's tables (``parents``: rows of tables made later that the block refers to)."""
        if fresh and not self._sent(frames):
            self._hold(frames)
            if self._held_rows >= self.schema_rows:
                self._check_held()
        if fresh:
            self._provenance += [problem for problems in (provenance or {}).values() for problem in problems]
            if "articles" in frames:
                self._dates += check_publication_dates(frames)
        for table, df in frames.items():
            self._add_keys(table, df, fresh)
            if not fresh:  # a cached block's own keys and references passed when it was cached
                continue
            for number, fk in enumerate(schemas.foreign_keys(table)):
                parent = frames.get(fk.resource, (parents or {}).get(fk.resource))
                if parent is None:
                    raise ValueError(f"{table} refers to {fk.resource}, which the block neither holds nor is given")
                left = MAX_REPORTED - self._reported.get((table, number), 0)
                found = foreign_key_problems(table, df, fk, parent, left) if left > 0 else []
                self._reported[(table, number)] = self._reported.get((table, number), 0) + len(found)
                self._foreign += found

    def _add_keys(self, table: str, df: pd.DataFrame, fresh: bool) -> None:
        key = schemas.primary_key(table)
        unique = unique_fields(table)
        if fresh:
            self._keys += unique_problems(table, df, [c for c in unique if [c] == key]) + primary_key_problems(table, df)
        for column in _unique_across_blocks(table):
            self._digests.setdefault(table, {}).setdefault(column, []).append(value_digests(df[column]))
        if not len(df):
            return
        first, last = key_bounds(df, key)
        before = self._last_key.get(table)
        if before is not None and not before < first:
            self._keys.append(
                f"{table}: {_where(df, df.index[0])}: primary key {first!r} comes after {before!r} in the "
                f"block before: the rows are not in primary-key order (article ids must match the schema's pattern)")
        self._last_key[table] = last

    def _check_held(self) -> None:
        self._schema += schema_row_problems(self._take_held())
        self._checked_here = True

    def _take_held(self) -> dict[str, pd.DataFrame]:
        held = {t: pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0] for t, frames in self._held.items()}
        self._held, self._held_rows = {}, 0
        return held

    def _hold(self, frames: dict[str, pd.DataFrame]) -> None:
        for table, df in frames.items():
            self._held.setdefault(table, []).append(df)
            self._held_rows += len(df)

    def _sent(self, frames: dict[str, pd.DataFrame]) -> bool:
        """Whether a fresh block's rows went to the second process for pandera, as they come: the
        first fresh block, when pandera has not been needed here and they are few (an incremental
        build: pandera is warm there, and this process need not import it; it checks them while
        this one writes the release). One job at a time: a reply left unread could fill the pipe."""
        rows = sum(len(df) for df in frames.values())
        if (self._checker is None or self._job is not None or self._checked_here or self._held
                or self._sent_rows + rows > self._elsewhere):
            return False
        self._job = self._checker.schema_rows(frames)
        self._sent_rows += rows
        return True

    def _collect_job(self) -> None:
        if self._job is not None:
            self._schema += self._job.result()
            self._job = None

    def start_schema_rows(self) -> None:
        """Once every block is in: the rows still held (speakers, and fresh rows not sent) go to the
        second process too, on the terms of ``_sent``, after its first job's reply is read."""
        if (self._checker is None or self._checked_here or not self._held
                or self._sent_rows + self._held_rows > self._elsewhere):
            return
        self._collect_job()
        self._sent_rows += self._held_rows
        self._job = self._checker.schema_rows(self._take_held())

    def problems(self, written: Callable[[str, list[str]], pd.DataFrame] | None = None) -> list[str]:
        """Everything found. ``written(table, columns)``: those columns of a table as written,
        read back only when a digest of a unique column repeats across blocks (``value_digests``)."""
        self._collect_job()
        if self._held:
            self._check_held()
        for table, columns in self._digests.items():
            repeated = {c: _repeated_digests(np.concatenate(parts)) for c, parts in columns.items()}
            if not any(len(r) for r in repeated.values()):
                continue
            if written is None:
                raise ValueError(f"{table}: a value of {', '.join(c for c, r in repeated.items() if len(r))} may repeat "
                                 "across blocks, and the written table is not given to say which")
            across = _unique_across_blocks(table)
            located = [c for c in ("article_id", "line") if c in schemas.field_names(table) and c not in across]
            df = written(table, across + located)
            suspects = np.zeros(len(df), dtype=bool)
            for column, digests in repeated.items():
                present = df[column].notna().to_numpy(dtype=bool)
                suspects[np.flatnonzero(present)[np.isin(_as_keys(value_digests(df[column])), digests)]] = True
            # the rows whose digests repeat, checked on their values: a digest two values share reports nothing
            self._keys += unique_problems(table, df[suspects], across)
        self._digests = {}
        return self._schema + self._provenance + self._dates + self._keys + self._foreign


def _unique_across_blocks(table: str) -> list[str]:
    """The unique columns that block order does not keep unique: all but a one-column primary key
    (an article's raw path and SHA-256, a speaker's name key). ``BlockChecks`` keeps their values'
    digests to the end."""
    key = schemas.primary_key(table)
    return [c for c in unique_fields(table) if [c] != key]


# Two of pandas' 64-bit hashes of a value (SipHash with these keys, 16 bytes each): a 128-bit digest.
# Kept for every row of a column instead of its values (16 bytes against ~40 to ~90 for an article's
# raw path or SHA-256 in Arrow, and no concatenation of them all at the end).
_DIGEST_KEYS = ("coalition-news-1", "coalition-news-2")


def value_digests(column: pd.Series) -> np.ndarray:
    """The 128-bit digests of a column's non-null values, in row order: an array of (n, 2) uint64.
    Equal values have equal digests; two different values one digest, as good as never."""
    values = column.dropna().to_numpy(dtype=object)
    return np.stack([pd.util.hash_array(values, hash_key=key) for key in _DIGEST_KEYS], axis=1) if len(values) \
        else np.empty((0, 2), dtype=np.uint64)


def _as_keys(digests: np.ndarray) -> np.ndarray:
    """Each row of an (n, 2) uint64 array as one comparable value (a 16-byte record)."""
    return np.ascontiguousarray(digests).view(np.dtype((np.void, 16))).ravel()


def _repeated_digests(digests: np.ndarray) -> np.ndarray:
    """The digests that occur more than once (as ``_as_keys`` values)."""
    keys, counts = np.unique(_as_keys(digests), return_counts=True)
    return keys[counts > 1]


# --- checks of the written files ------------------------------------------------------------

def read_csv_typed(table: str, path: Path) -> pd.DataFrame:
    """A published CSV read back with the declared dtypes (empty cell = null, nothing else is)."""
    dtypes = schemas.pandas_dtypes(table)
    dates = [c for c, d in dtypes.items() if d.startswith("datetime64")]
    df = pd.read_csv(
        path,
        dtype={c: d for c, d in dtypes.items() if c not in dates},
        keep_default_na=False,
        na_values={c: [""] for c in dtypes},
        encoding="utf-8",
    )
    for c in dates:
        df[c] = pd.to_datetime(df[c], format="%Y-%m-%d").astype(dtypes[c])
    return df


def read_parquet_typed(table: str, path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A published Parquet file (``columns`` of it, or all) read back with the build's dtypes."""
    return as_built(table, pq.read_table(path, columns=columns).to_pandas(), columns)


def read_written(folder: Path, table: str, columns: list[str]) -> pd.DataFrame:
    """Some columns of a table as written to the release ``folder`` (its Parquet), with the build's dtypes."""
    return read_parquet_typed(table, folder / "parquet" / f"{table}.parquet", columns)


def as_built(table: str, df: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """``df`` (read from a release file: every column, or ``columns``) with the dtypes the build
    made it with ("string", no categoricals), to compare with the build's frames; users' loader is
    ``load.typed``."""
    for c, d in schemas.pandas_dtypes(table).items():
        if columns is None or c in columns:
            df[c] = (pd.to_datetime(df[c]) if d.startswith("datetime64") else df[c]).astype(d)
    return df


def _csv_arrow_options(table: str) -> dict:
    """How a published CSV is read back as the declared Arrow types (empty cell = null, as pandas
    writes it; "True"/"False" for booleans)."""
    return dict(
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=schemas.arrow_schema(table), null_values=[""], strings_can_be_null=True,
            quoted_strings_can_be_null=True, true_values=["True"], false_values=["False"],
        ),
    )


# Rows of Parquet and CSV compared at a time by ``check_written``, and the bytes of CSV its reader
# parses at a time: memory holds this many rows of one table twice, not the table (lines at 100,000
# articles is ~0.6 GB in Arrow). It runs on a thread beside the build's own checks, so its memory
# adds to theirs: at 10,000 articles 65,536 rows and 4 MiB blocks cost ~270 MB more at its peak,
# 8,192 rows and 1 MiB ~165 MB, in the same time (~0.6–1 s).
COMPARE_ROWS = 1 << 13
CSV_READ_BLOCK = 1 << 20


def check_written(out_dir: Path, pieces: dict[str, list] | None = None) -> list[str]:
    """Parquet schema == declared schema and Parquet content == CSV content, for every table.

    ``pieces``: for a CSV written piece by piece, where each piece went (``publish.WrittenPiece``).
    The rows of a piece copied from sealed lines an earlier build kept are not read back: they were,
    against that build's Parquet file written from the same rows, before they were kept.
    """
    problems = []
    for table in schemas.table_names():
        pq_path, csv_path = out_dir / "parquet" / f"{table}.parquet", out_dir / "csv" / f"{table}.csv"
        if not pq_path.is_file() or not csv_path.is_file():
            problems.append(f"{table}: {pq_path.name} or {csv_path.name} is missing")
            continue
        declared = schemas.arrow_schema(table).remove_metadata()
        table_pieces = (pieces or {}).get(table)
        with pq.ParquetFile(pq_path) as parquet:
            if not parquet.schema_arrow.remove_metadata().equals(declared):
                problems.append(f"{pq_path}: schema {parquet.schema_arrow.remove_metadata()} differs from the declared one")
                continue
            try:
                if table_pieces and any(p.kept for p in table_pieces):
                    differing = _differing_columns_of_pieces(table, parquet, csv_path, table_pieces)
                else:
                    differing = _differing_columns(table, parquet, csv_path)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                problems.append(f"{csv_path}: cannot be read back as the declared types: {exc}")
                continue
        if differing:
            problems.append(f"{table}: Parquet and CSV contents differ: {', '.join(differing)}")
    return problems


def _differing_columns_of_pieces(table: str, parquet: pq.ParquetFile, csv_path: Path, pieces: list,
                                 rows: int = COMPARE_ROWS) -> list[str]:
    """``_differing_columns`` of a CSV written in ``pieces``: the pieces must cover the file after
    its header, their rows add up to the Parquet file's, and the rows of every piece not kept are
    read back and compared with the Parquet file's rows at the same place (read as a stream)."""
    if [p.start for p in pieces[1:]] != [p.end for p in pieces[:-1]] or pieces[-1].end != csv_path.stat().st_size:
        return ["the pieces written do not cover the file"]
    total = sum(p.rows for p in pieces)
    if total != parquet.metadata.num_rows:
        return [f"{total} rows instead of {parquet.metadata.num_rows}"]
    options = _csv_arrow_options(table)
    expected_names = parquet.schema_arrow.names
    offsets = np.cumsum([0] + [p.rows for p in pieces[:-1]]).tolist()
    formatted = [(offset, p) for offset, p in zip(offsets, pieces) if not p.kept]
    with open(csv_path, "rb") as f:
        header = f.read(pieces[0].start)
        names = pacsv.read_csv(io.BytesIO(header), **options).schema.names
        if names != expected_names:
            return [f"columns {names} instead of {expected_names}"]
        differing: set[str] = set()
        for expected, (offset, piece) in zip(_parquet_rows(parquet, [(o, p.rows) for o, p in formatted], rows), formatted):
            f.seek(piece.start)
            actual = pacsv.read_csv(io.BytesIO(header + f.read(piece.end - piece.start)), **options)
            if actual.num_rows != piece.rows:
                return [f"{actual.num_rows} rows instead of {piece.rows} at rows {offset}–{offset + piece.rows}"]
            differing.update(_columns_differing(expected, actual, expected_names))
    return [name for name in expected_names if name in differing]


def _columns_differing(expected: pa.Table, actual: pa.Table, names: list[str]) -> Iterator[str]:
    """The ``names`` of the columns whose values differ between two tables of the same rows."""
    return (name for name in names if not expected.column(name).equals(actual.column(name)))


def _parquet_rows(parquet: pq.ParquetFile, spans: list[tuple[int, int]], rows: int = COMPARE_ROWS) -> Iterator[pa.Table]:
    """For each (offset, count) of ``spans`` (in order, not overlapping), the Parquet file's rows
    ``offset:offset + count``, read as a stream ``rows`` at a time (memory holds one such table)."""
    tables = _batches_of(parquet.iter_batches(batch_size=rows), rows)
    current, start = next(tables, None), 0  # the table read last, and its first row's number
    for offset, count in spans:
        parts = []
        while count > 0:
            while current is not None and offset >= start + current.num_rows:
                start, current = start + current.num_rows, next(tables, None)
            if current is None:
                break
            take = min(count, start + current.num_rows - offset)
            parts.append(current.slice(offset - start, take))
            offset, count = offset + take, count - take
        yield pa.concat_tables(parts) if parts else parquet.schema_arrow.empty_table()


def _differing_columns(table: str, parquet: pq.ParquetFile, csv_path: Path, rows: int = COMPARE_ROWS) -> list[str]:
    """Columns whose values differ between the Parquet file and the CSV (names, order and row count
    checked first), both read as streams, ``rows`` at a time."""
    expected_names = parquet.schema_arrow.names
    with pacsv.open_csv(csv_path, read_options=pacsv.ReadOptions(block_size=CSV_READ_BLOCK), **_csv_arrow_options(table)) as written:
        if written.schema.names != expected_names:
            return [f"columns {written.schema.names} instead of {expected_names}"]
        return _compare_streams(parquet, written, expected_names, rows)


def _compare_streams(parquet: pq.ParquetFile, written: pacsv.CSVStreamingReader, expected_names: list[str], rows: int) -> list[str]:
    """``_differing_columns`` of two open streams with the same column names."""
    differing: set[str] = set()
    csv_rows = 0
    csv_tables = _batches_of(iter(written), rows)
    for expected in _batches_of(parquet.iter_batches(batch_size=rows), rows):
        actual = next(csv_tables, None)
        if actual is None:
            break  # the CSV has fewer rows
        csv_rows += actual.num_rows
        if expected.num_rows != actual.num_rows:
            break  # one of them has fewer rows: counted below
        differing.update(_columns_differing(expected, actual, expected_names))
    csv_rows += sum(t.num_rows for t in csv_tables)  # any rows the Parquet file does not have
    if csv_rows != parquet.metadata.num_rows:
        return [f"{csv_rows} rows instead of {parquet.metadata.num_rows}"]
    return [name for name in expected_names if name in differing]


def _batches_of(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """The rows of ``batches`` regrouped as tables of exactly ``rows`` rows (the last one fewer), so
    two streams cut differently line up."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


# Above this many CSV rows, frictionless (pure Python, ~9,000 rows/s here) checks a sample of articles:
# every other check above still reads every row.
FRICTIONLESS_FULL_ROWS = 20_000
FRICTIONLESS_SAMPLE_ROWS = 10_000  # at most about how many rows a sample holds (~1 s of frictionless)


def frictionless_validate(package_root: Path, full_rows: int = FRICTIONLESS_FULL_ROWS,
                          sample_rows: int = FRICTIONLESS_SAMPLE_ROWS, passed: Path | None = None) -> list[str]:
    """Validate the CSVs under ``package_root/data/csv`` with frictionless against ``schemas/``.

    Up to ``full_rows`` CSV rows in all, every row is checked. Above it, a deterministic sample
    package of about ``sample_rows`` / 2 to ``sample_rows`` rows is checked instead (the articles
    ``in_sample``, see ``write_sample_package``; ``sample_every``); pandera, the foreign-key
    anti-joins, provenance and ``check_written`` still cover every row.

    ``passed``: a file naming the one package that passed last (``_report_unless_passed``): the
    same bytes are not validated again.
    """
    csv_dir = package_root / "data" / "csv"
    total = sum(_data_rows(csv_dir / f"{t}.csv") for t in schemas.table_names())
    if total <= full_rows:
        return _report_unless_passed(package_root, passed)
    with tempfile.TemporaryDirectory(prefix="frictionless-sample-") as tmp:
        every, kept = write_sample_package(csv_dir, Path(tmp) / "data" / "csv", every=sample_every(total, min(full_rows, sample_rows)))
        log.info("frictionless: %d CSV rows > %d; validated a sample of about one article in %d: %d rows",
                 total, full_rows, every, kept)
        return [f"{p} (sample: about one article in {every})" for p in _report_unless_passed(Path(tmp), passed)]


def sample_every(total_rows: int, sample_rows: int) -> int:
    """One article in how many the sample keeps: the power of two that brings ``total_rows`` to at
    most ``sample_rows`` (about). A power of two changes only when the corpus doubles, so adding
    articles leaves the sample's articles as they were (``in_sample``).

    >>> sample_every(460_000, 10_000), sample_every(640_000, 10_000), sample_every(640_001, 10_000)
    (64, 64, 128)
    """
    return 1 << max(0, math.ceil(math.log2(max(1, total_rows) / sample_rows)))


def package_digest(package_root: Path) -> str:
    """What a frictionless report on ``package_root`` depends on, as one digest: the bytes of its
    CSVs, the schemas it is validated against, frictionless's version and this module's code."""
    from importlib import metadata

    digest = hashlib.blake2b(digest_size=32)
    descriptor = {"package": schemas.datapackage(), "tables": {t: schemas.table_schema(t) for t in schemas.table_names()},
                  "frictionless": metadata.version("frictionless")}
    digest.update(json.dumps(descriptor, sort_keys=True, default=str).encode())
    digest.update(Path(__file__).read_bytes())
    for table in schemas.table_names():
        path = package_root / "data" / "csv" / f"{table}.csv"
        digest.update(f"\0{table}\0".encode())
        digest.update(path.read_bytes() if path.is_file() else b"\0missing")
    return digest.hexdigest()


def _report_unless_passed(package_root: Path, passed: Path | None) -> list[str]:
    """``_frictionless_report``, unless ``passed`` holds this package's digest (``package_digest``):
    these very bytes passed in an earlier build, and frictionless's report is a function of them
    alone. A package that passes now is recorded there (one digest: the last one). After one new
    article, the sample usually is the same bytes (articles are chosen by id), and the ~1.5 s of
    frictionless at 10,000 articles are not spent again."""
    digest = package_digest(package_root) if passed is not None else None
    if digest is not None and passed.is_file() and passed.read_text(encoding="ascii", errors="replace").strip() == digest:
        log.info("frictionless: these CSV bytes passed in an earlier build (%s); not validated again", passed.name)
        return []
    problems = _frictionless_report(package_root)
    if digest is not None and not problems:
        passed.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(passed, digest.encode("ascii"))
    return problems


def _frictionless_job(package_root: Path, passed: Path | None = None) -> tuple[list[str], list[str]]:
    """``frictionless_validate`` in another process: (its problems, the messages it logged)."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = Keep(logging.INFO)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        return frictionless_validate(package_root, passed=passed), messages
    finally:
        log.removeHandler(handler)


def _warm_up_pandera() -> None:
    """Import pandera and check an empty frame of each table: its first check loads its backends
    (~0.7 s in all, which an incremental build of 10,000 articles would otherwise wait for)."""
    for table in schemas.table_names():
        empty = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in schemas.pandas_dtypes(table).items()})
        check_schema(table, empty, "rows")


def _warm_up_frictionless() -> None:
    """Import frictionless and validate a package of empty tables: its first validation loads
    plugins and builds metadata classes (~0.6 s on top of the ~1 s import)."""
    with tempfile.TemporaryDirectory(prefix="frictionless-warm-up-") as tmp:
        csv_dir = Path(tmp) / "data" / "csv"
        csv_dir.mkdir(parents=True)
        for table in schemas.table_names():
            (csv_dir / f"{table}.csv").write_text(",".join(schemas.field_names(table)) + "\n", encoding="utf-8")
        _frictionless_report(Path(tmp))


# What the second process can be asked, by name, and how it warms up for it, in the order the
# build asks (the row checks of an incremental build come before frictionless's job).
_JOBS = {"schema_rows": schema_row_problems, "frictionless": _frictionless_job,
         "arrow_pool": use_lean_arrow_pool}  # the allocator in use there (tests)
_WARM_UPS = (_warm_up_pandera, _warm_up_frictionless)


def serve_checks() -> None:
    """The second process (``CheckProcess``): warm up, then for each (job name, arguments) read
    from stdin (pickled) write to stdout (pickled) its result, or the exception raised. A job
    that arrives while warm-ups remain is served first."""
    import os
    import pickle
    import select
    import sys

    use_lean_arrow_pool()  # as the build process does (``memory``)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the replies
    warm_ups = list(_WARM_UPS)
    while True:
        if warm_ups and not select.select([sys.stdin], [], [], 0)[0]:
            try:
                warm_ups.pop(0)()
            except Exception:  # only time is at stake: the real check will meet the problem and report it
                pass
            continue
        try:
            name, args = pickle.load(sys.stdin.buffer)
        except EOFError:  # the build has ended: every reply is flushed, and nothing else is held
            os._exit(0)  # no interpreter teardown (~0.4 s with frictionless and pandas loaded, which the build waits for)
        try:
            reply = _JOBS[name](*args)
        except Exception as exc:
            reply = exc
        pickle.dump(reply, replies)
        replies.flush()


class CheckProcess:
    """Checks in a second process, started early in a build so that it imports and warms up (pandera
    ~0.7 s, frictionless ~1.6 s) while extraction and tables run here:

    - frictionless (pure Python: it holds the GIL ~2–3 s at 10,000 articles) validates the written
      CSVs while this process runs the other checks (``frictionless``);
    - pandera's row-by-row checks of the few rows an incremental build tabled (``schema_rows``),
      while this process writes the files.

    A new interpreter (``python -c``) and two pipes, not ``multiprocessing``: its spawn would run
    the caller's main script again in the child, and a pool's threads would be copied, in whatever
    state, into the extraction workers the build forks later. Jobs are answered in the order sent.

    >>> with CheckProcess() as checker:                   # doctest: +SKIP
    ...     problems, messages = checker.frictionless(package_root).result()
    """

    def __init__(self):
        import subprocess
        import sys

        self._process = subprocess.Popen(
            [sys.executable, "-c", "from coalition_news.validate import serve_checks; serve_checks()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self._sent = self._read = 0  # jobs sent, replies read
        self._unclaimed: dict[int, object] = {}  # replies read before their job asked for them

    def frictionless(self, package_root: Path, passed: Path | None = None) -> "CheckJob":
        """Start validating ``package_root`` (``frictionless_validate``, with its ``passed`` file);
        the job's ``result()`` waits for its (problems, messages)."""
        return self._send("frictionless", Path(package_root), passed)

    def schema_rows(self, frames: dict[str, pd.DataFrame]) -> "CheckJob":
        """Start pandera's row-by-row checks of ``frames``; the job's ``result()`` waits for their
        problems (``check_schema(table, df, "rows")`` of each, in order)."""
        return self._send("schema_rows", frames)

    def _send(self, name: str, *args) -> "CheckJob":
        import pickle

        job = CheckJob(self, self._sent)
        self._sent += 1
        try:
            pickle.dump((name, args), self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._process.stdin.flush()
        except OSError:  # the process has ended: ``result`` says so
            pass
        return job

    def _reply(self, number: int):
        import pickle

        while number not in self._unclaimed:
            try:
                self._unclaimed[self._read] = pickle.load(self._process.stdout)
            except EOFError:
                raise BuildError(f"the check process ended unexpectedly (exit code {self._process.wait()})") from None
            self._read += 1
        reply = self._unclaimed.pop(number)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def __enter__(self) -> "CheckProcess":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:
            self._process.kill()  # the build failed: do not wait for a check no one will read
        try:
            self._process.stdin.close()  # the process reads EOF and returns
        except OSError:
            pass
        self._process.stdout.close()
        self._process.wait()


@dataclass(frozen=True)
class CheckJob:
    """A job sent to a ``CheckProcess``: ``result()`` waits for its reply."""

    process: CheckProcess
    number: int

    def result(self):
        return self.process._reply(self.number)


def frictionless_problems(package_root: Path, running: CheckJob | None = None, passed: Path | None = None) -> list[str]:
    """``frictionless_validate(package_root, passed=passed)``, or the result of the job ``running``
    in a second process (``CheckProcess.frictionless``), whose log messages are logged here."""
    if running is None:
        return frictionless_validate(package_root, passed=passed)
    problems, messages = running.result()
    for message in messages:
        log.info("%s", message)
    return problems


def _frictionless_report(package_root: Path) -> list[str]:
    from frictionless import Package, system

    descriptor = dict(schemas.datapackage())
    descriptor["resources"] = [
        {**r, "schema": schemas.table_schema(r["name"])} for r in descriptor["resources"]
    ]
    with system.use_context(trusted=False):
        report = Package(descriptor, basepath=str(package_root)).validate()
    if report.valid:
        return []
    problems = []
    for task in report.tasks:
        for err in task.errors[:MAX_REPORTED]:
            problems.append(f"frictionless: {task.name}: {err.message}")
    for err in report.errors:
        problems.append(f"frictionless: {err.message}")
    return problems


def _data_rows(path: Path) -> int:
    """Physical lines after the header (an upper bound on records; enough to choose full or sample)."""
    if not path.is_file():
        return 0
    with path.open("rb") as f:
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1)


def _csv_records(path: Path) -> Iterator[tuple[list[str], str]]:
    """(fields, raw text) of each record, the header first, read as a stream: the raw text kept so a
    sample copies the written bytes exactly. Lines end at LF only (``newline="\\n"``): a CR or
    U+2028 inside a cell is text, and a quoted field may hold a LF, so a record may span lines."""
    with path.open(encoding="utf-8", newline="\n") as f:
        pending: list[str] = []

        def feed():
            for line in f:
                pending.append(line)
                yield line

        for fields in csv.reader(feed()):
            yield fields, "".join(pending)
            pending.clear()


_SAMPLE_KEYS = ("article_id", "speaker_id")  # the columns a sample is chosen by


class _LineRecords:
    """The records of a CSV in which each record is one line, as byte offsets into the file (found
    by numpy, in C): a sample reads the lines it keeps, and only those."""

    def __init__(self, path: Path, starts: np.ndarray, ends: np.ndarray):
        self.path, self.starts, self.ends = path, starts, ends

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.pick(np.ones(len(self.starts), dtype=bool)))

    def pick(self, mask: np.ndarray) -> list[bytes]:
        """The records ``mask`` marks, read a run of consecutive records at a time (an article's
        rows follow one another)."""
        starts, ends = self.starts[mask], self.ends[mask]
        if not len(starts):
            return []
        run_starts = np.flatnonzero(np.r_[True, starts[1:] != ends[:-1]])  # a record not right after the last kept
        run_ends = np.r_[run_starts[1:], len(starts)]
        records = []
        with self.path.open("rb", buffering=0) as f:
            for first, last in zip(run_starts.tolist(), run_ends.tolist()):
                base = int(starts[first])
                run = os.pread(f.fileno(), int(ends[last - 1]) - base, base)
                records += [run[s - base:e - base] for s, e in zip(starts[first:last].tolist(), ends[first:last].tolist())]
        return records


def _line_ends(path: Path, chunk: int = 1 << 22) -> tuple[np.ndarray, bool]:
    """The offset just past each LF of a file, and whether the file ends with one; read a chunk at a
    time, so memory holds one chunk, not the file (lines.csv is ~0.5 GB at 100,000 articles)."""
    ends, offset, last = [], 0, b""
    buffer = bytearray(chunk)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            ends.append(np.flatnonzero(np.frombuffer(buffer, np.uint8, count=n) == ord("\n")) + (offset + 1))
            offset, last = offset + n, buffer[n - 1:n]
    return (np.concatenate(ends) if ends else np.empty(0, np.int64)), last == b"\n"


class _ListedRecords(list):
    """The records of a CSV, each as written (``_csv_records``)."""

    def pick(self, mask: np.ndarray) -> list[bytes]:
        return [raw for raw, k in zip(self, mask.tolist()) if k]


def _keyed_records(path: Path) -> tuple[bytes, pa.Table, _LineRecords | _ListedRecords]:
    """A written CSV as (its header line, its ``_SAMPLE_KEYS`` columns as an Arrow table, each
    record's bytes as written, in order). pyarrow's C++ reader reads the key columns; when every
    record is one physical line (no quoted line break: the usual case) the records are the file's
    lines, found by their LFs; otherwise the csv module reads record by record (``_csv_records``)."""
    with path.open("rb") as f:
        header = f.readline()
    names = next(csv.reader([header.decode("utf-8")]))
    keys = [k for k in _SAMPLE_KEYS if k in names]
    if keys:
        ids = pacsv.open_csv(  # streamed, a block at a time: memory holds the key columns
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 22),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(include_columns=keys, column_types={k: pa.string() for k in keys},
                                                 strings_can_be_null=False),
        ).read_all()
        line_ends, ends_with_lf = _line_ends(path)
        if ends_with_lf and ids.num_rows == len(line_ends) - 1:
            return header, ids, _LineRecords(path, line_ends[:-1], line_ends[1:])
    records = list(_csv_records(path))[1:]
    ids = pa.table({k: [fields[names.index(k)] for fields, _ in records] for k in keys}) if keys else pa.table({})
    return header, ids, _ListedRecords(raw.encode("utf-8") for _, raw in records)


def in_sample(article_id: str, every: int) -> bool:
    """Whether the frictionless sample keeps this article: its id hashes to 0 modulo ``every``
    (about one article in ``every``). Chosen by id, not by position, so adding an article leaves
    the choice of every other one as it was, and the sample's bytes usually with it.

    >>> sum(in_sample(f"{i:03d}_{i:016x}", 10) for i in range(1000))
    99
    """
    digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % every == 0


def _sampled_articles(ids: list[str], every: int) -> list[bool]:
    """``in_sample`` of each id; the first article alone when that keeps none (a sample of nothing
    would check nothing)."""
    chosen = [in_sample(i, every) for i in ids]
    if ids and not any(chosen):
        chosen[0] = True
    return chosen


def write_sample_package(csv_dir: Path, out_dir: Path, every: int) -> tuple[int, int]:
    """Copy into ``out_dir`` the rows of the articles ``in_sample`` (about one in ``every``) from each
    table with an ``article_id``, and the speakers those rows reference, so every foreign key of the
    sample resolves inside it. Rows are copied byte for byte, one table at a time (memory holds a
    table's key columns and the sample, not the tables). Returns (every, rows kept)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {t: csv_dir / f"{t}.csv" for t in schemas.table_names() if (csv_dir / f"{t}.csv").is_file()}
    columns = {t: schemas.field_names(t) for t in paths}
    chosen = pa.array([], pa.string())
    speaker_ids = pa.array([], pa.string())
    kept_rows = 0

    def copy(table: str, keep) -> pa.Table:
        """Write the records ``keep(key columns)`` marks (a boolean per row, or None: every row);
        return the key columns of the rows kept."""
        nonlocal kept_rows
        header, ids, records = _keyed_records(paths[table])
        mask = keep(ids)
        if mask is None:
            kept = list(records)
        else:
            mask = np.asarray(mask, dtype=bool)
            kept = records.pick(mask)
            ids = ids.filter(pa.array(mask, pa.bool_()))
        kept_rows += len(kept)
        (out_dir / f"{table}.csv").write_bytes(header + b"".join(kept))
        return ids

    def unique_ids(column) -> pa.Array:
        values = pc.unique(column)
        return pc.filter(values, pc.not_equal(values, ""))

    # the articles first (they define the sample), then the rows that name an article, then the
    # rows referenced only by speaker (speakers), then any table tied to neither, whole
    chosen = copy("articles", lambda ids: _sampled_articles(ids["article_id"].to_pylist(), every))["article_id"]
    by_article = [t for t in paths if t != "articles" and "article_id" in columns[t]]
    by_speaker = [t for t in paths if "article_id" not in columns[t] and "speaker_id" in columns[t]]
    for table in by_article:
        kept = copy(table, lambda ids: pc.is_in(ids["article_id"], value_set=chosen.combine_chunks()))
        if "speaker_id" in kept.column_names:
            speaker_ids = pc.unique(pa.concat_arrays([speaker_ids, unique_ids(kept["speaker_id"])]))
    for table in by_speaker:
        copy(table, lambda ids: pc.is_in(ids["speaker_id"], value_set=speaker_ids))
    for table in paths:
        if table not in ("articles", *by_article, *by_speaker):
            copy(table, lambda ids: None)
    return every, kept_rows
