"""The published release: reproducible, valid, exact provenance, readable with declared types."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from coalition_news import schemas
from coalition_news.publish import publish
from coalition_news.validate import ValidationError, read_csv_typed
from conftest import REPO, build_fresh_repo, read_raw_texts, run_cli, tree_bytes

DATA = REPO / "data"
TABLES = schemas.table_names()


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory) -> Path:
    """A clean build of this checkout's raw/ into a temporary root (no data/ to start from)."""
    return build_fresh_repo(tmp_path_factory.mktemp("fresh"))


def test_the_committed_data_equals_a_fresh_build_byte_for_byte(fresh_build):
    assert tree_bytes(DATA) == tree_bytes(fresh_build / "data"), "run `make build` and commit data/"


def test_builds_are_byte_identical_whatever_the_hash_seed(fresh_build, tmp_path):
    root = tmp_path / "again"
    shutil.copytree(REPO / "raw", root / "raw")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-m", "coalition_news", "--root", str(root), "build"], check=True, env=env, capture_output=True)
    assert tree_bytes(root / "data") == tree_bytes(fresh_build / "data")


def test_a_second_build_over_existing_data_changes_nothing(fresh_build):
    before = tree_bytes(fresh_build / "data")
    assert run_cli(fresh_build, "build").returncode == 0
    assert tree_bytes(fresh_build / "data") == before


def test_the_provenance_rule_holds_on_every_row_of_every_table():
    """Independent of the build's own check: re-derive every span from the raw files."""
    texts = read_raw_texts()
    checked = 0
    for table in TABLES:
        df = pd.read_csv(DATA / "csv" / f"{table}.csv", dtype=str, keep_default_na=False)
        verbatim = schemas.verbatim_column(table)
        if verbatim is None:
            assert not {"char_start", "char_end"} & set(df.columns)
            continue
        for row in df.itertuples(index=False):
            text = texts[row.article_id]
            start, end, line = int(row.char_start), int(row.char_end), int(row.line)
            assert text[start:end] == getattr(row, verbatim), (table, row)
            assert text.count("\n", 0, start) + 1 == line, (table, row)
            checked += 1
    assert checked > 100


def test_every_article_row_matches_its_raw_file():
    import hashlib

    articles = pd.read_csv(DATA / "csv" / "articles.csv", dtype=str, keep_default_na=False)
    assert sorted(articles["article_id"]) == sorted(p.stem for p in (REPO / "raw").glob("*.txt"))
    for row in articles.itertuples(index=False):
        data = (REPO / row.raw_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.raw_sha256
        assert int(row.raw_bytes) == len(data)


def test_frictionless_cli_validates_the_data_package():
    exe = Path(sys.executable).with_name("frictionless")
    result = subprocess.run([str(exe), "validate", "datapackage.yaml"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("table", TABLES)
def test_parquet_has_the_declared_schema_and_the_csv_content(table):
    path = DATA / "parquet" / f"{table}.parquet"
    assert pq.read_schema(path).remove_metadata().equals(schemas.arrow_schema(table).remove_metadata())
    from coalition_news.validate import read_parquet_typed

    pd.testing.assert_frame_equal(read_parquet_typed(table, path), read_csv_typed(table, DATA / "csv" / f"{table}.csv"))


@pytest.mark.parametrize("table", TABLES)
def test_pandas_reads_parquet_with_declared_types(table):
    df = pd.read_parquet(DATA / "parquet" / f"{table}.parquet")
    assert list(df.columns) == schemas.field_names(table)
    for f in schemas.fields(table):
        dtype = df[f["name"]].dtype
        if f["type"] == "integer":
            assert str(dtype) == "Int64", (f["name"], dtype)
        elif f["type"] == "string":
            assert str(dtype) in ("string", "str"), (f["name"], dtype)
        elif f["type"] == "date":
            values = df[f["name"]].dropna()
            assert all(type(v).__name__ == "date" for v in values), f["name"]


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_reads_parquet_with_declared_types(table):
    rel = duckdb.sql(f"select * from read_parquet('{DATA / 'parquet' / f'{table}.parquet'}')")
    expected = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN"}
    assert [str(t) for t in rel.types] == [expected[f["type"]] for f in schemas.fields(table)]


def test_csv_files_are_utf8_with_lf_line_endings():
    for table in TABLES:
        data = (DATA / "csv" / f"{table}.csv").read_bytes()
        data.decode("utf-8")
        assert b"\r\n" not in data
        assert data.endswith(b"\n")


def test_a_release_that_fails_validation_leaves_data_untouched(tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(DATA, data_dir)
    before = tree_bytes(data_dir)
    frames = {t: read_csv_typed(t, DATA / "csv" / f"{t}.csv") for t in TABLES}
    frames["lines"].loc[0, "kind"] = "poem"  # a value outside the schema's enum
    with pytest.raises(ValidationError, match="lines"):
        publish(frames, data_dir)
    assert tree_bytes(data_dir) == before
    assert not list(tmp_path.glob("data.tmp-*"))


def test_an_interrupted_swap_is_repaired_by_the_next_publish(tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(DATA, tmp_path / "data.old")  # as if killed between the two renames
    frames = {t: read_csv_typed(t, DATA / "csv" / f"{t}.csv") for t in TABLES}
    publish(frames, data_dir)
    assert tree_bytes(data_dir) == tree_bytes(DATA)
    assert not (tmp_path / "data.old").exists()
