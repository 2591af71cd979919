"""The table schemas in ``schemas/`` are the single source of truth; everything else is derived here.

From each Table Schema YAML this module emits:

- ``arrow_schema(table)``: the explicit pyarrow schema the Parquet files are written with;
- ``pandas_dtypes(table)``: the dtypes of the frames the build assembles and validates;
- ``pandera_schema(table)``: the pandera checks (types, required, unique, enum, pattern, minimum,
  maximum, primary key). pandera's own frictionless import is lossy (dates become strings, integers
  lose their nulls, foreign keys vanish), hence this small converter;
- ``foreign_keys(table)`` and ``verbatim_column(table)`` for the cross-table and provenance checks.

Table Schema type → pyarrow → pandas:  string → string → "string";  integer → int64 → "Int64";
number → float64 → "float64";  boolean → bool → "boolean";  date → date32 → datetime64[ns].
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schemas"
DATAPACKAGE = ROOT / "datapackage.yaml"

_ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}
_PANDAS_DTYPES = {
    "string": "string",
    "integer": "Int64",
    "number": "float64",
    "boolean": "boolean",
    "date": "datetime64[ns]",
}


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


def _load_yaml(path: Path) -> Any:
    """Safe YAML, parsed by libyaml when PyYAML has it (5× faster than the Python parser)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def datapackage() -> dict[str, Any]:
    return _load_yaml(DATAPACKAGE)


def table_names() -> tuple[str, ...]:
    """Tables in the order the data package lists them (referenced tables first)."""
    return tuple(r["name"] for r in datapackage()["resources"])


@cache
def table_schema(table: str) -> dict[str, Any]:
    """The Table Schema of ``table`` as a dict, read from ``schemas/<table>.yaml``."""
    return _load_yaml(SCHEMA_DIR / f"{table}.yaml")


def fields(table: str) -> list[dict[str, Any]]:
    return table_schema(table)["fields"]


def field_names(table: str) -> list[str]:
    return [f["name"] for f in fields(table)]


def primary_key(table: str) -> list[str]:
    pk = table_schema(table)["primaryKey"]
    return [pk] if isinstance(pk, str) else list(pk)


def foreign_keys(table: str) -> list[ForeignKey]:
    out = []
    for fk in table_schema(table).get("foreignKeys", []):
        ref = fk["reference"]
        as_tuple = lambda v: (v,) if isinstance(v, str) else tuple(v)  # noqa: E731
        out.append(ForeignKey(as_tuple(fk["fields"]), ref["resource"], as_tuple(ref["fields"])))
    return out


def verbatim_column(table: str) -> str | None:
    """The column that must equal ``raw_text[char_start:char_end]`` (the provenance rule), if any."""
    prov = table_schema(table).get("x-provenance")
    return next(iter(prov.values())) if prov else None


def _required(field: dict[str, Any]) -> bool:
    return bool(field.get("constraints", {}).get("required", False))


def arrow_schema(table: str) -> pa.Schema:
    """The explicit pyarrow schema for ``table``: types, nullability and each column's description."""
    return pa.schema(
        [
            pa.field(
                f["name"],
                _ARROW_TYPES[f["type"]],
                nullable=not _required(f),
                metadata={"description": f["description"]},
            )
            for f in fields(table)
        ]
    )


def pandas_dtypes_of(schema: dict[str, Any]) -> dict[str, str]:
    """Column → pandas dtype of a Table Schema dict (this checkout's, or one read from a release)."""
    return {f["name"]: _PANDAS_DTYPES[f["type"]] for f in schema["fields"]}


def pandas_dtypes(table: str) -> dict[str, str]:
    return pandas_dtypes_of(table_schema(table))


def enum_values(table: str, column: str) -> list[str] | None:
    for f in fields(table):
        if f["name"] == column:
            return f.get("constraints", {}).get("enum")
    raise KeyError(f"{table}.{column}")


def pandera_schema(table: str, checks: str = "all"):
    """A pandera DataFrameSchema equivalent to the Table Schema of ``table``.

    ``checks="rows"`` keeps what holds row by row (types, required, enum, pattern, bounds, the
    columns and their order), so a block of articles can be checked alone; ``checks="keys"`` keeps
    only what holds over the whole table (unique columns and the primary key); "all" is both.
    """
    import pandera.pandas as pa_

    if checks not in ("all", "rows", "keys"):
        raise ValueError(f"checks={checks!r}: choose all, rows or keys")
    pk = primary_key(table)
    columns = {}
    for f in fields(table):
        c = f.get("constraints", {})
        unique = bool(c.get("unique", False)) and checks != "rows"
        if checks == "keys":
            if unique or (f["name"] in pk and len(pk) > 1):
                columns[f["name"]] = pa_.Column(None, nullable=True, unique=unique, description=f["description"])
            continue
        column_checks = []
        if "enum" in c:
            column_checks.append(pa_.Check.isin(c["enum"]))
        if "pattern" in c:
            column_checks.append(pa_.Check.str_matches(rf"^(?:{c['pattern']})$"))
        if "minimum" in c:
            column_checks.append(pa_.Check.ge(c["minimum"]))
        if "maximum" in c:
            column_checks.append(pa_.Check.le(c["maximum"]))
        columns[f["name"]] = pa_.Column(
            _PANDAS_DTYPES[f["type"]],
            checks=column_checks,
            nullable=not c.get("required", False) and f["name"] not in pk,  # a primary key is required
            unique=unique,
            description=f["description"],
        )
    return pa_.DataFrameSchema(
        columns,
        name=table,
        strict=checks != "keys",
        ordered=checks != "keys",
        unique=pk if len(pk) > 1 and checks != "rows" else None,  # together, the key is unique
        report_duplicates="all",
    )
