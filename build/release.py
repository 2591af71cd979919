"""Stage 7 — release: the published ``data/`` as one zip a user can check, read and cite.

``make release`` writes ``dist/coalition-news-<version>.zip`` holding, at its top level::

    datapackage.json      the package, every Table Schema inline, each CSV with bytes, hash and rows
    data/csv/*.csv        the tables (validated by `frictionless validate datapackage.json`)
    data/parquet/*.parquet the same rows with their types (listed in SHA256SUMS, described in README)
    data-dictionary.md    every table and column, generated from schemas/ and the data
    README.md, LICENSE, CHANGELOG.md
    SHA256SUMS            `sha256sum -c SHA256SUMS` checks every other file

The version is ``version`` in datapackage.yaml: semantic versioning of the *data* (a schema change
is a major version). The zip is reproducible byte for byte — members in sorted order, a fixed
timestamp (1980-01-01), fixed permissions and fixed deflate level — so a release of the same
version is either identical (rebuilding is a no-op) or refused: a published version never changes.

Parquet resources stay out of datapackage.json: frictionless 5 checks them badly (``bytes`` always
fails, nullable integers give false type errors), and a descriptor that does not validate helps
nobody. The Parquet files are covered by SHA256SUMS instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import regex

from . import schemas
from .errors import BuildError
from .manifest import parse_manifest

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can store: no wall clock in the bytes
FILE_MODE = 0o100644               # regular file, rw-r--r--
DEFLATE_LEVEL = 9
DOC_FILES = ("README.md", "LICENSE", "CHANGELOG.md")
DEFAULT_CONTRIBUTORS = [{"title": "The coalition_news maintainers", "roles": ["creator"]}]


class ReleaseError(BuildError):
    pass


def release_name(version: str) -> str:
    """``release_name("0.1.0")`` → ``"coalition-news-0.1.0.zip"``."""
    return f"{schemas.datapackage()['name']}-{version}.zip"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def csv_row_count(data: bytes) -> int:
    """Data rows of a published CSV (header excluded). Counts records, not newlines, so a quoted
    cell holding a line break is still one row."""
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8"), newline=""))) - 1


def outlet_sources(sources_yaml: str) -> list[dict[str, str]]:
    """The distinct outlets named in raw/sources.yaml, as Data Package ``sources`` (sorted by title)."""
    outlets: dict[str, dict[str, str]] = {}
    for e in parse_manifest(sources_yaml):  # the manifest's own strict reader, not a second one
        if e.outlet:
            src = outlets.setdefault(e.outlet, {"title": e.outlet})
            if e.url and "path" not in src:
                src["path"] = e.url
    return [outlets[k] for k in sorted(outlets)]


def csv_resource(table: str, data: bytes) -> dict[str, Any]:
    """One CSV resource of the release descriptor (frictionless v5 names: ``hash`` is
    ``"sha256:<hex>"``, ``bytes``, ``rows``), its Table Schema inline."""
    return {
        "name": table,
        "path": f"data/csv/{table}.csv",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": len(data),
        "hash": f"sha256:{sha256_hex(data)}",
        "rows": csv_row_count(data),
        "schema": schemas.table_schema(table),
    }


def parquet_writer(parquet: bytes) -> str:
    """The library that wrote a Parquet file (its bytes depend on that version), e.g. 'parquet-cpp-arrow version 26.0.1'."""
    return pq.ParquetFile(io.BytesIO(parquet)).metadata.created_by


def release_descriptor(csvs: Mapping[str, bytes], sources_yaml: str, parquet_writer_name: str | None) -> dict[str, Any]:
    """The release's datapackage.json content: package metadata from datapackage.yaml, the outlets
    of raw/sources.yaml as ``sources``, and one resource per CSV."""
    base = schemas.datapackage()
    descriptor = {
        "name": base["name"],
        "title": base["title"],
        "version": base["version"],
        "description": " ".join(base["description"].split()),
        "licenses": base["licenses"],
        "contributors": base.get("contributors", DEFAULT_CONTRIBUTORS),
        "sources": outlet_sources(sources_yaml),
        "resources": [csv_resource(t, csvs[t]) for t in schemas.table_names()],
    }
    if parquet_writer_name:
        descriptor["x-parquet"] = {
            "path": "data/parquet/<table>.parquet",
            "note": "The same rows and types as the CSVs, written with an explicit Arrow schema; checked by SHA256SUMS.",
            "created_by": parquet_writer_name,
        }
    return descriptor


def sha256sums(files: Mapping[str, bytes]) -> bytes:
    """``sha256sum`` format: "<hex>  <path>" per file, sorted by path."""
    return "".join(f"{sha256_hex(files[p])}  {p}\n" for p in sorted(files)).encode("utf-8")


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A zip of ``files`` whose bytes depend on the contents only: sorted members, fixed time,
    fixed mode, fixed compression."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so the mode below means what it says on every OS
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name], compresslevel=DEFLATE_LEVEL)
    return buf.getvalue()


def doc_file(name: str, root: Path) -> bytes:
    """README.md, LICENSE, CHANGELOG.md: from ``root`` if it has one, else from this checkout."""
    for folder in (root, schemas.ROOT):
        if (folder / name).is_file():
            return (folder / name).read_bytes()
    raise ReleaseError(f"{name} is missing (looked in {root} and {schemas.ROOT}); a release ships it")


def check_changelog(changelog: bytes, version: str) -> None:
    """Refuse a release whose version CHANGELOG.md does not describe."""
    if not regex.search(rf"^#+\s*\[?{regex.escape(version)}\]?(\s|$)", changelog.decode("utf-8"), flags=regex.M):
        raise ReleaseError(f"CHANGELOG.md has no entry for version {version}: add a '## {version}' section saying what changed")


def structure(schema: dict[str, Any]) -> dict[str, Any]:
    """What users' code depends on in a Table Schema: columns, types, constraints and keys
    (titles and descriptions may change in any release)."""
    return {
        "fields": [{k: f.get(k) for k in ("name", "type", "format", "constraints")} for f in schema["fields"]],
        "primaryKey": schema.get("primaryKey"),
        "foreignKeys": schema.get("foreignKeys", []),
    }


def schema_changes(old: Mapping[str, dict], new: Mapping[str, dict]) -> list[str]:
    """Tables of ``old`` (name → Table Schema) whose structure differs in ``new``, or that are gone.
    A new table is not a change: it breaks nobody."""
    changes = []
    for table, schema in old.items():
        if table not in new:
            changes.append(f"table {table} was removed")
            continue
        before, after = structure(schema), structure(new[table])
        if before == after:
            continue
        old_fields = {f["name"]: f for f in before["fields"]}
        new_fields = {f["name"]: f for f in after["fields"]}
        what = [f"{table}.{c} removed" for c in old_fields if c not in new_fields]
        what += [f"{table}.{c} added" for c in new_fields if c not in old_fields]
        what += [f"{table}.{c} changed" for c in old_fields if c in new_fields and old_fields[c] != new_fields[c]]
        if not what:
            what = [f"{table}: {'primary or foreign keys' if before['fields'] == after['fields'] else 'column order'} changed"]
        changes += what
    return changes


def version_tuple(version: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return None


def check_major_version(dist_dir: Path, version: str, current: Mapping[str, dict]) -> None:
    """Refuse a release whose schemas differ from an earlier release of the same major version in
    ``dist_dir``: a schema change is a major version (CHANGELOG.md)."""
    prefix = f"{schemas.datapackage()['name']}-"
    now = version_tuple(version)
    for old_zip in sorted(dist_dir.glob(f"{prefix}*.zip")):
        old_version = old_zip.name[len(prefix):-len(".zip")]
        before = version_tuple(old_version)
        if not now or not before or before >= now or before[0] != now[0]:
            continue
        with zipfile.ZipFile(old_zip) as zf:
            old = {r["name"]: r["schema"] for r in json.loads(zf.read("datapackage.json"))["resources"]}
        changes = schema_changes(old, current)
        if changes:
            raise ReleaseError(
                f"the schemas changed since {old_version} ({'; '.join(changes)}), so version {version} must be "
                f"{now[0] + 1}.0.0: a schema change is a major version. Bump it in datapackage.yaml and CHANGELOG.md"
            )


def release_files(root: Path) -> dict[str, bytes]:
    """Every file of the release of ``root`` (its data/ and raw/sources.yaml), by path in the zip."""
    from .dictionary import render_dictionary

    data_dir = root / "data"
    version = schemas.datapackage()["version"]
    csvs, files = {}, {}
    for table in schemas.table_names():
        for kind in ("csv", "parquet"):
            path = data_dir / kind / f"{table}.{kind}"
            if not path.is_file():
                raise ReleaseError(f"{path} is missing: run `make build` first")
            files[f"data/{kind}/{table}.{kind}"] = path.read_bytes()
        csvs[table] = files[f"data/csv/{table}.csv"]
    for name in DOC_FILES:
        files[name] = doc_file(name, root)
    check_changelog(files["CHANGELOG.md"], version)
    first_parquet = files[f"data/parquet/{schemas.table_names()[0]}.parquet"]
    descriptor = release_descriptor(csvs, (root / "raw" / "sources.yaml").read_text(encoding="utf-8"), parquet_writer(first_parquet))
    files["datapackage.json"] = (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    files["data-dictionary.md"] = render_dictionary(data_dir / "csv").encode("utf-8")
    files["SHA256SUMS"] = sha256sums(files)
    return files


def write_zip_once(payload: bytes, target: Path) -> bool:
    """Write ``payload`` to ``target`` unless it exists. Same bytes: no-op (False). Other bytes:
    refuse, since a published version must never change under its users."""
    if target.exists():
        if target.read_bytes() == payload:
            return False
        raise ReleaseError(
            f"{target} already exists with other content: a published version never changes. "
            f"Bump `version` in datapackage.yaml (major when a schema changes) and add it to CHANGELOG.md"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(payload)
    tmp.replace(target)  # atomic: a reader never sees half a zip
    return True


def verify_release(zip_path: Path) -> list[str]:
    """Unpack ``zip_path`` in a temporary folder and check it as a user would: every SHA256SUMS
    line matches, and frictionless validates datapackage.json. Returns the problems found."""
    from frictionless import Package, system

    problems = []
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp)
        folder = Path(tmp)
        for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
            digest, name = line.split("  ", 1)
            if sha256_hex((folder / name).read_bytes()) != digest:
                problems.append(f"SHA256SUMS: {name} does not match")
        with system.use_context(trusted=False):
            report = Package(str(folder / "datapackage.json")).validate()
        for task in report.tasks:
            problems += [f"frictionless: {task.name}: {e.message}" for e in task.errors[:20]]
        problems += [f"frictionless: {e.message}" for e in report.errors]
    return problems


def build_release(root: Path = schemas.ROOT, dist_dir: Path | None = None) -> tuple[Path, bool]:
    """Check ``root/data``, then write ``dist/coalition-news-<version>.zip`` (reproducibly) and
    check the written zip. Returns the zip's path and whether it was (re)written."""
    from .publish import check_release

    check_release(root)
    dist_dir = dist_dir or root / "dist"
    version = schemas.datapackage()["version"]
    if dist_dir.is_dir():
        check_major_version(dist_dir, version, {t: schemas.table_schema(t) for t in schemas.table_names()})
    target = dist_dir / release_name(version)
    written = write_zip_once(zip_bytes(release_files(root)), target)
    problems = verify_release(target)
    if problems:
        raise ReleaseError(f"{target} fails its own checks:\n" + "\n".join(f"  - {p}" for p in problems))
    return target, written


def row_counts(zip_path: Path) -> dict[str, int]:
    """Rows per table of a release, from its datapackage.json (for CHANGELOG.md)."""
    with zipfile.ZipFile(zip_path) as zf:
        descriptor = json.loads(zf.read("datapackage.json"))
    return {r["name"]: r["rows"] for r in descriptor["resources"]}
