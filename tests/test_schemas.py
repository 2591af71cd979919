"""The schemas in schemas/ are valid, complete, and every emitter works for every table."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pandera.errors
import pyarrow as pa
import pytest
import yaml
from frictionless import Package, Schema

from coalition_news import schemas
from conftest import REPO

TABLES = schemas.table_names()
PROVENANCE = ("article_id", "line", "char_start", "char_end")


def test_the_data_package_lists_every_schema_file_and_points_at_it():
    dp = yaml.safe_load((REPO / "datapackage.yaml").read_text(encoding="utf-8"))
    assert sorted(r["name"] for r in dp["resources"]) == sorted(p.stem for p in (REPO / "schemas").glob("*.yaml"))
    for r in dp["resources"]:
        assert r["schema"] == f"schemas/{r['name']}.yaml"
        assert r["path"] == f"data/csv/{r['name']}.csv"
    Package.metadata_validate(dp)  # raises on an invalid descriptor


@pytest.mark.parametrize("table", TABLES)
def test_each_schema_is_a_valid_table_schema_with_descriptions(table):
    descriptor = schemas.table_schema(table)
    Schema.from_descriptor(descriptor)  # raises when invalid
    for f in descriptor["fields"]:
        assert f.get("description", "").strip(), f"{table}.{f['name']} has no description"
    assert set(schemas.primary_key(table)) <= set(schemas.field_names(table))
    for fk in schemas.foreign_keys(table):
        assert set(fk.reference_fields) <= set(schemas.field_names(fk.resource))


def test_provenance_columns_mean_the_same_in_every_table():
    seen = {}
    for table in TABLES:
        if schemas.verbatim_column(table) is None:
            continue
        by_name = {f["name"]: f for f in schemas.fields(table)}
        for col in PROVENANCE:
            spec = (by_name[col]["type"], by_name[col]["constraints"].get("required"))
            assert seen.setdefault(col, spec) == spec, (table, col)
        assert schemas.verbatim_column(table) in by_name


@pytest.mark.parametrize("table", TABLES)
def test_arrow_schema_follows_the_table_schema(table):
    arrow = schemas.arrow_schema(table)
    assert arrow.names == schemas.field_names(table)
    for f in schemas.fields(table):
        field = arrow.field(f["name"])
        assert field.nullable == (not f.get("constraints", {}).get("required", False))
        if f["type"] == "date":
            assert field.type == pa.date32()
        if f["type"] == "integer":
            assert field.type == pa.int64()


def _one_valid_lines_row():
    return pd.DataFrame(
        {"article_id": ["000_0123456789abcdef"], "line": [1], "char_start": [0], "char_end": [5],
         "text": ["عنوان"], "kind": ["title"], "repeat_of": [None]}
    ).astype(schemas.pandas_dtypes("lines"))


def test_pandera_accepts_a_valid_row():
    schemas.pandera_schema("lines").validate(_one_valid_lines_row(), lazy=True)


@pytest.mark.parametrize(
    "mutate, check",
    [
        (lambda df: pd.concat([df, df], ignore_index=True), "uniqueness"),
        (lambda df: df.assign(kind=pd.array(["poem"], dtype="string")), "isin"),
        (lambda df: df.assign(article_id=pd.array(["not-an-id"], dtype="string")), "str_matches"),
        (lambda df: df.assign(line=pd.array([0], dtype="Int64")), "greater_than_or_equal_to"),
        (lambda df: df.assign(line=df["line"].astype("float64")), "dtype"),
        (lambda df: df.assign(text=pd.array([None], dtype="string")), "not_nullable"),
        (lambda df: df.assign(extra=1), "column_in_schema"),
    ],
)
def test_pandera_rejects_bad_frames(mutate, check):
    with pytest.raises(pandera.errors.SchemaErrors) as err:
        schemas.pandera_schema("lines").validate(mutate(_one_valid_lines_row()), lazy=True)
    assert err.value.failure_cases["check"].astype(str).str.contains(check).any()


def test_dates_are_dates_in_every_emitter():
    assert schemas.arrow_schema("events").field("date_start").type == pa.date32()
    assert schemas.pandas_dtypes("events")["date_start"].startswith("datetime64")
    frame = pd.DataFrame({"d": [dt.date(2020, 1, 1)]})
    assert pd.to_datetime(frame["d"]).dt.year.iloc[0] == 2020


@pytest.mark.parametrize("table", schemas.table_names())
def test_row_checks_and_key_checks_together_are_all_checks(table):
    """A block of articles is checked with checks="rows", the whole table with checks="keys":
    together they must report exactly what the full schema reports, on a frame that breaks both."""
    from coalition_news.validate import check_schema

    df = pd.read_parquet(REPO / "data" / "parquet" / f"{table}.parquet").astype(schemas.pandas_dtypes(table))
    df = pd.concat([df, df.iloc[:2]], ignore_index=True)  # two duplicated rows: every key repeats
    required = next(f["name"] for f in schemas.fields(table) if f.get("constraints", {}).get("required"))
    df.loc[0, required] = None
    enum = next((f["name"] for f in schemas.fields(table) if "enum" in f.get("constraints", {})), None)
    if enum:
        df.loc[1, enum] = "ليس في القائمة"
    everything = check_schema(table, df)
    rows, keys = check_schema(table, df, "rows"), check_schema(table, df, "keys")
    assert rows and keys
    assert sorted(rows + keys) == sorted(everything)


@pytest.mark.parametrize("table", schemas.table_names())
def test_key_checks_without_pandera_report_what_pandera_reports(table):
    """``key_problems`` (pandas' ``duplicated``) is pandera's checks="keys", word for word and in
    order: on the release, with rows repeated, with the rows shuffled, and with nulls in every
    unique column (two nulls, a null and a value)."""
    from coalition_news.validate import check_schema, key_problems

    df = pd.read_parquet(REPO / "data" / "parquet" / f"{table}.parquet").astype(schemas.pandas_dtypes(table))
    repeated = pd.concat([df.iloc[3:], df.iloc[:5], df.iloc[2:4]], ignore_index=True)
    with_nulls = repeated.copy()
    for f in schemas.fields(table):
        if f.get("constraints", {}).get("unique"):
            with_nulls.loc[[0, 1, 4], f["name"]] = None
    shuffled = repeated.sample(frac=1, random_state=0)  # an index out of order
    for frame in (df, repeated, shuffled, with_nulls):
        assert key_problems(table, frame) == check_schema(table, frame, "keys")
    assert key_problems(table, repeated)  # the test would catch a check that finds nothing
