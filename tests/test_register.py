"""`make add` registers new articles: byte-for-byte copy, NNN_<sha16> name, manifest entry, rebuild."""

from __future__ import annotations

import hashlib

import pandas as pd

from coalition_news.manifest import read_manifest
from conftest import run_cli

ARTICLE = """الجيش يعلن مقتل عشرين مسلحا في غارات جوية

12 أيار 2022

قال المتحدث باسم القيادة العميد سامر الحديثي إن "طائرات التحالف نفذت 14 غارة أسفرت عن مقتل 20 مسلحا".
"""


def test_add_registers_a_file_and_the_next_build_includes_it(repo_copy, tmp_path):
    src = tmp_path / "new article.txt"
    src.write_text(ARTICLE, encoding="utf-8")
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    result = run_cli(repo_copy, "add", str(src), "--outlet", "Test Outlet")
    assert result.returncode == 0, result.stderr
    name = f"005_{digest[:16]}.txt"
    assert (repo_copy / "raw" / name).read_bytes() == src.read_bytes()
    entry = next(e for e in read_manifest(repo_copy / "raw") if e.file == name)
    assert entry.sha256 == digest and entry.outlet == "Test Outlet"
    assert entry.published.date == "2022-05-12" and entry.published.basis == "stated"

    assert run_cli(repo_copy, "build").returncode == 0
    articles = pd.read_csv(repo_copy / "data" / "csv" / "articles.csv", dtype=str)
    assert name[:-4] in set(articles["article_id"])


def test_add_with_a_date_records_it_as_curated(repo_copy, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text(ARTICLE.replace("12 أيار 2022", ""), encoding="utf-8")
    assert run_cli(repo_copy, "add", str(src), "--date", "2022-05").returncode == 0
    entry = read_manifest(repo_copy / "raw")[-1]
    assert (entry.published.date, entry.published.precision, entry.published.basis) == ("2022-05", "month", "curated")


def test_add_refuses_content_already_registered_and_writes_nothing(repo_copy):
    before = (repo_copy / "raw" / "sources.yaml").read_bytes()
    seed = sorted((repo_copy / "raw").glob("*.txt"))[0]
    result = run_cli(repo_copy, "add", str(seed))
    assert result.returncode == 1
    assert f"same content as raw/{seed.name}" in result.stderr
    assert (repo_copy / "raw" / "sources.yaml").read_bytes() == before


def test_add_a_folder_registers_every_txt_in_name_order(repo_copy, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text(ARTICLE.replace("14", str(30 + i)), encoding="utf-8")
    assert run_cli(repo_copy, "add", str(folder)).returncode == 0
    names = [e.file for e in read_manifest(repo_copy / "raw")]
    assert [n[:3] for n in names[-3:]] == ["005", "006", "007"]


def test_add_refuses_an_undecodable_file(repo_copy, tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes(b"\xff\xfe\x00bad")
    result = run_cli(repo_copy, "add", str(src))
    assert result.returncode == 1 and "not valid UTF-8" in result.stderr
