"""How the build's processes allocate memory and give it back (docs/performance.md, "Memory").

Neither changes a byte of the release: they change how much of what the build frees stays in its
processes' resident memory.
"""

from __future__ import annotations

import os

import pyarrow as pa

from .files import libc

# Arrow's allocator for the build's processes, unless the user chose one (ARROW_DEFAULT_MEMORY_POOL,
# which Arrow reads when it starts): jemalloc gave back more of what a streamed table frees, block
# after block, than mimalloc (pyarrow's default) or glibc, in the same time (docs/performance.md,
# "Arrow's allocator", has the figures).
ARROW_POOL = "jemalloc"


def lean_arrow_pool() -> pa.MemoryPool | None:
    """``ARROW_POOL``'s pool, or None when this pyarrow was built without it."""
    try:
        return getattr(pa, f"{ARROW_POOL}_memory_pool")()
    except (NotImplementedError, pa.ArrowException):
        return None


def use_lean_arrow_pool() -> str:
    """Make ``ARROW_POOL`` Arrow's default allocator in this process, when this pyarrow has it and
    ARROW_DEFAULT_MEMORY_POOL does not name another; return the allocator now in use."""
    pool = None if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") else lean_arrow_pool()
    if pool is not None:
        pa.set_memory_pool(pool)
    return pa.default_memory_pool().backend_name


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``; elsewhere nothing).
    glibc gives back only the top of its heap, so memory freed below it — the raw texts ingest
    checked (~10 KB per article), a block's rows once it is written — would stay in the process's
    RSS, and the build's memory would grow with the corpus although what it holds does not."""
    trim = getattr(libc(), "malloc_trim", None)  # glibc's
    if trim is not None:
        trim(0)
