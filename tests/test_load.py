"""``load(table)``: every table with the dtypes its schema declares, from data/ or from a release zip."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coalition_news import load, schemas
from coalition_news.load import LoadError
from coalition_news.release import build_release
from coalition_news.validate import read_csv_typed
from conftest import copy_built_repo

TABLES = schemas.table_names()
# What the README promises, written out here rather than derived from the code under test.
EXPECTED = {"string": "string", "integer": "Int64", "number": "float64", "boolean": "boolean", "date": "datetime64[ns]"}


def expected_dtype(field: dict):
    enum = field.get("constraints", {}).get("enum")
    return pd.CategoricalDtype(enum) if enum else pd.api.types.pandas_dtype(EXPECTED[field["type"]])


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A temporary repository root with raw/ and a built data/ (the committed one, or a fresh build)."""
    return copy_built_repo(tmp_path_factory.mktemp("load") / "repo")


@pytest.fixture(scope="module")
def release(root, tmp_path_factory) -> Path:
    path, _ = build_release(root, tmp_path_factory.mktemp("dist"))
    return path


@pytest.mark.parametrize("table", TABLES)
def test_load_gives_the_declared_dtypes(root, table):
    df = load(table, data_dir=root / "data")
    assert list(df.columns) == schemas.field_names(table)
    for field in schemas.fields(table):
        assert df[field["name"]].dtype == expected_dtype(field), f"{table}.{field['name']}: {df[field['name']].dtype}"


@pytest.mark.parametrize("table", TABLES)
def test_load_from_a_release_zip_equals_load_from_data(root, release, table):
    pd.testing.assert_frame_equal(load(table, release=release), load(table, data_dir=root / "data"))


@pytest.mark.parametrize("table", TABLES)
def test_loaded_values_equal_the_published_csv(root, table):
    df = load(table, data_dir=root / "data")
    csv = read_csv_typed(table, root / "data" / "csv" / f"{table}.csv")
    for column in df.columns:
        if isinstance(df[column].dtype, pd.CategoricalDtype):
            df[column] = df[column].astype("string")
    pd.testing.assert_frame_equal(df, csv)


def test_enum_categories_are_the_schemas_even_when_unused(root):
    kinds = load("lines", data_dir=root / "data")["kind"]
    assert list(kinds.cat.categories) == schemas.enum_values("lines", "kind")
    assert "boilerplate" in kinds.cat.categories  # present whether or not any line is boilerplate


def test_dates_are_midnight_timestamps_and_nulls_are_na(root):
    articles = load("articles", data_dir=root / "data")
    dates = articles["published_date"].dropna()
    assert len(dates) and (dates == dates.dt.normalize()).all()
    assert articles["published_date"].isna().sum() == articles["published_period"].str.len().ne(10).fillna(True).sum()


def test_an_unknown_table_is_refused_with_the_list_of_tables(root):
    with pytest.raises(LoadError, match="quotes"):
        load("quote", data_dir=root / "data")


def test_a_missing_data_folder_says_how_to_build_it(tmp_path):
    with pytest.raises(LoadError, match="make"):
        load("quotes", data_dir=tmp_path)


def test_an_unknown_enum_value_is_refused():
    from coalition_news.load import typed

    schema = {"name": "t", "fields": [{"name": "kind", "type": "string", "constraints": {"enum": ["person"]}}]}
    assert list(typed(pd.DataFrame({"kind": ["person", None]}), schema)["kind"].cat.categories) == ["person"]
    with pytest.raises(LoadError, match="robot"):
        typed(pd.DataFrame({"kind": ["robot"]}), schema)
