"""Derived reference data kept on disk between builds: computed once, read back in milliseconds.

Some inputs of the build cost real time in every process, yet rarely change: the gazetteer
(GeoNames' cities JSON, pycountry and CLDR names, ~0.5 s), the manifest's checked entries (~0.5 s
at 10,000), what ingest found about each raw file. A build that touches one article out of 10,000
should not pay for them again.

``memo(name, key, compute)`` returns ``compute()``; while a build has opened a folder
(``stored_in``), the value is also kept there as ``<name>.pickle`` beside the key it was computed
for, and read back when the key matches. ``keep``/``recall`` store and read a value the build
itself accumulates (the manifest's checked entries, the digests and stats of the raw files that
passed ingest). Everything stored is tied to the extractor fingerprint (the code and lexicons of
extraction and ingest, and the versions of the libraries they call;
``cache.extractor_fingerprint``); the key names anything else a memoised value depends on.
Outside a build (tests, library use) nothing is stored and ``memo`` is a plain call.

Like the extraction cache, the files are pickles written and read by this code on this machine
only; an unreadable or stale file is computed again and overwritten, so deleting ``.cache`` loses
nothing but time.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from . import pickles
from .files import write_atomically

T = TypeVar("T")

_folder: Path | None = None
_fingerprint: str = ""


@contextlib.contextmanager
def stored_in(folder: Path | None, fingerprint: str) -> Iterator[None]:
    """Keep memoised values in ``folder`` (None: keep nothing) under ``fingerprint`` while the block runs."""
    global _folder, _fingerprint
    saved = _folder, _fingerprint
    _folder, _fingerprint = folder, fingerprint
    try:
        yield
    finally:
        _folder, _fingerprint = saved


def memo(name: str, key: str, compute: Callable[[], T]) -> T:
    """``compute()``, read from ``<folder>/<name>.pickle`` when it was stored for this ``key`` and
    fingerprint, else computed and stored there."""
    found, value = _read(name, key)
    if found:
        return value
    value = compute()
    _write(name, key, value)
    return value


def recall(name: str, default: T) -> T:
    """What ``keep(name, …)`` stored under this fingerprint, else ``default``."""
    found, value = _read(name, "")
    return value if found else default


def keep(name: str, value: object) -> None:
    """Store ``value`` as ``name`` for later builds of this fingerprint (nothing outside a build)."""
    _write(name, "", value)


def _read(name: str, key: str) -> tuple[bool, object]:
    if _folder is None:
        return False, None
    try:
        stamp, value = pickle.loads((_folder / f"{name}.pickle").read_bytes())
    except Exception:  # missing, truncated, or of a class that changed shape: compute it again
        return False, None
    return stamp == f"{_fingerprint}\n{key}", value


def _write(name: str, key: str, value: object) -> None:
    if _folder is None:
        return
    _folder.mkdir(parents=True, exist_ok=True)
    write_atomically(_folder / f"{name}.pickle", pickles.dumps((f"{_fingerprint}\n{key}", value)))
