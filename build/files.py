"""Files written whole or not at all: a reader, or a build killed at any instant, never sees half;
and sealed files, whose reader gets back exactly what was written or nothing."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` (named for this process), then rename it
    over ``path`` in one step."""
    with written_atomically(path) as out:
        out.write(data)


@contextlib.contextmanager
def written_atomically(path: Path) -> Iterator[BinaryIO]:
    """``write_atomically`` for a writer that streams: the file to write ``path``'s bytes to, renamed
    over ``path`` when the block ends without an error (removed when it raises). A large pickle
    dumped into it is never whole in memory, as ``pickle.dumps`` makes it."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as out:
            yield out
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


# A sealed file: a first line naming the SHA-256 digest of the rest, then the bytes themselves
# (SHA-256 has CPU instructions on x86 and ARM: ~1.4 GB/s here, BLAKE2b ~0.65).
_SEAL = b"sha256 "
_SEAL_LENGTH = len(_SEAL) + 64 + 1  # the seal line: its prefix, a SHA-256 in hex, a newline


def write_sealed(path: Path, data: bytes) -> None:
    """``write_atomically`` with the digest of ``data`` in a first line: ``read_sealed`` gives
    back exactly ``data``, or nothing, whatever happened to the file since."""
    write_atomically(path, _seal_line(hashlib.sha256(data)) + data)


def _seal_line(digest) -> bytes:
    """The first line of a sealed file: ``sha256 <hex digest of the rest>``, then a newline (72 bytes)."""
    return _SEAL + digest.hexdigest().encode("ascii") + b"\n"


_CHUNK = 1 << 20  # what the streamed sealed files hold in memory at a time


def _read_chunks(source: BinaryIO, size: int) -> Iterator[bytes]:
    """The next ``size`` bytes of ``source``, a chunk at a time; OSError if it ends before."""
    while size > 0:
        chunk = source.read(min(_CHUNK, size))
        if not chunk:
            raise OSError(f"{getattr(source, 'name', 'a file')}: ended {size:,} bytes early")
        size -= len(chunk)
        yield chunk


def write_sealed_range(path: Path, source: Path, start: int, end: int) -> None:
    """``write_sealed(path, bytes start:end of source)``, streamed, never held whole (a block's lines
    are ~5 MB at 100,000 articles): the range is copied and digested in one read, and its seal line,
    of a fixed length, written over a placeholder before the file is renamed into place."""
    digest = hashlib.sha256()
    with open(source, "rb") as data, written_atomically(path) as out:
        out.write(bytes(_SEAL_LENGTH))
        data.seek(start)
        for chunk in _read_chunks(data, end - start):
            digest.update(chunk)
            out.write(chunk)
        out.seek(0)
        out.write(_seal_line(digest))


def append_sealed(path: Path, out: BinaryIO) -> bool:
    """Append what ``write_sealed`` wrote to ``path`` to ``out`` (a file open for writing, at its
    end), streamed; False, with ``out`` as it was, when ``path`` is missing, unreadable or changed.

    >>> import io, tempfile; path = Path(tempfile.mkdtemp()) / "kept"; out = io.BytesIO(); _ = out.write(b"head\\n")
    >>> write_sealed(path, "سطر\\n".encode()); append_sealed(path, out), out.getvalue().decode()
    (True, 'head\\nسطر\\n')
    >>> _ = path.write_bytes(path.read_bytes().replace("سطر".encode(), "سطح".encode()))
    >>> append_sealed(path, out), out.getvalue().decode()
    (False, 'head\\nسطر\\n')
    """
    start = out.tell()
    try:
        with open(path, "rb") as sealed:
            digest = hashlib.sha256()
            head = sealed.readline(_SEAL_LENGTH)
            if head.startswith(_SEAL) and head.endswith(b"\n"):
                for chunk in iter(lambda: sealed.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                if head == _seal_line(digest):
                    return True
    except OSError:
        pass
    out.seek(start)
    out.truncate()
    return False


def read_sealed(path: Path) -> bytes | None:
    """What ``write_sealed`` wrote to ``path``; None when it is missing, unreadable or changed.

    >>> import tempfile; path = Path(tempfile.mkdtemp()) / "kept"
    >>> write_sealed(path, "سطر\\n".encode()); read_sealed(path).decode()
    'سطر\\n'
    >>> _ = path.write_bytes(path.read_bytes().replace("سطر".encode(), "سطح".encode())); read_sealed(path) is None
    True
    """
    out = io.BytesIO()
    return out.getvalue() if append_sealed(path, out) else None


@functools.cache
def libc() -> ctypes.CDLL | None:
    """The C library's functions (with ``errno`` kept), or None where it cannot be loaded: the
    atomic folder exchange (``publish.exchange``) and giving freed memory back (``malloc_trim``)."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
