"""Shared fixtures: the repository, a disposable copy of it, and the optional external corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


def read_raw_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((REPO / "raw").glob("*.txt"))}


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of raw/ and data/ in a temporary repository root, safe to break."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(REPO / "raw", root / "raw")
    if (REPO / "data").is_dir():
        shutil.copytree(REPO / "data", root / "data")
    return root


def copy_built_repo(root: Path) -> Path:
    """``root`` becomes a repository with raw/ and a built data/: the committed one, or a fresh build."""
    from coalition_news.schemas import table_names

    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "raw", root / "raw")
    if all((REPO / "data" / "parquet" / f"{t}.parquet").is_file() for t in table_names()):
        shutil.copytree(REPO / "data", root / "data")
    else:
        built = run_cli(root, "build")
        assert built.returncode == 0, f"no data/ in the repository and the build failed:\n{built.stderr}"
    return root


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m coalition_news --root ROOT ARGS`` as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "coalition_news", "--root", str(root), *args],
        capture_output=True, text=True, timeout=600,
    )


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not beside the repository")
    return sorted(CORPUS.glob("*.txt"))
