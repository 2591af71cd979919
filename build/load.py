"""Load one table as a typed pandas DataFrame, from this checkout's ``data/`` or from a release zip.

    >>> from coalition_news import load
    >>> quotes = load("quotes")                                  # data/parquet/quotes.parquet
    >>> quotes = load("quotes", release="coalition-news-0.1.0.zip")  # doctest: +SKIP

Dtypes follow the Table Schema (the release's own schemas when reading a release zip):

- string → ``"string"`` (pandas' nullable string; null is ``pd.NA``);
- integer → ``"Int64"`` (nullable integer);  number → ``float64``;  boolean → ``"boolean"``;
- date → ``datetime64[ns]`` at midnight (chosen over pyarrow ``date32`` because every pandas
  operation, ``.dt`` accessor, resampling and plotting handle it; the time part is always 00:00);
- a column whose schema lists an ``enum`` → ``Categorical`` with exactly those categories, in the
  schema's order (so an empty category still appears in ``value_counts``).

The Parquet files are read (not the CSVs): they carry the types, so nothing is guessed.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from . import schemas

class LoadError(ValueError):
    pass


def declared_dtypes(schema: dict[str, Any]) -> dict[str, Any]:
    """Column → pandas dtype for a Table Schema dict; enums become CategoricalDtype.

    ``{"fields": [{"name": "kind", "type": "string", "constraints": {"enum": ["person", "group"]}}]}``
    → ``{"kind": CategoricalDtype(categories=["person", "group"], ordered=False)}``
    """
    out: dict[str, Any] = dict(schemas.pandas_dtypes_of(schema))
    for f in schema["fields"]:
        enum = f.get("constraints", {}).get("enum")
        if enum:
            out[f["name"]] = pd.CategoricalDtype(enum, ordered=False)
    return out


def typed(df: pd.DataFrame, schema: dict[str, Any]) -> pd.DataFrame:
    """``df`` with exactly the schema's columns, in order, converted to the declared dtypes."""
    dtypes = declared_dtypes(schema)
    missing = [c for c in dtypes if c not in df.columns]
    if missing:
        raise LoadError(f"{schema.get('name', 'table')}: columns {missing} are missing from the file")
    out = pd.DataFrame(index=df.index)
    for column, dtype in dtypes.items():
        values = df[column]
        if isinstance(dtype, pd.CategoricalDtype):
            unknown = set(values.dropna()) - set(dtype.categories)
            if unknown:
                raise LoadError(f"{schema.get('name', 'table')}.{column}: values {sorted(unknown)} are not in the schema's enum")
            values = values.astype(object).astype(dtype)
        elif dtype.startswith("datetime64"):
            values = pd.to_datetime(values).astype(dtype)
        else:
            values = values.astype(dtype)
        out[column] = values
    return out


def _check_table(table: str, names: list[str]) -> None:
    if table not in names:
        raise LoadError(f"unknown table {table!r}; the tables are: {', '.join(names)}")


def load_local(table: str, data_dir: Path) -> pd.DataFrame:
    _check_table(table, list(schemas.table_names()))
    path = data_dir / "parquet" / f"{table}.parquet"
    if not path.is_file():
        raise LoadError(f"{path} does not exist: run `make` to build data/, or pass release=<zip>")
    return typed(pq.read_table(path).to_pandas(), schemas.table_schema(table))


def load_release(table: str, zip_path: Path) -> pd.DataFrame:
    """A table from a release zip, typed by the schema that release ships (datapackage.json)."""
    with zipfile.ZipFile(zip_path) as zf:
        descriptor = json.loads(zf.read("datapackage.json"))
        resources = {r["name"]: r for r in descriptor["resources"]}
        _check_table(table, list(resources))
        member = f"data/parquet/{table}.parquet"
        if member not in zf.namelist():
            raise LoadError(f"{zip_path} has no {member}")
        frame = pq.read_table(io.BytesIO(zf.read(member))).to_pandas()
    return typed(frame, resources[table]["schema"])


def load(table: str, release: str | Path | None = None, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Table ``table`` (articles, lines, speakers, speaker_mentions, quotes, figures, events) as a
    DataFrame with the declared dtypes: from ``release`` (a release zip) when given, else from
    ``data_dir`` (default: ``data/`` of this checkout)."""
    if release is not None:
        return load_release(table, Path(release))
    return load_local(table, Path(data_dir) if data_dir is not None else schemas.ROOT / "data")
