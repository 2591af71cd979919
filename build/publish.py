"""Stage 6 — publish: write the tables to ``data/`` only once they have passed every check.

The release is written to a temporary folder beside ``data/``, checked there (frictionless on the
CSVs, schema and content of the Parquet files), and only then swapped into place. A failed build
leaves the previous ``data/`` untouched; an interrupted swap is repaired by the next build.

Bytes are reproducible: rows sorted by primary key, the explicit pyarrow schema from ``schemas/``,
no index, fixed writer options (below, in one place), LF line endings, no timestamps anywhere.
The pyarrow and pandas versions are written into each Parquet file, so both are pinned exactly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schemas
from .errors import BuildError
from .validate import ValidationError, check_written, frictionless_validate

PARQUET_OPTIONS = dict(
    compression="zstd",
    compression_level=9,
    use_dictionary=True,
    write_statistics=True,
    version="2.6",
    data_page_version="1.0",
    row_group_size=1_000_000,
)
CSV_OPTIONS = dict(index=False, lineterminator="\n", encoding="utf-8", date_format="%Y-%m-%d")


def write_table(table: str, df: pd.DataFrame, out_dir: Path) -> None:
    """Write one table as ``out_dir/csv/<table>.csv`` and ``out_dir/parquet/<table>.parquet``."""
    (out_dir / "csv").mkdir(parents=True, exist_ok=True)
    (out_dir / "parquet").mkdir(parents=True, exist_ok=True)
    df.to_csv(out_dir / "csv" / f"{table}.csv", **CSV_OPTIONS)
    arrow = pa.Table.from_pandas(df, schema=schemas.arrow_schema(table), preserve_index=False)
    pq.write_table(arrow, out_dir / "parquet" / f"{table}.parquet", **PARQUET_OPTIONS)


def write_release(frames: dict[str, pd.DataFrame], out_dir: Path) -> None:
    for table, df in frames.items():
        write_table(table, df, out_dir)


def check_release(package_root: Path) -> None:
    """Checks of the written files under ``package_root/data``; raises ValidationError."""
    problems = check_written(package_root / "data") + frictionless_validate(package_root)
    if problems:
        raise ValidationError(problems)


def recover(data_dir: Path) -> None:
    """Repair what an interrupted build left: restore ``data.old`` if ``data`` is missing, drop temp folders."""
    old = data_dir.with_name(data_dir.name + ".old")
    if old.exists() and not data_dir.exists():
        old.rename(data_dir)
    elif old.exists():
        shutil.rmtree(old)
    for tmp in data_dir.parent.glob(data_dir.name + ".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def publish(frames: dict[str, pd.DataFrame], data_dir: Path) -> None:
    """Write, check, then swap into ``data_dir``. On any failure ``data_dir`` is left as it was."""
    recover(data_dir)
    staging_root = data_dir.with_name(f"{data_dir.name}.tmp-{os.getpid()}")
    staging = staging_root / "data"
    try:
        write_release(frames, staging)
        check_release(staging_root)
    except BaseException:
        shutil.rmtree(staging_root, ignore_errors=True)
        raise
    old = data_dir.with_name(data_dir.name + ".old")
    if data_dir.exists():
        data_dir.rename(old)
    staging.rename(data_dir)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging_root, ignore_errors=True)


__all__ = ["publish", "write_release", "check_release", "recover", "BuildError", "ValidationError"]
