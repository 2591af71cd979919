"""Where a build's memory peaks: a tool, not a test (docs/performance.md, "What sets the peak").

Builds a synthetic corpus of N articles (``synth.py``, in a temporary root) — or an existing
repository with ``--root`` — in this process, while a thread reads the process's resident memory
every ``--interval`` seconds. At each new high (by more than ``--step`` MB) it records where the
main thread was: the innermost frames, library ones included, up to the build's own code. The last
``--top`` highs are printed, the highest last: they say which step of which stage sets the peak.
The clean build of the root (its ``.cache`` and ``data`` are deleted first) is what is measured.

    python bench/peaks.py --size 20000             # ~1 min
    python bench/peaks.py --root /path/to/a/corpus --top 30
    python bench/peaks.py --size 50000 --timeline  # what stays resident, block after block

``--timeline`` also prints, after each block is written (and once more at the end), what the process
holds then, by who holds it: Python's objects (``sys.getallocatedblocks``: how many, not bytes),
Arrow's allocator (bytes allocated), and glibc's heap (``mallinfo2``: bytes in use, and bytes free
but kept). A column that grows block after block is what makes the peak grow with the corpus;
RSS growing alone is memory freed but not given back.

A short high (a few milliseconds) may fall between two reads: ``/usr/bin/time``'s maximum RSS
can be a little higher than the highest printed here. The stack is the main thread's: another
thread of the build (the Parquet writer, the read-back of the written files) may be the one
allocating at that moment.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def resident_mb() -> int:
    """This process's resident memory (Linux ``/proc/self/statm``), in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 >> 20


def where(frame, depth: int = 8) -> str:
    """The innermost ``depth`` frames of a stack, innermost first: ``file:line function <- …``."""
    frames = traceback.extract_stack(frame)[-depth:]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))


class _Mallinfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (2.33 and later): every field a size_t."""

    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_now() -> dict[str, int]:
    """What this process holds now, by who holds it (``--timeline``'s columns; MiB unless counted)."""
    import pyarrow as pa

    row = {"rss": resident_mb(), "py_blocks_k": sys.getallocatedblocks() // 1000,
           "arrow": pa.total_allocated_bytes() >> 20}
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):  # not glibc, or older than 2.33
        return row
    mallinfo2.restype = _Mallinfo2
    info = mallinfo2()
    row.update(malloc_used=(info.uordblks + info.hblkhd) >> 20, malloc_free=info.fordblks >> 20)
    return row


class Timeline:
    """A stage observer for ``build``: after each "publish" stage (one a block, and the release's
    last), the time and ``heap_now()``."""

    def __init__(self):
        self.rows: list[dict] = []
        self._start = time.monotonic()

    @contextlib.contextmanager
    def __call__(self, name: str):
        yield
        if name == "publish":
            self.rows.append({"seconds": round(time.monotonic() - self._start, 1), **heap_now()})

    def print(self) -> None:
        if not self.rows:
            return
        names = list(self.rows[0])
        print("after each block written:")
        print(" ".join(f"{n:>12}" for n in names))
        for row in self.rows:
            print(" ".join(f"{row.get(n, ''):>12}" for n in names))


class PeakSampler:
    """Reads the resident memory every ``interval`` seconds on a thread; ``highs`` holds (seconds
    since start, MiB, where the main thread was) at each new high by more than ``step`` MiB."""

    def __init__(self, interval: float = 0.01, step: int = 2):
        self.interval, self.step = interval, step
        self.highs: list[tuple[float, int, str]] = []
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start, best = time.monotonic(), 0
        while not self._stop.wait(self.interval):
            mb = resident_mb()
            if mb > best + self.step:
                best = mb
                frame = sys._current_frames().get(self._main)
                self.highs.append((time.monotonic() - start, mb, where(frame) if frame else "?"))

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="articles of the synthetic corpus (default 10,000)")
    parser.add_argument("--root", type=Path, help="build this repository (its raw/) instead of a synthetic corpus")
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between reads (default 0.01)")
    parser.add_argument("--step", type=int, default=2, help="MiB a new high must add to be recorded (default 2)")
    parser.add_argument("--top", type=int, default=15, help="how many of the last highs to print (default 15)")
    parser.add_argument("--timeline", action="store_true", help="also print what the process holds after each block")
    args = parser.parse_args()

    from coalition_news.pipeline import BuildOptions, build

    with tempfile.TemporaryDirectory(prefix="peaks-") as tmp:
        root = args.root
        if root is None:
            sys.path.insert(0, str(HERE))
            import synth

            root = Path(tmp)
            synth.write_corpus(root, args.size, 0, synth.SEED_DIRS[:1])
        shutil.rmtree(root / ".cache", ignore_errors=True)
        shutil.rmtree(root / "data", ignore_errors=True)
        timeline = Timeline() if args.timeline else None
        with PeakSampler(args.interval, args.step) as sampler:
            counts = build(root, BuildOptions(), **({"stage": timeline} if timeline else {}))
    print(f"built {counts['articles']:,} articles; peak {max(mb for _, mb, _ in sampler.highs)} MiB "
          f"(resident, read every {args.interval} s); the last {args.top} highs:")
    for seconds, mb, at in sampler.highs[-args.top:]:
        print(f"{seconds:8.1f} s {mb:6d} MiB  {at}")
    if timeline is not None:
        timeline.print()


if __name__ == "__main__":
    main()
