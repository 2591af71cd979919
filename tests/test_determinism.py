"""Determinism: the release's bytes depend on raw/ and the code only.

Not on the hash seed, the time zone, the locale, the working directory, the repository's location,
the order of the manifest's entries, the order the file system lists raw/ in, or a warm cache.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from coalition_news.ingest import read_raw
from coalition_news.manifest import HEADER, read_manifest
from conftest import REPO, run_cli, tree_bytes

# Runs the CLI with Path.iterdir shuffled: the order a file system lists a folder in is arbitrary.
SHUFFLED_LISTING = r"""
import os, random, sys
from pathlib import Path
listing = Path.iterdir
def shuffled(self):
    items = list(listing(self))
    random.Random(os.environ["LISTING_SEED"]).shuffle(items)
    return iter(items)
Path.iterdir = shuffled
from coalition_news.cli import main
sys.exit(main(sys.argv[1:]))
"""


def write_shuffled_manifest(raw: Path, seed: int) -> list[str]:
    """Rewrite raw/sources.yaml with its entries in a shuffled (non-canonical) order; return it."""
    entries = read_manifest(raw)
    random.Random(seed).shuffle(entries)
    body = yaml.safe_dump({"articles": [e.to_yaml_dict() for e in entries]}, allow_unicode=True, sort_keys=False)
    (raw / "sources.yaml").write_text(HEADER + body, encoding="utf-8")
    return [e.file for e in entries]


def _copy_raw(root: Path, reverse: bool = False) -> Path:
    (root / "raw").mkdir(parents=True)
    for path in sorted((REPO / "raw").iterdir(), reverse=reverse):
        shutil.copy2(path, root / "raw" / path.name)
    return root


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    root = _copy_raw(tmp_path_factory.mktemp("reference"))
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
    return tree_bytes(root / "data")


def test_builds_are_byte_identical_whatever_the_seed_zone_locale_and_input_order(reference, tmp_path):
    root = _copy_raw(tmp_path / "elsewhere" / "deeper", reverse=True)
    order = write_shuffled_manifest(root / "raw", seed=7)
    assert order != sorted(order), "the shuffle must change the manifest's order"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for hash_seed, zone, locale, listing_seed, cache in [
        ("1", "Pacific/Kiritimati", "C", "3", ["--no-cache"]),   # UTC+14, cold cache
        ("4242", "America/Adak", "C.UTF-8", "11", []),            # UTC-10, warm cache from the build above
    ]:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "TZ": zone, "LC_ALL": locale, "LISTING_SEED": listing_seed}
        result = subprocess.run(
            [sys.executable, "-c", SHUFFLED_LISTING, "--root", str(root), "build", *cache],
            env=env, cwd=cwd, capture_output=True, text=True, timeout=600,
        )
        assert result.returncode == 0, result.stderr
        assert tree_bytes(root / "data") == reference, (hash_seed, zone, locale)


def test_the_listing_order_of_raw_does_not_change_the_articles(monkeypatch):
    expected = read_raw(REPO / "raw")
    listing = Path.iterdir
    for seed in range(3):
        def shuffled(self, seed=seed):
            items = list(listing(self))
            random.Random(seed).shuffle(items)
            return iter(items)

        monkeypatch.setattr(Path, "iterdir", shuffled)
        assert read_raw(REPO / "raw") == expected


def test_the_manifest_order_does_not_change_the_articles(tmp_path):
    expected = read_raw(REPO / "raw")
    raw = _copy_raw(tmp_path, reverse=True) / "raw"
    write_shuffled_manifest(raw, seed=3)
    got = read_raw(raw)
    # Only the manifest line each entry came from may differ (it is for messages, in no table).
    strip = lambda articles: [(a.article_id, a.text, a.sha256, a.source.to_yaml_dict()) for a in articles]  # noqa: E731
    assert strip(got) == strip(expected)


def test_the_command_line_prints_what_it_built_through_a_pipe(tmp_path):
    """``python -m coalition_news`` ends without tearing the interpreter down (``__main__``): what
    it printed still reaches a pipe, and it exits with the command's code."""
    root = _copy_raw(tmp_path)
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"built {root / 'data'}: articles 5, lines ")
    (root / "raw" / "stray.txt").write_bytes("مقال لم يسجل".encode())
    refused = run_cli(root, "build")
    assert refused.returncode == 1 and refused.stderr.startswith("error: ") and "stray.txt" in refused.stderr
