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


def build_fresh_repo(root: Path) -> Path:
    """``root`` becomes a repository with a copy of raw/ and a clean build of it (no data/ to start from)."""
    shutil.copytree(REPO / "raw", root / "raw")
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
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


_LETTER_MARKS = {"\u0640", "\u0670"} | {chr(c) for c in range(0x064B, 0x0660)} | {chr(c) for c in range(0x06D6, 0x06EE)}


class ReferenceNormalized:
    """The plain, character-by-character normalised view: the reference the fast one must equal."""

    def __init__(self, raw: str):
        from coalition_news.text.normalise import translation_table

        table = translation_table()
        kept = [(i, table.get(ord(c), c)) for i, c in enumerate(raw)]
        kept = [(i, m) for i, m in kept if m is not None]
        self.raw = raw
        self.text = "".join(m for _, m in kept)
        self.offsets = [i for i, _ in kept] + [len(raw)]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        if end <= start:
            return self.offsets[start], self.offsets[start]
        raw_end, next_kept = self.offsets[end - 1] + 1, self.offsets[end]
        while raw_end < next_kept and self.raw[raw_end] in _LETTER_MARKS:  # diacritics stay with their letter
            raw_end += 1
        return self.offsets[start], raw_end
