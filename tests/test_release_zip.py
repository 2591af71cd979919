"""The release zip: checkable by a user with two commands, reproducible, never silently replaced."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from coalition_news import schemas
from coalition_news.dictionary import render_dictionary
from coalition_news.release import ReleaseError, build_release, release_name, write_zip_once, zip_bytes
from conftest import REPO, copy_built_repo, run_cli

TABLES = schemas.table_names()
VERSION = schemas.datapackage()["version"]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A temporary repository root with raw/ and a built data/ (the committed one, or a fresh build)."""
    return copy_built_repo(tmp_path_factory.mktemp("release") / "repo")


@pytest.fixture(scope="module")
def release(root, tmp_path_factory) -> Path:
    """The release zip, written by the command line as `make release` does (into a temporary dist/)."""
    dist = tmp_path_factory.mktemp("dist")
    result = run_cli(root, "release", "--dist", str(dist))
    assert result.returncode == 0, result.stderr
    return dist / release_name(VERSION)


@pytest.fixture(scope="module")
def unpacked(release, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(release) as zf:
        zf.extractall(folder)
    return folder


def frictionless_cli(folder: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("frictionless")
    return subprocess.run([str(exe), "validate", "datapackage.json"], cwd=folder, capture_output=True, text=True, timeout=300)


def test_the_release_is_named_by_the_data_version(release):
    assert release.name == f"coalition-news-{VERSION}.zip" and release.is_file()


def test_the_release_holds_data_docs_and_checksums(release):
    names = set(zipfile.ZipFile(release).namelist())
    expected = {f"data/{k}/{t}.{k}" for t in TABLES for k in ("csv", "parquet")}
    expected |= {"datapackage.json", "README.md", "LICENSE", "CHANGELOG.md", "SHA256SUMS", "data-dictionary.md"}
    assert names == expected


def test_frictionless_validates_the_unpacked_release(unpacked):
    result = frictionless_cli(unpacked)
    assert result.returncode == 0, result.stdout[-3000:]


def test_sha256sum_checks_every_other_file(unpacked):
    result = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {line.split("  ", 1)[1] for line in (unpacked / "SHA256SUMS").read_text().splitlines()}
    on_disk = {str(p.relative_to(unpacked)) for p in unpacked.rglob("*") if p.is_file()}
    assert listed == on_disk - {"SHA256SUMS"}


def test_a_changed_csv_fails_frictionless_by_its_hash(unpacked, tmp_path):
    copy = tmp_path / "tampered"
    shutil.copytree(unpacked, copy)
    csv = copy / "data" / "csv" / "articles.csv"
    text = csv.read_text(encoding="utf-8")
    assert "ا" in text
    csv.write_text(text.replace("ا", "ب", 1), encoding="utf-8")  # same size, still a valid table: only the hash can tell
    result = frictionless_cli(copy)
    assert result.returncode == 1
    assert "hash-count" in result.stdout and "byte-count" not in result.stdout


def test_the_descriptor_describes_each_csv_exactly(unpacked):
    descriptor = json.loads((unpacked / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in descriptor["resources"]] == list(TABLES)
    for r in descriptor["resources"]:
        data = (unpacked / r["path"]).read_bytes()
        assert r["path"] == f"data/csv/{r['name']}.csv"
        assert (r["format"], r["mediatype"], r["encoding"]) == ("csv", "text/csv", "utf-8")
        assert r["bytes"] == len(data)
        assert r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert r["rows"] == len(data.decode("utf-8").splitlines()) - 1  # no cell of ours holds a newline
        assert r["schema"] == schemas.table_schema(r["name"])  # inline, not a path


def test_the_descriptor_names_version_licences_and_the_outlets(unpacked, root):
    descriptor = json.loads((unpacked / "datapackage.json").read_text(encoding="utf-8"))
    for key in ("name", "title", "version", "description", "licenses", "contributors", "sources"):
        assert descriptor[key], key
    assert descriptor["version"] == VERSION
    outlets = {e["outlet"] for e in yaml.safe_load((root / "raw" / "sources.yaml").read_text())["articles"] if e["outlet"]}
    assert {s["title"] for s in descriptor["sources"]} == outlets


def test_two_releases_are_identical_byte_for_byte(root, release, tmp_path):
    again, written = build_release(root, tmp_path)
    assert written and again.read_bytes() == release.read_bytes()


def test_zip_members_have_fixed_times_modes_and_order(release):
    infos = zipfile.ZipFile(release).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_releasing_the_same_content_again_is_a_no_op(root, release):
    before = release.stat().st_mtime_ns
    path, written = build_release(root, release.parent)
    assert not written and path.stat().st_mtime_ns == before


def test_a_version_is_never_overwritten_with_other_content(tmp_path):
    target = tmp_path / "coalition-news-9.9.9.zip"
    assert write_zip_once(zip_bytes({"a.txt": b"first"}), target)
    with pytest.raises(ReleaseError, match="already exists with other content"):
        write_zip_once(zip_bytes({"a.txt": b"second"}), target)
    assert zipfile.ZipFile(target).read("a.txt") == b"first"


def test_the_command_line_refuses_a_changed_release_of_the_same_version(root, release, tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(release, dist / release.name)
    (root / "README.md").write_text((REPO / "README.md").read_text(encoding="utf-8") + "\nA change.\n", encoding="utf-8")
    try:
        result = run_cli(root, "release", "--dist", str(dist))
    finally:
        (root / "README.md").unlink()
    assert result.returncode == 1 and "already exists with other content" in result.stderr
    assert (dist / release.name).read_bytes() == release.read_bytes()


def test_the_changelog_gives_this_versions_row_counts(unpacked):
    """CHANGELOG.md's table for the current version states the rows the release holds."""
    descriptor = json.loads((unpacked / "datapackage.json").read_text(encoding="utf-8"))
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    section = changelog.split(f"## {VERSION}", 1)[1].split("\n## ", 1)[0]
    stated = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] in TABLES:
            stated[cells[0]] = cells[1]
    assert stated == {r["name"]: str(r["rows"]) for r in descriptor["resources"]}


# --- the data dictionary --------------------------------------------------------------------

def test_the_committed_data_dictionary_equals_a_fresh_generation():
    committed = REPO / "docs" / "data-dictionary.md"
    assert committed.is_file(), "run `make dictionary` and commit docs/data-dictionary.md"
    assert committed.read_text(encoding="utf-8") == render_dictionary(REPO / "data" / "csv"), "run `make dictionary`"


def test_the_dictionary_lists_every_column_with_type_and_an_example(root):
    page = render_dictionary(root / "data" / "csv")
    for table in TABLES:
        section = page.split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
        for field in schemas.fields(table):
            row = next(line for line in section.splitlines() if line.startswith(f"| `{field['name']}` |"))
            assert f"| {field['type']} |" in row
            if "enum" in field.get("constraints", {}):
                assert all(f"`{v}`" in row for v in field["constraints"]["enum"])


def test_dictionary_examples_come_from_the_data(root):
    import csv

    page = render_dictionary(root / "data" / "csv")
    with (root / "data" / "csv" / "articles.csv").open(encoding="utf-8", newline="") as f:
        first = next(csv.DictReader(f))
    section = page.split("\n## articles\n", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| `raw_sha256` |"))
    assert row.endswith(f"`{first['raw_sha256']}` |")


# --- versions -------------------------------------------------------------------------------

def test_schema_changes_name_what_users_would_find_broken():
    from coalition_news.release import schema_changes

    old = {"quotes": {"primaryKey": ["quote_id"], "fields": [
        {"name": "quote_id", "type": "string", "description": "id"},
        {"name": "attribution", "type": "string", "constraints": {"enum": ["explicit", "none"]}}]}}
    reworded = {"quotes": {**old["quotes"], "fields": [{**f, "description": "new words"} for f in old["quotes"]["fields"]]}}
    narrower = {"quotes": {**old["quotes"], "fields": [old["quotes"]["fields"][0],
                {"name": "attribution", "type": "string", "constraints": {"enum": ["explicit"]}}]}}
    assert schema_changes(old, {**reworded, "new_table": {"fields": []}}) == []
    assert schema_changes(old, narrower) == ["quotes.attribution changed"]
    assert schema_changes(old, {}) == ["table quotes was removed"]


def test_a_schema_change_without_a_major_version_is_refused(root, release, tmp_path):
    """An earlier 0.0.1 release whose quotes table lacked a column: 0.1.0 must then be 1.0.0."""
    dist = tmp_path / "dist"
    dist.mkdir()
    with zipfile.ZipFile(release) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    descriptor = json.loads(files["datapackage.json"])
    quotes = next(r for r in descriptor["resources"] if r["name"] == "quotes")
    quotes["schema"]["fields"] = quotes["schema"]["fields"][:-1]
    files["datapackage.json"] = json.dumps(descriptor).encode()
    (dist / "coalition-news-0.0.1.zip").write_bytes(zip_bytes(files))
    if VERSION.split(".")[0] != "0":
        pytest.skip("the fabricated earlier release is 0.0.1: only meaningful while the major version is 0")
    with pytest.raises(ReleaseError, match="a schema change is a major version"):
        build_release(root, dist)
    assert not (dist / release.name).exists()
