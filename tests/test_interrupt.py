"""Interrupted builds: SIGKILL at any point leaves data/ as the previous release or the new one.

The previous release (A) is built from raw/ minus one article; the new one (B) from all of raw/.
Each case starts from A, runs the build of B in a subprocess and kills it with SIGKILL — at a fault
point inside publish (exactly where each file-system step happens), inside the extraction cache,
or after a delay spread over the build's measured duration. Then:

- data/ is byte-identical to A or to B, never a mix (with the two-rename fallback swap, a kill
  between the renames leaves no data/ but a complete data.old/ equal to A, which recover() restores);
- the next build succeeds and its data/ is byte-identical to B (no row lost or corrupted), with no
  staging folder or data.old/ left behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from coalition_news.manifest import read_manifest, write_manifest
from coalition_news.publish import recover
from conftest import REPO, run_cli, tree_bytes

LEFT_OUT = "004_4e84c7e255c49780.txt"  # the article the previous release does not have yet

# Runs the build like the CLI, after arming one fault: SIGKILL this process at a named point.
KILLER = r"""
import os, shutil, signal, sys
from pathlib import Path
from coalition_news import publish as P
from coalition_news.cache import ExtractCache
from coalition_news.cli import main

point = os.environ["KILL_AT"]
def die():
    os.kill(os.getpid(), signal.SIGKILL)

def after_call(owner, name, n=1):
    original, calls = getattr(owner, name), []
    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == n:
            die()
        return result
    setattr(owner, name, wrapper)

def before_call(owner, name):
    setattr(owner, name, lambda *a, **k: die())

kind, _, arg = point.partition(":")
if kind == "fallback":                  # a system without an atomic exchange: two renames
    P.exchange = lambda a, b: False
    kind, _, arg = arg.partition(":")
if kind == "write":                     # after the n-th block of a CSV is written to staging (Parquet alongside)
    after_call(P.CsvStream, "add", int(arg))
elif kind == "check":                   # while the staged release is being checked
    before_call(P, "check_release")
elif kind == "exchanged":               # after the atomic exchange, before the old release is deleted
    after_call(P, "exchange")
elif kind == "rename":                  # after the n-th rename of the fallback swap
    after_call(Path, "rename", int(arg))
elif kind == "cleanup":                 # halfway through deleting the previous release
    def half_rmtree(path, *a, **k):
        files = sorted(p for p in Path(path).rglob("*") if p.is_file())
        for p in files[: len(files) // 2]:
            p.unlink()
        die()
    P.shutil.rmtree = half_rmtree
elif kind == "cache":                   # right after extraction rows are committed to the cache
    after_call(ExtractCache, "put_many")
else:
    raise SystemExit(f"unknown fault point {point}")
sys.exit(main(sys.argv[1:]))
"""

# One kill per distinct state of the file system (each costs two builds, so not more).
FAULT_POINTS = ["write:4", "check", "exchanged", "cleanup", "cache", "fallback:rename:1", "fallback:rename:2"]
# Fractions of the measured build time at which the timed kills land.
KILL_FRACTIONS = (0.3, 0.7, 0.95)


def _root(base: Path, with_all: bool) -> Path:
    base.mkdir(parents=True)
    shutil.copytree(REPO / "raw", base / "raw")
    if not with_all:
        (base / "raw" / LEFT_OUT).unlink()
        write_manifest(base / "raw", [e for e in read_manifest(base / "raw") if e.file != LEFT_OUT])
    return base


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict:
    """Release A (previous) and B (new), and how long a build of B over A takes (to spread kills)."""
    tmp = tmp_path_factory.mktemp("releases")
    a = _root(tmp / "a", with_all=False)
    assert run_cli(a, "build").returncode == 0
    b = _root(tmp / "b", with_all=True)
    shutil.copytree(a / "data", b / "data")
    started = time.monotonic()
    result = run_cli(b, "build")
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    release_a, release_b = tree_bytes(a / "data"), tree_bytes(b / "data")
    assert release_a != release_b and len(release_a) == len(release_b)
    return {"a_root": a, "b_root": b, "A": release_a, "B": release_b, "seconds": seconds}


def _start_from_a(releases: dict, tmp_path: Path, cache_of: str | None) -> Path:
    """A repository holding release A whose raw/ now has every article; with the extraction cache
    of release A's or B's build (``cache_of`` "a" or "b"), or none."""
    root = _root(tmp_path / "repo", with_all=True)
    shutil.copytree(releases["a_root"] / "data", root / "data")
    if cache_of and (releases[f"{cache_of}_root"] / ".cache").is_dir():
        shutil.copytree(releases[f"{cache_of}_root"] / ".cache", root / ".cache")
    return root


def _assert_whole_release_then_rebuild(root: Path, releases: dict, *, fallback: bool = False) -> str:
    """data/ is A or B (or, only with the fallback swap, absent with data.old == A); the next build gives B."""
    data, old = root / "data", root / "data.old"
    if data.exists():
        state = tree_bytes(data)
        assert state in (releases["A"], releases["B"]), "data/ is a mix of two releases"
        seen = "A" if state == releases["A"] else "B"
    else:
        assert fallback, "data/ vanished although the swap is atomic here"
        assert tree_bytes(old) == releases["A"], "data.old/ must hold the whole previous release"
        seen = "A (in data.old, restored by recover)"
    result = run_cli(root, "build")
    assert result.returncode == 0, result.stderr
    assert tree_bytes(data) == releases["B"], "the build after a kill must give the new release, every row intact"
    assert not old.exists() and not list(root.glob("data.tmp-*"))
    return seen


def _kill_at(point: str, releases: dict, base: Path) -> str:
    """Build B over A, SIGKILLed at ``point``; check the state and the next build; return what was seen."""
    # B's cache spares the extraction (the faults are in publish); the cache fault needs work to commit.
    root = _start_from_a(releases, base, cache_of="a" if point == "cache" else "b")
    result = subprocess.run(
        [sys.executable, "-c", KILLER, "--root", str(root), "build"],
        env={**os.environ, "KILL_AT": point}, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == -signal.SIGKILL, f"the fault point was never reached: {result.stderr[-2000:]}"
    return _assert_whole_release_then_rebuild(root, releases, fallback=point.startswith("fallback"))


@pytest.fixture(scope="module")
def fault_runs(releases, tmp_path_factory) -> dict[str, Future]:
    """Every fault point's kill-and-rebuild, run side by side (each is independent and slow)."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(len(FAULT_POINTS), os.cpu_count() or 1)))
    runs = {p: pool.submit(_kill_at, p, releases, tmp_path_factory.mktemp("fault")) for p in FAULT_POINTS}
    yield runs
    pool.shutdown(wait=True)


EXPECTED_STATE = {
    "write:4": "A", "check": "A", "exchanged": "B", "cleanup": "B", "cache": "A",
    "fallback:rename:1": "A (in data.old, restored by recover)", "fallback:rename:2": "B",
}


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_kill_at_each_fault_point_leaves_a_whole_release(fault_runs, point):
    assert fault_runs[point].result() == EXPECTED_STATE[point]


@pytest.mark.parametrize("fraction", KILL_FRACTIONS)
def test_a_kill_at_a_random_moment_leaves_a_whole_release(releases, tmp_path, fraction):
    root = _start_from_a(releases, tmp_path, cache_of={0.3: None, 0.7: "a"}.get(fraction, "b"))
    process = subprocess.Popen(
        [sys.executable, "-m", "coalition_news", "--root", str(root), "build"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(releases["seconds"] * fraction)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=600)
    _assert_whole_release_then_rebuild(root, releases)


def test_recover_restores_the_previous_release_after_a_kill_between_the_two_renames(releases, tmp_path):
    """The fallback swap's one window, repaired without a build (every publish runs recover() first)."""
    data = tmp_path / "data"
    shutil.copytree(releases["a_root"] / "data", tmp_path / "data.old")
    (tmp_path / "data.tmp-999999999" / "data").mkdir(parents=True)  # a dead build's staging folder
    recover(data)
    assert tree_bytes(data) == releases["A"]
    assert not (tmp_path / "data.old").exists() and not list(tmp_path.glob("data.tmp-*"))


def test_recover_leaves_a_running_builds_staging_folder_alone(tmp_path):
    """Two builds at once: one's recover() must not delete the other's staging folder mid-write."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        staging = tmp_path / f"data.tmp-{sleeper.pid}" / "data"
        staging.mkdir(parents=True)
        recover(tmp_path / "data")
        assert staging.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait()
    recover(tmp_path / "data")
    assert not list(tmp_path.glob("data.tmp-*"))


@pytest.mark.parametrize("atomic", [True, False], ids=["exchange", "two renames"])
def test_swap_in_puts_the_new_release_in_place_and_the_old_one_in_staging(tmp_path, monkeypatch, atomic):
    from coalition_news import publish as P

    if not atomic:
        monkeypatch.setattr(P, "exchange", lambda a, b: False)
    data, staging = tmp_path / "data", tmp_path / "data.tmp-1" / "data"
    (data / "csv").mkdir(parents=True)
    (data / "csv" / "lines.csv").write_text("old\n")
    (staging / "csv").mkdir(parents=True)
    (staging / "csv" / "lines.csv").write_text("new\n")
    P.swap_in(staging, data)
    assert tree_bytes(data) == {"csv/lines.csv": b"new\n"}
    assert tree_bytes(staging) == {"csv/lines.csv": b"old\n"}
    assert not (tmp_path / "data.old").exists()


def test_the_first_release_is_renamed_into_place(tmp_path):
    from coalition_news.publish import swap_in

    staging = tmp_path / "data.tmp-1" / "data"
    staging.mkdir(parents=True)
    (staging / "x.csv").write_text("new\n")
    swap_in(staging, tmp_path / "data")
    assert tree_bytes(tmp_path / "data") == {"x.csv": b"new\n"} and not staging.exists()
